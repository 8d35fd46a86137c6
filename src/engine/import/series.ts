// Which converted series of a DICOM study is the case's image, judged from
// the BIDS sidecar the converter writes beside each series.
//
// Without a filter the FLAIR is chosen:
//   1. a series is a FLAIR when its SeriesDescription, ProtocolName or
//      SequenceName contains "flair" (any case) and none of them says "T1"
//      (a T1-weighted FLAIR is not the T2 FLAIR the model expects); or, with
//      no such name, when its ScanningSequence includes IR with an
//      InversionTime of at least 1.2 s and an EchoTime of at least 60 ms
//      (STIR, MPRAGE and T1-FLAIR invert for less, or echo sooner);
//   2. of several FLAIRs, originals (ImageType ORIGINAL) beat derived ones
//      (reformats, projections); if more than one remains the import stops
//      and asks for a filter.
//
// A filter (--series-filter, repeatable; all must hold) is FIELD~REGEX
// (FIELD's value contains a match, any case), FIELD!~REGEX (no match, or no
// FIELD) or FIELD=VALUE (equal, ignoring case; numbers compare as numbers).
// FIELD is a sidecar key (SeriesDescription, SeriesNumber, ProtocolName,
// ImageType, ...); list values are joined with "\". Exactly one series of
// the study must pass.
import { quoteForMessage } from '../util/quote';

export type Sidecar = Record<string, unknown>;

/** One series as converted: its NIfTI file, a name for messages and its sidecar. */
export interface ConvertedSeries {
  /** The converter's base name (e.g. "3_AX_FLAIR"). */
  name: string;
  nifti: string;
  sidecar: Sidecar;
}

export interface SeriesCondition {
  field: string;
  op: '~' | '!~' | '=';
  value: string;
  /** the condition as written */
  text: string;
}

export interface SeriesChoice {
  chosen: ConvertedSeries;
  /** Why it was chosen. */
  reason: string;
  skipped: { name: string; reason: string }[];
}

/** Parses one --series-filter expression; throws a message naming it when malformed. */
export function parseSeriesFilter(expr: string): SeriesCondition {
  const m = /^\s*([A-Za-z][A-Za-z0-9]*)\s*(!~|~|=)(.*)$/s.exec(expr);
  if (!m) {
    throw new Error(`series filter ${quoteForMessage(expr)}: expected FIELD~REGEX, FIELD!~REGEX or FIELD=VALUE (e.g. SeriesDescription~flair)`);
  }
  const [, field, op, value] = m;
  if (op !== '=') {
    try {
      new RegExp(value!, 'i');
    } catch (e) {
      throw new Error(`series filter ${quoteForMessage(expr)}: invalid regular expression (${(e as Error).message})`);
    }
  }
  return { field: field!, op: op as SeriesCondition['op'], value: value!.trim(), text: expr.trim() };
}

/** A sidecar value as text ("" when absent). */
function fieldText(s: Sidecar, field: string): string | undefined {
  const v = s[field];
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v.map(String).join('\\');
  return String(v);
}

function holds(s: Sidecar, c: SeriesCondition): boolean {
  const v = fieldText(s, c.field);
  if (c.op === '=') {
    if (v === undefined) return false;
    const a = Number(v);
    const b = Number(c.value);
    if (v.trim() !== '' && c.value !== '' && Number.isFinite(a) && Number.isFinite(b)) return a === b;
    return v.trim().toLowerCase() === c.value.toLowerCase();
  }
  const match = v !== undefined && new RegExp(c.value, 'i').test(v);
  return c.op === '~' ? match : !match;
}

function num(s: Sidecar, field: string): number | undefined {
  const v = s[field];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Whether the sidecar describes a T2 FLAIR, and a short account of why (not). */
export function flairVerdict(s: Sidecar): { flair: boolean; why: string } {
  const names = ['SeriesDescription', 'ProtocolName', 'SequenceName'].map((f) => fieldText(s, f) ?? '').join(' ');
  const described = `SeriesDescription ${quoteForMessage(fieldText(s, 'SeriesDescription') ?? '(none)')}`;
  if (/flair/i.test(names)) {
    if (/t1/i.test(names)) return { flair: false, why: `a T1-weighted FLAIR (${described})` };
    return { flair: true, why: `its name says FLAIR (${described})` };
  }
  const ti = num(s, 'InversionTime');
  const te = num(s, 'EchoTime');
  const ir = /IR/.test(fieldText(s, 'ScanningSequence') ?? '');
  const timing = `ScanningSequence ${fieldText(s, 'ScanningSequence') ?? '(none)'}, InversionTime ${ti ?? '(none)'} s, EchoTime ${te ?? '(none)'} s`;
  if (ir && ti !== undefined && ti >= 1.2 && te !== undefined && te >= 0.06) return { flair: true, why: `long-TI inversion recovery with a long echo (${timing})` };
  return { flair: false, why: `not a FLAIR (${described}, ${timing})` };
}

function isDerived(s: Sidecar): boolean {
  return /DERIVED/i.test(fieldText(s, 'ImageType') ?? '');
}

/**
 * Chooses the case's series (see the file comment); throws a message listing
 * the series when none or several qualify.
 */
export function chooseSeries(series: readonly ConvertedSeries[], filters: readonly SeriesCondition[]): SeriesChoice {
  if (series.length === 0) throw new Error('no series was converted');
  const list = series.map((s) => `${s.name} (${quoteForMessage(fieldText(s.sidecar, 'SeriesDescription') ?? '(no description)')})`).join(', ');
  if (filters.length) {
    const skipped: SeriesChoice['skipped'] = [];
    const pass: ConvertedSeries[] = [];
    for (const s of series) {
      const failed = filters.find((c) => !holds(s.sidecar, c));
      if (failed) skipped.push({ name: s.name, reason: `does not match the series filter ${quoteForMessage(failed.text)} (${failed.field}: ${quoteForMessage(fieldText(s.sidecar, failed.field) ?? '(none)')})` });
      else pass.push(s);
    }
    const text = filters.map((c) => quoteForMessage(c.text)).join(' and ');
    if (pass.length !== 1) {
      throw new Error(`${pass.length === 0 ? 'no series matches' : `${pass.length} series match`} the series filter ${text}; the study holds ${list}`);
    }
    return { chosen: pass[0]!, reason: `matches the series filter ${text}`, skipped };
  }
  const verdicts = series.map((s) => ({ s, v: flairVerdict(s.sidecar) }));
  const flairs = verdicts.filter((x) => x.v.flair);
  const skipped: SeriesChoice['skipped'] = verdicts.filter((x) => !x.v.flair).map((x) => ({ name: x.s.name, reason: x.v.why }));
  if (flairs.length === 0) throw new Error(`no FLAIR series found; the study holds ${list}; choose one with --series-filter (e.g. SeriesNumber=3)`);
  let pick = flairs;
  if (flairs.length > 1) {
    const originals = flairs.filter((x) => !isDerived(x.s.sidecar));
    if (originals.length >= 1 && originals.length < flairs.length) {
      for (const x of flairs.filter((f) => isDerived(f.s.sidecar))) skipped.push({ name: x.s.name, reason: 'a derived FLAIR (ImageType DERIVED); an original one exists' });
      pick = originals;
    }
  }
  if (pick.length > 1) {
    const names = pick.map((x) => x.s.name).join(', ');
    throw new Error(`${pick.length} FLAIR series found (${names}); choose one with --series-filter (e.g. SeriesNumber=${fieldText(pick[0]!.s.sidecar, 'SeriesNumber') ?? 'N'})`);
  }
  return { chosen: pick[0]!.s, reason: pick[0]!.v.why, skipped };
}

/** Sidecar keys that identify a patient, a person, a place or a date. */
const IDENTIFYING_KEY = /^(Patient|Institution|Institutional|Station|DeviceSerialNumber$|AccessionNumber$|StudyID$|Operators?Name$|RequestingPhysician|ReferringPhysician|PerformingPhysician|PhysiciansOfRecord|OtherPatient)|Address|Physician|UID$|Date(Time)?$|^(StudyTime|SeriesTime|AcquisitionTime|ContentTime|InstanceCreationTime)$/;

/** The sidecar without patient, person, institution, UID and date fields. */
export function stripSidecar(s: Sidecar): Sidecar {
  return Object.fromEntries(Object.entries(s).filter(([k]) => !IDENTIFYING_KEY.test(k)));
}

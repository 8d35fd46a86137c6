// `mrcl validate`: every problem of a dataset at once, before anything runs.
// Errors make the dataset unusable as it stands; warnings flag cases that
// are usable but not for everything (e.g. internal cases without a report
// cannot be pretrained on). NIfTI headers are read, and by default the voxel
// data too (truncated files, NaN/Inf voxels): every run does the same first.
// follows: METHOD.md §1 (cohorts, labels, report cleaning, downstream classes)
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { LEAK_TERM_DEFAULTS, LOCATION_DEFAULTS, MARKER_DEFAULTS } from '../../shared/config';
import { readNifti, readNiftiHeader, type NiftiHeaderInfo } from '../io/nifti';
import { columnNorms, det3, linearPart } from '../io/affine-math';
import type { Affine } from '../io/volume';
import { ioOrientation } from './orient';
import { cleanReport, findLeakTerms, leakPatternsRemaining } from '../text/clean';
import { deidentify, readKnownNames, type DeidOptions } from '../text/deid';
import { COHORTS, ManifestError, parseManifest, readReport, type ManifestIssue, type UncheckedCase } from './manifest';
import { escapeNonPrintable } from '../util/quote';
import { eventLoopTurn } from '../util/yield';

export interface DatasetIssue {
  caseId?: string;
  /** The file the problem is in (the manifest for manifest-level problems). */
  file?: string;
  /** The manifest field concerned: image, mask, report, location, marker, cohort, id. */
  field?: string;
  message: string;
}

export interface ValidationOptions {
  /** Allowed location labels (default: the config's defaults). */
  locations?: readonly string[];
  /** Allowed marker labels (default: the config's defaults). */
  markers?: readonly string[];
  /** Label-leaking words reports are checked and cleaned with. */
  leakTerms?: readonly string[];
  /** When given, each downstream class needs at least this many internal cases. */
  folds?: number;
  positiveMarker?: string;
  negativeMarker?: string;
  /** Read NIfTI headers (shape, affine, corruption); default true. When false only existence is checked. */
  checkImages?: boolean;
  /** Accept image, mask and report paths outside the manifest's folder (config data.allowOutsidePaths); default false. */
  allowOutsidePaths?: boolean;
  /**
   * Read the voxel data of images and masks too: a truncated file, NaN or
   * infinite voxels; default: as checkImages.
   */
  checkData?: boolean;
  /** Largest inflated size of a .nii.gz read for the data check (config data.maxInflatedMiB). */
  maxInflatedBytes?: number;
  /** Whether runs de-identify reports (config report.deidentify; default true): worded into the identifying-report warning. */
  deidentify?: boolean;
  /** Known names and institutions (config report.knownNames / report.institutions) looked for in reports. */
  knownNames?: readonly string[];
  /** An absolute path of a known-names file (config report.knownNamesFile), one name a line. */
  knownNamesFile?: string;
  institutions?: readonly string[];
}

export interface ValidationSummary {
  /** Cases read from the manifest (rows that could not be read are not counted). */
  cases: number;
  /** By cohort as written (an unknown cohort is counted under its own name). */
  byCohort: Record<string, number>;
  /** By location; cases without one under "(none)". */
  byLocation: Record<string, number>;
  /** By marker; cases without one under "(none)". */
  byMarker: Record<string, number>;
  withReport: number;
  withMask: number;
  /** Internal cases of the two downstream classes. */
  downstream: { positiveMarker: string; negativeMarker: string; positive: number; negative: number };
}

export interface ValidationReport {
  /** Absolute path of the manifest. */
  manifest: string;
  errors: DatasetIssue[];
  warnings: DatasetIssue[];
  summary: ValidationSummary;
}

/** Two affines agree when no element differs by more than this (mm). */
const AFFINE_TOLERANCE = 1e-3;
const NONE = '(none)';

interface Collector {
  errors: DatasetIssue[];
  warnings: DatasetIssue[];
}

function issue(caseId: string | undefined, field: string | undefined, file: string | undefined, message: string): DatasetIssue {
  const i: DatasetIssue = { message };
  if (caseId !== undefined) i.caseId = caseId;
  if (file !== undefined) i.file = file;
  if (field !== undefined) i.field = field;
  return i;
}

/** Drops a leading "<file>: " that the reader already put in its message. */
function stripFile(message: string, file: string): string {
  return message.startsWith(`${file}: `) ? message.slice(file.length + 2) : message;
}

/** Why a file cannot be read, or undefined when it can. */
function fileProblem(path: string): string | undefined {
  try {
    if (!statSync(path).isFile()) return 'not a regular file';
    accessSync(path, constants.R_OK);
    return undefined;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'file not found';
    return `cannot read (${code ?? (e as Error).message})`;
  }
}

interface VolumeChecks {
  headers: boolean;
  data: boolean;
  maxInflatedBytes?: number;
}

/** Why preprocessing could not map this affine's voxel axes to the world, or undefined. */
function affineProblem(a: Affine): string | undefined {
  const [x, y, z] = columnNorms(a);
  const det = det3(linearPart(a));
  // scale-free: |det| / (product of the column lengths) is 1 for orthogonal axes, 0 for dependent ones
  if (!(x * y * z > 0) || !(Math.abs(det) > 1e-6 * x * y * z)) {
    return `affine is singular (voxel axes of lengths ${[x, y, z].map(fmt).join(', ')} mm, determinant ${fmt(det)}): it maps the grid to no volume, so the image cannot be oriented`;
  }
  try {
    ioOrientation(a);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

function checkVolumeFile(c: UncheckedCase, field: 'image' | 'mask', path: string, checks: VolumeChecks, out: Collector): NiftiHeaderInfo | undefined {
  const problem = fileProblem(path);
  if (problem) {
    out.errors.push(issue(c.id, field, path, problem));
    return undefined;
  }
  if (!checks.headers) return undefined;
  let h: NiftiHeaderInfo;
  try {
    h = readNiftiHeader(path);
  } catch (e) {
    out.errors.push(issue(c.id, field, path, stripFile((e as Error).message, path)));
    return undefined;
  }
  if (h.frames > 1) {
    out.errors.push(issue(c.id, field, path, `4D ${field} (${h.shape.join('×')}) where a 3D volume is expected`));
    return h;
  }
  const singular = affineProblem(h.affine);
  if (singular) out.errors.push(issue(c.id, field, path, singular));
  if (checks.data) {
    // the whole voxel block: a truncated file or a NaN voxel fails here, not in the middle of a run
    try {
      readNifti(path, checks.maxInflatedBytes !== undefined ? { maxInflatedBytes: checks.maxInflatedBytes } : {});
    } catch (e) {
      out.errors.push(issue(c.id, field, path, stripFile((e as Error).message, path)));
    }
  }
  return h;
}

function compareGeometry(c: UncheckedCase, image: NiftiHeaderInfo, mask: NiftiHeaderInfo, out: Collector): void {
  if (image.dims.some((d, n) => d !== mask.dims[n])) {
    out.errors.push(issue(c.id, 'mask', c.mask, `mask shape ${mask.dims.join('×')} differs from the image's ${image.dims.join('×')}`));
  }
  let worst = 0;
  let at = '';
  for (let r = 0; r < 4; r++) {
    for (let col = 0; col < 4; col++) {
      const d = Math.abs(image.affine[r]![col]! - mask.affine[r]![col]!);
      if (d > worst) [worst, at] = [d, `[${r}][${col}]`];
    }
  }
  if (worst > AFFINE_TOLERANCE) {
    out.errors.push(issue(c.id, 'mask', c.mask, `mask affine differs from the image's (by ${fmt(worst)} at ${at})`));
  }
}

function fmt(x: number): string {
  return Number(x.toPrecision(4)).toString();
}

/** `leakTerms` undefined: the list itself is invalid (already reported), so only emptiness is checked. */
function checkReport(c: UncheckedCase, leakTerms: readonly string[] | undefined, out: Collector, deid?: DeidOptions & { on: boolean }): void {
  const source = c.report;
  if (source === undefined) return;
  const file = source.kind === 'file' ? source.path : undefined;
  let text: string;
  try {
    text = readReport(c) ?? '';
  } catch (e) {
    const msg = (e as Error).message;
    const prefix = `${file}: case "${c.id}": report `;
    out.errors.push(issue(c.id, 'report', file, msg.startsWith(prefix) ? msg.slice(prefix.length) : msg));
    return;
  }
  if (text.trim() === '') {
    out.errors.push(issue(c.id, 'report', file, 'report is empty'));
    return;
  }
  if (deid) checkIdentifying(c.id, file, text, deid, out);
  if (leakTerms === undefined) return;
  const terms = [...leakTerms];
  const cleaned = cleanReport(text, { leakTerms: terms });
  const leaked = findLeakTerms(text, terms).map((m) => m.text);
  if (leaked.length) {
    out.warnings.push(issue(c.id, 'report', file, `contains label-leaking words (${unique(leaked).join(', ')}); cleaning removes them`));
  }
  // the term list cannot know every spelling: variants left after cleaning are errors
  const surviving = new Map<string, string[]>();
  for (const m of findLeakTerms(cleaned, terms)) surviving.set(m.text, [...(surviving.get(m.text) ?? []), `leak term "${m.term}"`]);
  for (const w of leakPatternsRemaining(cleaned)) surviving.set(w.text, [...(surviving.get(w.text) ?? []), w.description]);
  if (surviving.size) {
    const list = [...surviving].map(([text, why]) => `"${text}" (${unique(why).join('; ')})`);
    out.errors.push(issue(c.id, 'report', file, `label-leaking text survives cleaning: ${list.join(', ')}`));
  }
  if (cleaned.trim() === '') {
    out.errors.push(issue(c.id, 'report', file, 'report is empty after cleaning'));
  }
}

const DEID_WORDS: Record<string, string> = { NAME: 'name', ID: 'ID', DATE: 'date', PHONE: 'phone number', EMAIL: 'e-mail address', ADDRESS: 'street address', AGE: 'age over 89', INSTITUTION: 'institution' };

/** A warning naming what in the report looks identifying (the de-identification rules, docs/PRIVACY.md). */
function checkIdentifying(id: string, file: string | undefined, text: string, deid: DeidOptions & { on: boolean }, out: Collector): void {
  let replaced: { type: string; count: number }[];
  try {
    replaced = deidentify(text, deid).replaced;
  } catch (e) {
    out.errors.push(issue(id, 'report', file, (e as Error).message));
    return;
  }
  if (replaced.length === 0) return;
  const what = replaced.map((r) => `${r.count} ${DEID_WORDS[r.type] ?? r.type}${r.count > 1 ? 's' : ''}`).join(', ');
  const then = deid.on ? 'de-identification replaces them before training; check the rest by hand (docs/PRIVACY.md)' : 'report.deidentify is off, so they reach the tokenizer and the run folder';
  out.warnings.push(issue(id, 'report', file, `report looks identifying (${what}); ${then}`));
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}

function checkLabel(c: UncheckedCase, field: 'location' | 'marker' | 'cohort', value: string | undefined, allowed: readonly string[], out: Collector): void {
  if (value !== undefined && !allowed.includes(value)) {
    out.errors.push(issue(c.id, field, undefined, `"${value}" is not one of ${allowed.join(', ')}`));
  }
}

function count(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

function emptySummary(positiveMarker: string, negativeMarker: string): ValidationSummary {
  return {
    cases: 0,
    byCohort: {},
    byLocation: {},
    byMarker: {},
    withReport: 0,
    withMask: 0,
    downstream: { positiveMarker, negativeMarker, positive: 0, negative: 0 },
  };
}

function manifestIssue(i: ManifestIssue, file: string): DatasetIssue {
  const message = i.where ? `${i.where}: ${i.message}` : i.message;
  return issue(i.caseId, i.field, file, message);
}

/**
 * Checks a dataset manifest and every file it names, listing every problem
 * found. Throws only for programming errors; an unreadable or malformed
 * manifest is reported as errors. Yields to the event loop between cases,
 * so a host stays responsive.
 */
export async function validateDataset(manifestPath: string, options: ValidationOptions = {}): Promise<ValidationReport> {
  const steps = validationSteps(manifestPath, options);
  for (let r = steps.next(); ; r = steps.next()) {
    if (r.done) return r.value;
    await eventLoopTurn();
  }
}

/** validateDataset in one go, for a process with nothing else to serve (a run's preflight). */
export function validateDatasetSync(manifestPath: string, options: ValidationOptions = {}): ValidationReport {
  const steps = validationSteps(manifestPath, options);
  for (let r = steps.next(); ; r = steps.next()) if (r.done) return r.value;
}

/** The validation, yielding (nothing) wherever a caller may pause. */
function* validationSteps(manifestPath: string, options: ValidationOptions): Generator<void, ValidationReport> {
  const manifest = resolve(manifestPath);
  const locations = options.locations ?? LOCATION_DEFAULTS;
  const markers = options.markers ?? MARKER_DEFAULTS;
  const leakTerms = options.leakTerms ?? LEAK_TERM_DEFAULTS;
  const positiveMarker = options.positiveMarker ?? 'v600e';
  const negativeMarker = options.negativeMarker ?? 'fusion';
  const readHeaders = options.checkImages ?? true;
  const volumeChecks: VolumeChecks = {
    headers: readHeaders,
    data: readHeaders && (options.checkData ?? true),
    maxInflatedBytes: options.maxInflatedBytes,
  };
  const out: Collector = { errors: [], warnings: [] };
  const deid = { on: options.deidentify ?? true, knownNames: [...(options.knownNames ?? [])], institutions: options.institutions };
  if (options.knownNamesFile) {
    try {
      deid.knownNames.push(...readKnownNames(options.knownNamesFile));
    } catch (e) {
      out.errors.push(issue(undefined, 'knownNamesFile', options.knownNamesFile, (e as Error).message));
    }
  }
  const summary = emptySummary(positiveMarker, negativeMarker);
  const report = (): ValidationReport => ({ manifest, errors: out.errors, warnings: out.warnings, summary });

  for (const [name, m] of [['positiveMarker', positiveMarker], ['negativeMarker', negativeMarker]] as const) {
    if (!markers.includes(m)) out.errors.push(issue(undefined, name, undefined, `"${m}" is not one of the markers (${markers.join(', ')})`));
  }
  if (positiveMarker === negativeMarker) {
    out.errors.push(issue(undefined, 'negativeMarker', undefined, `the positive and negative markers are both "${positiveMarker}"`));
  }
  const folds = options.folds;
  if (folds !== undefined && !(Number.isInteger(folds) && folds >= 2)) {
    out.errors.push(issue(undefined, 'folds', undefined, `folds must be an integer ≥ 2, got ${folds}`));
  }

  let usableTerms: readonly string[] | undefined = leakTerms;
  try {
    findLeakTerms('', [...leakTerms]);
  } catch (e) {
    out.errors.push(issue(undefined, 'leakTerms', undefined, (e as Error).message));
    usableTerms = undefined;
  }

  let parsed;
  try {
    parsed = parseManifest(manifest, { allowOutsidePaths: options.allowOutsidePaths === true });
  } catch (e) {
    if (!(e instanceof ManifestError)) throw e;
    for (const i of e.issues) (i.severity === 'error' ? out.errors : out.warnings).push(manifestIssue(i, manifest));
    return report();
  }
  for (const i of parsed.issues) (i.severity === 'error' ? out.errors : out.warnings).push(manifestIssue(i, manifest));
  if (parsed.cases.length === 0 && !parsed.issues.some((i) => i.severity === 'error')) {
    out.errors.push(issue(undefined, undefined, manifest, 'no cases'));
  }

  const imageOwner = new Map<string, string>();
  const pauseEvery = volumeChecks.data ? 1 : 64;
  for (const [n, c] of parsed.cases.entries()) {
    // node's fs is synchronous here; pause now and then (every case when voxel data are read)
    if (n % pauseEvery === pauseEvery - 1) yield;
    summary.cases++;
    count(summary.byCohort, c.cohort);
    count(summary.byLocation, c.location ?? NONE);
    count(summary.byMarker, c.marker ?? NONE);
    if (c.mask !== undefined) summary.withMask++;
    if (c.report !== undefined) summary.withReport++;

    checkLabel(c, 'cohort', c.cohort, COHORTS, out);
    checkLabel(c, 'location', c.location, locations, out);
    checkLabel(c, 'marker', c.marker, markers, out);

    const owner = imageOwner.get(c.image);
    if (owner !== undefined && owner !== c.id) {
      out.warnings.push(issue(c.id, 'image', c.image, `same image file as case "${owner}"`));
    } else {
      imageOwner.set(c.image, c.id);
    }
    const image = checkVolumeFile(c, 'image', c.image, volumeChecks, out);
    const mask = c.mask !== undefined ? checkVolumeFile(c, 'mask', c.mask, volumeChecks, out) : undefined;
    if (image && mask) compareGeometry(c, image, mask, out);

    checkReport(c, usableTerms, out, deid);
    if (c.cohort === 'internal' && c.report === undefined) {
      out.warnings.push(issue(c.id, 'report', undefined, 'internal case without a report: unusable for pretraining'));
    }
    if (c.cohort === 'internal') {
      if (c.marker === positiveMarker) summary.downstream.positive++;
      if (c.marker === negativeMarker) summary.downstream.negative++;
    }
  }

  if (folds !== undefined && Number.isInteger(folds) && folds >= 2 && positiveMarker !== negativeMarker) {
    const classes: [string, number][] = [
      [positiveMarker, summary.downstream.positive],
      [negativeMarker, summary.downstream.negative],
    ];
    for (const [marker, n] of classes) {
      if (n < folds) {
        out.errors.push(issue(undefined, 'marker', manifest, `downstream class "${marker}" has ${n} internal case(s), fewer than ${folds} folds`));
      }
    }
  }
  return report();
}

function describe(i: DatasetIssue, base: string): string {
  const parts: string[] = [];
  if (i.caseId !== undefined) parts.push(`case "${i.caseId}"`);
  if (i.field !== undefined) parts.push(i.field);
  if (i.file !== undefined) {
    const rel = relative(base, i.file);
    parts.push(rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : i.file);
  }
  return `${parts.length ? `${parts.join(', ')}: ` : ''}${i.message}`;
}

/** One issue as `mrcl validate` prints it, with paths relative to `base` (the manifest's folder). */
export const formatDatasetIssue = (i: DatasetIssue, base: string): string => escapeNonPrintable(describe(i, base));

function tally(map: Record<string, number>): string {
  const entries = Object.entries(map);
  return entries.length ? entries.map(([k, v]) => `${k} ${v}`).join(', ') : '-';
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Human-readable text: errors first, then warnings, then the summary. Paths are shown relative to the manifest's folder. */
export function formatValidationReport(report: ValidationReport, manifestPath: string): string {
  const base = dirname(resolve(manifestPath));
  const lines: string[] = [];
  const { errors, warnings, summary: s } = report;
  lines.push(`${manifestPath}: ${plural(errors.length, 'error')}, ${plural(warnings.length, 'warning')}`);
  if (errors.length) {
    lines.push('', 'Errors:');
    for (const i of errors) lines.push(`  ${describe(i, base)}`);
  }
  if (warnings.length) {
    lines.push('', 'Warnings:');
    for (const i of warnings) lines.push(`  ${describe(i, base)}`);
  }
  lines.push(
    '',
    'Summary:',
    `  cases: ${s.cases} (${tally(s.byCohort)})`,
    `  locations: ${tally(s.byLocation)}`,
    `  markers: ${tally(s.byMarker)}`,
    `  with report: ${s.withReport}, with mask: ${s.withMask}`,
    `  downstream (internal): ${s.downstream.positiveMarker} ${s.downstream.positive} (positive), ${s.downstream.negativeMarker} ${s.downstream.negative} (negative)`,
  );
  // ids, column names and values quote the data's bytes: escaped, never raw on a terminal
  return `${escapeNonPrintable(lines.join('\n'))}\n`;
}

// `mrcl synth`: a synthetic pLGG cohort on disk, so every part of the
// project runs and is tested without private data. An internal cohort
// (images, masks, reports) and an external one (another scanner, no
// reports), a manifest.json the dataset loader reads, and synth.json with
// the generator's own record of each case (tentorium plane, measurements,
// findings). A run stopped part-way (cancelled, or killed) leaves synth.json
// "incomplete" with the records of the cases it finished; the same command
// again keeps those cases, whose files are what it would write again, and
// makes the rest.
// follows: METHOD.md §1 (data, cohorts, labels)
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SYNTH_DEFAULTS } from '../../shared/synth';
import { writeNifti } from '../io/nifti';
import { dataPath } from '../io/safe-path';
import { caseLabels, synthesizeCase } from './case';
import { GENERATOR, MANIFEST_FILE, SYNTH_MARKER_FILE, makeSubfolders, prepareOutputFolder, readSynthMarker, removeStale, writeJsonAtomic, writeTextAtomic } from './folder';
import { headGrid } from './grid';
import { MARKER_PRIOR, PAPER_MARKER_PRIOR, SYNTH_LOCATIONS, SYNTH_MARKERS, type SynthLocation, type SynthMarker } from './labels';

export const markerPrior = (m: 'default' | 'paper') => (m === 'paper' ? PAPER_MARKER_PRIOR : MARKER_PRIOR);
import type { Cohort } from './scanner';
import { eventLoopTurn } from '../util/yield';

export interface SynthOptions {
  /** output folder: created if missing; must be empty or an earlier synthetic cohort */
  out: string;
  /** cases with reports (default 60) */
  internal?: number;
  /** cases from the shifted scanner, no reports (default 20) */
  external?: number;
  /** voxels per axis, each ≥ 16 (default [64, 64, 40]) */
  shape?: [number, number, number];
  /** same seed, byte-identical files (default 42) */
  seed?: number;
  /** P(marker): 'default' (MARKER_PRIOR, most cases downstream) or 'paper' (Table 6's Dataset 1: ~40 % other) */
  markers?: 'default' | 'paper';
  /** after each case: cases done of total, of which `kept` were kept from an interrupted run (made in no time, so not in a rate) */
  onProgress?: (done: number, total: number, kept: number) => void;
}

export interface SynthSummary {
  out: string;
  manifest: string;
  cases: number;
  internal: number;
  external: number;
  shape: [number, number, number];
  pixdim: [number, number, number];
  seed: number;
  locations: Record<SynthLocation, number>;
  markers: Record<SynthMarker, number>;
  /** cases kept from an interrupted run of the same options (0 for a fresh cohort) */
  resumed: number;
}

export interface ManifestCase {
  id: string;
  image: string;
  mask: string;
  report?: string;
  location: SynthLocation;
  marker: SynthMarker;
  cohort: Cohort;
}

export { SYNTH_DEFAULTS };
const MAX_AXIS = 256;
/**
 * Most cases one cohort may hold: every case's manifest entry and record are
 * kept in memory until the manifest is written, so the count is bounded
 * (a real cohort of this study has a few hundred).
 */
export const MAX_SYNTH_CASES = 10_000;

type Resolved = Required<Omit<SynthOptions, 'onProgress'>>;

export function resolveSynthOptions(o: SynthOptions): Resolved {
  const bad = (msg: string) => new Error(`synthesizeCohort: ${msg}`);
  if (typeof o !== 'object' || o === null) throw bad('options must be an object');
  if (typeof o.out !== 'string' || o.out.trim() === '') throw bad('out must be a folder path');
  const count = (name: 'internal' | 'external'): number => {
    const v = o[name] ?? SYNTH_DEFAULTS[name];
    if (!Number.isInteger(v) || v < 0) throw bad(`${name} must be a non-negative integer, got ${String(v)}`);
    return v;
  };
  const internal = count('internal');
  const external = count('external');
  if (internal + external < 1) throw bad('internal + external must be at least 1');
  if (internal + external > MAX_SYNTH_CASES) throw bad(`internal + external must be at most ${MAX_SYNTH_CASES}, got ${internal + external}`);
  const shape = o.shape ?? SYNTH_DEFAULTS.shape;
  if (!Array.isArray(shape) || shape.length !== 3 || !shape.every((n) => Number.isInteger(n) && n >= 16 && n <= MAX_AXIS)) {
    throw bad(`shape must be three integers from 16 to ${MAX_AXIS}, got ${JSON.stringify(shape)}`);
  }
  const seed = o.seed ?? SYNTH_DEFAULTS.seed;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw bad(`seed must be an integer from 0 to 4294967295, got ${String(seed)}`);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') throw bad('onProgress must be a function');
  const markers = o.markers ?? 'default';
  if (markers !== 'default' && markers !== 'paper') throw bad(`markers must be "default" or "paper", got ${JSON.stringify(markers)}`);
  return { out: o.out, internal, external, shape: [shape[0], shape[1], shape[2]], seed, markers };
}

/** Case ids in cohort order: int-001…, then ext-001… (zero-padded to at least 3 digits). */
export function cohortIds(internal: number, external: number): { id: string; cohort: Cohort }[] {
  const width = Math.max(3, String(Math.max(internal, external)).length);
  const ids = (prefix: string, n: number, cohort: Cohort) =>
    Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${String(i + 1).padStart(width, '0')}`, cohort }));
  return [...ids('int', internal, 'internal'), ...ids('ext', external, 'external')];
}

/** Labels of the cohort these options would write, without rendering anything. */
export function planCohortLabels(options: Omit<SynthOptions, 'out'>): { id: string; cohort: Cohort; location: SynthLocation; marker: SynthMarker }[] {
  const r = resolveSynthOptions({ ...options, out: '.' });
  return cohortIds(r.internal, r.external).map((c) => ({ ...c, ...caseLabels(r.seed, c.id, markerPrior(r.markers)) }));
}

const round = (x: number, d = 3) => Number(x.toFixed(d));

export async function synthesizeCohort(options: SynthOptions): Promise<SynthSummary> {
  const o = resolveSynthOptions(options);
  const grid = headGrid(o.shape);
  const plan = cohortIds(o.internal, o.external);
  const files = (id: string, cohort: Cohort) => ({
    image: `images/${id}.nii.gz`,
    mask: `masks/${id}.nii.gz`,
    report: cohort === 'internal' ? `reports/${id}.txt` : undefined,
  });
  const current = new Set(plan.flatMap((c) => Object.values(files(c.id, c.cohort)).filter((f): f is string => f !== undefined)));

  const finished = finishedCases(o, plan, files);
  const previous = prepareOutputFolder(o.out);
  const marker = (status: 'incomplete' | 'complete', fileList: Iterable<string>, cases: unknown[]) => ({
    generator: GENERATOR,
    version: 1,
    status,
    options: { internal: o.internal, external: o.external, shape: o.shape, seed: o.seed, markers: o.markers },
    grid: { dims: grid.dims, pixdim: grid.pixdim.map((p) => round(p, 6)), affine: grid.affine },
    // every file this folder may hold from us, so a later run can clean up
    files: [...new Set(fileList)].sort(),
    cases,
  });
  writeJsonAtomic(join(o.out, SYNTH_MARKER_FILE), marker('incomplete', [...previous, ...current], []));
  makeSubfolders(o.out);

  const manifest: ManifestCase[] = [];
  const records: unknown[] = [];
  const locations = Object.fromEntries(SYNTH_LOCATIONS.map((l) => [l, 0])) as Record<SynthLocation, number>;
  const markers = Object.fromEntries(SYNTH_MARKERS.map((m) => [m, 0])) as Record<SynthMarker, number>;
  // the finished cases' records, so a run stopped here resumes from them (at most every 2 s, and when stopped between cases)
  const saveProgress = () => writeJsonAtomic(join(o.out, SYNTH_MARKER_FILE), marker('incomplete', [...previous, ...current], records));
  let saved = Date.now();
  let resumed = 0;
  options.onProgress?.(0, plan.length, 0);
  for (let n = 0; n < plan.length; n++) {
    const { id, cohort } = plan[n];
    const f = files(id, cohort);
    const kept = finished.get(id);
    // finishedCases keeps only records of this plan's id and cohort
    const labels = kept ? caseLabels(o.seed, id, markerPrior(o.markers)) : undefined;
    if (kept && labels && kept.location === labels.location && kept.marker === labels.marker) {
      manifest.push({ id, ...f, location: labels.location, marker: labels.marker, cohort });
      locations[labels.location]++;
      markers[labels.marker]++;
      records.push(kept);
      resumed++;
    } else {
      const c = synthesizeCase(o.seed, id, cohort, grid, markerPrior(o.markers));
      writeNifti(dataPath(o.out, f.image), c.image, { datatype: 'int16', description: `mrcl synth ${cohort} FLAIR-like` });
      writeNifti(dataPath(o.out, f.mask), c.mask, { datatype: 'uint8', description: 'mrcl synth tumour mask' });
      if (f.report && c.report !== null) writeTextAtomic(dataPath(o.out, f.report), c.report);
      manifest.push({ id, ...f, location: c.labels.location, marker: c.labels.marker, cohort });
      locations[c.labels.location]++;
      markers[c.labels.marker]++;
      const t = c.tumour;
      records.push({
        id,
        cohort,
        ...c.labels,
        site: t.site,
        side: t.side,
        tentorium: { point: c.tentorium.point.map((v) => round(v)), normal: c.tentorium.normal.map((v) => round(v, 6)) },
        mask: {
          voxels: c.stats.voxels,
          extentMm: c.stats.extentMm.map((v) => round(v)),
          volumeMl: round(c.stats.volumeMl),
          centroid: c.stats.centroid.map((v) => round(v)),
          tentoriumRange: c.stats.tentoriumRange.map((v) => round(v)),
        },
        findings: { ...c.facts, extentMm: undefined, volumeMl: undefined, massEffectMm: round(c.facts.massEffectMm, 2), midlineShiftMm: round(c.facts.midlineShiftMm, 2) },
      });
    }
    if (Date.now() - saved >= 2000) {
      saveProgress();
      saved = Date.now();
    }
    try {
      options.onProgress?.(n + 1, plan.length, resumed);
    } catch (e) {
      saveProgress(); // stopped between cases: the next run keeps every case made so far
      throw e;
    }
    // let the event loop breathe (progress output, signals) between cases
    await eventLoopTurn();
  }
  removeStale(o.out, previous, current);
  writeJsonAtomic(join(o.out, SYNTH_MARKER_FILE), marker('complete', current, records));
  // last: a manifest only ever points at files that are all in place
  const manifestPath = join(o.out, MANIFEST_FILE);
  writeJsonAtomic(manifestPath, { version: 1, cases: manifest });
  return {
    out: o.out,
    manifest: manifestPath,
    cases: plan.length,
    internal: o.internal,
    external: o.external,
    shape: o.shape,
    pixdim: grid.pixdim,
    seed: o.seed,
    locations,
    markers,
    resumed,
  };
}

/** A finished case's record in synth.json (the fields a resumed run checks; the rest is kept as it was written). */
type CaseRecord = { id: string; cohort: Cohort; location: string; marker: string } & Record<string, unknown>;

/**
 * The cases an interrupted run with the same options finished: synth.json
 * "incomplete" from this generator, the same options, and a case's record
 * with every file of the case in place (files are written atomically, then
 * the record). A case is a function of the seed and its id, so these files
 * are those the case would be written as again. Empty for anything else.
 */
function finishedCases(o: Resolved, plan: readonly { id: string; cohort: Cohort }[], files: (id: string, cohort: Cohort) => Record<string, string | undefined>): Map<string, CaseRecord> {
  const out = new Map<string, CaseRecord>();
  let m: Record<string, unknown> | undefined;
  try {
    m = readSynthMarker(o.out);
  } catch {
    return out; // unreadable: prepareOutputFolder says what is wrong with the folder
  }
  const options = { internal: o.internal, external: o.external, shape: o.shape, seed: o.seed, markers: o.markers };
  if (!m || m.generator !== GENERATOR || m.version !== 1 || m.status !== 'incomplete' || JSON.stringify(m.options) !== JSON.stringify(options) || !Array.isArray(m.cases)) return out;
  // only the plan's own ids (made here, never read from the file) name files
  const planned = new Map(plan.map((c) => [c.id, c.cohort]));
  for (const r of m.cases as unknown[]) {
    if (typeof r !== 'object' || r === null) continue;
    const c = r as Partial<CaseRecord>;
    const cohort = typeof c.id === 'string' ? planned.get(c.id) : undefined;
    if (cohort === undefined || c.cohort !== cohort || typeof c.location !== 'string' || typeof c.marker !== 'string') continue;
    const paths = Object.values(files(c.id!, cohort)).filter((f): f is string => f !== undefined);
    if (paths.every((f) => existsSync(dataPath(o.out, f)))) out.set(c.id!, c as CaseRecord);
  }
  return out;
}

// What training reads: preprocessed images (through the on-disk cache, with
// a bounded in-memory layer) and cleaned reports. Tumour masks are NOT
// reachable from here: they are for evaluation only (src/engine/explain).
import { dirname } from 'node:path';
import type { ExperimentConfig } from '../../shared/config';
import { loadManifest, readReport, type CaseRecord, type Manifest } from '../data/manifest';
import { PreprocessCache } from '../data/cache';
import type { Volume } from '../io/volume';
import { cleanReport } from '../text/clean';
import { deidentify, deidOptionsFor, type DeidOptions } from '../text/deid';
import { resolveIn } from '../config/resolve';
import { hashSeed } from '../util/rng';

export interface Dataset {
  manifest: Manifest;
  config: ExperimentConfig;
  /** preprocessed image of a case (RAS, data.shape, normalised) */
  image(c: CaseRecord): Volume;
  /** de-identified (report.deidentify) and cleaned report text, or undefined when the case has none */
  report(c: CaseRecord): string | undefined;
}

/** Largest total size of preprocessed volumes kept in memory. */
const MEMORY_BUDGET_BYTES = 1.5 * 2 ** 30;

export function openDataset(config: ExperimentConfig, baseDir: string): Dataset {
  if (!config.data.manifest) throw new Error('config: data.manifest is not set (path to a manifest.json or .csv)');
  const manifestPath = resolveIn(baseDir, config.data.manifest);
  const manifest = loadManifest(manifestPath, { allowOutsidePaths: config.data.allowOutsidePaths });
  const cache = new PreprocessCache(resolveIn(dirname(manifestPath), config.data.cacheDir));
  const params = {
    shape: config.data.shape as [number, number, number],
    normalization: config.data.normalization,
    maxInflatedBytes: config.data.maxInflatedMiB * 2 ** 20,
  };
  const memory = new Map<string, Volume>();
  let bytes = 0;
  const reports = new Map<string, string | undefined>();
  const deid = config.report.deidentify === false ? undefined : deidOptionsFor(config.report, baseDir);
  return {
    manifest,
    config,
    image(c) {
      const hit = memory.get(c.id);
      if (hit) return hit;
      const v = cache.get(c.image, params);
      if (bytes + v.data.byteLength <= MEMORY_BUDGET_BYTES) {
        memory.set(c.id, v);
        bytes += v.data.byteLength;
      }
      return v;
    },
    report(c) {
      if (!reports.has(c.id)) {
        const raw = readReport(c);
        reports.set(c.id, raw === undefined ? undefined : preparedReport(raw, config.report, deid));
      }
      return reports.get(c.id);
    },
  };
}

/**
 * A raw report as everything downstream sees it: de-identified first with
 * `deid` (undefined: report.deidentify is off; docs/PRIVACY.md), then
 * cleaned (METHOD.md §1).
 */
export function preparedReport(raw: string, report: ExperimentConfig['report'], deid: DeidOptions | undefined): string {
  return cleanReport(deid ? deidentify(raw, deid).text : raw, report);
}

/** Internal cases with a non-empty report: the MRI–report pairs for pretraining. */
export function pretrainingCases(ds: Dataset): CaseRecord[] {
  return ds.manifest.cases.filter((c) => c.cohort === 'internal' && (ds.report(c) ?? '').trim().length > 0);
}

export interface PretrainSplit {
  /** the pairs pretraining (and the tokenizer) learns from */
  train: CaseRecord[];
  /** the pairs kept out (pretrain.heldOut), for held-out retrieval; empty when heldOut is 0 */
  heldOut: CaseRecord[];
}

/**
 * The internal pairs split into pretraining and held-out ones: in each tumour
 * location (cases without one form their own group), round(heldOut × n)
 * cases, those with the smallest hash of (seed, id), so the split does not
 * depend on the manifest's order and a case keeps its side when others are
 * added. At least one pair per location stays in training.
 */
export function splitPretrainingCases(cases: readonly CaseRecord[], heldOut: number, seed: number): PretrainSplit {
  if (!(heldOut >= 0 && heldOut <= 0.5)) throw new Error(`pretrain.heldOut must be in [0, 0.5], got ${heldOut}`);
  if (heldOut === 0) return { train: [...cases], heldOut: [] };
  const groups = new Map<string, CaseRecord[]>();
  for (const c of cases) {
    const key = c.location ?? '';
    const group = groups.get(key);
    if (group) group.push(c);
    else groups.set(key, [c]);
  }
  const out = new Set<CaseRecord>();
  for (const group of groups.values()) {
    const k = Math.min(Math.round(heldOut * group.length), group.length - 1);
    const ranked = [...group].sort((a, b) => hashSeed(seed, `held-out:${a.id}`) - hashSeed(seed, `held-out:${b.id}`) || (a.id < b.id ? -1 : 1));
    for (const c of ranked.slice(0, k)) out.add(c);
  }
  return { train: cases.filter((c) => !out.has(c)), heldOut: cases.filter((c) => out.has(c)) };
}

/** pretrainingCases split by the config's pretrain.heldOut and seed. */
export function pretrainSplit(ds: Dataset): PretrainSplit {
  return splitPretrainingCases(pretrainingCases(ds), ds.config.pretrain.heldOut ?? 0, ds.config.seed);
}

export interface LabelledCase {
  case: CaseRecord;
  /** 1 = positive marker (V600E), 0 = negative marker (fusion) */
  label: 0 | 1;
}

/** Downstream cases (negative vs positive marker; other markers excluded), by cohort. */
export function downstreamCases(ds: Dataset): { internal: LabelledCase[]; external: LabelledCase[] } {
  const { positiveMarker, negativeMarker } = ds.config.data;
  const pick = (cohort: 'internal' | 'external') =>
    ds.manifest.cases
      .filter((c) => c.cohort === cohort && (c.marker === positiveMarker || c.marker === negativeMarker))
      .map((c) => ({ case: c, label: (c.marker === positiveMarker ? 1 : 0) as 0 | 1 }));
  return { internal: pick('internal'), external: pick('external') };
}

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

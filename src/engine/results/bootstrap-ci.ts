// Bootstrap confidence intervals beside the tables' mean ± std: for every
// arm, cohort and metric (AUC, 2D and 3D Dice, and the attention map's mass
// in the tumour where the cases record it) a 95 % percentile interval
// of the tables' mean over folds (metrics/bootstrap.ts). Internal test folds
// hold disjoint cases, which are resampled within folds; where every fold
// holds the same cases (the external cohort, scored by each fold's model;
// known by the cases' ids), each resample draws those cases once and every
// fold uses the same draw, so the cohort's sampling error is not averaged
// away over five independent draws of one cohort (`resampling`). The folds and cases are the tables' own: the AUC
// over the folds whose cohort holds both classes, the Dice over the cases
// with a Dice and the folds with any, so the interval's estimate is the
// table's mean. An arm with a fold whose cases are not given gets none.
// The baseline explanations (Grad-CAM, occlusion; explain-baselines.csv) get
// the same 2D and 3D Dice intervals, per method, when every fold's rows are given.
// Each interval has its own generator, seeded from the run's seed and its
// arm, cohort and metric, so adding an arm changes no other interval.
// follows: METHOD.md §7 (bootstrap confidence intervals, beyond the paper)
import { aucBootstrapCi, diceBootstrapCi, DEFAULT_BOOTSTRAP_RESAMPLES, type BootstrapCi } from '../metrics/bootstrap';
import { hashSeed } from '../util/rng';
import { BASELINE_KEYS, BASELINE_LABELS } from './aggregate';
import type { ArmResult, BaselineMethodKey, Split } from './types';

/** One evaluated case of a fold (a row of the fold's predictions.csv). */
export interface CaseResult {
  /** the case's id; with ids, folds that hold the same cases are resampled together */
  id?: string;
  cohort: Split;
  label: 0 | 1;
  score: number;
  dice2d: number | null;
  dice3d: number | null;
  /** the attention map's mass in the tumour (explain/mass.ts); absent in runs made before it was saved */
  mass3d?: number | null;
}

/** One case's baseline explanation scores (a row of the fold's explain-baselines.csv). */
export interface BaselineCaseResult {
  id?: string;
  cohort: Split;
  method: BaselineMethodKey;
  dice2d: number | null;
  dice3d: number | null;
}

/** The evaluated cases of one fold of one arm. */
export interface FoldCases {
  arm: string;
  fold: number;
  cases: CaseResult[];
  /** the fold's baseline explanation rows, when the run computed them */
  baselines?: BaselineCaseResult[];
}

export type CiMetric = 'auc' | 'dice2d' | 'dice3d' | 'mass3d';
/** mass3d: only where the cases record it */
export const CI_METRICS: readonly CiMetric[] = ['auc', 'dice2d', 'dice3d', 'mass3d'];
/** Is `metric` one with a value per case (a bootstrap interval)? */
export const isCiMetric = (metric: string): metric is CiMetric => (CI_METRICS as readonly string[]).includes(metric);

export interface MetricCi extends BootstrapCi {
  arm: string;
  /** the arm's label; for a baseline explanation "<arm label>, <method label>", as its table row */
  label: string;
  /** set for a baseline explanation's Dice (its table row's `explanation`); absent for the model's own AUC and attention Dice */
  explanation?: BaselineMethodKey;
  split: Split;
  metric: CiMetric;
  /** the folds resampled (those with the metric), in fold order */
  folds: number[];
  /** cases resampled: summed over those folds within folds; the cohort's cases, once, when shared */
  cases: number;
  /** the statistic: the mean over folds of each fold's value (the tables' mean) */
  statistic: 'mean over folds';
  /** 'within folds': each fold's cases drawn on their own; 'shared cases': every fold holds the same cases, drawn once per resample for all folds (absent in results written before: within folds) */
  resampling?: Resampling;
  seed: number;
}

export type Resampling = 'within folds' | 'shared cases';

/**
 * The folds' cases in one id order when two or more folds hold the same
 * cases (every case with an id, each id once per fold, the same ids in every
 * fold): those are resampled together. Otherwise null (within folds).
 */
export function sharedCases<T extends { id?: string }>(folds: readonly (readonly T[])[]): T[][] | null {
  if (folds.length < 2) return null;
  const sorted = folds.map((f) => (f.every((c) => typeof c.id === 'string') ? [...f].sort((a, b) => (a.id! < b.id! ? -1 : a.id! > b.id! ? 1 : 0)) : null));
  if (sorted.some((f) => f === null)) return null;
  const ids = sorted[0]!.map((c) => c.id);
  if (ids.some((id, i) => i > 0 && id === ids[i - 1])) return null;
  for (const f of sorted) if (f!.length !== ids.length || f!.some((c, i) => c.id !== ids[i])) return null;
  return sorted as T[][];
}

/** The folds as resampled: in shared id order with `shared`, else as given. */
function resamplingOf<T extends { id?: string }>(folds: readonly (readonly T[])[]): { folds: readonly (readonly T[])[]; resampling: Resampling; cases: number } {
  const shared = sharedCases(folds);
  return shared
    ? { folds: shared, resampling: 'shared cases', cases: shared[0]!.length }
    : { folds, resampling: 'within folds', cases: folds.reduce((s, f) => s + f.length, 0) };
}

export interface CiOptions {
  /** the run's seed (default 0) */
  seed?: number;
  /** B (default 2000) */
  resamples?: number;
  level?: number;
}

/** The intervals of every arm with all its folds' cases, in arm, cohort, metric order. */
export function bootstrapCis(arms: readonly ArmResult[], foldCases: readonly FoldCases[], options: CiOptions = {}): MetricCi[] {
  const byKey = new Map(foldCases.map((f) => [`${f.arm}\u0000${f.fold}`, f.cases]));
  const byBaselines = new Map(foldCases.map((f) => [`${f.arm}\u0000${f.fold}`, f.baselines]));
  const out: MetricCi[] = [];
  for (const arm of arms) {
    if (arm.folds.length === 0) continue;
    const folds = [...arm.folds].sort((a, b) => a.fold - b.fold).map((f) => ({ fold: f.fold, cases: byKey.get(`${arm.arm}\u0000${f.fold}`) }));
    if (folds.some((f) => f.cases === undefined)) continue;
    for (const split of ['internal', 'external'] as const) {
      for (const metric of CI_METRICS) {
        const seed = hashSeed(options.seed ?? 0, `${arm.arm}/${split}/${metric}`);
        const opts = { seed, resamples: options.resamples ?? DEFAULT_BOOTSTRAP_RESAMPLES, level: options.level };
        const used: number[] = [];
        let ci: BootstrapCi | undefined;
        let cases = 0;
        let resampling: Resampling = 'within folds';
        if (metric === 'auc') {
          const preds = folds
            .map((f) => ({ fold: f.fold, cs: f.cases!.filter((c) => c.cohort === split) }))
            .filter((f) => {
              const pos = f.cs.filter((c) => c.label === 1).length;
              return pos > 0 && pos < f.cs.length;
            });
          if (preds.length) {
            used.push(...preds.map((f) => f.fold));
            const r = resamplingOf(preds.map((f) => f.cs));
            cases = r.cases;
            resampling = r.resampling;
            ci = aucBootstrapCi(r.folds.map((cs) => ({ scores: cs.map((c) => c.score), labels: cs.map((c) => c.label) })), { ...opts, shared: r.resampling === 'shared cases' });
          }
        } else {
          const dice = folds
            .map((f) => ({ fold: f.fold, d: f.cases!.filter((c) => c.cohort === split).flatMap((c) => (typeof c[metric] === 'number' ? [{ id: c.id, v: c[metric] as number }] : [])) }))
            .filter((f) => f.d.length > 0);
          if (dice.length) {
            used.push(...dice.map((f) => f.fold));
            const r = resamplingOf(dice.map((f) => f.d));
            cases = r.cases;
            resampling = r.resampling;
            ci = diceBootstrapCi(r.folds.map((d) => d.map((c) => c.v)), { ...opts, shared: r.resampling === 'shared cases' });
          }
        }
        if (ci) out.push({ arm: arm.arm, label: arm.label, split, metric, folds: used, cases, statistic: 'mean over folds', resampling, seed, ...ci });
      }
      // baseline explanations: every fold's rows are needed, as for the cases
      if (folds.some((f) => byBaselines.get(`${arm.arm}\u0000${f.fold}`) === undefined)) continue;
      for (const method of BASELINE_KEYS) {
        for (const metric of ['dice2d', 'dice3d'] as const) {
          const dice = folds
            .map((f) => ({
              fold: f.fold,
              d: byBaselines.get(`${arm.arm}\u0000${f.fold}`)!.flatMap((r) => (r.cohort === split && r.method === method && r[metric] !== null ? [{ id: r.id, v: r[metric] as number }] : [])),
            }))
            .filter((f) => f.d.length > 0);
          if (!dice.length) continue;
          const seed = hashSeed(options.seed ?? 0, `${arm.arm}/${split}/${method}/${metric}`);
          const r = resamplingOf(dice.map((f) => f.d));
          const ci = diceBootstrapCi(
            r.folds.map((d) => d.map((c) => c.v)),
            { seed, resamples: options.resamples ?? DEFAULT_BOOTSTRAP_RESAMPLES, level: options.level, shared: r.resampling === 'shared cases' },
          );
          out.push({ arm: arm.arm, label: `${arm.label}, ${BASELINE_LABELS[method]}`, explanation: method, split, metric, folds: dice.map((f) => f.fold), cases: r.cases, statistic: 'mean over folds', resampling: r.resampling, seed, ...ci });
        }
      }
    }
  }
  return out;
}

/** Checks fold cases handed to buildResults; `source` and the path name the problem. */
export function checkFoldCases(input: unknown, source: string): FoldCases[] {
  const fail = (path: string, what: string): never => {
    throw new Error(`${source}: caseResults${path} ${what}`);
  };
  if (!Array.isArray(input)) fail('', 'must be an array');
  (input as unknown[]).forEach((f, i) => {
    const r = f as Partial<FoldCases> | null;
    if (typeof r !== 'object' || r === null) fail(`[${i}]`, 'is not an object');
    if (typeof r!.arm !== 'string') fail(`[${i}].arm`, 'must be a string');
    if (!Number.isInteger(r!.fold)) fail(`[${i}].fold`, 'must be an integer');
    if (!Array.isArray(r!.cases)) fail(`[${i}].cases`, 'must be an array');
    r!.cases!.forEach((c, j) => {
      const p = `[${i}].cases[${j}]`;
      if (c.id !== undefined && typeof c.id !== 'string') fail(`${p}.id`, 'must be a string when given');
      if (c.cohort !== 'internal' && c.cohort !== 'external') fail(`${p}.cohort`, `is ${JSON.stringify(c.cohort)}, expected "internal" or "external"`);
      if (c.label !== 0 && c.label !== 1) fail(`${p}.label`, `is ${JSON.stringify(c.label)}, expected 0 or 1`);
      if (!Number.isFinite(c.score)) fail(`${p}.score`, 'must be a finite number');
      for (const k of ['dice2d', 'dice3d'] as const) if (c[k] !== null && !Number.isFinite(c[k])) fail(`${p}.${k}`, 'must be a finite number or null');
      if (c.mass3d !== undefined && c.mass3d !== null && !Number.isFinite(c.mass3d)) fail(`${p}.mass3d`, 'must be a finite number, null or absent');
    });
    if (r!.baselines === undefined) return;
    if (!Array.isArray(r!.baselines)) fail(`[${i}].baselines`, 'must be an array');
    r!.baselines!.forEach((c, j) => {
      const p = `[${i}].baselines[${j}]`;
      if (c.id !== undefined && typeof c.id !== 'string') fail(`${p}.id`, 'must be a string when given');
      if (c.cohort !== 'internal' && c.cohort !== 'external') fail(`${p}.cohort`, `is ${JSON.stringify(c.cohort)}, expected "internal" or "external"`);
      if (!BASELINE_KEYS.includes(c.method)) fail(`${p}.method`, `is ${JSON.stringify(c.method)}, expected ${BASELINE_KEYS.map((m) => `"${m}"`).join(' or ')}`);
      for (const k of ['dice2d', 'dice3d'] as const) if (c[k] !== null && !Number.isFinite(c[k])) fail(`${p}.${k}`, 'must be a finite number or null');
    });
  });
  return input as FoldCases[];
}

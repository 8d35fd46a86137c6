// Bootstrap confidence intervals beside the tables' mean ± std: for every
// arm, cohort and metric (AUC, 2D and 3D Dice) a 95 % percentile interval
// of the tables' mean over folds, cases resampled within folds
// (metrics/bootstrap.ts). The folds and cases are the tables' own: the AUC
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
  cohort: Split;
  label: 0 | 1;
  score: number;
  dice2d: number | null;
  dice3d: number | null;
}

/** One case's baseline explanation scores (a row of the fold's explain-baselines.csv). */
export interface BaselineCaseResult {
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

export type CiMetric = 'auc' | 'dice2d' | 'dice3d';
export const CI_METRICS: readonly CiMetric[] = ['auc', 'dice2d', 'dice3d'];

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
  /** cases resampled, over all those folds */
  cases: number;
  /** the statistic: the mean over folds of each fold's value (the tables' mean) */
  statistic: 'mean over folds';
  seed: number;
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
        if (metric === 'auc') {
          const preds = folds
            .map((f) => ({ fold: f.fold, cs: f.cases!.filter((c) => c.cohort === split) }))
            .filter((f) => {
              const pos = f.cs.filter((c) => c.label === 1).length;
              return pos > 0 && pos < f.cs.length;
            });
          if (preds.length) {
            used.push(...preds.map((f) => f.fold));
            cases = preds.reduce((s, f) => s + f.cs.length, 0);
            ci = aucBootstrapCi(preds.map((f) => ({ scores: f.cs.map((c) => c.score), labels: f.cs.map((c) => c.label) })), opts);
          }
        } else {
          const dice = folds
            .map((f) => ({ fold: f.fold, d: f.cases!.filter((c) => c.cohort === split).flatMap((c) => (c[metric] === null ? [] : [c[metric] as number])) }))
            .filter((f) => f.d.length > 0);
          if (dice.length) {
            used.push(...dice.map((f) => f.fold));
            cases = dice.reduce((s, f) => s + f.d.length, 0);
            ci = diceBootstrapCi(dice.map((f) => f.d), opts);
          }
        }
        if (ci) out.push({ arm: arm.arm, label: arm.label, split, metric, folds: used, cases, statistic: 'mean over folds', seed, ...ci });
      }
      // baseline explanations: every fold's rows are needed, as for the cases
      if (folds.some((f) => byBaselines.get(`${arm.arm}\u0000${f.fold}`) === undefined)) continue;
      for (const method of BASELINE_KEYS) {
        for (const metric of ['dice2d', 'dice3d'] as const) {
          const dice = folds
            .map((f) => ({
              fold: f.fold,
              d: byBaselines.get(`${arm.arm}\u0000${f.fold}`)!.flatMap((r) => (r.cohort === split && r.method === method && r[metric] !== null ? [r[metric] as number] : [])),
            }))
            .filter((f) => f.d.length > 0);
          if (!dice.length) continue;
          const seed = hashSeed(options.seed ?? 0, `${arm.arm}/${split}/${method}/${metric}`);
          const ci = diceBootstrapCi(
            dice.map((f) => f.d),
            { seed, resamples: options.resamples ?? DEFAULT_BOOTSTRAP_RESAMPLES, level: options.level },
          );
          const cases = dice.reduce((s, f) => s + f.d.length, 0);
          out.push({ arm: arm.arm, label: `${arm.label}, ${BASELINE_LABELS[method]}`, explanation: method, split, metric, folds: dice.map((f) => f.fold), cases, statistic: 'mean over folds', seed, ...ci });
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
      if (c.cohort !== 'internal' && c.cohort !== 'external') fail(`${p}.cohort`, `is ${JSON.stringify(c.cohort)}, expected "internal" or "external"`);
      if (c.label !== 0 && c.label !== 1) fail(`${p}.label`, `is ${JSON.stringify(c.label)}, expected 0 or 1`);
      if (!Number.isFinite(c.score)) fail(`${p}.score`, 'must be a finite number');
      for (const k of ['dice2d', 'dice3d'] as const) if (c[k] !== null && !Number.isFinite(c[k])) fail(`${p}.${k}`, 'must be a finite number or null');
    });
    if (r!.baselines === undefined) return;
    if (!Array.isArray(r!.baselines)) fail(`[${i}].baselines`, 'must be an array');
    r!.baselines!.forEach((c, j) => {
      const p = `[${i}].baselines[${j}]`;
      if (c.cohort !== 'internal' && c.cohort !== 'external') fail(`${p}.cohort`, `is ${JSON.stringify(c.cohort)}, expected "internal" or "external"`);
      if (!BASELINE_KEYS.includes(c.method)) fail(`${p}.method`, `is ${JSON.stringify(c.method)}, expected ${BASELINE_KEYS.map((m) => `"${m}"`).join(' or ')}`);
      for (const k of ['dice2d', 'dice3d'] as const) if (c[k] !== null && !Number.isFinite(c[k])) fail(`${p}.${k}`, 'must be a finite number or null');
    });
  });
  return input as FoldCases[];
}

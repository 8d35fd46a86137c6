// Bootstrap confidence intervals beside the tables' mean ± std: for every
// arm, cohort and metric (AUC, 2D and 3D Dice) a 95 % percentile interval
// of the tables' mean over folds, cases resampled within folds
// (metrics/bootstrap.ts). The folds and cases are the tables' own: the AUC
// over the folds whose cohort holds both classes, the Dice over the cases
// with a Dice and the folds with any, so the interval's estimate is the
// table's mean. An arm with a fold whose cases are not given gets none.
// Each interval has its own generator, seeded from the run's seed and its
// arm, cohort and metric, so adding an arm changes no other interval.
// follows: METHOD.md §7 (bootstrap confidence intervals, beyond the paper)
import { aucBootstrapCi, diceBootstrapCi, DEFAULT_BOOTSTRAP_RESAMPLES, type BootstrapCi } from '../metrics/bootstrap';
import { hashSeed } from '../util/rng';
import type { ArmResult, Split } from './types';

/** One evaluated case of a fold (a row of the fold's predictions.csv). */
export interface CaseResult {
  cohort: Split;
  label: 0 | 1;
  score: number;
  dice2d: number | null;
  dice3d: number | null;
}

/** The evaluated cases of one fold of one arm. */
export interface FoldCases {
  arm: string;
  fold: number;
  cases: CaseResult[];
}

export type CiMetric = 'auc' | 'dice2d' | 'dice3d';
export const CI_METRICS: readonly CiMetric[] = ['auc', 'dice2d', 'dice3d'];

export interface MetricCi extends BootstrapCi {
  arm: string;
  label: string;
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
  });
  return input as FoldCases[];
}

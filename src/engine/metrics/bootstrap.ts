// 95 % percentile bootstrap confidence intervals, cases resampled within
// folds. Each resample draws, in every fold, as many cases as the fold has,
// with replacement (stratified by fold), and recomputes the statistic the
// tables report: by default the mean over folds of the per-fold value (AUC,
// or mean Dice over the fold's cases); `pooled` takes the value over all
// resampled cases at once instead. Where every fold holds the same cases
// (an external cohort that each fold's model scores), `shared` draws one
// list of case indices per resample and applies it to every fold: the
// cases, not the folds' draws, are then the unit of resampling, so the
// interval carries the cohort's own sampling error once instead of averaging
// it away over independent draws. The paired differences (two arms scored on
// the same cases) resample both arms with the same indices.
// The interval is the percentile one: the (1 − level)/2 and (1 + level)/2
// quantiles of the resampled statistics, interpolated linearly between order
// statistics (numpy.percentile's default method 'linear', Hyndman–Fan 7).
// A resample whose statistic is undefined (the AUC of a fold that drew one
// class only) is not used: with the seeded generator it is redrawn until
// `resamples` usable ones are collected (this conditions on both classes being
// present in every fold, as the AUC of the data itself does), with injected
// indices it is skipped; either way `skipped` counts them.
// follows: METHOD.md §7 (bootstrap confidence intervals, beyond the paper)
import { Rng } from '../util/rng';
import { checkScoresLabels } from './labels';
import { rocAuc } from './roc-auc';

export const DEFAULT_BOOTSTRAP_RESAMPLES = 2000;
/** Redrawing stops after this many draws per requested resample (a fold almost never drawing both classes). */
const MAX_DRAWS_PER_RESAMPLE = 20;

export interface BootstrapCi {
  /** the statistic on the cases as they are */
  estimate: number;
  lower: number;
  upper: number;
  /** coverage, 0.95 */
  level: number;
  /** usable resamples the percentiles were taken over */
  resamples: number;
  /** resamples left out because their statistic was undefined (redrawn or skipped) */
  skipped: number;
  method: 'percentile';
}

export interface BootstrapOptions {
  /** B, usable resamples wanted with the seeded generator (default 2000) */
  resamples?: number;
  /** seed of the generator (default 0) */
  seed?: number;
  /** coverage of the interval (default 0.95) */
  level?: number;
  /** the statistic over all cases at once instead of the mean over folds of the per-fold value */
  pooled?: boolean;
  /**
   * Every fold holds the same cases in the same order (each fold's model
   * scored one cohort): a resample draws one list of indices and applies it
   * to every fold. With injected indices, each resample's lists must then be
   * the same for every fold.
   */
  shared?: boolean;
  /**
   * Resample indices instead of the generator: indices[b][f] lists, for
   * resample b and fold f, as many 0-based case indices into fold f as the
   * fold has cases. Resamples with an undefined statistic are skipped.
   */
  indices?: readonly (readonly (readonly number[])[])[];
}

export interface FoldPredictions {
  scores: ArrayLike<number>;
  labels: ArrayLike<number | boolean>;
}

/**
 * Generic stratified bootstrap: `statistic` gets, for every fold, the
 * resampled cases (or the cases themselves for the estimate) and returns
 * the value, or null where it is undefined.
 */
export function stratifiedBootstrapCi<T>(
  folds: readonly (readonly T[])[],
  statistic: (folds: readonly (readonly T[])[]) => number | null,
  options: BootstrapOptions = {},
  where = 'stratifiedBootstrapCi',
): BootstrapCi {
  const level = options.level ?? 0.95;
  if (!(level > 0 && level < 1)) throw new Error(`${where}: level must lie in (0, 1), got ${level}`);
  if (folds.length === 0) throw new Error(`${where}: no folds`);
  folds.forEach((f, i) => {
    if (f.length === 0) throw new Error(`${where}: fold ${i} has no cases`);
    if (options.shared && f.length !== folds[0].length) throw new Error(`${where}: shared cases need every fold to hold the same cases, but fold ${i} has ${f.length} and fold 0 has ${folds[0].length}`);
  });
  const estimate = statistic(folds);
  if (estimate === null) throw new Error(`${where}: the statistic is undefined on the cases themselves`);
  const values: number[] = [];
  let skipped = 0;
  const resample = (pick: (fold: number, size: number, i: number) => number): number | null =>
    statistic(folds.map((f, fi) => Array.from({ length: f.length }, (_, i) => f[pick(fi, f.length, i)])));
  if (options.indices) {
    options.indices.forEach((perFold, b) => {
      if (perFold.length !== folds.length) throw new Error(`${where}: resample ${b} has indices for ${perFold.length} folds, expected ${folds.length}`);
      perFold.forEach((idx, fi) => {
        if (idx.length !== folds[fi].length) throw new Error(`${where}: resample ${b} draws ${idx.length} cases from fold ${fi}, which has ${folds[fi].length}`);
        for (const j of idx) {
          if (!Number.isInteger(j) || j < 0 || j >= folds[fi].length) throw new Error(`${where}: resample ${b}, fold ${fi}: index ${j} outside 0..${folds[fi].length - 1}`);
        }
        if (options.shared && idx.some((j, i) => j !== perFold[0][i])) throw new Error(`${where}: resample ${b} draws other cases in fold ${fi} than in fold 0, but the cases are shared`);
      });
      const v = resample((fi, _n, i) => perFold[fi][i]);
      if (v === null) skipped++;
      else values.push(v);
    });
    if (values.length === 0) throw new Error(`${where}: all ${options.indices.length} injected resamples have an undefined statistic`);
  } else {
    const b = options.resamples ?? DEFAULT_BOOTSTRAP_RESAMPLES;
    if (!Number.isInteger(b) || b < 1) throw new Error(`${where}: resamples must be a positive integer, got ${b}`);
    const rng = new Rng(options.seed ?? 0);
    while (values.length < b) {
      if (values.length + skipped >= MAX_DRAWS_PER_RESAMPLE * b) {
        throw new Error(`${where}: only ${values.length} of ${values.length + skipped} resamples have a defined statistic (a fold almost never draws both classes); too few for an interval`);
      }
      let v: number | null;
      if (options.shared) {
        const n = folds[0].length;
        const draw = Array.from({ length: n }, () => rng.int(n));
        v = resample((_fi, _n, i) => draw[i]);
      } else {
        v = resample((_fi, n) => rng.int(n));
      }
      if (v === null) skipped++;
      else values.push(v);
    }
  }
  values.sort((a, b) => a - b);
  return {
    estimate,
    lower: percentile(values, (100 * (1 - level)) / 2),
    upper: percentile(values, (100 * (1 + level)) / 2),
    level,
    resamples: values.length,
    skipped,
    method: 'percentile',
  };
}

/** The mean over folds of each fold's value; null when any fold's is undefined. */
function meanOverFolds<T>(folds: readonly (readonly T[])[], value: (fold: readonly T[]) => number | null): number | null {
  let sum = 0;
  for (const f of folds) {
    const v = value(f);
    if (v === null) return null;
    sum += v;
  }
  return sum / folds.length;
}

/**
 * CI of the ROC AUC: the mean over folds of each fold's AUC (the tables'
 * mean), or with `pooled` the AUC of all folds' predictions together.
 */
export function aucBootstrapCi(folds: readonly FoldPredictions[], options: BootstrapOptions = {}): BootstrapCi {
  const cases = folds.map((f, fi) => {
    const y = checkScoresLabels(f.scores, f.labels, `aucBootstrapCi (fold ${fi})`);
    return y.map((label, i) => ({ score: f.scores[i], label }));
  });
  folds.forEach((_, fi) => {
    const pos = cases[fi].filter((c) => c.label === 1).length;
    if (!options.pooled && (pos === 0 || pos === cases[fi].length)) {
      throw new Error(`aucBootstrapCi: fold ${fi} holds one class only (${pos} positives of ${cases[fi].length}); its AUC is undefined`);
    }
  });
  const auc = (cs: readonly { score: number; label: number }[]): number | null => {
    const pos = cs.reduce((s, c) => s + c.label, 0);
    if (pos === 0 || pos === cs.length) return null;
    return rocAuc(cs.map((c) => c.score), cs.map((c) => c.label));
  };
  const statistic = (fs: readonly (readonly { score: number; label: number }[])[]): number | null => (options.pooled ? auc(fs.flat()) : meanOverFolds(fs, auc));
  return stratifiedBootstrapCi(cases, statistic, options, 'aucBootstrapCi');
}

/**
 * CI of the mean Dice: the mean over folds of each fold's mean over its
 * cases (the tables' mean), or with `pooled` the mean over all cases.
 */
export function diceBootstrapCi(folds: readonly (ArrayLike<number>)[], options: BootstrapOptions = {}): BootstrapCi {
  const cases = folds.map((f, fi) =>
    Array.from(f, (d, i) => {
      if (!Number.isFinite(d)) throw new Error(`diceBootstrapCi: fold ${fi}, case ${i}: Dice is ${d}, expected a finite number`);
      return d;
    }),
  );
  const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
  const statistic = (fs: readonly (readonly number[])[]): number => (options.pooled ? mean(fs.flat()) : mean(fs.map(mean)));
  return stratifiedBootstrapCi(cases, statistic, options, 'diceBootstrapCi');
}

/** Two arms' scores on the same cases of one fold (same order, so `labels` serve both). */
export interface PairedFoldPredictions {
  labels: ArrayLike<number | boolean>;
  /** the first arm's scores */
  a: ArrayLike<number>;
  /** the second arm's scores */
  b: ArrayLike<number>;
}

/**
 * CI of the difference of two arms' AUC (a − b) scored on the same cases:
 * the mean over folds of each fold's AUC difference (the difference of the
 * tables' means), or with `pooled` the difference of the AUCs of all cases.
 * Both arms are resampled with the same indices (a paired bootstrap).
 */
export function aucDifferenceBootstrapCi(folds: readonly PairedFoldPredictions[], options: BootstrapOptions = {}): BootstrapCi {
  const cases = folds.map((f, fi) => {
    if (f.a.length !== f.labels.length || f.b.length !== f.labels.length) throw new Error(`aucDifferenceBootstrapCi: fold ${fi} has ${f.labels.length} labels but ${f.a.length} and ${f.b.length} scores`);
    const y = checkScoresLabels(f.a, f.labels, `aucDifferenceBootstrapCi (fold ${fi}, first arm)`);
    checkScoresLabels(f.b, f.labels, `aucDifferenceBootstrapCi (fold ${fi}, second arm)`);
    const pos = y.reduce((s, v) => s + v, 0);
    if (!options.pooled && (pos === 0 || pos === y.length)) throw new Error(`aucDifferenceBootstrapCi: fold ${fi} holds one class only (${pos} positives of ${y.length}); its AUC is undefined`);
    return y.map((label, i) => ({ a: f.a[i], b: f.b[i], label }));
  });
  const diff = (cs: readonly { a: number; b: number; label: number }[]): number | null => {
    const pos = cs.reduce((s, c) => s + c.label, 0);
    if (pos === 0 || pos === cs.length) return null;
    const labels = cs.map((c) => c.label);
    return rocAuc(cs.map((c) => c.a), labels) - rocAuc(cs.map((c) => c.b), labels);
  };
  const statistic = (fs: readonly (readonly { a: number; b: number; label: number }[])[]): number | null => (options.pooled ? diff(fs.flat()) : meanOverFolds(fs, diff));
  return stratifiedBootstrapCi(cases, statistic, options, 'aucDifferenceBootstrapCi');
}

/**
 * CI of the difference of two arms' mean Dice (a − b) on the same cases:
 * the mean over folds of each fold's difference of means, or with `pooled`
 * over all cases; both arms resampled with the same indices.
 */
export function diceDifferenceBootstrapCi(folds: readonly { a: ArrayLike<number>; b: ArrayLike<number> }[], options: BootstrapOptions = {}): BootstrapCi {
  const cases = folds.map((f, fi) => {
    if (f.a.length !== f.b.length) throw new Error(`diceDifferenceBootstrapCi: fold ${fi} has ${f.a.length} Dice values for the first arm and ${f.b.length} for the second; they must be the same cases`);
    return Array.from(f.a, (a, i) => {
      const b = f.b[i];
      for (const [arm, d] of [['first', a], ['second', b]] as const) {
        if (!Number.isFinite(d)) throw new Error(`diceDifferenceBootstrapCi: fold ${fi}, case ${i}: the ${arm} arm's Dice is ${d}, expected a finite number`);
      }
      return a - b;
    });
  });
  const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
  const statistic = (fs: readonly (readonly number[])[]): number => (options.pooled ? mean(fs.flat()) : mean(fs.map(mean)));
  return stratifiedBootstrapCi(cases, statistic, options, 'diceDifferenceBootstrapCi');
}

/**
 * The q-th percentile (0..100) of ascending values, interpolated linearly
 * between order statistics: numpy.percentile(values, q) with its default
 * method 'linear'.
 */
export function percentile(sorted: readonly number[], q: number): number {
  const n = sorted.length;
  if (n === 0) throw new Error('percentile: no values');
  if (!(q >= 0 && q <= 100)) throw new Error(`percentile: q must lie in [0, 100], got ${q}`);
  const pos = (q / 100) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const frac = pos - lo;
  return sorted[lo] + frac * (sorted[hi] - sorted[lo]);
}

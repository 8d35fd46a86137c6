// Paired two-sided Student's t-test between two experiments' per-fold
// results: a one-sample t-test of the differences a_i − b_i against 0
// (what @stdlib/stats-ttest does when given two arrays; same as
// scipy.stats.ttest_rel). df = n − 1.
// Zero variance of the differences: all equal and non-zero → t = ±∞, p = 0
// (as scipy); all zero (identical results) → t = 0, p = 1 (no difference),
// where the t statistic itself would be 0/0.
// follows: METHOD.md §7 (paired t-test over folds)
import ttest from '@stdlib/stats-ttest';

export interface TTestResult {
  t: number;
  p: number;
  df: number;
}

export function pairedTTest(a: ArrayLike<number>, b: ArrayLike<number>): TTestResult {
  if (a.length !== b.length) throw new Error(`pairedTTest: the samples are not paired (${a.length} vs ${b.length} values)`);
  if (a.length < 2) throw new Error(`pairedTTest: needs at least 2 pairs, got ${a.length}`);
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]) || !Number.isFinite(b[i])) throw new Error(`pairedTTest: pair ${i} is not finite (${a[i]}, ${b[i]})`);
    x.push(a[i]);
    y.push(b[i]);
  }
  const df = x.length - 1;
  const d0 = x[0] - y[0];
  if (x.every((v, i) => v - y[i] === d0)) {
    if (d0 === 0) return { t: 0, p: 1, df };
    return { t: d0 > 0 ? Infinity : -Infinity, p: 0, df };
  }
  const r = ttest(x, y, { alternative: 'two-sided' });
  return { t: r.statistic, p: r.pValue, df: r.df };
}

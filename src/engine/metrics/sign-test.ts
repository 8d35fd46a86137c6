// The exact two-sided sign test: of n independent signed results, `positive`
// are positive; under H0 each is positive with probability 1/2. Two-sided p
// as scipy.stats.binomtest(positive, n, 0.5).pvalue: twice the smaller tail,
// at most 1 (for p0 = 1/2 the binomial is symmetric, so doubling the tail is
// exactly scipy's "outcomes no more likely than the observed one").

/** Two-sided exact binomial p for `positive` successes of `n` at p0 = 0.5. */
export function signTest(positive: number, n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`signTest: n must be a positive integer, got ${n}`);
  if (!Number.isInteger(positive) || positive < 0 || positive > n) throw new Error(`signTest: positive must be an integer from 0 to ${n}, got ${positive}`);
  const k = Math.min(positive, n - positive);
  // Σ_{i ≤ k} C(n, i) / 2^n, each term from the last (no factorials, no overflow for any n a study has)
  let term = 2 ** -n;
  let tail = 0;
  for (let i = 0; i <= k; i++) {
    tail += term;
    term = (term * (n - i)) / (i + 1);
  }
  return Math.min(1, 2 * tail);
}

// L2-penalised logistic regression, for the linear probe of frozen encoders
// (docs/METHOD.md §7, "Linear probe"). The objective is scikit-learn's
// LogisticRegression(penalty='l2', C) with an unpenalised intercept:
//   0.5·‖w‖² + C·Σᵢ log(1 + exp(−sᵢ(xᵢ·w + b))),  sᵢ = 2yᵢ − 1,
// strictly convex in w, minimised by Newton's method with a backtracking
// line search (the Hessian solved by Cholesky), stopped when every
// gradient component is at most 1e-9·max(1, C·n) or the Newton decrement
// falls below the objective's floating-point resolution. Checked against SciPy's
// trust-exact minimiser of the same objective
// (test/fixtures/metrics/logistic.py).
import { hashSeed, Rng } from '../util/rng';

export interface LogisticModel {
  w: number[];
  b: number;
  /** Newton iterations taken */
  iterations: number;
  /** the largest absolute gradient component at the answer */
  gradMax: number;
}

/** scikit-learn's default inverse penalty */
export const DEFAULT_C = 1;

export interface LogisticOptions {
  /** inverse penalty strength (scikit-learn's C); > 0 */
  C: number;
  maxIterations?: number;
  /** stop when every gradient component is at most this (default 1e-9·max(1, C·n)) */
  tolerance?: number;
}

const softplus = (z: number): number => (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z)));
/** 1 / (1 + e^(−z)), without overflow for large |z|. */
export const sigmoid = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

/** Solves A x = g for a symmetric positive definite A (row-major, n×n), in place of nothing: A is copied. */
function choleskySolve(A: Float64Array, g: Float64Array, n: number): Float64Array {
  const L = new Float64Array(A);
  for (let j = 0; j < n; j++) {
    let d = L[j * n + j]!;
    for (let k = 0; k < j; k++) d -= L[j * n + k]! * L[j * n + k]!;
    if (!(d > 0)) throw new Error('logistic regression: the Hessian is not positive definite (non-finite features?)');
    const ljj = Math.sqrt(d);
    L[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = L[i * n + j]!;
      for (let k = 0; k < j; k++) s -= L[i * n + k]! * L[j * n + k]!;
      L[i * n + j] = s / ljj;
    }
  }
  const x = new Float64Array(g);
  for (let i = 0; i < n; i++) {
    let s = x[i]!;
    for (let k = 0; k < i; k++) s -= L[i * n + k]! * x[k]!;
    x[i] = s / L[i * n + i]!;
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = x[i]!;
    for (let k = i + 1; k < n; k++) s -= L[k * n + i]! * x[k]!;
    x[i] = s / L[i * n + i]!;
  }
  return x;
}

/** Fits the penalised logistic regression of labels y (0/1) on the rows of X. */
export function fitLogistic(X: readonly (readonly number[])[], y: readonly number[], o: LogisticOptions): LogisticModel {
  const n = X.length;
  if (n === 0) throw new Error('logistic regression: no cases');
  if (y.length !== n) throw new Error(`logistic regression: ${n} rows but ${y.length} labels`);
  if (!(o.C > 0) || !Number.isFinite(o.C)) throw new Error(`logistic regression: C must be a positive number (got ${o.C})`);
  const d = X[0]!.length;
  for (const [i, row] of X.entries()) {
    if (row.length !== d) throw new Error(`logistic regression: row ${i} has ${row.length} features, row 0 has ${d}`);
    if (row.some((v) => !Number.isFinite(v))) throw new Error(`logistic regression: row ${i} holds a non-finite feature`);
    if (y[i] !== 0 && y[i] !== 1) throw new Error(`logistic regression: label ${i} is ${String(y[i])}, not 0 or 1`);
  }
  const maxIterations = o.maxIterations ?? 100;
  // relative to the loss term's size (C·n): its sums carry that much rounding
  const tolerance = o.tolerance ?? 1e-9 * Math.max(1, o.C * n);
  const m = d + 1; // w, then b
  let theta = new Float64Array(m);
  const margins = (t: Float64Array): Float64Array => {
    const z = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = t[d]!;
      const row = X[i]!;
      for (let k = 0; k < d; k++) s += row[k]! * t[k]!;
      z[i] = s;
    }
    return z;
  };
  const objective = (t: Float64Array, z: Float64Array): number => {
    let pen = 0;
    for (let k = 0; k < d; k++) pen += t[k]! * t[k]!;
    let loss = 0;
    for (let i = 0; i < n; i++) loss += softplus(y[i] === 1 ? -z[i]! : z[i]!);
    return 0.5 * pen + o.C * loss;
  };
  let z = margins(theta);
  let f = objective(theta, z);
  let gradMax = Infinity;
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    const g = new Float64Array(m);
    const H = new Float64Array(m * m);
    for (let k = 0; k < d; k++) {
      g[k] = theta[k]!;
      H[k * m + k] = 1;
    }
    for (let i = 0; i < n; i++) {
      const p = sigmoid(z[i]!);
      const r = o.C * (p - y[i]!);
      const wgt = o.C * p * (1 - p);
      const row = X[i]!;
      for (let a = 0; a < m; a++) {
        const xa = a < d ? row[a]! : 1;
        g[a] += r * xa;
        if (wgt === 0) continue;
        const wa = wgt * xa;
        for (let c = 0; c <= a; c++) H[a * m + c] += wa * (c < d ? row[c]! : 1);
      }
    }
    gradMax = g.reduce((s, v) => Math.max(s, Math.abs(v)), 0);
    if (gradMax <= tolerance) break;
    for (let a = 0; a < m; a++) for (let c = 0; c < a; c++) H[c * m + a] = H[a * m + c]!;
    // the intercept's direction is unpenalised: a tiny ridge keeps the solve defined when every p is 0 or 1
    H[m * m - 1] += 1e-12;
    const step = choleskySolve(H, g, m);
    let t = 1;
    let next = theta;
    let zNext = z;
    let fNext = f;
    let slope = 0;
    for (let a = 0; a < m; a++) slope += g[a]! * step[a]!;
    // the Newton decrement: what a full step would still gain is below the objective's floating-point resolution
    if (slope / 2 <= 1e-20 * Math.max(1, Math.abs(f))) break;
    for (let ls = 0; ls < 60; ls++) {
      next = theta.map((v, a) => v - t * step[a]!);
      zNext = margins(next);
      fNext = objective(next, zNext);
      if (fNext <= f - 1e-4 * t * slope) break;
      t /= 2;
    }
    if (fNext > f) break; // no descent left in floating point
    theta = next;
    z = zNext;
    f = fNext;
  }
  return { w: Array.from(theta.subarray(0, d)), b: theta[d]!, iterations, gradMax };
}

/** The model's linear scores x·w + b, one per row. */
export function logisticScores(model: Pick<LogisticModel, 'w' | 'b'>, X: readonly (readonly number[])[]): number[] {
  return X.map((row) => {
    if (row.length !== model.w.length) throw new Error(`logistic regression: a row has ${row.length} features, the model ${model.w.length}`);
    return row.reduce((s, v, k) => s + v * model.w[k]!, model.b);
  });
}

export interface Standardizer {
  mean: number[];
  /** standard deviations (population), 1 where a feature is constant */
  scale: number[];
}

/** Per-feature mean and standard deviation of the rows (scikit-learn's StandardScaler; a constant feature keeps scale 1). */
export function fitStandardizer(X: readonly (readonly number[])[]): Standardizer {
  if (X.length === 0) throw new Error('standardizer: no rows');
  const d = X[0]!.length;
  const mean = new Array<number>(d).fill(0);
  for (const row of X) for (let k = 0; k < d; k++) mean[k]! += row[k]! / X.length;
  const scale = new Array<number>(d).fill(0);
  for (const row of X) for (let k = 0; k < d; k++) scale[k]! += (row[k]! - mean[k]!) ** 2 / X.length;
  return { mean, scale: scale.map((v) => (v > 0 ? Math.sqrt(v) : 1)) };
}

export const standardize = (s: Standardizer, X: readonly (readonly number[])[]): number[][] => X.map((row) => row.map((v, k) => (v - s.mean[k]!) / s.scale[k]!));

/** Masked copies of each case a probe is fitted on under a head's input dropout. */
export const PROBE_DROPOUT_COPIES = 16;

export interface LinearProbe extends LogisticModel {
  /** copies of each case the regression saw (1 without dropout) */
  copies: number;
}

/**
 * The linear probe of features x: the L2 logistic regression (C per case,
 * scikit-learn's objective) of the labels on the features standardised by
 * their mean μ and deviation σ (fitStandardizer), returned in the features'
 * own units, w = w_std/σ and b = b_std − w·μ, so that logisticScores reads
 * unstandardised features (`mrcl probe`, and the head of finetune.headInit
 * 'probe'). With `dropout` p > 0 (a head's input dropout) it is fitted as
 * that head trains: on PROBE_DROPOUT_COPIES copies of each case, each
 * feature kept with probability 1 − p and scaled by 1/(1 − p) (masks seeded
 * by `seed`), the penalty per case unchanged (C / copies per copy). Pooled
 * features' means are large against their spread across cases (μ/σ ≈ 10–30
 * on the quick study's encoders), so a regression fitted on clean features
 * alone leans on directions that one dropped feature moves by many logits:
 * its training loss under the head's dropout was 8–14 against 0.2 without.
 */
export function fitLinearProbe(
  features: readonly (readonly number[])[],
  labels: readonly number[],
  { C = DEFAULT_C, dropout = 0, seed = 0 }: { C?: number; dropout?: number; seed?: number } = {},
): LinearProbe {
  const scaler = fitStandardizer(features);
  const copies = dropout > 0 ? PROBE_DROPOUT_COPIES : 1;
  let rows = features;
  let ys = labels;
  if (copies > 1) {
    const rng = new Rng(hashSeed(seed, 'probe-head-dropout'));
    const keep = 1 / (1 - dropout);
    rows = features.flatMap((row) => Array.from({ length: copies }, () => row.map((x) => (rng.next() < dropout ? 0 : x * keep))));
    ys = labels.flatMap((y) => Array.from({ length: copies }, () => y));
  }
  const lr = fitLogistic(standardize(scaler, rows), ys, { C: C / copies });
  const w = lr.w.map((wk, k) => wk / scaler.scale[k]!);
  const b = lr.b - w.reduce((s, wk, k) => s + wk * scaler.mean[k]!, 0);
  return { w, b, iterations: lr.iterations, gradMax: lr.gradMax, copies };
}

// Stratified k-fold assignment for the downstream cross-validation.
// follows: METHOD.md §1 (5-fold stratified CV on the internal cohort) and §6
// (seed 42; optional nested inner folds for model selection).
//
// Stable by construction: the folds depend only on the set of (id, label)
// pairs and the seed, never on the order of the manifest. Samples are sorted
// by id (UTF-16 code-unit order, locale-free), classes by label, and each
// class is shuffled by its own generator derived from (seed, label).
//
// Each class is dealt round-robin over the folds, continuing where the
// previous class stopped, then the fold numbers are permuted by the seed.
// So for every class the per-fold counts differ by at most one, and so do
// the total fold sizes.
import { Rng, hashSeed } from '../util/rng';

export type FoldLabel = string | number;

export interface FoldSplit {
  /** Indices into the input arrays, ascending. */
  train: number[];
  test: number[];
}

function classKey(label: FoldLabel): string {
  // 1 and "1" are different classes; the prefix keeps them apart
  return typeof label === 'number' ? `n:${label}` : `s:${label}`;
}

function describeLabel(label: FoldLabel): string {
  return typeof label === 'number' ? String(label) : JSON.stringify(label);
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function checkInputs(ids: readonly string[], labels: readonly FoldLabel[], k: number, seed: number): void {
  if (!Number.isInteger(k) || k < 2) throw new Error(`stratifiedKFold: k must be an integer ≥ 2, got ${k}`);
  if (!Number.isInteger(seed)) throw new Error(`stratifiedKFold: seed must be an integer, got ${seed}`);
  if (ids.length !== labels.length) {
    throw new Error(`stratifiedKFold: ${ids.length} ids but ${labels.length} labels; they must pair up`);
  }
  if (ids.length === 0) throw new Error('stratifiedKFold: no samples');
  const seen = new Set<string>();
  ids.forEach((id, n) => {
    if (typeof id !== 'string') throw new Error(`stratifiedKFold: id at index ${n} is not a string`);
    if (seen.has(id)) throw new Error(`stratifiedKFold: duplicate id "${id}"`);
    seen.add(id);
    const l = labels[n];
    const okLabel = typeof l === 'string' || (typeof l === 'number' && Number.isFinite(l));
    if (!okLabel) throw new Error(`stratifiedKFold: label of "${id}" must be a string or a finite number, got ${String(l)}`);
  });
}

/**
 * The fold (0..k-1) of every sample: `result[n]` is the test fold of
 * `ids[n]`. Throws when k < 2, when ids and labels differ in length, on
 * duplicate ids, or when a class has fewer samples than folds.
 */
export function stratifiedKFold(ids: readonly string[], labels: readonly FoldLabel[], k: number, seed: number): number[] {
  checkInputs(ids, labels, k, seed);
  const classes = new Map<string, { label: FoldLabel; members: number[] }>();
  labels.forEach((label, n) => {
    const key = classKey(label);
    let c = classes.get(key);
    if (!c) classes.set(key, (c = { label, members: [] }));
    c.members.push(n);
  });
  const ordered = [...classes.entries()].sort((a, b) => compareIds(a[0], b[0]));
  const smallest = ordered.reduce((m, c) => (c[1].members.length < m[1].members.length ? c : m));
  if (smallest[1].members.length < k) {
    throw new Error(
      `stratifiedKFold: class ${describeLabel(smallest[1].label)} has ${smallest[1].members.length} sample(s), fewer than k = ${k} folds`,
    );
  }

  const root = seed >>> 0;
  const foldOrder = new Rng(hashSeed(root, 'fold-order')).shuffle(Array.from({ length: k }, (_, f) => f));
  const out = new Array<number>(ids.length).fill(-1);
  let dealt = 0;
  for (const [key, c] of ordered) {
    const members = c.members.slice().sort((a, b) => compareIds(ids[a]!, ids[b]!));
    new Rng(hashSeed(root, key)).shuffle(members);
    for (const n of members) out[n] = foldOrder[dealt++ % k]!;
  }
  return out;
}

/** The k train/test splits of stratifiedKFold (indices into `ids`). */
export function foldSplits(ids: readonly string[], labels: readonly FoldLabel[], k: number, seed: number): FoldSplit[] {
  const fold = stratifiedKFold(ids, labels, k, seed);
  return splitsOf(fold, k, (n) => n);
}

function splitsOf(fold: readonly number[], k: number, index: (n: number) => number): FoldSplit[] {
  const splits: FoldSplit[] = Array.from({ length: k }, () => ({ train: [], test: [] }));
  fold.forEach((f, n) => {
    for (let s = 0; s < k; s++) (s === f ? splits[s]!.test : splits[s]!.train).push(index(n));
  });
  for (const s of splits) {
    s.train.sort((a, b) => a - b);
    s.test.sort((a, b) => a - b);
  }
  return splits;
}

/**
 * Inner stratified folds over an outer training set, for model selection:
 * `train` are indices into `ids`/`labels` (an outer fold's training part);
 * the returned splits hold indices into the same arrays, all drawn from
 * `train`, so an outer test sample never appears. Stable in the same way
 * as stratifiedKFold.
 */
export function nestedSplits(
  train: readonly number[],
  ids: readonly string[],
  labels: readonly FoldLabel[],
  innerK: number,
  seed: number,
): FoldSplit[] {
  if (ids.length !== labels.length) {
    throw new Error(`nestedSplits: ${ids.length} ids but ${labels.length} labels; they must pair up`);
  }
  const seen = new Set<number>();
  for (const n of train) {
    if (!Number.isInteger(n) || n < 0 || n >= ids.length) {
      throw new Error(`nestedSplits: training index ${n} is outside 0..${ids.length - 1}`);
    }
    if (seen.has(n)) throw new Error(`nestedSplits: training index ${n} appears twice`);
    seen.add(n);
  }
  const subIds = train.map((n) => ids[n]!);
  const subLabels = train.map((n) => labels[n]!);
  const fold = stratifiedKFold(subIds, subLabels, innerK, seed);
  return splitsOf(fold, innerK, (m) => train[m]!);
}

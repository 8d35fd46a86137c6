import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foldSplits, nestedSplits, stratifiedKFold, type FoldLabel } from '../../../src/engine/data/folds';
import { Rng } from '../../../src/engine/util/rng';

/** ids "s00".."sNN" with labels given as [label, count] runs, interleaved by a fixed pattern. */
function dataset(runs: [FoldLabel, number][]): { ids: string[]; labels: FoldLabel[] } {
  const labels = runs.flatMap(([l, n]) => Array.from({ length: n }, () => l));
  // reverse-interleave so class members are not contiguous in the input
  const order = labels.map((_, n) => (n * 7) % labels.length);
  const unique = new Set(order).size === labels.length;
  const perm = unique ? order : labels.map((_, n) => n);
  return { ids: perm.map((n) => `s${String(n).padStart(2, '0')}`), labels: perm.map((n) => labels[n]!) };
}

/** For each fold, the count of each class (classes in the order given). */
function countsPerFold(folds: number[], labels: FoldLabel[], classes: FoldLabel[], k: number): number[][] {
  const out = Array.from({ length: k }, () => classes.map(() => 0));
  folds.forEach((f, n) => out[f]![classes.indexOf(labels[n]!)]!++);
  return out;
}

const sortRows = (rows: number[][]): number[][] =>
  rows.slice().sort((a, b) => {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return 0;
  });

// Hand-derived: classes (sorted by label) are dealt round-robin over k
// slots, each continuing where the previous stopped; the slots are then
// renamed by a seeded permutation, so the multiset of per-fold counts is
// fixed whatever the seed.
const TABLE: { name: string; runs: [FoldLabel, number][]; k: number; perFold: number[][] }[] = [
  // A in slots 0,1,2,3,4,0,1 → [2,2,1,1,1]; B continues at slot 2: 2,3,4,0,1 → [1,1,1,1,1]
  { name: 'A:7 B:5, k=5', runs: [['A', 7], ['B', 5]], k: 5, perFold: [[1, 1], [1, 1], [1, 1], [2, 1], [2, 1]] },
  // one class: 10 over 3 slots → 4,3,3
  { name: 'one class of 10, k=3', runs: [['x', 10]], k: 3, perFold: [[3], [3], [4]] },
  // numeric labels, 5 + 5 over 5 folds → one of each per fold
  { name: '0:5 1:5, k=5', runs: [[0, 5], [1, 5]], k: 5, perFold: [[1, 1], [1, 1], [1, 1], [1, 1], [1, 1]] },
  // A: slots 0,1,2,0 → [2,1,1]; B from slot 1: 1,2,0,1 → [1,2,1]; C from slot 2: 2,0,1,2 → [1,1,2]
  { name: 'A:4 B:4 C:4, k=3', runs: [['A', 4], ['B', 4], ['C', 4]], k: 3, perFold: [[1, 1, 2], [1, 2, 1], [2, 1, 1]] },
  // "fusion" sorts first: 0,1,0,1,0 → [3,2]; "v600e" from slot 1: 1,0,1 → [1,2]
  { name: 'fusion:5 v600e:3, k=2', runs: [['fusion', 5], ['v600e', 3]], k: 2, perFold: [[2, 2], [3, 1]] },
  // 1 and "1" are different classes
  { name: '1:2 "1":2, k=2', runs: [[1, 2], ['1', 2]], k: 2, perFold: [[1, 1], [1, 1]] },
];

for (const row of TABLE) {
  test(`per-fold class counts: ${row.name}`, () => {
    const { ids, labels } = dataset(row.runs);
    const classes = row.runs.map(([l]) => l);
    for (const seed of [0, 42, 12345]) {
      const folds = stratifiedKFold(ids, labels, row.k, seed);
      assert.equal(folds.length, ids.length);
      assert.deepEqual(sortRows(countsPerFold(folds, labels, classes, row.k)), row.perFold, `seed ${seed}`);
    }
  });
}

test('golden assignment for seed 42 (changing it changes every stored fold)', () => {
  const ids = ['c01', 'c02', 'c03', 'c04', 'c05', 'c06', 'c07', 'c08', 'c09', 'c10', 'c11', 'c12'];
  const labels = ['fusion', 'v600e', 'fusion', 'fusion', 'v600e', 'fusion', 'fusion', 'v600e', 'fusion', 'fusion', 'v600e', 'fusion'];
  assert.deepEqual(stratifiedKFold(ids, labels, 3, 42), [2, 2, 2, 0, 2, 1, 0, 0, 1, 1, 1, 0]);
});

test('every class within one of its ideal count per fold, fold sizes within one', () => {
  const rng = new Rng(7);
  for (let trial = 0; trial < 40; trial++) {
    const k = 2 + rng.int(5);
    const nClasses = 1 + rng.int(4);
    const runs: [FoldLabel, number][] = Array.from({ length: nClasses }, (_, c) => [`c${c}`, k + rng.int(20)]);
    const { ids, labels } = dataset(runs);
    const folds = stratifiedKFold(ids, labels, k, trial);
    const counts = countsPerFold(folds, labels, runs.map(([l]) => l), k);
    runs.forEach(([, n], c) => {
      for (let f = 0; f < k; f++) {
        const got = counts[f]![c]!;
        assert.ok(got === Math.floor(n / k) || got === Math.ceil(n / k), `trial ${trial}: class ${c} (${n}) has ${got} in fold ${f} of ${k}`);
      }
    });
    const sizes = counts.map((r) => r.reduce((a, b) => a + b, 0));
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `trial ${trial}: fold sizes ${sizes}`);
  }
});

test('permutation invariance: the fold of each id does not depend on input order', () => {
  const { ids, labels } = dataset([['fusion', 23], ['v600e', 11], ['other', 6]]);
  const base = stratifiedKFold(ids, labels, 5, 42);
  const byId = new Map(ids.map((id, n) => [id, base[n]]));
  const rng = new Rng(3);
  for (let t = 0; t < 5; t++) {
    const perm = rng.shuffle(ids.map((_, n) => n));
    const folds = stratifiedKFold(perm.map((n) => ids[n]!), perm.map((n) => labels[n]!), 5, 42);
    perm.forEach((n, m) => assert.equal(folds[m], byId.get(ids[n]!)));
  }
});

test('different seeds give different assignments; the same seed the same one', () => {
  const { ids, labels } = dataset([['fusion', 20], ['v600e', 20]]);
  const runs = [0, 1, 2, 42].map((s) => stratifiedKFold(ids, labels, 5, s));
  for (let a = 0; a < runs.length; a++) {
    for (let b = a + 1; b < runs.length; b++) assert.notDeepEqual(runs[a], runs[b]);
  }
  assert.deepEqual(stratifiedKFold(ids, labels, 5, 42), runs[3]);
});

test('foldSplits: each sample tested exactly once, train is the complement, indices ascending', () => {
  const { ids, labels } = dataset([['a', 9], ['b', 6]]);
  const folds = stratifiedKFold(ids, labels, 3, 5);
  const splits = foldSplits(ids, labels, 3, 5);
  assert.equal(splits.length, 3);
  splits.forEach((s, f) => {
    assert.deepEqual(s.test, ids.map((_, n) => n).filter((n) => folds[n] === f));
    assert.deepEqual(s.train, ids.map((_, n) => n).filter((n) => folds[n] !== f));
  });
});

test('nested splits stay inside the outer training part and are stratified', () => {
  const { ids, labels } = dataset([['fusion', 25], ['v600e', 15]]);
  for (const outer of foldSplits(ids, labels, 5, 42)) {
    const inner = nestedSplits(outer.train, ids, labels, 4, 42);
    assert.equal(inner.length, 4);
    const outerTest = new Set(outer.test);
    const seen: number[] = [];
    for (const s of inner) {
      for (const n of [...s.train, ...s.test]) assert.ok(!outerTest.has(n), `outer test sample ${n} leaked`);
      assert.deepEqual([...s.train, ...s.test].sort((a, b) => a - b), outer.train);
      seen.push(...s.test);
      // 20 fusion / 12 v600e in each outer training part → 5 and 3 per inner fold
      const v = s.test.filter((n) => labels[n] === 'v600e').length;
      assert.deepEqual([s.test.length - v, v], [5, 3]);
    }
    assert.deepEqual(seen.sort((a, b) => a - b), outer.train);
  }
});

test('clear errors', () => {
  const ids = ['a', 'b', 'c', 'd', 'e'];
  const labels = ['x', 'x', 'x', 'y', 'y'];
  const refuses = (f: () => unknown, re: RegExp) => assert.throws(f, (e: unknown) => e instanceof Error && re.test(e.message));
  refuses(() => stratifiedKFold(ids, labels, 1, 0), /k must be an integer ≥ 2, got 1/);
  refuses(() => stratifiedKFold(ids, labels, 2.5, 0), /k must be an integer ≥ 2, got 2.5/);
  refuses(() => stratifiedKFold(ids, labels, 2, 0.5), /seed must be an integer/);
  refuses(() => stratifiedKFold(ids, labels.slice(1), 2, 0), /5 ids but 4 labels/);
  refuses(() => stratifiedKFold(['a', 'b', 'a'], ['x', 'y', 'x'], 2, 0), /duplicate id "a"/);
  refuses(() => stratifiedKFold(ids, labels, 3, 0), /class "y" has 2 sample\(s\), fewer than k = 3 folds/);
  refuses(() => stratifiedKFold(ids, [0, 0, 0, 1, 1], 3, 0), /class 1 has 2 sample\(s\)/);
  refuses(() => stratifiedKFold([], [], 2, 0), /no samples/);
  refuses(() => stratifiedKFold(['a', 'b'], ['x', Number.NaN], 2, 0), /label of "b" must be a string or a finite number/);
  refuses(() => nestedSplits([0, 1, 9], ids, labels, 2, 0), /training index 9 is outside 0..4/);
  refuses(() => nestedSplits([0, 1, 1], ids, labels, 2, 0), /training index 1 appears twice/);
  refuses(() => nestedSplits([0, 1, 2, 3], ids, labels, 2, 0), /class "y" has 1 sample\(s\), fewer than k = 2 folds/);
});

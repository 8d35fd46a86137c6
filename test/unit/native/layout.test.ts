import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../../src/engine/backend';
import { compareNative, nativeAvailable, randomTensor } from './helpers';

const PADS: Array<{ shape: number[]; paddings: Array<[number, number]>; value?: number }> = [
  { shape: [2, 5, 6, 4, 3], paddings: [[0, 0], [1, 1], [1, 1], [1, 1], [0, 0]] },
  { shape: [1, 4, 4, 4, 2], paddings: [[0, 0], [3, 3], [3, 3], [3, 3], [0, 0]], value: -Infinity },
  { shape: [2, 3, 3, 2, 4], paddings: [[0, 0], [0, 0], [0, 0], [0, 0], [0, 4]] },
  { shape: [3, 5], paddings: [[1, 2], [0, 3]], value: 2.5 },
  { shape: [7], paddings: [[2, 1]] },
  { shape: [2, 3, 4], paddings: [[0, 0], [0, 0], [0, 0]] },
];

test('PadV2 native = pure JS over a table of shapes and paddings (forward and gradient)', async (t) => {
  if (!(await nativeAvailable(t))) return;
  for (const [i, c] of PADS.entries()) {
    const x = randomTensor(c.shape, 30 + i);
    const f = (xi: tf.Tensor) => tf.pad(xi, c.paddings, c.value ?? 0);
    const dy = randomTensor(tf.tidy(() => f(x).shape), 60 + i);
    compareNative(`pad ${JSON.stringify(c.paddings)}`, () => [f(x), tf.grad(f)(x, dy)], ['PadV2', 'Slice']);
    tf.dispose([x, dy]);
  }
});

const SLICES: Array<{ shape: number[]; begin: number[]; size: number[] }> = [
  { shape: [2, 7, 8, 6, 3], begin: [0, 1, 1, 1, 0], size: [2, 5, 6, 4, 3] },
  { shape: [2, 7, 8, 6, 3], begin: [1, 0, 2, 0, 1], size: [1, -1, 3, 6, 2] },
  { shape: [4, 9], begin: [1, 2], size: [2, 5] },
  { shape: [10], begin: [3], size: [4] },
  { shape: [3, 4, 5], begin: [0, 0, 0], size: [3, 4, 5] },
];

test('Slice native = pure JS over a table of boxes (forward and gradient)', async (t) => {
  if (!(await nativeAvailable(t))) return;
  for (const [i, c] of SLICES.entries()) {
    const x = randomTensor(c.shape, 70 + i);
    const f = (xi: tf.Tensor) => tf.slice(xi, c.begin, c.size);
    const dy = randomTensor(tf.tidy(() => f(x).shape), 80 + i);
    compareNative(`slice ${JSON.stringify(c)}`, () => [f(x), tf.grad(f)(x, dy)], ['PadV2', 'Slice']);
    tf.dispose([x, dy]);
  }
});

test('Transpose native = pure JS over permutations (values and gradients)', async (t) => {
  if (!(await nativeAvailable(t))) return;
  const cases: Array<[number[], number[]]> = [
    [[2, 6, 5, 4, 16], [0, 4, 1, 2, 3]],
    [[2, 6, 5, 4, 16], [4, 3, 2, 1, 0]],
    [[4, 30, 20], [0, 2, 1]],
    [[2, 3, 40, 16], [0, 2, 1, 3]],
    [[50, 40], [1, 0]],
  ];
  for (const [i, [shape, perm]] of cases.entries()) {
    const x = randomTensor(shape, 110 + i);
    const dy = randomTensor(perm.map((p) => shape[p]), 120 + i);
    compareNative(`transpose [${shape}] by [${perm}]`, () => [tf.transpose(x, perm), tf.grad((v) => tf.transpose(v, perm))(x, dy)], ['Transpose']);
    tf.dispose([x, dy]);
  }
});

test('UnsortedSegmentSum native = pure JS, and the embedding (gather) gradient it serves', async (t) => {
  if (!(await nativeAvailable(t))) return;
  const x = randomTensor([60, 24], 130);
  // repeated, missing, negative and out-of-range ids
  const ids = tf.tensor1d(Array.from({ length: 60 }, (_, i) => [3, 7, 3, -1, 50, 0, 9][i % 7]), 'int32');
  compareNative('unsortedSegmentSum', () => tf.unsortedSegmentSum(x, ids, 12), ['UnsortedSegmentSum']);
  const table = randomTensor([300, 16], 131);
  const tokens = tf.tensor2d(Array.from({ length: 4 * 30 }, (_, i) => (i * 37) % 300), [4, 30], 'int32');
  const dy = randomTensor([4, 30, 16], 132);
  compareNative('gather gradient', () => tf.grad((w) => tf.gather(w, tokens))(table, dy), ['UnsortedSegmentSum']);
  tf.dispose([x, ids, table, tokens, dy]);
});

const SPLITS: Array<{ shape: number[]; sizes: number | number[]; axis: number }> = [
  // the Longformer's banded attention: Concat on axis 3 and 4, split back by its gradient
  { shape: [2, 2, 3, 12, 8], sizes: 3, axis: 3 },
  { shape: [2, 2, 3, 8, 13], sizes: [1, 12], axis: 4 },
  { shape: [6, 4, 5], sizes: [2, -1, 1], axis: 0 },
  { shape: [3, 10], sizes: [0, 4, 6], axis: -1 },
];

test('SplitV native = pure JS over axes and sizes (values, and the Concat gradient it serves)', async (t) => {
  if (!(await nativeAvailable(t))) return;
  for (const [i, c] of SPLITS.entries()) {
    const x = randomTensor(c.shape, 140 + i);
    compareNative(`split ${JSON.stringify(c)}`, () => tf.split(x, c.sizes, c.axis), ['SplitV']);
    tf.dispose(x);
  }
  const parts = [randomTensor([2, 3, 4, 5], 150), randomTensor([2, 3, 4, 2], 151), randomTensor([2, 3, 4, 7], 152)];
  const dy = randomTensor([2, 3, 4, 14], 153);
  compareNative('concat gradient', () => tf.grads((a, b, c) => tf.concat([a, b, c], 3))(parts, dy), ['SplitV']);
  tf.dispose([...parts, dy]);
});

test('GatherV2 fast path = pure JS over axes and index shapes (values and gradients); bad indices keep TF.js\'s error', async (t) => {
  if (!(await nativeAvailable(t))) return;
  const cases: Array<{ shape: number[]; ids: number[]; idShape: number[]; axis: number }> = [
    { shape: [16, 300], ids: [3, 0, 15, 3, 7], idShape: [5], axis: 0 },
    { shape: [4, 9, 6], ids: [8, 1, 1, 0, 5, 2], idShape: [2, 3], axis: 1 },
    { shape: [3, 5, 40], ids: [39, 0, 17], idShape: [3], axis: 2 },
    { shape: [50, 8], ids: [], idShape: [0], axis: 0 },
  ];
  for (const [i, c] of cases.entries()) {
    const x = randomTensor(c.shape, 170 + i);
    const ids = tf.tensor(c.ids, c.idShape, 'int32');
    const f = (v: tf.Tensor) => tf.gather(v, ids, c.axis);
    const dy = randomTensor(tf.tidy(() => f(x).shape), 180 + i);
    compareNative(`gather ${JSON.stringify(c)}`, () => [f(x), tf.grad(f)(x, dy)], c.ids.length ? ['GatherV2'] : []);
    tf.dispose([x, ids, dy]);
  }
  const { enableNativeKernels, disableNativeKernels } = await import('../../../src/engine/native/register');
  enableNativeKernels();
  try {
    const x = randomTensor([4, 3], 190);
    const bad = tf.tensor1d([1, 4], 'int32');
    assert.throws(() => tf.gather(x, bad), /GatherV2: the index value 4 is not in \[0, 3\]/);
    tf.dispose([x, bad]);
  } finally {
    disableNativeKernels();
  }
});

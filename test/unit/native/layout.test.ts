import { test } from 'node:test';
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

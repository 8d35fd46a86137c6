import { test } from 'node:test';
import { tf } from '../../../src/engine/backend';
import { compareNative, nativeAvailable, randomTensor } from './helpers';
import { maxPool3d } from '../../../src/engine/networks/layers/maxpool3d';

// Cubic filters only: TF.js's MaxPool3DGrad encodes positions with the
// filter height where it means the width, so non-cubic windows get wrong
// gradients there (the native kernel does not share that bug).
const CASES: Array<{ x: [number, number, number, number, number]; filter: number; strides: number; pad: 'same' | 'valid'; prepad?: number }> = [
  { x: [2, 9, 8, 7, 4], filter: 3, strides: 2, pad: 'valid', prepad: 1 }, // the ResNet stem's pool (−∞ padded)
  { x: [1, 9, 8, 7, 3], filter: 3, strides: 2, pad: 'same' },
  { x: [2, 6, 6, 6, 5], filter: 2, strides: 2, pad: 'valid' },
  { x: [3, 7, 5, 9, 2], filter: 3, strides: 1, pad: 'same' },
  { x: [2, 8, 8, 8, 6], filter: 1, strides: 2, pad: 'valid' }, // the strided subsample of shortcut A
  { x: [1, 5, 7, 6, 2], filter: 2, strides: 3, pad: 'same' },
];

function pad5(x: tf.Tensor5D, p: number, value: number): tf.Tensor5D {
  return p ? tf.pad(x, [[0, 0], [p, p], [p, p], [p, p], [0, 0]], value) : x;
}

test('MaxPool3D and AvgPool3D native = pure JS (values and gradients)', async (t) => {
  if (!(await nativeAvailable(t))) return;
  for (const [i, c] of CASES.entries()) {
    // ties (rounded values) check the "last maximum wins" rule of the gradient
    const x = tf.tidy(() => randomTensor(c.x, 700 + i).mul(3).round()) as tf.Tensor5D;
    const max = (v: tf.Tensor) => tf.maxPool3d(pad5(v as tf.Tensor5D, c.prepad ?? 0, -Infinity), c.filter, c.strides, c.pad);
    const avg = (v: tf.Tensor) => tf.avgPool3d(pad5(v as tf.Tensor5D, c.prepad ?? 0, 0), c.filter, c.strides, c.pad);
    const dy = randomTensor(tf.tidy(() => max(x).shape), 800 + i);
    const what = `${JSON.stringify(c)}`;
    compareNative(`maxPool3d ${what}`, () => [max(x), tf.grad(max)(x, dy)], ['MaxPool3D', 'MaxPool3DGrad']);
    compareNative(`avgPool3d ${what}`, () => [avg(x), tf.grad(avg)(x, dy)], ['AvgPool3D', 'AvgPool3DGrad']);
    tf.dispose([x, dy]);
  }
});

test("the ResNet stem's pool (maxPool3d, the pool's own padding 1) native = pure JS, ties included", async (t) => {
  if (!(await nativeAvailable(t))) return;
  const x = tf.tidy(() => randomTensor([2, 9, 8, 7, 4], 710).mul(3).round()) as tf.Tensor5D;
  const pool = (v: tf.Tensor) => maxPool3d(v as tf.Tensor5D, { kernel: 3, stride: 2, padding: 1 });
  const dy = randomTensor([2, 5, 4, 4, 4], 810);
  compareNative('maxPool3d layer', () => [pool(x), tf.grad(pool)(x, dy)], ['MaxPool3D', 'MaxPool3DGrad']);
  tf.dispose([x, dy]);
});

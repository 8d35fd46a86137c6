import { test } from 'node:test';
import { tf } from '../../../src/engine/backend';
import { compareNative, nativeAvailable, randomTensor } from './helpers';

interface ConvCase {
  name: string;
  x: [number, number, number, number, number];
  k: [number, number, number];
  cout: number;
  strides: number | [number, number, number];
  pad: 'same' | 'valid';
  /** explicit symmetric padding applied first (PyTorch-style, as Conv3d does) */
  prepad?: number;
  dilations?: number;
}

// Strides, paddings (incl. TF.js's negative 'same' padding when kernel < stride),
// odd sizes, the 7³ stride-2 stem, batch 1 and > 1.
const CASES: ConvCase[] = [
  { name: '3³ valid, batch 1', x: [1, 5, 6, 7, 2], k: [3, 3, 3], cout: 3, strides: 1, pad: 'valid' },
  { name: '3³ same, strides 2,1,2, batch 2', x: [2, 9, 8, 7, 3], k: [3, 3, 3], cout: 5, strides: [2, 1, 2], pad: 'same' },
  { name: '1³ stride 2 same (negative front padding)', x: [2, 8, 8, 8, 4], k: [1, 1, 1], cout: 6, strides: 2, pad: 'same' },
  { name: '1³ stride 3 same (negative front and back padding)', x: [1, 6, 7, 6, 2], k: [1, 1, 1], cout: 3, strides: 3, pad: 'same' },
  { name: '2×1×3 stride 3 same (mixed signs)', x: [2, 7, 6, 8, 3], k: [2, 1, 3], cout: 2, strides: 3, pad: 'same' },
  { name: '7³ stride-2 stem, explicit pad 3', x: [2, 12, 14, 10, 1], k: [7, 7, 7], cout: 8, strides: 2, pad: 'valid', prepad: 3 },
  { name: 'odd sizes, 3³ stride 2 valid', x: [3, 7, 5, 9, 3], k: [3, 3, 3], cout: 4, strides: 2, pad: 'valid' },
  { name: 'BasicBlock conv, explicit pad 1', x: [2, 6, 6, 4, 16], k: [3, 3, 3], cout: 16, strides: 1, pad: 'valid', prepad: 1 },
  { name: 'downsampling conv, stride 2, explicit pad 1', x: [1, 7, 8, 6, 8], k: [3, 3, 3], cout: 16, strides: 2, pad: 'valid', prepad: 1 },
];

function pad5(x: tf.Tensor5D, p: number): tf.Tensor5D {
  return p ? tf.pad(x, [[0, 0], [p, p], [p, p], [p, p], [0, 0]]) : x;
}

for (const [i, c] of CASES.entries()) {
  test(`Conv3D native = pure JS: ${c.name} (forward, input and filter gradients)`, async (t) => {
    if (!(await nativeAvailable(t))) return;
    const x = randomTensor(c.x, 10 + i) as tf.Tensor5D;
    const w = randomTensor([...c.k, c.x[4], c.cout], 50 + i) as tf.Tensor5D;
    const conv = (xi: tf.Tensor, wi: tf.Tensor) => tf.conv3d(pad5(xi as tf.Tensor5D, c.prepad ?? 0), wi as tf.Tensor5D, c.strides, c.pad);
    const yShape = tf.tidy(() => conv(x, w).shape);
    const dy = randomTensor(yShape, 90 + i);
    compareNative(c.name, () => {
      const g = tf.grads(conv)([x, w], dy);
      return [conv(x, w), ...g];
    }, ['Conv3D', 'Conv3DBackpropInputV2', 'Conv3DBackpropFilterV2']);
    tf.dispose([x, w, dy]);
  });
}

test('Conv3D native = pure JS: dilated forward (TF.js has no dilated 3D gradient)', async (t) => {
  if (!(await nativeAvailable(t))) return;
  const x = randomTensor([2, 9, 8, 10, 2], 7) as tf.Tensor5D;
  const w = randomTensor([3, 3, 2, 2, 3], 8) as tf.Tensor5D;
  compareNative('dilated', () => tf.conv3d(x, w, 1, 'valid', 'NDHWC', [2, 2, 3]), ['Conv3D']);
  compareNative('dilated same', () => tf.conv3d(x, w, 1, 'same', 'NDHWC', [2, 1, 2]), ['Conv3D']);
  tf.dispose([x, w]);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../../src/engine/backend';
import { conv3dPadded } from '../../../src/engine/native/padded-conv3d';
import { disableNativeKernels } from '../../../src/engine/native/register';
import { compareNative, nativeAvailable, randomTensor, relativeDiff } from './helpers';

// [x shape, kernel, cout, stride, pad, dilation]: the stem, BasicBlock convs (even and
// odd sizes, where PyTorch's floor leaves the last padded cell unread), 1³ strided,
// and dilated ones (MedicalNet's layer3/4: padding = dilation; others) whose
// pure-JS form is space-to-batch.
const CASES: Array<[[number, number, number, number, number], number, number, number, number, number?]> = [
  [[2, 12, 14, 10, 1], 7, 8, 2, 3],
  [[1, 13, 11, 9, 1], 7, 4, 2, 3],
  [[2, 6, 6, 4, 16], 3, 16, 1, 1],
  [[1, 7, 8, 6, 8], 3, 16, 2, 1],
  [[2, 9, 5, 7, 3], 3, 5, 2, 1],
  [[2, 8, 7, 6, 6], 1, 4, 2, 0],
  [[1, 5, 5, 5, 2], 3, 3, 1, 0],
  [[1, 6, 5, 7, 2], 2, 3, 3, 2],
  [[2, 6, 5, 3, 4], 3, 8, 1, 2, 2],
  [[1, 7, 6, 5, 3], 3, 4, 1, 4, 4],
  [[2, 5, 7, 6, 2], 3, 3, 1, 1, 3],
  [[1, 8, 6, 7, 2], 2, 3, 1, 0, 2],
];

test('padded conv3d native = tf.pad + conv3d "valid" (forward, input and filter gradients)', async (t) => {
  if (!(await nativeAvailable(t))) return;
  for (const [i, [xs, k, cout, stride, pad, dilation = 1]] of CASES.entries()) {
    const x = randomTensor(xs, 900 + i) as tf.Tensor5D;
    const w = randomTensor([k, k, k, xs[4], cout], 950 + i) as tf.Tensor5D;
    const f = (xi: tf.Tensor, wi: tf.Tensor) => conv3dPadded(xi as tf.Tensor5D, wi as tf.Tensor5D, stride, pad, dilation);
    const dy = randomTensor(tf.tidy(() => f(x, w).shape), 990 + i);
    compareNative(`conv3dPadded x [${xs}] k ${k} s ${stride} p ${pad} r ${dilation}`, () => [f(x, w), ...tf.grads(f)([x, w], dy)], [
      'MrclConv3DPadded',
      'MrclConv3DPaddedBackpropInput',
      'MrclConv3DPaddedBackpropFilter',
    ]);
    tf.dispose([x, w, dy]);
  }
});

test('without the native kernels conv3dPadded is pad + valid conv, with PyTorch output sizes', async () => {
  await tf.setBackend('cpu');
  disableNativeKernels();
  const x = randomTensor([1, 9, 8, 7, 2], 1) as tf.Tensor5D;
  const w = randomTensor([3, 3, 3, 2, 3], 2) as tf.Tensor5D;
  const y = conv3dPadded(x, w, 2, 1);
  // floor((n + 2 − 3)/2) + 1
  assert.deepEqual(y.shape, [1, 5, 4, 4, 3]);
  const ref = tf.conv3d(tf.pad(x, [[0, 0], [1, 1], [1, 1], [1, 1], [0, 0]]), w, 2, 'valid');
  assert.equal(relativeDiff(y.dataSync(), ref.dataSync()), 0);
  tf.dispose([x, w, y, ref]);
});

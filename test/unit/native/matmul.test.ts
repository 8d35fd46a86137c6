import { test } from 'node:test';
import { tf } from '../../../src/engine/backend';
import { compareNative, nativeAvailable, randomTensor } from './helpers';

// [a shape, b shape, transposeA, transposeB]
const CASES: Array<[number[], number[], boolean, boolean]> = [
  [[40, 64], [64, 30], false, false], // linear layer
  [[2, 40, 64], [2, 64, 30], false, false],
  [[2, 40, 64], [2, 30, 64], false, true], // qᵀk (self-attention scores)
  [[2, 64, 40], [2, 64, 30], true, false],
  [[2, 64, 40], [2, 30, 64], true, true],
  [[3, 40, 64], [64, 30], false, false], // shared right matrix
  [[3, 40, 64], [1, 64, 30], false, false],
  [[3, 64, 40], [1, 64, 30], true, false],
  [[1, 40, 64], [3, 64, 30], false, false], // shared left matrix
  [[40, 64], [3, 30, 64], false, true],
  [[2, 3, 20, 16], [2, 3, 16, 24], false, false], // rank 4 (multi-head attention)
  [[1, 129, 7], [1, 7, 33], false, false], // odd sizes
];

test('BatchMatMul native = pure JS over shapes, transposes and batch broadcasting (values and gradients)', async (t) => {
  if (!(await nativeAvailable(t))) return;
  for (const [i, [sa, sb, ta, tb]] of CASES.entries()) {
    const a = randomTensor(sa, 400 + i);
    const b = randomTensor(sb, 500 + i);
    const f = (x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y, ta, tb);
    const dy = randomTensor(tf.tidy(() => f(a, b).shape), 600 + i);
    // TF.js's matMul gradient does not reduce a broadcast batch: values only then
    const broadcast = sa.slice(0, -2).reduce((x, y) => x * y, 1) !== sb.slice(0, -2).reduce((x, y) => x * y, 1) || sa.length !== sb.length;
    compareNative(`matMul [${sa}]${ta ? 'ᵀ' : ''} × [${sb}]${tb ? 'ᵀ' : ''}`, () => [f(a, b), ...(broadcast ? [] : tf.grads(f)([a, b], dy))], ['BatchMatMul']);
    tf.dispose([a, b, dy]);
  }
});

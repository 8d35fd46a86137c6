import { test } from 'node:test';
import { tf } from '../../../src/engine/backend';
import { compareNative, nativeAvailable, randomTensor } from './helpers';

// Shapes are large enough (≥ MIN_NATIVE_SIZE outputs) to take the native path.
const BROADCASTS: Array<[number[], number[]]> = [
  [[2, 6, 5, 4, 16], [2, 6, 5, 4, 16]], // same shape
  [[2, 6, 5, 4, 16], [16]], // BN: x·[C]
  [[2, 6, 5, 4, 16], [1, 1, 1, 1, 16]],
  [[16], [2, 6, 5, 4, 16]], // broadcast on the left operand
  [[2, 6, 5, 4, 16], []], // scalar
  [[2, 6, 5, 4, 16], [2, 1, 1, 1, 16]], // per-sample channel vector
  [[4, 30, 20], [4, 30, 1]], // row-wise (softmax, masks)
  [[4, 30, 20], [4, 1, 20]],
  [[30, 1], [1, 50]], // outer product
  [[3, 1, 7, 1, 9], [1, 5, 1, 6, 1]], // alternating
];

test('binary ops native = pure JS over broadcast shapes (values and gradients)', async (t) => {
  if (!(await nativeAvailable(t))) return;
  const ops: Array<[string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, string]> = [
    ['add', tf.add, 'Add'],
    ['sub', tf.sub, 'Sub'],
    ['mul', tf.mul, 'Multiply'],
    ['div', (a, b) => tf.div(a, tf.add(tf.abs(b), 0.5)), 'RealDiv'],
    ['maximum', tf.maximum, 'Maximum'],
    ['minimum', tf.minimum, 'Minimum'],
    ['squaredDifference', tf.squaredDifference, 'SquaredDifference'],
  ];
  for (const [i, [sa, sb]] of BROADCASTS.entries()) {
    const a = randomTensor(sa, 100 + i);
    const b = randomTensor(sb, 200 + i);
    for (const [name, op, kernel] of ops) {
      const dy = randomTensor(tf.tidy(() => op(a, b).shape), 300 + i);
      // TF.js's own Maximum/Minimum/SquaredDifference gradients do not reduce broadcast inputs
      const grads = ['add', 'sub', 'mul', 'div'].includes(name) || sa.join() === sb.join();
      compareNative(`${name} [${sa}] with [${sb}]`, () => [op(a, b), ...(grads ? tf.grads(op)([a, b], dy) : [])], [kernel]);
      dy.dispose();
    }
    tf.dispose([a, b]);
  }
});

test('unary ops native = pure JS (values and gradients), NaN and ±∞ included', async (t) => {
  if (!(await nativeAvailable(t))) return;
  const base = randomTensor([3, 7, 11, 13], 5).mul(4);
  const special = tf.tensor([NaN, Infinity, -Infinity, 0, -0, 1e-30, -1e-30, 88, -88]);
  const x = tf.concat([base.reshape([-1]), special]);
  const pos = tf.tidy(() => x.abs().add(0.1));
  const ops: Array<[string, (v: tf.Tensor) => tf.Tensor, tf.Tensor]> = [
    ['Relu', tf.relu, x],
    ['Square', tf.square, x],
    ['Neg', tf.neg, x],
    ['Exp', tf.exp, x],
    ['Log', tf.log, pos],
    ['Sqrt', tf.sqrt, pos],
    ['Rsqrt', tf.rsqrt, pos],
    ['Abs', tf.abs, x],
    ['Step', (v) => tf.step(v, 0.25), x],
    ['Sigmoid', tf.sigmoid, x],
    ['Tanh', tf.tanh, x],
    ['Reciprocal', tf.reciprocal, pos],
    ['Floor', tf.floor, x],
    ['Ceil', tf.ceil, x],
    ['Erf', tf.erf, x],
  ];
  for (const [name, op, input] of ops) {
    compareNative(name, () => op(input), [name]);
    const finite = tf.tidy(() => input.slice([0], [base.size]));
    compareNative(`${name} gradient`, () => tf.grad(op)(finite));
    finite.dispose();
  }
  tf.dispose([base, special, x, pos]);
});

test('sum, mean and max native = pure JS over axis sets (keepDims, gradients)', async (t) => {
  if (!(await nativeAvailable(t))) return;
  const x = randomTensor([2, 6, 5, 4, 16], 9);
  const axesTable: Array<number | number[] | undefined> = [undefined, [0, 1, 2, 3], [1, 2, 3], 4, -1, [0], [1, 2], [0, 4], [2, 3, 4], [0, 2]];
  // [0, 4] and [0, 2] leave kept axes on both sides of a reduced one: those run on the JS kernels
  const inPlace = (axes: number | number[] | undefined) => !(Array.isArray(axes) && (axes.join() === '0,4' || axes.join() === '0,2'));
  for (const axes of axesTable) {
    for (const keepDims of [false, true]) {
      const what = `axes ${JSON.stringify(axes)} keepDims ${keepDims}`;
      const k = (name: string) => (inPlace(axes) ? [name] : []);
      compareNative(`sum ${what}`, () => [tf.sum(x, axes, keepDims), tf.grad((v) => tf.sum(v, axes, keepDims).square().sum())(x)], k('Sum'));
      compareNative(`mean ${what}`, () => [tf.mean(x, axes, keepDims), tf.grad((v) => tf.mean(v, axes, keepDims).square().sum())(x)], k('Mean'));
      compareNative(`max ${what}`, () => [tf.max(x, axes, keepDims), tf.grad((v) => tf.max(v, axes, keepDims).sum())(x)], k('Max'));
    }
  }
  const withNaN = tf.tidy(() => tf.concat([x.reshape([-1]), tf.tensor([NaN])]));
  compareNative('sum with NaN', () => [tf.sum(withNaN), tf.max(withNaN), tf.mean(withNaN)], ['Sum', 'Max', 'Mean']);
  // large enough for the parallel paths: whole-tensor chunks per thread, rows per thread, and rows of an odd length
  const big = randomTensor([3, 20011], 19);
  for (const axes of [undefined, 1, 0, -1]) {
    compareNative(`sum/mean/max [3, 20011] axes ${JSON.stringify(axes)}`, () => [tf.sum(big, axes), tf.mean(big, axes), tf.max(big, axes)], ['Sum', 'Mean', 'Max']);
  }
  const bigNaN = tf.tidy(() => tf.concat([big.slice([0, 0], [1, 20011]), tf.fill([1, 20011], NaN), big.slice([2, 0], [1, 20011])]));
  compareNative('max [3, 20011] with a NaN row', () => [tf.max(bigNaN, 1), tf.sum(bigNaN, 1), tf.max(bigNaN)], ['Sum', 'Max']);
  tf.dispose([x, withNaN, big, bigNaN]);
});

test('softmax native = pure JS (values, gradients, −∞ masks)', async (t) => {
  if (!(await nativeAvailable(t))) return;
  const x = randomTensor([4, 30, 20], 21).mul(5);
  const masked = tf.tidy(() => tf.where(tf.greater(randomTensor([4, 30, 20], 22), 0.5), tf.fill([4, 30, 20], -Infinity), x));
  const dy = randomTensor([4, 30, 20], 23);
  compareNative('softmax', () => [tf.softmax(x), tf.grad((v) => tf.softmax(v))(x, dy)], ['Softmax']);
  compareNative('masked softmax', () => tf.softmax(masked), ['Softmax']);
  compareNative('softmax over a long axis', () => tf.softmax(randomTensor([3, 2000], 24)), ['Softmax']);
  tf.dispose([x, masked, dy]);
});

test('float32 masks cast from bool or int32 (TF.js keeps their integer arrays) go through the native kernels, exactly', async (t) => {
  if (!(await nativeAvailable(t))) return;
  const x = randomTensor([4, 64, 32], 160);
  const boolMask = tf.tidy(() => randomTensor([4, 64, 1], 161).greater(0));
  const intIds = tf.tensor3d(Array.from({ length: 4 * 64 }, (_, i) => (i * 7) % 5), [4, 64, 1], 'int32');
  compareNative('x · cast(bool mask)', () => tf.mul(x, boolMask.cast('float32')), ['Multiply'], 0);
  compareNative('x + cast(int ids)', () => tf.add(x, intIds.cast('float32')), ['Add'], 0);
  compareNative('gradient through a cast mask', () => tf.grad((v) => tf.mul(v, boolMask.cast('float32')).square().sum())(x), ['Multiply'], 0);
  // the cast tensor reads back as its float values, its bool source unchanged
  const m = boolMask.cast('float32');
  tf.mul(x, m).dispose();
  const asFloat = Array.from(m.dataSync());
  const asBool = Array.from(boolMask.dataSync());
  if (JSON.stringify(asFloat) !== JSON.stringify(asBool)) throw new Error('cast mask values changed');
  if (boolMask.dtype !== 'bool' || !(boolMask.dataSync() instanceof Uint8Array)) throw new Error('the bool source changed');
  tf.dispose([x, boolMask, intIds, m]);
});

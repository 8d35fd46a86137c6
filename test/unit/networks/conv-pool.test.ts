import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../../src/engine/backend';
import { Conv3d } from '../../../src/engine/networks/layers/conv3d';
import { maxPool3d } from '../../../src/engine/networks/layers/maxpool3d';
import { padSpatial3d } from '../../../src/engine/networks/layers/pad3d';
import { conv3dPadded } from '../../../src/engine/native/padded-conv3d';
import { disableNativeKernels } from '../../../src/engine/native/register';
import { torchStateDict } from '../../../src/engine/networks/module';
import { assertClose, cpu, naiveConv3d, noLeaks, values } from './helpers';

test('Conv3d matches a naive PyTorch convolution (symmetric padding, odd sizes, strides 1 and 2)', async () => {
  await cpu();
  const shape = [2, 5, 6, 7, 3];
  const xData = values(shape.reduce((a, b) => a * b), 3);
  for (const [k, s, p] of [
    [3, 1, 1],
    [3, 2, 1],
    [7, 2, 3],
    [1, 2, 0],
    [1, 1, 0],
  ]) {
    const conv = new Conv3d(3, 4, k, { stride: s, padding: p, seed: 5 });
    const torchW = torchStateDict(conv).get('weight')!;
    assert.deepEqual(torchW.shape, [4, 3, k, k, k]);
    const ref = naiveConv3d(xData, shape, torchW.dataSync() as Float32Array, 4, k, s, p);
    const x = tf.tensor5d(xData, shape as [number, number, number, number, number]);
    const y = conv.apply(x);
    assert.deepEqual(y.shape, ref.shape, `k${k} s${s} p${p} shape`);
    assertClose(y.dataSync(), ref.data, 1e-5, `k${k} s${s} p${p}`);
    tf.dispose([x, y, torchW]);
    conv.dispose();
  }
});

test('dilated Conv3d (space-to-batch on the pure-JS kernels) matches a naive PyTorch convolution, gradients included', async () => {
  await cpu();
  disableNativeKernels();
  // [shape, cin, cout, kernel, padding, dilation]: MedicalNet's 3³ with padding = dilation,
  // odd and even sizes, sizes smaller than the dilation, other paddings, a 2³ kernel
  const cases: Array<[[number, number, number, number, number], number, number, number, number]> = [
    [[2, 5, 6, 7, 3], 4, 3, 2, 2],
    [[1, 6, 5, 3, 2], 3, 3, 4, 4],
    [[2, 4, 7, 5, 2], 2, 3, 3, 3],
    [[1, 7, 6, 5, 2], 3, 3, 1, 2],
    [[1, 6, 7, 8, 1], 2, 3, 0, 2],
    [[2, 5, 5, 6, 2], 3, 2, 1, 3],
  ];
  for (const [i, [shape, cout, k, p, r]] of cases.entries()) {
    const what = `x [${shape}] k${k} p${p} r${r}`;
    const cin = shape[4];
    const conv = new Conv3d(cin, cout, k, { padding: p, dilation: r, seed: 20 + i });
    const torchW = torchStateDict(conv).get('weight')!;
    const xData = values(shape.reduce((a, b) => a * b), 30 + i);
    const ref = naiveConv3d(xData, shape, torchW.dataSync() as Float32Array, cout, k, 1, p, r);
    const x = tf.tensor5d(xData, shape);
    const y = conv.apply(x);
    assert.deepEqual(y.shape, ref.shape, `${what} shape`);
    assert.deepEqual(conv.outputShape(shape.slice(1, 4)), ref.shape.slice(1, 4), `${what} outputShape`);
    assertClose(y.dataSync(), ref.data, 1e-5, what);
    // gradients of Σ y·g: ∂/∂x[j] = Σ over the outputs that read j, ∂/∂w likewise (naive)
    const g = values(y.size, 60 + i);
    const gT = tf.tensor(g, y.shape);
    const [gx, gw] = tf.grads((a: tf.Tensor, w: tf.Tensor) => conv3dPadded(a as tf.Tensor5D, w as tf.Tensor5D, 1, p, r).mul(gT).sum())([x, conv.weight]);
    const [, d, h, wd] = shape;
    const [, od, oh, ow] = ref.shape;
    const wv = conv.weight.dataSync();
    const ex = new Float32Array(x.size);
    const ew = new Float32Array(conv.weight.size);
    for (let b = 0; b < shape[0]; b++)
      for (let z = 0; z < od; z++)
        for (let yy = 0; yy < oh; yy++)
          for (let xx = 0; xx < ow; xx++)
            for (let a = 0; a < k; a++)
              for (let bb = 0; bb < k; bb++)
                for (let c = 0; c < k; c++) {
                  const [zi, yi, xi] = [z - p + r * a, yy - p + r * bb, xx - p + r * c];
                  if (zi < 0 || zi >= d || yi < 0 || yi >= h || xi < 0 || xi >= wd) continue;
                  for (let ci = 0; ci < cin; ci++)
                    for (let o = 0; o < cout; o++) {
                      const go = g[(((b * od + z) * oh + yy) * ow + xx) * cout + o];
                      const xIdx = (((b * d + zi) * h + yi) * wd + xi) * cin + ci;
                      const wIdx = (((a * k + bb) * k + c) * cin + ci) * cout + o;
                      ex[xIdx] += wv[wIdx] * go;
                      ew[wIdx] += xData[xIdx] * go;
                    }
                }
    assertClose(gx.dataSync(), ex, 1e-4, `${what} ∂x`);
    assertClose(gw.dataSync(), ew, 1e-4, `${what} ∂w`);
    await noLeaks(`${what} forward and gradient`, () => {
      tf.dispose(conv.apply(x));
      tf.dispose(tf.grads((a: tf.Tensor, w: tf.Tensor) => conv3dPadded(a as tf.Tensor5D, w as tf.Tensor5D, 1, p, r).sum())([x, conv.weight]));
    });
    tf.dispose([x, y, torchW, gT, gx, gw]);
    conv.dispose();
  }
  const conv = new Conv3d(1, 1, 3, { padding: 0, dilation: 4 });
  const small = tf.zeros([1, 8, 9, 9, 1]);
  assert.throws(() => conv.apply(small), /too small for a 3³ kernel with padding 0 and dilation 4/);
  small.dispose();
  conv.dispose();
  assert.throws(() => new Conv3d(1, 1, 3, { dilation: 0 }), /dilation must be a positive integer/);
  const x = tf.zeros([1, 6, 6, 6, 1]) as tf.Tensor5D;
  const w = tf.zeros([3, 3, 3, 1, 1]) as tf.Tensor5D;
  assert.throws(() => conv3dPadded(x, w, 2, 2, 2), /needs stride 1 without the native kernels/);
  tf.dispose([x, w]);
});

test('Conv3d bias, PyTorch layout and init statistics', async () => {
  await cpu();
  const conv = new Conv3d(2, 3, 1, { bias: true, seed: 1, init: 'torch' });
  conv.weight.assign(tf.tensor5d([1, 0, 0, 0, 1, 0], [1, 1, 1, 2, 3]));
  conv.bias!.assign(tf.tensor1d([10, 20, 30]));
  const x = tf.tensor5d([1, 2, 3, 4], [1, 1, 1, 2, 2]);
  const y = conv.apply(x);
  // channel 0 ← in0, channel 1 ← in1, channel 2 ← 0, plus bias
  assert.deepEqual([...y.dataSync()], [11, 22, 30, 13, 24, 30]);
  // weight[d,h,w,in,out] = 1 at in=0,out=0 and in=1,out=1 → PyTorch [out,in,1,1,1]
  const t = torchStateDict(conv);
  assert.deepEqual([...t.get('weight')!.dataSync()], [1, 0, 0, 1, 0, 0]);
  tf.dispose([x, y, ...t.values()]);
  conv.dispose();

  // kaiming_normal_(fan_out): std = √(2 / (out·k³)); 64 out, 3³ → 0.0340
  const big = new Conv3d(16, 64, 3, { seed: 2 });
  const w = Array.from(big.weight.dataSync());
  const mean = w.reduce((a, b) => a + b, 0) / w.length;
  const std = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length);
  assert.ok(Math.abs(std - Math.sqrt(2 / (64 * 27))) < 0.002, `std ${std}`);
  assert.ok(Math.abs(mean) < 0.002);
  // seeded: same seed and name → same weights, different name → different
  const again = new Conv3d(16, 64, 3, { seed: 2 });
  const other = new Conv3d(16, 64, 3, { seed: 2, name: 'other' });
  assert.deepEqual(Array.from(again.weight.dataSync()), w);
  assert.notDeepEqual(Array.from(other.weight.dataSync()), w);
  [big, again, other].forEach((m) => m.dispose());
});

test('Conv3d rejects wrong inputs clearly', async () => {
  await cpu();
  const conv = new Conv3d(2, 3, 3);
  const bad = tf.zeros([1, 4, 4, 4, 5]);
  assert.throws(() => conv.apply(bad), /Conv3d: expected 2 input channels/);
  const rank4 = tf.zeros([4, 4, 4, 2]);
  assert.throws(() => conv.apply(rank4), /rank 5/);
  const small = tf.zeros([1, 2, 4, 4, 2]);
  assert.throws(() => conv.apply(small), /too small/);
  assert.throws(() => new Conv3d(0, 3, 3), /inChannels must be a positive integer/);
  tf.dispose([bad, rank4, small]);
  conv.dispose();
});

test('maxPool3d pads with −∞ like PyTorch (kernel 3, stride 2, padding 1)', async () => {
  await cpu();
  // all-negative input: zero padding would put 0 into the border windows
  const shape = [1, 5, 4, 3, 2] as const;
  const data = values(120, 9).map((v) => v - 2);
  const x = tf.tensor5d(data, [...shape]);
  const y = maxPool3d(x, { kernel: 3, stride: 2, padding: 1 });
  assert.deepEqual(y.shape, [1, 3, 2, 2, 2]);
  const [, d, h, w, c] = shape;
  const ref: number[] = [];
  for (let z = 0; z < 3; z++)
    for (let yy = 0; yy < 2; yy++)
      for (let xx = 0; xx < 2; xx++)
        for (let ch = 0; ch < c; ch++) {
          let m = -Infinity;
          for (let a = -1; a <= 1; a++)
            for (let b = -1; b <= 1; b++)
              for (let e = -1; e <= 1; e++) {
                const zi = 2 * z + a;
                const yi = 2 * yy + b;
                const xi = 2 * xx + e;
                if (zi < 0 || zi >= d || yi < 0 || yi >= h || xi < 0 || xi >= w) continue;
                m = Math.max(m, data[((zi * h + yi) * w + xi) * c + ch]);
              }
          ref.push(m);
        }
  assertClose(y.dataSync(), ref, 0, 'maxpool');
  assert.ok([...y.dataSync()].every((v) => v < -1));
  tf.dispose([x, y]);
  assert.throws(() => maxPool3d(tf.zeros([1, 3, 3, 3, 1]) as tf.Tensor5D, { kernel: 3, padding: 2 }), /at most half the kernel/);
});

test('maxPool3d with the pool\'s own padding = a −∞ pad then a valid pool (values and gradients, odd sizes)', async () => {
  await cpu();
  // rounded: ties, so the gradient's choice among equal maxima is compared too
  const x = tf.tensor5d(values(2 * 9 * 8 * 7 * 3, 4).map((v) => Math.round(3 * v)), [2, 9, 8, 7, 3]);
  const padded = (v: tf.Tensor) => tf.maxPool3d(padSpatial3d(v as tf.Tensor5D, 1, -Infinity), 3, 2, 'valid');
  const own = (v: tf.Tensor) => maxPool3d(v as tf.Tensor5D, { kernel: 3, stride: 2, padding: 1 });
  const a = padded(x);
  const b = own(x);
  assert.deepEqual(b.shape, [2, 5, 4, 4, 3]);
  assertClose(b.dataSync(), a.dataSync(), 0, 'values');
  const dy = tf.tensor5d(values(a.size, 5), a.shape as [number, number, number, number, number]);
  assertClose(tf.grad(own)(x, dy).dataSync(), tf.grad(padded)(x, dy).dataSync(), 0, 'gradients');
  tf.dispose([x, a, b, dy]);
});

test('Conv3d and maxPool3d leak no tensors, forward or gradient', async () => {
  await cpu();
  const conv = new Conv3d(2, 3, 3, { stride: 2, padding: 1, bias: true });
  const conv1 = new Conv3d(2, 3, 1, { stride: 2 });
  const x = tf.tensor5d(values(2 * 5 * 5 * 5 * 2), [2, 5, 5, 5, 2]);
  await noLeaks('Conv3d forward', () => {
    conv.apply(x).dispose();
    conv1.apply(x).dispose();
    maxPool3d(x, { kernel: 3, stride: 2, padding: 1 }).dispose();
  });
  await noLeaks('Conv3d gradient', () => {
    const { value, grads } = tf.variableGrads(() => maxPool3d(conv.apply(x), { kernel: 3, stride: 2, padding: 1 }).sum().add(conv1.apply(x).square().sum()) as tf.Scalar);
    assert.equal(Object.keys(grads).length, 3);
    assert.ok(tf.tidy(() => grads[conv.weight.name].abs().sum().arraySync() as number) > 0);
    tf.dispose([value, ...Object.values(grads)]);
  });
  tf.dispose(x);
  conv.dispose();
  conv1.dispose();
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../../src/engine/backend';
import { Conv3d } from '../../../src/engine/networks/layers/conv3d';
import { maxPool3d } from '../../../src/engine/networks/layers/maxpool3d';
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

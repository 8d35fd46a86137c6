import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../../src/engine/backend';
import { BatchNorm3d } from '../../../src/engine/networks/layers/batchnorm3d';
import { Dropout } from '../../../src/engine/networks/layers/dropout';
import { shortcutA } from '../../../src/engine/networks/layers/shortcut-a';
import { assertClose, cpu, noLeaks, values } from './helpers';

// two channels, four values each: c0 = [1, 2, 3, 6], c1 = [0, 0, 0, 4]
const X = [1, 0, 2, 0, 3, 0, 6, 4];
const SHAPE: [number, number, number, number, number] = [2, 1, 1, 2, 2];

test('BatchNorm3d training: batch statistics, running stats with the unbiased variance', async () => {
  await cpu();
  const bn = new BatchNorm3d(2);
  bn.weight.assign(tf.tensor1d([2, 1]));
  bn.bias.assign(tf.tensor1d([0.5, -1]));
  const x = tf.tensor5d(X, SHAPE);
  const y = bn.apply(x, { training: true });
  // c0: mean 3, biased var 3.5 (unbiased 14/3); c1: mean 1, biased var 3 (unbiased 4)
  const s0 = 2 / Math.sqrt(3.5 + 1e-5);
  const s1 = 1 / Math.sqrt(3 + 1e-5);
  const expected = [(1 - 3) * s0 + 0.5, (0 - 1) * s1 - 1, (2 - 3) * s0 + 0.5, -s1 - 1, 0.5, -s1 - 1, 3 * s0 + 0.5, 3 * s1 - 1];
  assertClose(y.dataSync(), expected, 1e-5, 'train output');
  assertClose(bn.runningMean.dataSync(), [0.3, 0.1], 1e-6, 'running_mean');
  assertClose(bn.runningVar.dataSync(), [0.9 + 0.1 * (14 / 3), 0.9 + 0.1 * 4], 1e-6, 'running_var');
  assert.equal(bn.numBatchesTracked.dataSync()[0], 1);
  bn.apply(x, { training: true }).dispose();
  assert.equal(bn.numBatchesTracked.dataSync()[0], 2);
  assertClose(bn.runningMean.dataSync(), [0.9 * 0.3 + 0.3, 0.9 * 0.1 + 0.1], 1e-6, 'running_mean after 2');
  tf.dispose([x, y]);
  bn.dispose();
});

test("BatchNorm3d eval, and frozen with frozenMode 'eval', use running statistics and update nothing", async () => {
  await cpu();
  const bn = new BatchNorm3d(2);
  bn.weight.assign(tf.tensor1d([2, 1]));
  bn.bias.assign(tf.tensor1d([0.5, -1]));
  bn.runningMean.assign(tf.tensor1d([1, -1]));
  bn.runningVar.assign(tf.tensor1d([4, 0.25]));
  const x = tf.tensor5d(X, SHAPE);
  const s0 = 2 / Math.sqrt(4 + 1e-5);
  const s1 = 1 / Math.sqrt(0.25 + 1e-5);
  const expected = X.map((v, i) => (i % 2 === 0 ? (v - 1) * s0 + 0.5 : (v + 1) * s1 - 1));
  const yEval = bn.apply(x);
  assertClose(yEval.dataSync(), expected, 1e-5, 'eval');
  bn.setFrozen(true);
  bn.frozenMode = 'eval';
  const yFrozen = bn.apply(x, { training: true });
  assertClose(yFrozen.dataSync(), expected, 1e-5, 'frozen in training');
  assertClose(bn.runningMean.dataSync(), [1, -1], 0, 'running_mean unchanged');
  assert.equal(bn.numBatchesTracked.dataSync()[0], 0);
  assert.equal(bn.trainableWeights.length, 0);
  tf.dispose([x, yEval, yFrozen]);
  bn.dispose();
});

test("BatchNorm3d frozen with frozenMode 'train' (the authors' requires_grad = False): batch statistics, running stats updated, weight and bias untrained", async () => {
  await cpu();
  const bn = new BatchNorm3d(2);
  assert.equal(bn.frozenMode, 'train', 'the default');
  bn.weight.assign(tf.tensor1d([2, 1]));
  bn.bias.assign(tf.tensor1d([0.5, -1]));
  bn.runningMean.assign(tf.tensor1d([1, -1]));
  bn.runningVar.assign(tf.tensor1d([4, 0.25]));
  bn.setFrozen(true);
  assert.equal(bn.trainableWeights.length, 0);
  const x = tf.tensor5d(X, SHAPE);
  // as the unfrozen training test: c0 mean 3, biased var 3.5 (unbiased 14/3); c1 mean 1, var 3 (unbiased 4)
  const s0 = 2 / Math.sqrt(3.5 + 1e-5);
  const s1 = 1 / Math.sqrt(3 + 1e-5);
  const expected = [(1 - 3) * s0 + 0.5, (0 - 1) * s1 - 1, (2 - 3) * s0 + 0.5, -s1 - 1, 0.5, -s1 - 1, 3 * s0 + 0.5, 3 * s1 - 1];
  const y = bn.apply(x, { training: true });
  assertClose(y.dataSync(), expected, 1e-5, 'frozen, training');
  const yRelu = bn.applyRelu(x, { training: true });
  assertClose(yRelu.dataSync(), expected.map((v) => Math.max(0, v)), 1e-5, 'frozen, training, relu');
  // two updates with momentum 0.1: c0 1 → 1.2 → 1.38, c1 −1 → −0.8 → −0.62; var c0 4 → 4.0667 → 4.1267
  assertClose(bn.runningMean.dataSync(), [1.38, -0.62], 1e-6, 'running_mean after 2');
  assertClose(bn.runningVar.dataSync(), [0.81 * 4 + 0.19 * (14 / 3), 0.81 * 0.25 + 0.19 * 4], 1e-5, 'running_var after 2');
  assert.equal(bn.numBatchesTracked.dataSync()[0], 2);
  // evaluation (training false) uses the running statistics, frozen or not
  const m = bn.runningMean.dataSync();
  const vr = bn.runningVar.dataSync();
  const yEval = bn.apply(x);
  const evalExpected = X.map((v, i) => ((v - m[i % 2]) / Math.sqrt(vr[i % 2] + 1e-5)) * [2, 1][i % 2] + [0.5, -1][i % 2]);
  assertClose(yEval.dataSync(), evalExpected, 1e-5, 'eval after training');
  assert.equal(bn.numBatchesTracked.dataSync()[0], 2);
  // the input gradient runs through the batch statistics (PyTorch's, in train mode)
  const g = tf.grad((a: tf.Tensor) => bn.apply(a, { training: true }).sum())(x);
  // Σ over a channel of a batch-normalised value is constant: zero gradient
  assertClose(g.dataSync(), new Array(8).fill(0), 1e-5, '∂Σy/∂x');
  // the statistics are buffers: in the state, so a checkpoint carries them
  const names = bn.namedBuffers().map(([n]) => n);
  assert.deepEqual(names, ['running_mean', 'running_var', 'num_batches_tracked']);
  tf.dispose([x, y, yRelu, yEval, g]);
  bn.dispose();
});

test('BatchNorm3d refuses one value per channel in training and wrong channel counts', async () => {
  await cpu();
  const bn = new BatchNorm3d(2);
  const one = tf.zeros([1, 1, 1, 1, 2]);
  assert.throws(() => bn.apply(one, { training: true }), /more than 1 value per channel/);
  bn.apply(one).dispose(); // fine in eval
  const wrong = tf.zeros([1, 2, 2, 2, 3]);
  assert.throws(() => bn.apply(wrong), /expected 2 channels/);
  tf.dispose([one, wrong]);
  bn.dispose();
});

test('BatchNorm3d gradients on 5D input and no leaked tensors', async () => {
  await cpu();
  const bn = new BatchNorm3d(3);
  const x = tf.tensor5d(values(2 * 3 * 2 * 2 * 3), [2, 3, 2, 2, 3]);
  const w = tf.tensor5d(values(2 * 3 * 2 * 2 * 3, 7), [2, 3, 2, 2, 3]);
  await noLeaks('BatchNorm3d forward', () => {
    bn.apply(x).dispose();
    bn.apply(x, { training: true }).dispose();
  });
  await noLeaks('BatchNorm3d gradient', () => {
    const f = (a: tf.Tensor) => bn.apply(a, { training: true }).mul(w).sum();
    const gx = tf.grad(f)(x);
    const { value, grads } = tf.variableGrads(() => f(x) as tf.Scalar);
    assert.deepEqual(Object.keys(grads).length, 2);
    const gb = grads[bn.bias.name].dataSync();
    // ∂/∂β = Σ w over the channel
    const wd = w.dataSync();
    const sums = [0, 1, 2].map((c) => Array.from(wd).filter((_, i) => i % 3 === c).reduce((a, b) => a + b, 0));
    assertClose(gb, sums, 1e-5, 'dβ');
    // ∂/∂x through the batch statistics, against a central difference
    const eps = 1e-2;
    const xd = x.dataSync().slice();
    const at = (delta: number) => {
      const t = xd.slice();
      t[5] += delta;
      return tf.tidy(() => f(tf.tensor5d(t, [2, 3, 2, 2, 3])).arraySync() as number);
    };
    const fd = (at(eps) - at(-eps)) / (2 * eps);
    assert.ok(Math.abs(gx.dataSync()[5] - fd) < 2e-3, `dx ${gx.dataSync()[5]} vs fd ${fd}`);
    tf.dispose([gx, value, ...Object.values(grads)]);
  });
  tf.dispose([x, w]);
  bn.dispose();
});

test('Dropout: identity in eval; seeded masks scaled by 1/(1−p), fresh per call', async () => {
  await cpu();
  const x = tf.ones([4000]);
  const d = new Dropout(0.25, 42);
  assert.equal(d.apply(x), x);
  assert.equal(d.apply(x, { training: false }), x);
  const a = d.apply(x, { training: true });
  const b = d.apply(x, { training: true });
  const av = a.dataSync();
  assert.ok([...av].every((v) => v === 0 || Math.abs(v - 1 / 0.75) < 1e-6));
  const dropped = av.filter((v) => v === 0).length / av.length;
  assert.ok(Math.abs(dropped - 0.25) < 0.03, `dropped ${dropped}`);
  assert.notDeepEqual(b.dataSync(), av);
  const again = new Dropout(0.25, 42);
  const a2 = again.apply(x, { training: true });
  assert.deepEqual(a2.dataSync(), av);
  assert.equal(d.callCount, 2);
  assert.throws(() => new Dropout(1), /rate must be in \[0, 1\)/);
  await noLeaks('Dropout', () => {
    d.apply(x, { training: true }).dispose();
    const g = tf.grad((t: tf.Tensor) => d.apply(t, { training: true }).sum())(x);
    g.dispose();
  });
  tf.dispose([x, a, b, a2]);
});

test('shortcut A: stride-2 subsample + zero channels, detached as MedicalNet unless asked', async () => {
  await cpu();
  const data = values(1 * 3 * 4 * 5 * 2);
  const x = tf.tensor5d(data, [1, 3, 4, 5, 2]);
  const y = shortcutA(x, 5, 2);
  assert.deepEqual(y.shape, [1, 2, 2, 3, 5]);
  const yd = y.dataSync();
  for (let z = 0; z < 2; z++)
    for (let h = 0; h < 2; h++)
      for (let w = 0; w < 3; w++)
        for (let c = 0; c < 5; c++) {
          const got = yd[((z * 2 + h) * 3 + w) * 5 + c];
          const want = c < 2 ? data[((2 * z * 4 + 2 * h) * 5 + 2 * w) * 2 + c] : 0;
          assert.equal(got, want);
        }
  await noLeaks('shortcutA', () => {
    const g0 = tf.grad((t: tf.Tensor) => shortcutA(t as tf.Tensor5D, 5, 2).sum())(x);
    assert.equal(tf.tidy(() => g0.abs().sum().arraySync()), 0);
    const g1 = tf.grad((t: tf.Tensor) => shortcutA(t as tf.Tensor5D, 5, 2, { gradient: true }).sum())(x);
    // every other voxel on each axis is picked: 2·2·3 voxels × 2 channels
    assert.equal(tf.tidy(() => g1.sum().arraySync()), 24);
    tf.dispose([g0, g1]);
  });
  assert.throws(() => shortcutA(x, 1, 2), /fewer/);
  tf.dispose([x, y]);
});

test('BasicBlock3d: shortcut B is conv1×1×1(stride) + BN; identity when shapes agree; no leaks', async () => {
  await cpu();
  const { BasicBlock3d } = await import('../../../src/engine/networks/layers/basic-block3d');
  const b = new BasicBlock3d(2, 4, { stride: 2, shortcut: 'B', seed: 3 });
  assert.deepEqual(
    b.namedParameters().map(([n]) => n),
    ['conv1.weight', 'bn1.weight', 'bn1.bias', 'conv2.weight', 'bn2.weight', 'bn2.bias', 'downsample.0.weight', 'downsample.1.weight', 'downsample.1.bias'],
  );
  const same = new BasicBlock3d(4, 4, { shortcut: 'B' });
  assert.equal(same.downsample, null);
  const x = tf.tensor5d(values(2 * 5 * 4 * 3 * 2), [2, 5, 4, 3, 2]);
  await noLeaks('BasicBlock3d', () => {
    const y = b.apply(x, { training: true });
    assert.deepEqual(y.shape, [2, 3, 2, 2, 4]);
    // zero residual branch (bn2 γ = β = 0) leaves relu(shortcut): check against the downsample alone
    tf.tidy(() => b.bn2.weight.assign(tf.zeros([4])));
    const z = b.apply(x);
    const s = tf.tidy(() => tf.relu(b.downsample!.apply(x, {})));
    assertClose(z.dataSync(), s.dataSync(), 1e-6, 'shortcut B path');
    const { value, grads } = tf.variableGrads(() => tf.tidy(() => same.apply(y, { training: true }).sum() as tf.Scalar));
    tf.dispose([y, z, s, value, ...Object.values(grads)]);
  });
  tf.dispose(x);
  b.dispose();
  same.dispose();
});

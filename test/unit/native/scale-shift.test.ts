import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../../src/engine/backend';
import { scaleShift } from '../../../src/engine/native/scale-shift';
import { BatchNorm3d } from '../../../src/engine/networks/layers/batchnorm3d';
import { compareNative, kernelsUsed, nativeAvailable, randomTensor } from './helpers';
import { disableNativeKernels, enableNativeKernels } from '../../../src/engine/native/register';
import { loadAddon } from '../../../src/engine/native/addon';
import { batchNormTrainKernels, nativeBatchNormTrainResidual } from '../../../src/engine/native/batch-norm-train';

test('scaleShift (+ReLU) native = x·scale + shift op by op (values and gradients of x, scale, shift)', async (t) => {
  if (!(await nativeAvailable(t))) return;
  for (const [i, shape] of [[2, 5, 6, 4, 16], [3, 7, 5], [1, 1, 1, 1, 3], [33, 64]].entries()) {
    const c = shape[shape.length - 1];
    const x = randomTensor(shape, 40 + i);
    const scale = randomTensor([c], 50 + i);
    const shift = randomTensor([c], 60 + i);
    for (const relu of [false, true]) {
      const f = (a: tf.Tensor, b: tf.Tensor, d: tf.Tensor) => scaleShift(a, b, d, relu);
      const dy = randomTensor(shape, 70 + i);
      compareNative(`scaleShift [${shape}] relu ${relu}`, () => [f(x, scale, shift), ...tf.grads(f)([x, scale, shift], dy)], ['MrclScaleShift']);
      dy.dispose();
    }
    tf.dispose([x, scale, shift]);
  }
  assert.throws(() => scaleShift(tf.zeros([2, 3]), tf.zeros([2]), tf.zeros([3])), /scale and shift must have shape \[3\]/);
});

test("a frozen BatchNorm3d (+ReLU; frozenMode 'eval': running statistics) is the same with native kernels", async (t) => {
  if (!(await nativeAvailable(t))) return;
  const bn = new BatchNorm3d(8);
  bn.frozenMode = 'eval';
  bn.runningMean.assign(randomTensor([8], 1).mul(0.3));
  bn.runningVar.assign(randomTensor([8], 2).abs().add(0.5));
  bn.weight.assign(randomTensor([8], 3));
  bn.bias.assign(randomTensor([8], 4));
  bn.setFrozen(true);
  const x = randomTensor([2, 6, 5, 4, 8], 5);
  compareNative('frozen BN', () => [bn.apply(x, { training: true }), bn.applyRelu(x, { training: true }), bn.applyRelu(x)], ['MrclScaleShift']);
  bn.setFrozen(false);
  compareNative('training BN + ReLU', () => [bn.applyRelu(x, { training: true })]);
  tf.dispose(x);
  bn.dispose();
});

test('BatchNorm3d in training (batch statistics, +ReLU) native = op by op: outputs, running statistics, gradients of x, weight and bias, no leaks', async (t) => {
  if (!(await nativeAvailable(t))) return;
  // the third shape is large enough for the kernels' parallel loops
  for (const [i, shape] of [[2, 5, 6, 4, 16], [3, 7, 5], [4, 16, 16, 10, 8]].entries()) {
    const c = shape[shape.length - 1]!;
    const x = randomTensor(shape, 80 + i).mul(2).add(0.5);
    const dy = randomTensor(shape, 90 + i);
    for (const relu of [false, true]) {
      const run = (): tf.Tensor[] => {
        const bn = new BatchNorm3d(c);
        bn.weight.assign(randomTensor([c], 100 + i).add(1));
        bn.bias.assign(randomTensor([c], 110 + i));
        const f = (a: tf.Tensor, w: tf.Tensor, b: tf.Tensor): tf.Tensor => {
          // the layer's own variables replaced by the arguments, so tf.grads can differentiate them
          (bn as unknown as { weight: tf.Tensor }).weight = w;
          (bn as unknown as { bias: tf.Tensor }).bias = b;
          return bn.apply(a, { training: true }, relu);
        };
        const w = bn.weight.clone();
        const b = bn.bias.clone();
        const grads = tf.grads(f)([x, w, b], dy);
        const y = f(x, w, b);
        const out = [y, ...grads, bn.runningMean.clone(), bn.runningVar.clone()];
        tf.dispose([w, b]);
        bn.dispose();
        return out;
      };
      const before = tf.memory().numTensors;
      compareNative(`training BN [${shape}] relu ${relu}`, run, ['MrclBatchNormTrain', 'MrclBatchNormTrainGrad'], 2e-5);
      assert.equal(tf.memory().numTensors, before, 'leaked tensors');
    }
    tf.dispose([x, dy]);
  }
});

test('BatchNorm3d.applyAddRelu (a residual block\'s end: relu(bn(x) + residual)) native, fused = op by op: output, running statistics, gradients of x, weight, bias and the residual, no leaks; eval mode op by op', async (t) => {
  if (!(await nativeAvailable(t))) return;
  for (const [i, shape] of [[2, 5, 6, 4, 16], [4, 16, 16, 10, 8]].entries()) {
    const c = shape[shape.length - 1]!;
    const x = randomTensor(shape, 120 + i).mul(2).add(0.5);
    const r = randomTensor(shape, 130 + i);
    const dy = randomTensor(shape, 140 + i);
    const run = (): tf.Tensor[] => {
      const bn = new BatchNorm3d(c);
      bn.weight.assign(randomTensor([c], 150 + i).add(1));
      bn.bias.assign(randomTensor([c], 160 + i));
      const f = (a: tf.Tensor, w: tf.Tensor, b: tf.Tensor, res: tf.Tensor): tf.Tensor => {
        (bn as unknown as { weight: tf.Tensor }).weight = w;
        (bn as unknown as { bias: tf.Tensor }).bias = b;
        return bn.applyAddRelu(a, res, { training: true });
      };
      const w = bn.weight.clone();
      const b = bn.bias.clone();
      const grads = tf.grads(f)([x, w, b, r], dy);
      const y = f(x, w, b, r);
      const out = [y, ...grads, bn.runningMean.clone(), bn.runningVar.clone()];
      tf.dispose([w, b]);
      bn.dispose();
      return out;
    };
    const before = tf.memory().numTensors;
    // with the native kernels, one kernel forward and one backward: no ReLU or its gradient (Step) of their own
    compareNative(`applyAddRelu [${shape}]`, run, ['MrclBatchNormTrain', 'MrclBatchNormTrainGrad'], 2e-5);
    assert.equal(tf.memory().numTensors, before, 'leaked tensors');
    enableNativeKernels();
    try {
      const fused = await kernelsUsed(() => run());
      for (const k of ['Relu', 'Step']) assert.ok(!fused.includes(k), `${k} ran: ${fused.join(', ')}`);
    } finally {
      disableNativeKernels();
    }
    // the op-by-op reference is relu(bn(x) + residual) itself
    const direct = tf.tidy(() => {
      const bn = new BatchNorm3d(c);
      const a = bn.applyAddRelu(x, r, { training: true });
      const bnRef = new BatchNorm3d(c);
      const e = tf.relu(bnRef.apply(x, { training: true }).add(r));
      const d = a.sub(e).abs().max().dataSync()[0]!;
      bn.dispose();
      bnRef.dispose();
      return d;
    });
    assert.ok(direct < 1e-5, `fused vs relu(bn(x) + r): ${direct}`);
    // eval mode (running statistics): the ops one by one, the same values
    const evalDiff = tf.tidy(() => {
      const bn = new BatchNorm3d(c);
      const d = bn.applyAddRelu(x, r, { training: false }).sub(tf.relu(bn.apply(x, { training: false }).add(r))).abs().max().dataSync()[0]!;
      bn.dispose();
      return d;
    });
    assert.equal(evalDiff, 0);
    tf.dispose([x, r, dy]);
  }
  // a residual of another shape is refused by name
  const bn = new BatchNorm3d(4);
  const x = tf.ones([2, 3, 4]);
  const r = tf.ones([2, 3, 5]);
  enableNativeKernels();
  try {
    assert.throws(() => bn.applyAddRelu(x, r, { training: true }), /the residual's shape \[2,3,5\] is not x's \[2,3,4\]/);
  } finally {
    disableNativeKernels();
    tf.dispose([x, r]);
    bn.dispose();
  }
});

test('an addon built before the residual input (no batchNormTrainResidual): applyAddRelu adds the residual op by op, with the same values; the kernel refuses a residual it would ignore', async (t) => {
  if (!(await nativeAvailable(t))) return;
  const addon = loadAddon().addon!;
  assert.equal(addon.batchNormTrainResidual, true, 'this build has the residual input');
  const shape = [2, 5, 6, 4, 8];
  const x = randomTensor(shape, 170).mul(2);
  const r = randomTensor(shape, 171);
  const out = (): Float32Array =>
    tf.tidy(() => {
      const bn = new BatchNorm3d(8);
      const y = bn.applyAddRelu(x, r, { training: true }).dataSync() as Float32Array;
      bn.dispose();
      return y;
    });
  enableNativeKernels();
  try {
    const fused = out();
    const old = { ...addon, batchNormTrainResidual: undefined };
    const kernels = batchNormTrainKernels(old);
    try {
      assert.equal(nativeBatchNormTrainResidual(x, r), false);
      const before = await kernelsUsed(() => tf.tidy(() => new BatchNorm3d(8).applyAddRelu(x, r, { training: true })));
      assert.ok(before.includes('Relu'), 'the ReLU ran as a kernel of its own');
      const opByOp = out();
      let worst = 0;
      fused.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - opByOp[i]!))));
      assert.ok(worst < 1e-5, `fused vs op by op with an old addon: ${worst}`);
      const w = tf.ones([8]);
      const b = tf.zeros([8]);
      assert.throws(() => kernels['MrclBatchNormTrain']!({ inputs: { x, weight: w, bias: b, residual: r }, backend: tf.backend(), attrs: { eps: 1e-5, relu: true, residual: true } } as never), /the native addon predates the residual input; rebuild it/);
      tf.dispose([w, b]);
    } finally {
      batchNormTrainKernels(addon);
    }
    assert.equal(nativeBatchNormTrainResidual(x, r), true);
  } finally {
    disableNativeKernels();
    tf.dispose([x, r]);
  }
});

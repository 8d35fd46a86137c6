import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../../src/engine/backend';
import { disableNativeKernels, enableNativeKernels } from '../../../src/engine/native/register';
import { resnet3d18 } from '../../../src/engine/networks/resnet3d';
import { compareNative, nativeAvailable, randomTensor } from './helpers';

// The whole image encoder (ResNet-18-A + self-attention), small: every conv
// shape class of the real one (7³ stride-2 stem, 3³ stride 1 and 2, the
// strided shortcut A, maxpool, batch norm, attention).
test('image encoder native = pure JS: training forward (batch statistics) and gradients of every parameter', async (t) => {
  if (!(await nativeAvailable(t))) return;
  // no dropout: the two runs would draw different masks
  const enc = resnet3d18({ width: 4, dropout: 0, attentionDropout: 0, trainableFrom: 'conv1', seed: 3 });
  // γ = 0.5 so the attention branch contributes (it starts at 0)
  enc.selfAttention!.gamma.assign(tf.tensor1d([0.5]));
  const x = randomTensor([2, 32, 36, 33, 1], 11);
  // The key bias's true gradient is exactly 0 (the softmax over keys ignores
  // a shift shared by all keys), so both runs give rounding noise: it is
  // checked to be negligible instead of compared.
  const keyBias = enc.selfAttention!.keyConv.bias!;
  const vars = enc.trainableWeights.filter((v) => v !== keyBias);
  const keyBiasGrad = (native: boolean) =>
    tf.tidy(() => {
      if (native) enableNativeKernels();
      else disableNativeKernels();
      const { value, grads } = tf.variableGrads(() => enc.apply(x, { training: true }).global.square().sum() as tf.Scalar, [keyBias]);
      const out = [grads[keyBias.name].abs().max().dataSync()[0], value.dataSync()[0]];
      disableNativeKernels();
      return out;
    });
  for (const native of [false, true]) {
    const [g, loss] = keyBiasGrad(native);
    assert.ok(g <= 1e-5 * Math.max(1, Math.abs(loss)), `key bias gradient ${g} is not negligible (native ${native})`);
  }
  compareNative(
    'resnet3d18',
    () => {
      const o = enc.apply(x, { training: true });
      const { value, grads } = tf.variableGrads(() => {
        const p = enc.apply(x, { training: true });
        return p.global.square().sum().add(p.layer3.mean()) as tf.Scalar;
      }, vars);
      return [o.layer3, o.layer4, o.attention!, o.global, value, ...vars.map((v) => grads[v.name])];
    },
    ['MrclConv3DPadded', 'MrclConv3DPaddedBackpropInput', 'MrclConv3DPaddedBackpropFilter', 'MaxPool3D', 'MaxPool3DGrad', 'BatchMatMul', 'PadV2', 'Slice', 'MrclBatchNormTrain', 'MrclBatchNormTrainGrad'],
    // the native batch norms sum their statistics and gradients in double,
    // the JS kernels in float32: ~1e-5 relative apart on a few gradients
    5e-5,
  );
  tf.dispose(x);
  enc.dispose();
});

test('image encoder native = pure JS in eval mode (running statistics), conv1–layer2 frozen', async (t) => {
  if (!(await nativeAvailable(t))) return;
  const enc = resnet3d18({ width: 4, trainableFrom: 'layer3', seed: 4 });
  const x = randomTensor([1, 32, 32, 32, 1], 12);
  compareNative('resnet3d18 eval', () => {
    const o = enc.apply(x);
    return [o.layer3, o.layer4, o.global];
  });
  tf.dispose(x);
  enc.dispose();
});

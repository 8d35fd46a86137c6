import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../../src/engine/backend';
import { resolveConfig } from '../../../src/engine/config/resolve';
import { MarkerClassifier, bceWithLogits } from '../../../src/engine/model/classifier';

test('downstream head has 131,585 parameters (paper Table 7) and names a PyTorch nn.Sequential would have', () => {
  const model = new MarkerClassifier(resolveConfig({}), 1);
  try {
    assert.equal(model.head.countParameters(), 131_585);
    // encoder trainable part (layer3, layer4, self-attention) + head
    assert.equal(model.countParameters(true), 31_759_873 + 131_585);
    const names = model.head.namedParameters('classifier.').map(([n]) => n);
    assert.deepEqual(names, ['classifier.0.weight', 'classifier.0.bias', 'classifier.3.weight', 'classifier.3.bias']);
  } finally {
    model.dispose();
  }
});

test('bceWithLogits equals −mean(y·log σ(x) + (1−y)·log(1−σ(x))), stable for large logits', () => {
  const before = tf.memory().numTensors;
  const x = tf.tensor1d([0, 2, -3, 100, -100]);
  const y = tf.tensor1d([1, 0, 0, 1, 0]);
  const got = bceWithLogits(x, y);
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  const terms = [-Math.log(sig(0)), -Math.log(1 - sig(2)), -Math.log(1 - sig(-3)), 0, 0];
  assert.ok(Math.abs(got.dataSync()[0]! - terms.reduce((a, b) => a + b) / 5) < 1e-6);
  got.dispose();
  x.dispose();
  y.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('a classifier training step leaks no tensors', () => {
  const config = resolveConfig({ image: { width: 2 }, finetune: { hidden: 8 } });
  const model = new MarkerClassifier(config, 3);
  const x = tf.randomNormal([2, 24, 24, 16, 1]) as tf.Tensor5D;
  const y = tf.tensor1d([0, 1]);
  const before = tf.memory().numTensors;
  const { value, grads } = tf.variableGrads(() => bceWithLogits(model.apply(x, true).logits, y), model.trainableWeights);
  value.dispose();
  Object.values(grads).forEach((g) => g.dispose());
  assert.equal(tf.memory().numTensors, before);
  x.dispose();
  y.dispose();
  model.dispose();
});

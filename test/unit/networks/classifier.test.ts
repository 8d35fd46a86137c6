import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../../src/engine/backend';
import { resolveConfig } from '../../../src/engine/config/resolve';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MarkerClassifier, ClassifierHead, bceWithLogits, positiveWeightFor } from '../../../src/engine/model/classifier';
import { dropoutsOf } from '../../../src/engine/model/contrastive';

// made by test/fixtures/finetune/make_fixtures.py
const fixture = JSON.parse(readFileSync(join(__dirname, '../../fixtures/finetune/finetune.json'), 'utf8')) as {
  heads: Record<'paper' | 'relu', { in: number; hidden: number; x: number[][]; state: Record<string, number[] | number[][]>; logits: number[]; parameters512: number }>;
  bce: { logits: number[]; labels: number[]; cases: { name: string; posWeight: number; loss: number; grad: number[] }[] };
};

test("downstream head 'paper' (default): 131,585 parameters (Table 7), dropout 0.25 (Table 9), nn.Sequential(Dropout, Linear, Linear) names", () => {
  const config = resolveConfig({});
  assert.equal(config.finetune.head, 'paper');
  assert.equal(config.finetune.dropout, 0.25);
  const model = new MarkerClassifier(config, 1);
  try {
    assert.equal(model.head.countParameters(), 131_585);
    assert.equal(model.head.countParameters(), fixture.heads.paper.parameters512);
    // encoder trainable part (layer3, layer4, self-attention) + head
    assert.equal(model.countParameters(true), 31_759_873 + 131_585);
    const names = model.head.namedParameters('classifier.').map(([n]) => n);
    assert.deepEqual(names, ['classifier.1.weight', 'classifier.1.bias', 'classifier.2.weight', 'classifier.2.bias']);
    assert.deepEqual(names.filter((n) => n.endsWith('weight')), Object.keys(fixture.heads.paper.state).filter((n) => n.endsWith('weight')).map((n) => `classifier.${n}`));
    const drops = dropoutsOf(model.head);
    assert.deepEqual(drops.map((d) => d.rate), [0.25]);
  } finally {
    model.dispose();
  }
});

test("downstream head 'relu': the same 131,585 parameters under nn.Sequential(Linear, ReLU, Dropout, Linear) names", () => {
  const model = new MarkerClassifier(resolveConfig({ finetune: { head: 'relu', dropout: 0.5 } }), 1);
  try {
    assert.equal(model.head.countParameters(), fixture.heads.relu.parameters512);
    const names = model.head.namedParameters('classifier.').map(([n]) => n);
    assert.deepEqual(names, ['classifier.0.weight', 'classifier.0.bias', 'classifier.3.weight', 'classifier.3.bias']);
    assert.deepEqual(dropoutsOf(model.head).map((d) => d.rate), [0.5]);
  } finally {
    model.dispose();
  }
});

for (const kind of ['paper', 'relu'] as const) {
  test(`head '${kind}' in eval mode equals the PyTorch module's forward`, () => {
    const f = fixture.heads[kind];
    const head = new ClassifierHead(kind, f.in, f.hidden, 0.25, 7);
    for (const [name, v] of head.namedParameters()) {
      const want = f.state[name];
      assert.ok(want, `no PyTorch tensor named ${name}`);
      tf.tidy(() => v.assign(tf.tensor(want as number[]).reshape(v.shape)));
    }
    const before = tf.memory().numTensors;
    const x = tf.tensor2d(f.x);
    const got = head.apply(x, false);
    const values = Array.from(got.dataSync());
    f.logits.forEach((want, i) => assert.ok(Math.abs(values[i]! - want) < 1e-5, `${kind} logit ${i}: ${values[i]} ≠ torch ${want}`));
    // a training pass draws a dropout mask and still leaks nothing
    tf.dispose([got, head.apply(x, true), x]);
    assert.equal(tf.memory().numTensors, before);
    head.dispose();
  });
}

test("the 'paper' head has no activation between its layers: it is affine in its input", () => {
  const head = new ClassifierHead('paper', 4, 3, 0.25, 2);
  const relu = new ClassifierHead('relu', 4, 3, 0.25, 2);
  const at = (h: ClassifierHead, v: number[]) => tf.tidy(() => h.apply(tf.tensor2d([v]), false).dataSync()[0]!);
  const [a, b, mid] = [[1, -2, 3, 0.5], [-4, 1, -1, 2], [-1.5, -0.5, 1, 1.25]];
  assert.ok(Math.abs(at(head, mid) - (at(head, a) + at(head, b)) / 2) < 1e-5);
  // while the 'relu' head is not (for these weights and inputs)
  assert.ok(Math.abs(at(relu, mid) - (at(relu, a) + at(relu, b)) / 2) > 1e-4);
  head.dispose();
  relu.dispose();
});

test('bceWithLogits(…, posWeight) equals torch BCEWithLogitsLoss(pos_weight) in value and gradient', () => {
  const before = tf.memory().numTensors;
  const x = tf.tensor1d(fixture.bce.logits);
  const y = tf.tensor1d(fixture.bce.labels);
  assert.equal(fixture.bce.cases.find((c) => c.name === 'balanced')!.posWeight, positiveWeightFor('balanced', fixture.bce.labels));
  for (const c of fixture.bce.cases) {
    const { value, grad } = tf.valueAndGrad((z: tf.Tensor) => bceWithLogits(z as tf.Tensor1D, y as tf.Tensor1D, c.posWeight))(x);
    assert.ok(Math.abs(value.dataSync()[0]! - c.loss) < 1e-6, `${c.name}: loss ${value.dataSync()[0]} ≠ torch ${c.loss}`);
    const gv = grad.dataSync();
    c.grad.forEach((want, i) => assert.ok(Math.abs(gv[i]! - want) < 1e-6, `${c.name}: grad ${i} ${gv[i]} ≠ torch ${want}`));
    tf.dispose([value, grad]);
  }
  tf.dispose([x, y]);
  assert.equal(tf.memory().numTensors, before);
});

test('positiveWeightFor: a number as is; balanced = negatives / positives; 1 when a class is absent', () => {
  assert.equal(positiveWeightFor(1, [0, 1, 1]), 1);
  assert.equal(positiveWeightFor(2.5, [0, 0]), 2.5);
  assert.equal(positiveWeightFor('balanced', [0, 0, 0, 1]), 3);
  assert.equal(positiveWeightFor('balanced', [0, 1, 1, 1]), 1 / 3);
  assert.equal(positiveWeightFor('balanced', [0, 0]), 1);
  assert.throws(() => bceWithLogits(tf.zeros([1]) as tf.Tensor1D, tf.zeros([1]) as tf.Tensor1D, 0), /posWeight/);
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

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../../src/engine/backend';
import { resolveConfig } from '../../../src/engine/config/resolve';
import { ContrastiveModel } from '../../../src/engine/model/contrastive';
import { batchEncodings, disposeTextBatch } from '../../../src/engine/networks/text-batch';
import { Rng } from '../../../src/engine/util/rng';
import { variantConfig } from '../../../src/engine/experiment/units';

const base = resolveConfig({
  image: { width: 2 },
  text: { layers: 1, hidden: 8, heads: 2, intermediate: 16, attentionWindow: 4, maxWords: 6 },
  heads: { globalDim: 8, localDim: 4 },
});

function inputs(model: ContrastiveModel) {
  const x = tf.randomNormal([3, 24, 24, 16, 1], 0, 1, 'float32', 7) as tf.Tensor5D;
  const enc = [
    { ids: [0, 5, 6, 7, 2], wordIds: [null, 0, 0, 1, null] },
    { ids: [0, 8, 9, 2], wordIds: [null, 0, 1, null] },
    { ids: [0, 10, 11, 12, 13, 14, 15, 16, 17, 18, 2], wordIds: [null, 0, 1, 2, 3, 4, 5, 6, 6, 7, null] },
  ];
  const tb = batchEncodings(enc, { padId: 1, maxWords: model.text.maxWords });
  return { x, tb };
}

for (const variant of ['proposed', 'global-only', 'local-only', 'location-excluded', 'contrastive-loss', 'hard-negatives']) {
  test(`pretraining step (${variant}): finite loss, gradients for the trainable weights, no leaked tensors`, () => {
    const config = variantConfig(base, variant);
    const model = new ContrastiveModel(config, { size: 32, padId: 1 }, 1);
    const { x, tb } = inputs(model);
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => model.loss(model.forward(x, tb, true), ['a', 'a', 'b'], new Rng(1)).total, model.trainableWeights);
    assert.ok(Number.isFinite(value.dataSync()[0]));
    // frozen stages (conv1–layer2) get no gradient; layer3 (local features) does,
    // and layer4 (global features) unless only the local loss is trained
    const names = new Map(model.namedParameters().map(([n, v]) => [v.name, n]));
    const got = Object.keys(grads).map((k) => names.get(k)!);
    assert.ok(got.some((n) => n.startsWith('image_encoder.layer3.')));
    assert.equal(got.some((n) => n.startsWith('image_encoder.layer4.')), variant !== 'local-only');
    assert.ok(!got.some((n) => n.startsWith('image_encoder.layer1.') || n.startsWith('image_encoder.conv1.')));
    if (variant === 'global-only') assert.ok(!got.some((n) => n.startsWith('image_local_head.')));
    if (variant === 'local-only') assert.ok(!got.some((n) => n.startsWith('image_global_head.')));
    value.dispose();
    Object.values(grads).forEach((g) => g.dispose());
    assert.equal(tf.memory().numTensors, before);
    x.dispose();
    disposeTextBatch(tb);
    model.dispose();
  });
}

test('the learned weighting trains s_G and s_L; fixed does not', () => {
  const learned = new ContrastiveModel(base, { size: 32, padId: 1 }, 1);
  const fixed = new ContrastiveModel({ ...base, loss: { ...base.loss, weighting: 'fixed' } }, { size: 32, padId: 1 }, 1);
  const has = (m: ContrastiveModel) => m.trainableWeights.some((v) => v === m.lossWeights.sG);
  assert.equal(has(learned), true);
  assert.equal(has(fixed), false);
  learned.dispose();
  fixed.dispose();
});

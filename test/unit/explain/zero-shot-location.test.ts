// Zero-shot location in a run: prompt embeddings are the text side of the global
// loss (the same as the model's forward gives), batched without leaking tensors,
// and classify images whose embeddings point at their location's prompts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../../src/engine/backend';
import { resolveConfig } from '../../../src/engine/config/resolve';
import { ContrastiveModel } from '../../../src/engine/model/contrastive';
import { batchEncodings, disposeTextBatch, type EncodingLike } from '../../../src/engine/networks/text-batch';
import { textGlobalEmbeddings, zeroShotLocation } from '../../../src/engine/explain/zero-shot-location';
import { classEmbedding } from '../../../src/engine/metrics';
import { DEFAULT_ZERO_SHOT_PROMPTS } from '../../../src/shared/config';

const config = resolveConfig({
  image: { width: 2 },
  text: { layers: 1, hidden: 8, heads: 2, intermediate: 16, attentionWindow: 4, maxWords: 6 },
  heads: { globalDim: 8, localDim: 4 },
});
const enc: EncodingLike[] = [
  { ids: [0, 5, 6, 7, 2], wordIds: [null, 0, 0, 1, null] },
  { ids: [0, 8, 9, 2], wordIds: [null, 0, 1, null] },
  { ids: [0, 10, 11, 12, 13, 2], wordIds: [null, 0, 1, 2, 3, null] },
  { ids: [0, 14, 15, 2], wordIds: [null, 0, 1, null] },
  { ids: [0, 16, 17, 18, 2], wordIds: [null, 0, 1, 2, null] },
];

test('textGlobalEmbeddings: the model forward\'s textGlobal, unit length, batch size irrelevant, no leaked tensors', () => {
  const model = new ContrastiveModel(config, { size: 32, padId: 1 }, 3);
  const x = tf.randomNormal([enc.length, 24, 24, 16, 1], 0, 1, 'float32', 7) as tf.Tensor5D;
  const tb = batchEncodings(enc, { padId: 1, maxWords: model.text.maxWords });
  const reference = tf.tidy(() => model.forward(x, tb, false).textGlobal.arraySync());
  x.dispose();
  disposeTextBatch(tb);
  const before = tf.memory().numTensors;
  const one = textGlobalEmbeddings(model, enc);
  const batched = textGlobalEmbeddings(model, enc, 2);
  assert.equal(tf.memory().numTensors, before);
  assert.equal(one.length, enc.length);
  one.forEach((row, i) => {
    assert.ok(Math.abs(Math.hypot(...row) - 1) < 1e-5);
    row.forEach((v, j) => {
      assert.ok(Math.abs(v - reference[i]![j]!) < 1e-5, `row ${i} dim ${j}: ${v} vs forward ${reference[i]![j]}`);
      assert.ok(Math.abs(v - batched[i]![j]!) < 1e-5);
    });
  });
  model.dispose();
});

test('zeroShotLocation: images pointing at their location\'s prompts are classified right; unlabelled cases excluded', () => {
  const model = new ContrastiveModel(config, { size: 32, padId: 1 }, 3);
  const byText = new Map<string, EncodingLike>([['a1', enc[0]!], ['a2', enc[1]!], ['b1', enc[2]!], ['c1', enc[3]!], ['c2', enc[4]!]]);
  const prompts = { a: ['a1', 'a2'], b: ['b1'], c: ['c1', 'c2'] };
  const emb = textGlobalEmbeddings(model, enc);
  const cls = { a: classEmbedding([emb[0]!, emb[1]!]), b: classEmbedding([emb[2]!]), c: classEmbedding([emb[3]!, emb[4]!]) };
  const images = [
    { id: 'p', location: 'a', embedding: cls.a },
    { id: 'q', location: 'b', embedding: cls.b },
    { id: 'r', location: 'c', embedding: cls.c },
    { id: 's', location: 'a', embedding: cls.a.map((v) => 2 * v) },
    { id: 'u', embedding: cls.b },
    { id: 'v', location: 'elsewhere', embedding: cls.c },
  ];
  const before = tf.memory().numTensors;
  const z = zeroShotLocation(model, (t) => byText.get(t)!, prompts, images)!;
  assert.equal(tf.memory().numTensors, before);
  assert.deepEqual(z.classes, ['a', 'b', 'c']);
  assert.equal(z.n, 4);
  assert.equal(z.excluded, 2);
  assert.equal(z.accuracy, 1);
  assert.deepEqual(z.auc, { a: 1, b: 1, c: 1 });
  assert.equal(z.macroAuc, 1);
  assert.deepEqual(z.perCase.map((c) => [c.id, c.predicted]), [['p', 'a'], ['q', 'b'], ['r', 'c'], ['s', 'a']]);
  assert.ok(Math.abs(z.perCase[0]!.scores[0]! - 1) < 1e-6);
  assert.deepEqual(z.prompts, prompts);
  assert.equal(zeroShotLocation(model, (t) => byText.get(t)!, { a: ['a1'] }, images), null);
  assert.equal(zeroShotLocation(model, (t) => byText.get(t)!, prompts, [{ id: 'u', embedding: cls.a }]), null);
  model.dispose();
});

test('the default prompts cover the three pLGG locations, several each', () => {
  assert.deepEqual(Object.keys(DEFAULT_ZERO_SHOT_PROMPTS), ['supratentorial', 'infratentorial', 'transtentorial']);
  assert.ok(Object.values(DEFAULT_ZERO_SHOT_PROMPTS).every((p) => p.length >= 2));
  assert.deepEqual(resolveConfig({}).eval.zeroShot.prompts, DEFAULT_ZERO_SHOT_PROMPTS);
});

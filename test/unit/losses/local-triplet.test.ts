import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../../src/engine/backend';
import { localTripletLoss, sampleLocalNegatives } from '../../../src/engine/losses';
import { Rng } from '../../../src/engine/util/rng';
import { assertClose, cpu, finiteDifferences, gradients, noLeaks, value } from './helpers';

test('local triplet loss matches a hand-derived case', async () => {
  await cpu();
  // N = 2, one patch / one word of dimension 2; negatives are forced (the other case).
  // image: v = v̂ = [(1,0)], [(0,1)]: d(v_i, v̂_i) = 0, d(v_i, v̂_j) = 1 → every term max(0, −1 + 0.4) = 0
  // text:  w = [(1,0)], [(1,0)]; ŵ = [(1,0)], [(−1,0)]
  //   anchor w0: 0 − d(w0, ŵ1)=2 → 0;  anchor ŵ0: 0 − d(ŵ0, w1)=0 + .4 = 0.4
  //   anchor w1: d(w1, ŵ1)=2 − d(w1, ŵ0)=0 + .4 = 2.4;  anchor ŵ1: 2 − d(ŵ1, w0)=2 + .4 = 0.4
  // L_L = 0 + 3.2 / (2·2) = 0.8
  const v = tf.tensor3d([[[1, 0]], [[0, 1]]]);
  const w = tf.tensor3d([[[1, 0]], [[1, 0]]]);
  const wHat = tf.tensor3d([[[1, 0]], [[-1, 0]]]);
  const neg = { imageLocal: [1, 0], imageWeighted: [1, 0], textLocal: [1, 0], textWeighted: [1, 0] };
  const got = value(() => localTripletLoss(v, v, w, wHat, { negatives: neg }));
  assert.ok(Math.abs(got - 0.8) < 1e-6, `got ${got}`);
  // a larger margin switches the image terms on: 4 × (−1 + 1.5) / 4 = 0.5;
  // text max(0, −2 + 1.5) + 1.5 + 3.5 + 1.5 = 6.5, / 4
  const big = value(() => localTripletLoss(v, v, w, wHat, { negatives: neg, margin: 1.5 }));
  assert.ok(Math.abs(big - (0.5 + 6.5 / 4)) < 1e-6, `margin 1.5: ${big}`);
  tf.dispose([v, w, wHat]);
});

function randomInputs(n: number, p: number, words: number, d: number, seed: number) {
  const rng = new Rng(seed);
  const make = (...shape: number[]) => tf.tensor(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape);
  return { v: make(n, p, d), vHat: make(n, p, d), w: make(n, words, d), wHat: make(n, words, d) };
}

test('padded word slots do not change the loss', async () => {
  await cpu();
  const { v, vHat, w, wHat } = randomInputs(3, 4, 3, 2, 11);
  const mask = [[1, 1, 0], [1, 1, 1], [1, 0, 0]];
  const neg = { imageLocal: [1, 2, 0], imageWeighted: [2, 0, 1], textLocal: [2, 2, 1], textWeighted: [1, 0, 0] };
  const base = value(() => localTripletLoss(v, vHat, w, wHat, { negatives: neg, wordMask: mask }));
  // two more padded slots holding arbitrary values
  const pad = (x: tf.Tensor) => tf.concat([x, tf.fill([3, 2, 2], 7.5)], 1);
  const [w5, wHat5] = [pad(w), pad(wHat)];
  const mask5 = mask.map((r) => [...r, 0, 0]);
  const padded = value(() => localTripletLoss(v, vHat, w5, wHat5, { negatives: neg, wordMask: tf.tensor2d(mask5) }));
  assert.ok(Math.abs(base - padded) < 1e-6, `${base} vs ${padded}`);
  // without the mask the padding would change it: the test can fail
  const unmasked = value(() => localTripletLoss(v, vHat, w5, wHat5, { negatives: neg }));
  assert.ok(Math.abs(base - unmasked) > 1e-3);
  assert.throws(() => localTripletLoss(v, vHat, w, wHat, { negatives: neg, wordMask: [[1, 1], [1, 1], [1, 1]] }), /wordMask/);
  tf.dispose([v, vHat, w, wHat, w5, wHat5]);
});

test('sampled negatives are reproducible and used by the loss', async () => {
  await cpu();
  const { v, vHat, w, wHat } = randomInputs(5, 3, 4, 2, 3);
  const a = sampleLocalNegatives(v, vHat, w, wHat, { seed: 9 });
  const b = sampleLocalNegatives(v, vHat, w, wHat, { seed: 9 });
  assert.deepEqual(a, b);
  for (const list of Object.values(a)) list.forEach((j: number, i: number) => assert.ok(j !== i && j >= 0 && j < 5));
  const sampled = value(() => localTripletLoss(v, vHat, w, wHat, { seed: 9 }));
  const given = value(() => localTripletLoss(v, vHat, w, wHat, { negatives: a }));
  assert.equal(sampled, given);
  // hard negatives: the closest of all other cases
  const hard = sampleLocalNegatives(v, vHat, w, wHat, { k: 'hard' });
  assert.deepEqual(hard, sampleLocalNegatives(v, vHat, w, wHat, { k: 4, seed: 123 }));
  assert.throws(() => localTripletLoss(v.slice(0, 2), vHat.slice(0, 2), w.slice(0, 2), wHat.slice(0, 2)), /k = 2 \(semi-hard\) needs a batch of at least 3, got N = 2/);
  assert.throws(() => localTripletLoss(v, w, w, wHat), /imageLocal and imageWeighted must have the same shape/);
  tf.dispose([v, vHat, w, wHat]);
});

test('local triplet gradient matches finite differences', async () => {
  await cpu();
  const { v, vHat, w, wHat } = randomInputs(3, 2, 2, 2, 21);
  const opts = { negatives: { imageLocal: [1, 2, 0], imageWeighted: [2, 0, 1], textLocal: [2, 0, 1], textWeighted: [1, 2, 0] }, margin: 1.0, wordMask: [[1, 1], [1, 0], [1, 1]] };
  const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, d: tf.Tensor) => localTripletLoss(a, b, c, d, opts);
  const analytic = gradients(f, [v, vHat, w, wHat]);
  const numeric = finiteDifferences(f, [v, vHat, w, wHat], 1e-2);
  analytic.forEach((g, i) => assertClose(g, numeric[i], 3e-3, `input ${i}`));
  // the masked slot (case 1, word 1) gets no gradient
  assert.equal(Math.abs(analytic[2][1 * 4 + 2]), 0);
  assert.equal(Math.abs(analytic[2][1 * 4 + 3]), 0);
  assert.ok(Math.abs(analytic[2][1 * 4 + 1]) > 1e-3, 'a real word slot gets a gradient');
  tf.dispose([v, vHat, w, wHat]);
});

test('identical and zero local embeddings stay finite; no leaked tensors', async () => {
  await cpu();
  const { v, w } = randomInputs(3, 2, 2, 2, 5);
  const same = value(() => localTripletLoss(v, v, w, w, { margin: 0.4 }));
  assert.ok(Number.isFinite(same) && same >= 0);
  const z = tf.zeros([3, 2, 2]);
  // all distances 1: each term 1 − 1 + m → L_L = m + m
  const zero = value(() => localTripletLoss(z, z, z, z, { margin: 0.4 }));
  assert.ok(Math.abs(zero - 0.8) < 1e-6, `zeros: ${zero}`);
  for (const g of gradients((a, b, c, d) => localTripletLoss(a, b, c, d), [z, v, z, w])) assert.ok(g.every(Number.isFinite));
  noLeaks('loss', () => value(() => localTripletLoss(v, v, w, w, { wordMask: [[1, 0], [1, 1], [0, 1]] })));
  noLeaks('loss with mask tensor', () => {
    const m = tf.tensor2d([[1, 0], [1, 1], [0, 1]]);
    value(() => localTripletLoss(v, v, w, w, { wordMask: m }));
    m.dispose();
  });
  noLeaks('gradient', () => gradients((a, b, c, d) => localTripletLoss(a, b, c, d, { seed: 2, wordMask: [[1, 0], [1, 1], [0, 1]] }), [v, z, w, z]));
  noLeaks('sampling', () => sampleLocalNegatives(v, v, w, w, { wordMask: [[1, 0], [1, 1], [0, 1]] }));
  tf.dispose([v, w, z]);
});

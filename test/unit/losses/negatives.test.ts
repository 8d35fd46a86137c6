import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../../src/engine/backend';
import { chooseNegatives, resolveNegativeK, sampleGlobalNegatives, sampleNegatives } from '../../../src/engine/losses';
import { Rng } from '../../../src/engine/util/rng';
import { cpu, noLeaks } from './helpers';

// anchor × candidate distances; for each anchor the other indices ordered near → far
const D = [
  [0.0, 0.3, 0.9, 0.5], // 0: 1 (0.3), 3 (0.5), 2 (0.9)
  [0.2, 0.0, 0.1, 0.8], // 1: 2, 0, 3
  [0.7, 0.6, 0.0, 0.4], // 2: 3, 1, 0
  [0.5, 0.5, 0.9, 0.0], // 3: 0 and 1 tie (→ 0), then 2
];

test('k resolves by name and by number', () => {
  assert.equal(resolveNegativeK('random', 4, 't'), 1);
  assert.equal(resolveNegativeK('semihard', 4, 't'), 2);
  assert.equal(resolveNegativeK(undefined, 4, 't'), 2);
  assert.equal(resolveNegativeK('hard', 4, 't'), 3);
  assert.equal(resolveNegativeK(3, 4, 't'), 3);
  assert.throws(() => resolveNegativeK(2, 2, 'where'), /^Error: where: k = 2 \(semi-hard\) needs a batch of at least 3, got N = 2$/);
  assert.throws(() => resolveNegativeK('random', 1, 'where'), /at least 2/);
  assert.throws(() => resolveNegativeK(1.5, 4, 'where'), /positive integer/);
});

test('hard negatives are the closest other index (ties → smaller index)', () => {
  assert.deepEqual(chooseNegatives(D, 3, new Rng(1)), [1, 2, 3, 0]);
});

test('k = 2 never picks the farthest of three others and picks the nearest 2/3 of the time', () => {
  const rng = new Rng(42);
  const counts = D.map(() => new Map<number, number>());
  const trials = 3000;
  for (let t = 0; t < trials; t++) chooseNegatives(D, 2, rng).forEach((j, i) => counts[i].set(j, (counts[i].get(j) ?? 0) + 1));
  const nearest = [1, 2, 3, 0];
  const farthest = [2, 3, 0, 2];
  counts.forEach((c, i) => {
    assert.equal(c.get(farthest[i]) ?? 0, 0, `anchor ${i} chose its farthest`);
    const p = (c.get(nearest[i]) ?? 0) / trials;
    assert.ok(Math.abs(p - 2 / 3) < 0.04, `anchor ${i}: nearest chosen ${p}`);
    assert.ok(!c.has(i), 'never the anchor itself');
  });
});

test('k = 1 is uniform over the other indices', () => {
  const rng = new Rng(7);
  const counts = [0, 0, 0, 0];
  for (let t = 0; t < 3000; t++) counts[chooseNegatives(D, 1, rng)[0]]++;
  assert.equal(counts[0], 0);
  for (const j of [1, 2, 3]) assert.ok(Math.abs(counts[j] / 3000 - 1 / 3) < 0.04, `index ${j}: ${counts[j]}`);
});

test('sampling from embeddings: cosine distances, seeded, no leaks', async () => {
  await cpu();
  // anchor rows vs candidate rows, closest by angle (not by Euclidean distance)
  const anchors = tf.tensor2d([[1, 0], [0, 1], [-1, 0]]);
  const candidates = tf.tensor2d([[0, -5], [10, 1], [-0.1, 1]]);
  // hard: 0 → candidate 1 (angle ~6°), 1 → 2, 2 → 0 (90° vs 174° for 1)
  assert.deepEqual(sampleNegatives(anchors, candidates, { k: 'hard' }), [1, 2, 0]);
  const g1 = sampleGlobalNegatives(anchors, candidates, { seed: 4, k: 1 });
  const g2 = sampleGlobalNegatives(anchors, candidates, { seed: 4, k: 1 });
  assert.deepEqual(g1, g2);
  // a shared generator advances: later draws differ from a fresh one somewhere over many calls
  const rng = new Rng(4);
  const draws = Array.from({ length: 20 }, () => sampleNegatives(anchors, candidates, { k: 1, rng }).join());
  assert.ok(new Set(draws).size > 1);
  noLeaks('sampleNegatives', () => sampleGlobalNegatives(anchors, candidates, { k: 2 }));
  assert.throws(() => sampleNegatives(anchors, tf.tensor2d([[1, 0]]), {}), /same shape/);
  tf.dispose([anchors, candidates]);
});

// embeddingSpread against a hand-derived table, and the collapse warning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { embeddingSpread, embeddingsCollapsed, collapseWarning, locationWeightOf, COLLAPSED_COSINE } from '../../../src/engine/metrics/embedding-spread';

test('embeddingSpread: within-modality and own/other-pair mean cosines (hand table)', () => {
  // images e1, e2, e1; reports e1, e1, e2
  const image = [[1, 0], [0, 1], [1, 0]];
  const report = [[1, 0], [1, 0], [0, 1]];
  const s = embeddingSpread(image, report);
  // ordered pairs i ≠ j: images (0,2) and (2,0) are 1, the rest 0 → 2/6; reports (0,1), (1,0) → 2/6
  // own: 1, 0, 0 → 1/3; other: i0·r1, i1·r2, i2·r0, i2·r1 are 1 of 6 → 4/6
  assert.deepEqual(s, { cases: 3, image: 1 / 3, report: 1 / 3, ownPair: 1 / 3, otherPair: 2 / 3 });
  assert.equal(embeddingsCollapsed(s), false);
  assert.equal(collapseWarning('pretrain', 'held-out', s, 1e-5), undefined);
});

test('embeddingSpread: every case the same direction is collapsed, and the warning says what to change', () => {
  const same = [[0.6, 0.8], [0.6, 0.8], [0.6, 0.8], [0.6, 0.8]];
  const s = embeddingSpread(same, same);
  for (const v of [s.image, s.report, s.ownPair, s.otherPair]) assert.ok(Math.abs(v - 1) < 1e-12, String(v));
  assert.equal(embeddingsCollapsed(s), true);
  const standardised = collapseWarning('pretrain', 'held-out', s, 1e-5)!;
  assert.match(standardised, /^pretrain: the global embeddings are collapsed: on the held-out pairs different cases' embeddings have a mean cosine of 1\.0000 \(images\) and 1\.0000 \(reports\)/);
  assert.match(standardised, /with ε 1e-5; .*heads\.globalInputNormEps 1e-10/);
  assert.match(collapseWarning('pretrain', 'held-out', s, 0.01)!, /with ε 0\.01; /);
  assert.match(collapseWarning('pretrain', 'training', s, null)!, /heads\.globalInputNorm "batch" standardises/);
  // the location weighting, where the loss uses it: named after the ε
  assert.doesNotMatch(standardised, /location weighting/);
  assert.match(collapseWarning('pretrain', 'held-out', s, 1e-5, 0.5)!, /\(docs\/METHOD\.md §4\); the location weighting \(λ 0\.5\) lowers the global loss of pairs not yet aligned by collapsing them, which the plain triplet \(loss\.useLocation false\) does not \(docs\/METHOD\.md §5\)$/);
  assert.equal(locationWeightOf({ useLocation: true, locationMode: 'scale', locationWeight: 0.5 }), 0.5);
  assert.equal(locationWeightOf({ useLocation: true }), 0.5);
  assert.equal(locationWeightOf({ useLocation: false, locationWeight: 0.5 }), null);
  assert.equal(locationWeightOf({ useLocation: true, locationWeight: 1 }), null);
  assert.equal(locationWeightOf({ useLocation: true, locationMode: 'margin' }), null);
  assert.equal(locationWeightOf(undefined), null);
  // one modality collapsed is enough; the threshold itself counts
  const near = [[1, 0], [COLLAPSED_COSINE, Math.sqrt(1 - COLLAPSED_COSINE ** 2)]];
  const spread = embeddingSpread(near, [[1, 0], [0, 1]]);
  assert.ok(Math.abs(spread.image - COLLAPSED_COSINE) < 1e-12 && spread.report === 0, JSON.stringify(spread));
  assert.equal(embeddingsCollapsed({ ...spread, image: COLLAPSED_COSINE }), true);
  assert.equal(embeddingsCollapsed({ ...spread, image: COLLAPSED_COSINE - 1e-9 }), false);
});

test('embeddingSpread refuses what it cannot measure', () => {
  assert.throws(() => embeddingSpread([[1, 0]], [[1, 0]]), /needs the same number \(≥ 2\)/);
  assert.throws(() => embeddingSpread([[1, 0], [0, 1]], [[1, 0]]), /got 2 and 1/);
  assert.throws(() => embeddingSpread([[1, 0], [0, 1, 0]], [[1, 0], [0, 1]]), /differ in width/);
});

// Zero-shot classification by hand (2-D embeddings whose cosines are exact enough to derive).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classEmbedding, zeroShotClassify, zeroShotEvaluate } from '../../../src/engine/metrics';

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-12, `${what}: ${a} ≠ ${b}`);
const r2 = Math.SQRT1_2;

// supra: prompts (2,0) and (0,3) → normalised (1,0), (0,1) → mean (½,½) → (1/√2, 1/√2)
// (an unnormalised mean (1, 1.5) would point elsewhere); infra: (−1, 0); trans: (0, −5), (0, −1) → (0, −1)
const classes = [
  { label: 'supratentorial', prompts: [[2, 0], [0, 3]] },
  { label: 'infratentorial', prompts: [[-1, 0]] },
  { label: 'transtentorial', prompts: [[0, -5], [0, -1]] },
];
// cosines (supra, infra, trans):
//  img0 (1,1):   1,      −1/√2,  −1/√2  → supra
//  img1 (−2,0): −1/√2,    1,      0     → infra
//  img2 (0,−1): −1/√2,    0,      1     → trans
//  img3 (1,−3): −1/√5,  −1/√10,  3/√10  → trans
//  img4 (0,1):   1/√2,    0,     −1     → supra
const images = [[1, 1], [-2, 0], [0, -1], [1, -3], [0, 1]];

test('classEmbedding averages L2-normalised prompts, then renormalises', () => {
  const e = classEmbedding(classes[0].prompts);
  close(e[0], r2, 'x');
  close(e[1], r2, 'y');
  assert.deepEqual(classEmbedding([[0, -5], [0, -1]]), [0, -1]);
  assert.throws(() => classEmbedding([], 'x'), /class 'x' has no prompts/);
  assert.throws(() => classEmbedding([[1, 0], [-1, 0]], 'x'), /mean prompt of class 'x' is the zero vector/);
  assert.throws(() => classEmbedding([[1, 0], [1]], 'x'), /prompt 1 has 1 dimensions/);
});

test('zeroShotClassify: cosine scores and argmax', () => {
  const r = zeroShotClassify(images, classes);
  assert.deepEqual(r.classes, ['supratentorial', 'infratentorial', 'transtentorial']);
  const expected = [
    [1, -r2, -r2],
    [-r2, 1, 0],
    [-r2, 0, 1],
    [-1 / Math.sqrt(5), -1 / Math.sqrt(10), 3 / Math.sqrt(10)],
    [r2, 0, -1],
  ];
  r.scores.forEach((row, i) => row.forEach((s, c) => close(s, expected[i][c], `score ${i},${c}`)));
  assert.deepEqual(r.predicted, ['supratentorial', 'infratentorial', 'transtentorial', 'transtentorial', 'supratentorial']);
  // a tie goes to the first class
  assert.deepEqual(zeroShotClassify([[1, 1]], [{ label: 'a', prompts: [[1, 0]] }, { label: 'b', prompts: [[0, 1]] }]).predicted, ['a']);
});

test('zeroShotEvaluate: accuracy, one-vs-rest AUC per class, macro AUC', () => {
  const truth = ['supratentorial', 'infratentorial', 'transtentorial', 'supratentorial', 'transtentorial'];
  const e = zeroShotEvaluate(images, classes, truth);
  assert.equal(e.n, 5);
  assert.equal(e.accuracy, 3 / 5);
  // supra: positives {1, −1/√5} vs negatives {−1/√2, −1/√2, 1/√2}: 3 + 2 wins of 6
  close(e.auc.supratentorial as number, 5 / 6, 'supra AUC');
  // infra: the one positive (1) above all four negatives
  assert.equal(e.auc.infratentorial, 1);
  // trans: positives {1, −1} vs negatives {−1/√2, 0, 3/√10}: 3 + 0 wins of 6
  assert.equal(e.auc.transtentorial, 0.5);
  close(e.macroAuc as number, (5 / 6 + 1 + 0.5) / 3, 'macro AUC');
  assert.equal(e.aucClasses, 3);
  // a class no image holds has no AUC; the macro averages the others
  const two = zeroShotEvaluate(images.slice(0, 2), classes, ['supratentorial', 'infratentorial']);
  assert.equal(two.auc.transtentorial, null);
  assert.equal(two.aucClasses, 2);
  assert.equal(two.macroAuc, 1);
  assert.equal(two.accuracy, 1);
});

test('zeroShot input errors name the problem', () => {
  assert.throws(() => zeroShotClassify(images, classes.slice(0, 1)), /at least 2 classes/);
  assert.throws(() => zeroShotClassify(images, [classes[0], { label: 'supratentorial', prompts: [[1, 0]] }]), /labels repeat/);
  assert.throws(() => zeroShotClassify([[1, 0, 0]], classes), /image 0 has a 3-dimensional embedding, the prompts 2/);
  assert.throws(() => zeroShotClassify([[0, 0]], classes), /image 0's embedding is the zero vector/);
  assert.throws(() => zeroShotEvaluate(images, classes, ['supratentorial']), /5 images but 1 labels/);
  assert.throws(() => zeroShotEvaluate([[1, 0]], classes, ['cerebellar']), /labelled 'cerebellar', which is none of the classes/);
  assert.throws(() => zeroShotEvaluate([], classes, []), /no images/);
});

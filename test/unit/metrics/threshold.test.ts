import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseThreshold, type ThresholdChoice } from '../../../src/engine/metrics/threshold';
import { splitMetrics, type Prediction } from '../../../src/engine/training/finetune';

const chosen = (r: ThresholdChoice | { reason: string }): ThresholdChoice => {
  assert.ok(!('reason' in r), `no threshold chosen: ${'reason' in r ? r.reason : ''}`);
  return r as ThresholdChoice;
};

test('chooseThreshold f1: the held-out score that maximises F1 (hand-derived)', () => {
  // sorted by score: 0.9(1) 0.8(0) 0.7(1) 0.4(1) 0.3(0) 0.2(0)
  // t=0.9: TP1 FP0 FN2 → F1 2/5 = .4; t=0.8: TP1 FP1 FN2 → 2/6; t=0.7: TP2 FP1 FN1 → 4/6;
  // t=0.4: TP3 FP1 FN0 → 6/7 ≈ .857 (best); t=0.3: 6/8; t=0.2: 6/9
  const scores = [0.3, 0.9, 0.4, 0.2, 0.8, 0.7];
  const labels = [0, 1, 1, 0, 0, 1];
  const r = chosen(chooseThreshold(scores, labels, 'f1'));
  assert.equal(r.threshold, 0.4);
  assert.ok(Math.abs(r.value - 6 / 7) < 1e-12);
});

test("chooseThreshold youden: sensitivity + specificity − 1, ties to the highest threshold", () => {
  // same data; J(t): 0.9 → 1/3+1−1 = 1/3; 0.8 → 1/3+2/3−1 = 0; 0.7 → 2/3+2/3−1 = 1/3;
  // 0.4 → 1+2/3−1 = 2/3 (best); 0.3 → 1/3; 0.2 → 0
  const r = chosen(chooseThreshold([0.3, 0.9, 0.4, 0.2, 0.8, 0.7], [0, 1, 1, 0, 0, 1], 'youden'));
  assert.equal(r.threshold, 0.4);
  assert.ok(Math.abs(r.value - 2 / 3) < 1e-12);
  // a tie: 0.9(1) 0.8(0) 0.7(1) 0.6(0): J(0.9) = 1/2 + 1 − 1 = 1/2 = J(0.7) = 1 + 1/2 − 1; the higher wins
  const tie = chosen(chooseThreshold([0.6, 0.7, 0.8, 0.9], [0, 1, 0, 1], 'youden'));
  assert.deepEqual([tie.threshold, tie.value], [0.9, 0.5]);
  // perfectly separated: the lowest positive score
  const s = chosen(chooseThreshold([0.1, 0.2, 0.35, 0.4], [0, 0, 1, 1], 'youden'));
  assert.deepEqual([s.threshold, s.value], [0.35, 1]);
  const f = chosen(chooseThreshold([0.1, 0.2, 0.35, 0.4], [0, 0, 1, 1], 'f1'));
  assert.deepEqual([f.threshold, f.value], [0.35, 1]);
});

test('chooseThreshold: one class held out gives a reason, not a threshold', () => {
  const r = chooseThreshold([0.2, 0.7], [0, 0], 'f1');
  assert.ok('reason' in r && /all negative/.test(r.reason));
  assert.ok('reason' in chooseThreshold([0.2, 0.7], [1, 1], 'youden'));
  assert.throws(() => chooseThreshold([0.5], [1], 'auc' as never), /criterion/);
});

const preds = (scores: number[], labels: number[]): Prediction[] =>
  scores.map((score, i) => ({ id: `c${i}`, cohort: 'internal', label: labels[i] as 0 | 1, score, dice2d: null, dice3d: null, foreground: null, floor2d: null, floor3d: null, bound2d: null, bound3d: null }) as Prediction);

test('precision, recall and F1 move with the model: a better model gets a higher F1 than a worse one', () => {
  const labels = [0, 0, 0, 1, 1, 0, 1, 0];
  // both models score below 0.5 (as a barely trained head does); the better one ranks every positive first
  const better = [0.1, 0.12, 0.15, 0.4, 0.38, 0.2, 0.36, 0.11];
  const worse = [0.1, 0.39, 0.15, 0.4, 0.12, 0.2, 0.36, 0.11];
  // at the paper's fixed 0.5 neither predicts a positive: F1 0 for both, and the warning's count says so
  for (const s of [better, worse]) {
    const m = splitMetrics(preds(s, labels), 0.5);
    assert.deepEqual([m.f1, m.precision, m.recall, m.predictedPositives, m.threshold], [0, 0, 0, 0, 0.5]);
  }
  // a threshold chosen on held-out scores (here the same cases, for the arithmetic) separates them
  const tb = chosen(chooseThreshold(better, labels, 'f1')).threshold;
  const tw = chosen(chooseThreshold(worse, labels, 'f1')).threshold;
  const fb = splitMetrics(preds(better, labels), tb);
  const fw = splitMetrics(preds(worse, labels), tw);
  assert.equal(fb.f1, 1); // t = 0.36: TP 3, FP 0
  // worse: t=0.4 → TP1 FP0 FN2: 2/4 = .5; t=0.39 → TP1 FP1: 2/5; t=0.36 → TP2 FP1 FN1: 4/6 (best); t=0.2 → 4/7; …
  assert.equal(tw, 0.36);
  assert.ok(Math.abs(fw.f1 - 2 / 3) < 1e-12);
  assert.ok(fb.f1 > fw.f1);
  assert.equal(fb.predictedPositives, 3);
  // and at one fixed threshold below every positive score the two differ as well
  assert.notEqual(splitMetrics(preds(better, labels), 0.3).f1, splitMetrics(preds(worse, labels), 0.3).f1);
});

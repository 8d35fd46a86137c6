// Metrics against scikit-learn / SciPy (test/fixtures/metrics, made by generate.py there).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { classificationMetrics, pairedTTest, rocAuc } from '../../../src/engine/metrics';

interface Fixture {
  classification: { name: string; scores: number[]; labels: number[]; threshold: number; auc: number | null; precision: number; recall: number; f1: number }[];
  ttest: { name: string; a: number[]; b: number[]; t: number; p: number; df: number }[];
}
const fx = JSON.parse(readFileSync(join(__dirname, '../../fixtures/metrics/metrics.json'), 'utf8')) as Fixture;
const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} ≠ ${b}`);

test('rocAuc, precision, recall and F1 match scikit-learn (ties, zero division)', () => {
  assert.ok(fx.classification.length >= 8);
  for (const c of fx.classification) {
    if (c.auc === null) assert.throws(() => rocAuc(c.scores, c.labels), /only one class present/, c.name);
    else close(rocAuc(c.scores, c.labels), c.auc, 1e-12, `${c.name} AUC`);
    const m = classificationMetrics(c.scores, c.labels, c.threshold);
    close(m.precision, c.precision, 1e-12, `${c.name} precision`);
    close(m.recall, c.recall, 1e-12, `${c.name} recall`);
    close(m.f1, c.f1, 1e-12, `${c.name} F1`);
    assert.equal(m.tp + m.fp + m.fn + m.tn, c.labels.length);
  }
});

test('rocAuc by hand: ties count half', () => {
  // positives {0.8, 0.5}, negatives {0.5, 0.2}: pairs (0.8>0.5) (0.8>0.2) (0.5=0.5 → ½) (0.5>0.2) → 3.5 / 4
  assert.equal(rocAuc([0.8, 0.5, 0.5, 0.2], [1, 1, 0, 0]), 0.875);
  assert.equal(rocAuc([0.8, 0.5, 0.5, 0.2], [true, true, false, false]), 0.875);
  assert.throws(() => rocAuc([0.1, 0.2], [1, 1]), /rocAuc: AUC is undefined with only one class present \(2 positives, 0 negatives\)/);
  assert.throws(() => rocAuc([0.1, 0.2], [1]), /2 scores but 1 labels/);
  assert.throws(() => rocAuc([0.1, NaN], [1, 0]), /score 1 is NaN/);
  assert.throws(() => rocAuc([0.1, 0.2], [1, 2]), /label 1 is 2, expected 0 or 1/);
  assert.throws(() => classificationMetrics([], []), /no samples/);
});

test('classificationMetrics: score ≥ threshold is positive; 0/0 is 0', () => {
  const m = classificationMetrics([0.5, 0.49, 0.7, 0.1], [1, 1, 0, 0]);
  assert.deepEqual(m, { precision: 0.5, recall: 0.5, f1: 0.5, tp: 1, fp: 1, fn: 1, tn: 1 });
  assert.deepEqual(classificationMetrics([0.1, 0.2], [0, 0]), { precision: 0, recall: 0, f1: 0, tp: 0, fp: 0, fn: 0, tn: 2 });
});

test('pairedTTest matches scipy.stats.ttest_rel', () => {
  for (const c of fx.ttest) {
    const r = pairedTTest(c.a, c.b);
    close(r.t, c.t, 1e-9 * Math.max(1, Math.abs(c.t)), `${c.name} t`);
    close(r.p, c.p, 1e-9, `${c.name} p`);
    assert.equal(r.df, c.df);
  }
});

test('pairedTTest degenerate cases and errors', () => {
  // identical results: no difference at all
  assert.deepEqual(pairedTTest([0.7, 0.8, 0.9], [0.7, 0.8, 0.9]), { t: 0, p: 1, df: 2 });
  // a constant non-zero difference: infinitely significant (as scipy: t = ±inf, p = 0)
  assert.deepEqual(pairedTTest([2, 3, 4], [1, 2, 3]), { t: Infinity, p: 0, df: 2 });
  assert.deepEqual(pairedTTest([1, 2, 3], [2, 3, 4]), { t: -Infinity, p: 0, df: 2 });
  // by hand: differences 1, 1, 1.5 → mean 7/6, sd 0.2887, se 1/6 → t = 7
  close(pairedTTest([2, 3, 4.5], [1, 2, 3]).t, 7, 1e-12, 't by hand');
  assert.throws(() => pairedTTest([1, 2], [1]), /not paired \(2 vs 1 values\)/);
  assert.throws(() => pairedTTest([1], [1]), /at least 2 pairs/);
  assert.throws(() => pairedTTest([1, NaN], [1, 2]), /pair 1 is not finite/);
});

// L2-penalised logistic regression against SciPy's minimiser of the same
// objective (test/fixtures/metrics/logistic.json, made by logistic.py there),
// and the standardiser against numpy by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fitLogistic, fitStandardizer, logisticScores, standardize } from '../../../src/engine/metrics/logistic';

interface Case { name: string; X: number[][]; y: number[]; C: number; w: number[]; b: number }
const fx = JSON.parse(readFileSync(join(__dirname, '../../fixtures/metrics/logistic.json'), 'utf8')) as { cases: Case[] };

test('fitLogistic finds SciPy\'s minimiser of the penalised objective (separable data at three C, noisy wide data)', () => {
  assert.equal(fx.cases.length, 4);
  for (const c of fx.cases) {
    const m = fitLogistic(c.X, c.y, { C: c.C });
    assert.ok(m.gradMax <= 1e-9 * Math.max(1, c.C * c.y.length), `${c.name}: gradient ${m.gradMax}`);
    const scale = Math.max(1, ...c.w.map(Math.abs));
    c.w.forEach((w, k) => assert.ok(Math.abs(m.w[k]! - w) <= 1e-6 * scale, `${c.name}: w[${k}] ${m.w[k]} ≠ ${w}`));
    assert.ok(Math.abs(m.b - c.b) <= 1e-6 * scale, `${c.name}: b ${m.b} ≠ ${c.b}`);
  }
});

test('the penalty moves the answer: a smaller C shrinks w (so C is really used)', () => {
  const [a, b] = [fx.cases[0]!, fx.cases[2]!];
  const norm = (w: number[]) => Math.hypot(...w);
  assert.ok(norm(fitLogistic(a.X, a.y, { C: 0.1 }).w) < norm(fitLogistic(b.X, b.y, { C: 10 }).w) / 3);
});

test('logisticScores is x·w + b; the standardiser is the population mean and deviation, constant features kept at scale 1', () => {
  assert.deepEqual(logisticScores({ w: [1, -2], b: 0.5 }, [[1, 1], [0, 2]]), [-0.5, -3.5]);
  const s = fitStandardizer([[1, 5], [3, 5]]);
  assert.deepEqual(s, { mean: [2, 5], scale: [1, 1] });
  assert.deepEqual(standardize(fitStandardizer([[0, 2], [4, 2], [8, 2]]), [[4, 3]]), [[0, 1]]);
  assert.ok(Math.abs(fitStandardizer([[0], [4], [8]]).scale[0]! - Math.sqrt(32 / 3)) < 1e-12);
});

test('bad input is refused with what is wrong', () => {
  assert.throws(() => fitLogistic([], [], { C: 1 }), /no cases/);
  assert.throws(() => fitLogistic([[1]], [0, 1], { C: 1 }), /1 rows but 2 labels/);
  assert.throws(() => fitLogistic([[1], [1, 2]], [0, 1], { C: 1 }), /row 1 has 2 features/);
  assert.throws(() => fitLogistic([[NaN], [1]], [0, 1], { C: 1 }), /row 0 holds a non-finite/);
  assert.throws(() => fitLogistic([[0], [1]], [0, 2], { C: 1 }), /label 1 is 2/);
  assert.throws(() => fitLogistic([[0], [1]], [0, 1], { C: 0 }), /C must be a positive/);
  assert.throws(() => logisticScores({ w: [1], b: 0 }, [[1, 2]]), /a row has 2 features, the model 1/);
});

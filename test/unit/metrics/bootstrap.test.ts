// Bootstrap CIs against numpy + scikit-learn (test/fixtures/metrics, made by bootstrap.py there):
// the fixture's resample indices are injected, so the resamples are the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { aucBootstrapCi, diceBootstrapCi, aucDifferenceBootstrapCi, diceDifferenceBootstrapCi, percentile, DEFAULT_BOOTSTRAP_RESAMPLES } from '../../../src/engine/metrics';
import { Rng } from '../../../src/engine/util/rng';

interface Expected { name: string; pooled: boolean; level: number; indices: number[][][]; estimate: number; lower: number; upper: number; resamples: number; skipped: number }
interface Fixture {
  percentileMethod: string;
  auc: (Expected & { folds: { scores: number[]; labels: number[] }[] })[];
  dice: (Expected & { folds: number[][] })[];
  percentile: { values: number[]; q: number; expected: number }[];
  shared: { auc: (Expected & { shared: boolean; folds: { scores: number[]; labels: number[] }[] })[]; dice: (Expected & { shared: boolean; folds: number[][] })[] };
  difference: {
    auc: (Expected & { shared: boolean; folds: { labels: number[]; a: number[]; b: number[] }[] })[];
    dice: (Expected & { shared: boolean; folds: { a: number[]; b: number[] }[] })[];
  };
}
const fx = JSON.parse(readFileSync(join(__dirname, '../../fixtures/metrics/bootstrap.json'), 'utf8')) as Fixture;
const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-12, `${what}: ${a} ≠ ${b}`);

test('percentile matches numpy.percentile (method linear)', () => {
  assert.equal(fx.percentileMethod, 'linear');
  for (const p of fx.percentile) close(percentile([...p.values].sort((a, b) => a - b), p.q), p.expected, `q=${p.q}`);
  assert.throws(() => percentile([], 50), /no values/);
  assert.throws(() => percentile([1], 101), /\[0, 100\]/);
});

test('aucBootstrapCi reproduces the numpy + scikit-learn CI from the same resamples (mean over folds, pooled, skipped one-class resamples)', () => {
  assert.ok(fx.auc.some((c) => c.skipped > 0) && fx.auc.some((c) => c.pooled));
  for (const c of fx.auc) {
    const ci = aucBootstrapCi(c.folds, { indices: c.indices, pooled: c.pooled, level: c.level });
    close(ci.estimate, c.estimate, `${c.name} estimate`);
    close(ci.lower, c.lower, `${c.name} lower`);
    close(ci.upper, c.upper, `${c.name} upper`);
    assert.equal(ci.resamples, c.resamples, `${c.name} resamples`);
    assert.equal(ci.skipped, c.skipped, `${c.name} skipped`);
    assert.equal(ci.level, c.level);
    assert.equal(ci.method, 'percentile');
  }
});

test('diceBootstrapCi reproduces the numpy CI from the same resamples', () => {
  for (const c of fx.dice) {
    const ci = diceBootstrapCi(c.folds, { indices: c.indices, pooled: c.pooled, level: c.level });
    close(ci.estimate, c.estimate, `${c.name} estimate`);
    close(ci.lower, c.lower, `${c.name} lower`);
    close(ci.upper, c.upper, `${c.name} upper`);
    assert.equal(ci.resamples, c.resamples);
    assert.equal(ci.skipped, 0);
  }
});

test('shared cases: one draw of indices for every fold, against numpy + scikit-learn; wider than independent draws per fold', () => {
  const [within, shared] = fx.shared.auc;
  assert.ok(within && shared && !within.shared && shared.shared);
  for (const c of [...fx.shared.auc, ...fx.shared.dice]) {
    const ci = 'scores' in (c.folds[0] as object)
      ? aucBootstrapCi(c.folds as { scores: number[]; labels: number[] }[], { indices: c.indices, shared: c.shared, level: c.level })
      : diceBootstrapCi(c.folds as number[][], { indices: c.indices, shared: c.shared, level: c.level });
    close(ci.estimate, c.estimate, `${c.name} estimate`);
    close(ci.lower, c.lower, `${c.name} lower`);
    close(ci.upper, c.upper, `${c.name} upper`);
    assert.equal(ci.resamples, c.resamples, `${c.name} resamples`);
    assert.equal(ci.skipped, c.skipped, `${c.name} skipped`);
  }
  // five folds scoring one cohort: independent draws per fold average the cohort's sampling error away
  assert.ok(shared.upper - shared.lower > 1.5 * (within.upper - within.lower), `shared ${shared.lower}–${shared.upper} vs within folds ${within.lower}–${within.upper}`);
  // the seeded generator does the same: one draw for all folds
  const seeded = aucBootstrapCi(within.folds, { seed: 3, resamples: 1000, shared: true });
  const independent = aucBootstrapCi(within.folds, { seed: 3, resamples: 1000 });
  assert.ok(seeded.upper - seeded.lower > 1.5 * (independent.upper - independent.lower), `seeded shared ${seeded.lower}–${seeded.upper} vs ${independent.lower}–${independent.upper}`);
  // identical folds: a shared resample is one resample of the one fold
  const one = { scores: within.folds[0]!.scores, labels: within.folds[0]!.labels };
  const a = aucBootstrapCi([one, one, one], { seed: 9, resamples: 300, shared: true });
  const b = aucBootstrapCi([one], { seed: 9, resamples: 300 });
  for (const k of ['lower', 'upper', 'estimate'] as const) close(a[k], b[k], k);
  assert.throws(() => aucBootstrapCi([one, { scores: [0.1, 0.9], labels: [0, 1] }], { shared: true }), /shared cases need every fold to hold the same cases, but fold 1 has 2 and fold 0 has 14/);
  assert.throws(() => diceBootstrapCi([[0.1, 0.2], [0.3, 0.4]], { shared: true, indices: [[[0, 1], [1, 1]]] }), /resample 0 draws other cases in fold 1 than in fold 0, but the cases are shared/);
});

test('paired differences of AUC and Dice reproduce numpy + scikit-learn from the same resamples (disjoint folds, pooled, shared cohort)', () => {
  const cases = [
    ...fx.difference.auc.map((c) => ({ c, ci: aucDifferenceBootstrapCi(c.folds, { indices: c.indices, pooled: c.pooled, shared: c.shared, level: c.level }) })),
    ...fx.difference.dice.map((c) => ({ c, ci: diceDifferenceBootstrapCi(c.folds, { indices: c.indices, pooled: c.pooled, shared: c.shared, level: c.level }) })),
  ];
  for (const { c, ci } of cases) {
    close(ci.estimate, c.estimate, `${c.name} estimate`);
    close(ci.lower, c.lower, `${c.name} lower`);
    close(ci.upper, c.upper, `${c.name} upper`);
    assert.equal(ci.resamples, c.resamples, `${c.name} resamples`);
    assert.equal(ci.skipped, c.skipped, `${c.name} skipped`);
  }
  assert.ok(fx.difference.auc.some((c) => c.skipped > 0) && fx.difference.auc.some((c) => c.shared));
});

test('a paired difference moves with the arms: a better first arm lifts it, swapping the arms negates it, the same arm twice gives 0', () => {
  const rng = new Rng(5);
  const folds = Array.from({ length: 5 }, () => {
    const labels = Array.from({ length: 20 }, (_, i) => (i % 3 === 0 ? 1 : 0));
    return { labels, good: labels.map((y) => rng.normal(2 * y, 1)), weak: labels.map((y) => rng.normal(0.3 * y, 1)) };
  });
  const better = aucDifferenceBootstrapCi(folds.map((f) => ({ labels: f.labels, a: f.good, b: f.weak })), { seed: 1, resamples: 500 });
  const worse = aucDifferenceBootstrapCi(folds.map((f) => ({ labels: f.labels, a: f.weak, b: f.good })), { seed: 1, resamples: 500 });
  assert.ok(better.lower > 0, `better ${better.lower}–${better.upper}`);
  assert.ok(worse.upper < 0, `worse ${worse.lower}–${worse.upper}`);
  close(better.estimate, -worse.estimate, 'swapped estimate');
  const same = aucDifferenceBootstrapCi(folds.map((f) => ({ labels: f.labels, a: f.good, b: f.good })), { seed: 1, resamples: 200 });
  assert.deepEqual([same.estimate, same.lower, same.upper], [0, 0, 0]);
  const d = diceDifferenceBootstrapCi([{ a: [0.5, 0.4, 0.6], b: [0.1, 0.2, 0.0] }], { seed: 2, resamples: 300 });
  close(d.estimate, 0.4, 'Dice difference');
  assert.ok(d.lower > 0.2 && d.upper < 0.6);
  assert.throws(() => aucDifferenceBootstrapCi([{ labels: [0, 1], a: [0.1, 0.9], b: [0.2] }]), /fold 0 has 2 labels but 2 and 1 scores/);
  assert.throws(() => aucDifferenceBootstrapCi([{ labels: [1, 1], a: [0.1, 0.9], b: [0.2, 0.3] }]), /fold 0 holds one class only/);
  assert.throws(() => diceDifferenceBootstrapCi([{ a: [0.1, 0.2], b: [0.3] }]), /fold 0 has 2 Dice values for the first arm and 1 for the second/);
  assert.throws(() => diceDifferenceBootstrapCi([{ a: [0.1], b: [NaN] }]), /fold 0, case 0: the second arm's Dice is NaN/);
});

/** folds of scores with a signal: positives ~ N(1, 1), negatives ~ N(0, 1) */
function synthetic(folds: number, perFold: number, seed: number) {
  const rng = new Rng(seed);
  return Array.from({ length: folds }, () => {
    const labels = Array.from({ length: perFold }, (_, i) => (i % 3 === 0 ? 1 : 0));
    return { labels, scores: labels.map((y) => rng.normal(y, 1)) };
  });
}

test('seeded bootstrap: deterministic, B resamples by default, one-class resamples redrawn and counted', () => {
  const folds = synthetic(5, 12, 1);
  const a = aucBootstrapCi(folds, { seed: 7 });
  const b = aucBootstrapCi(folds, { seed: 7 });
  assert.deepEqual(a, b);
  assert.equal(a.resamples, DEFAULT_BOOTSTRAP_RESAMPLES);
  assert.ok(a.lower < a.estimate && a.estimate < a.upper, `${a.lower} < ${a.estimate} < ${a.upper}`);
  assert.notDeepEqual(aucBootstrapCi(folds, { seed: 8 }), a);
  // folds of 4 with 1 positive draw one class often: redrawn until B usable resamples
  const tiny = aucBootstrapCi([{ scores: [0.1, 0.4, 0.35, 0.8], labels: [0, 0, 1, 1] }, { scores: [0.2, 0.9, 0.3, 0.5], labels: [0, 1, 0, 0] }], { seed: 1, resamples: 300 });
  assert.equal(tiny.resamples, 300);
  assert.ok(tiny.skipped > 0);
  const dice = diceBootstrapCi([[0.1, 0.3, 0.2], [0.5, 0.4]], { seed: 3, resamples: 500 });
  assert.deepEqual(dice, diceBootstrapCi([[0.1, 0.3, 0.2], [0.5, 0.4]], { seed: 3, resamples: 500 }));
  assert.equal(dice.estimate, (0.2 + 0.45) / 2);
  assert.ok(dice.lower >= 0.1 && dice.upper <= 0.5);
});

test('a CI narrows with more cases', () => {
  const width = (ci: { lower: number; upper: number }) => ci.upper - ci.lower;
  const few = aucBootstrapCi(synthetic(5, 12, 2), { seed: 1, resamples: 500 });
  const many = aucBootstrapCi(synthetic(5, 240, 2), { seed: 1, resamples: 500 });
  assert.ok(width(many) < width(few) / 2, `AUC CI width ${width(many)} vs ${width(few)}`);
  const rng = new Rng(4);
  const dice = (n: number) => Array.from({ length: 5 }, () => Array.from({ length: n }, () => rng.next()));
  const dFew = diceBootstrapCi(dice(10), { seed: 1, resamples: 500 });
  const dMany = diceBootstrapCi(dice(250), { seed: 1, resamples: 500 });
  assert.ok(width(dMany) < width(dFew) / 2, `Dice CI width ${width(dMany)} vs ${width(dFew)}`);
});

test('bootstrap input errors name the problem', () => {
  const ok = { scores: [0.1, 0.9], labels: [0, 1] };
  assert.throws(() => aucBootstrapCi([ok, { scores: [0.1, 0.2], labels: [1, 1] }]), /fold 1 holds one class only \(2 positives of 2\)/);
  assert.throws(() => aucBootstrapCi([ok], { indices: [[[0, 2]]] }), /resample 0, fold 0: index 2 outside 0\.\.1/);
  assert.throws(() => aucBootstrapCi([ok], { indices: [[[0]]] }), /draws 1 cases from fold 0, which has 2/);
  assert.throws(() => aucBootstrapCi([ok], { indices: [[[0, 0]]] }), /all 1 injected resamples have an undefined statistic/);
  assert.throws(() => aucBootstrapCi([{ scores: [0.1], labels: [2] }]), /fold 0.*label 0 is 2/);
  assert.throws(() => diceBootstrapCi([[0.5, NaN]]), /fold 0, case 1: Dice is NaN/);
  assert.throws(() => diceBootstrapCi([[]]), /fold 0 has no cases/);
  assert.throws(() => diceBootstrapCi([[0.5]], { resamples: 0 }), /positive integer/);
  assert.throws(() => diceBootstrapCi([[0.5]], { level: 1 }), /level must lie in \(0, 1\)/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../../src/engine/backend';
import { combineLosses, LossWeights } from '../../../src/engine/losses';
import { cpu, noLeaks } from './helpers';

const G = 0.8;
const L = 2.5;

function run(opts: Parameters<typeof combineLosses>[1], losses = { global: G, local: L }) {
  const g = tf.scalar(losses.global);
  const l = tf.scalar(losses.local);
  const r = combineLosses({ global: g, local: l }, opts);
  const total = r.total.dataSync()[0];
  tf.dispose([g, l, r.total]);
  return { total, alpha: r.alpha, beta: r.beta };
}

test('learned weighting: α = exp(−s_G), β = exp(−s_L), total = αL_G + βL_L + s_G + s_L', async () => {
  await cpu();
  const w = new LossWeights();
  assert.deepEqual(w.getState(), { sG: 0, sL: 0 });
  let r = run({ weighting: 'learned', components: 'both', sG: w.sG, sL: w.sL });
  assert.ok(Math.abs(r.total - (G + L)) < 1e-6);
  assert.equal(r.alpha, 1);
  assert.equal(r.beta, 1);
  w.setState({ sG: Math.log(2), sL: -Math.log(4) });
  r = run({ weighting: 'learned', components: 'both', sG: w.sG, sL: w.sL });
  // α = 0.5, β = 4: 0.4 + 10 + ln 2 − ln 4
  assert.ok(Math.abs(r.total - (0.5 * G + 4 * L + Math.log(2) - Math.log(4))) < 1e-5, `total ${r.total}`);
  assert.ok(Math.abs(r.alpha - 0.5) < 1e-6 && Math.abs(r.beta - 4) < 1e-5);
  // ablations keep only their own term
  r = run({ weighting: 'learned', components: 'global', sG: w.sG });
  assert.ok(Math.abs(r.total - (0.5 * G + Math.log(2))) < 1e-6);
  assert.equal(r.beta, 0);
  r = run({ weighting: 'learned', components: 'local', sL: w.sL });
  assert.ok(Math.abs(r.total - (4 * L - Math.log(4))) < 1e-5);
  assert.equal(r.alpha, 0);
  w.dispose();
});

test('learned weights get gradient 1 − αL (they cannot collapse to 0)', async () => {
  await cpu();
  const w = new LossWeights({ sG: 0.3, sL: -0.2 });
  const g = tf.scalar(G);
  const l = tf.scalar(L);
  noLeaks('combine + gradient', () => {
    const { value, grads } = tf.variableGrads(() => combineLosses({ global: g, local: l }, { weighting: 'learned', components: 'both', sG: w.sG, sL: w.sL }).total, w.variables());
    assert.ok(Math.abs(grads[w.sG.name].dataSync()[0] - (1 - Math.exp(-0.3) * G)) < 1e-6);
    assert.ok(Math.abs(grads[w.sL.name].dataSync()[0] - (1 - Math.exp(0.2) * L)) < 1e-6);
    tf.dispose([value, ...Object.values(grads)]);
  });
  tf.dispose([g, l]);
  w.dispose();
});

test('fixed and localOnly weightings', async () => {
  await cpu();
  let r = run({ weighting: 'fixed', components: 'both', alpha: 0.25, beta: 2 });
  assert.ok(Math.abs(r.total - (0.25 * G + 2 * L)) < 1e-6);
  assert.deepEqual([r.alpha, r.beta], [0.25, 2]);
  r = run({ weighting: 'fixed', components: 'both' });
  assert.ok(Math.abs(r.total - (G + L)) < 1e-6);
  r = run({ weighting: 'fixed', components: 'global', alpha: 3 });
  assert.ok(Math.abs(r.total - 3 * G) < 1e-6);
  r = run({ weighting: 'localOnly', components: 'both', alpha: 9 });
  assert.ok(Math.abs(r.total - L) < 1e-6);
  assert.deepEqual([r.alpha, r.beta], [0, 1]);
  // localOnly does not need the global loss at all
  const l = tf.scalar(L);
  const only = combineLosses({ local: l }, { weighting: 'localOnly', components: 'local' });
  assert.ok(Math.abs(only.total.dataSync()[0] - L) < 1e-6);
  tf.dispose([l, only.total]);
});

test('combineLosses rejects inconsistent options clearly', async () => {
  await cpu();
  const g = tf.scalar(G);
  assert.throws(() => combineLosses({ global: g }, { weighting: 'fixed', components: 'both' }), /the local loss is required for components 'both'/);
  assert.throws(() => combineLosses({ global: g }, { weighting: 'learned', components: 'global' }), /sG is required for weighting 'learned'/);
  assert.throws(() => combineLosses({ global: g }, { weighting: 'localOnly', components: 'global' }), /contradicts/);
  assert.throws(() => combineLosses({ global: g }, { weighting: 'fixed', components: 'global', alpha: -1 }), /alpha must be/);
  const v = tf.tensor1d([1, 2]) as unknown as tf.Scalar;
  assert.throws(() => combineLosses({ global: v }, { weighting: 'fixed', components: 'global' }), /must be a scalar/);
  assert.throws(() => combineLosses({ global: g }, { weighting: 'other' as 'fixed', components: 'global' }), /unknown weighting/);
  tf.dispose([g, v]);
  assert.throws(() => new LossWeights({ sG: NaN }), /finite/);
});

// AdamW against torch.optim.AdamW trajectories (test/fixtures/adamw, made by
// generate.py there with torch 1.13).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../../../src/engine/backend';
import { AdamW, type AdamWOptions, type AdamWState } from '../../../src/engine/training/adamw';

type Nested = number | Nested[];
interface Case {
  name: string;
  options: { lr: number; betas?: [number, number]; eps?: number; weight_decay?: number; lrScales?: number[] };
  shapes: number[][];
  initial: Nested[];
  grads: (Nested | null)[][];
  after: Nested[][];
  state: { step: number; m: number[]; v: number[] }[];
}
const fixture = JSON.parse(readFileSync(join(__dirname, '../../fixtures/adamw/adamw.json'), 'utf8')) as { cases: Case[] };
const flat = (x: Nested): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x]);

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function optionsOf(c: Case, vars: tf.Variable[]): AdamWOptions {
  const o: AdamWOptions = { lr: c.options.lr };
  // torch param groups, one per parameter, at lr·scale
  if (c.options.lrScales) o.lrScales = new Map(c.options.lrScales.map((k, i) => [vars[i]!, k]));
  if (c.options.betas) o.betas = c.options.betas;
  if (c.options.eps !== undefined) o.eps = c.options.eps;
  if (c.options.weight_decay !== undefined) o.weightDecay = c.options.weight_decay;
  return o;
}

function gradMap(c: Case, vars: tf.Variable[], t: number): Map<tf.Variable, tf.Tensor> {
  const m = new Map<tf.Variable, tf.Tensor>();
  c.grads[t].forEach((g, i) => {
    if (g !== null) m.set(vars[i], tf.tensor(flat(g), c.shapes[i]));
  });
  return m;
}

test('fixture has cases with missing gradients, non-default options and param groups at scaled rates', () => {
  assert.equal(fixture.cases.length, 4);
  assert.deepEqual(fixture.cases[3].options.lrScales, [1, 0.1, 0]);
  assert.ok(fixture.cases[0].grads.some((step) => step.includes(null)));
});

for (const c of fixture.cases) {
  test(`${c.name}: parameters follow torch.optim.AdamW within 1e-6`, async () => {
    await tf.setBackend('cpu');
    const vars = c.initial.map((p, i) => tf.variable(tf.tensor(flat(p), c.shapes[i])));
    const opt = new AdamW(vars, optionsOf(c, vars));
    const before = tf.memory().numTensors;
    c.after.forEach((expected, t) => {
      const grads = gradMap(c, vars, t);
      opt.step(grads);
      tf.dispose([...grads.values()]);
      vars.forEach((v, i) => {
        const d = maxDiff(v.dataSync(), flat(expected[i]));
        assert.ok(d <= 1e-6, `step ${t + 1}, parameter ${i}: max abs diff ${d}`);
      });
      // moments are allocated once, at a variable's first gradient
      if (t === 0) assert.equal(tf.memory().numTensors, before + 2 * grads.size, 'moments');
    });
    const state = opt.getState();
    assert.equal(state.iterations, c.after.length);
    state.variables.forEach((s, i) => {
      assert.equal(s.step, c.state[i].step, `step count of parameter ${i}`);
      assert.ok(maxDiff(s.m, c.state[i].m) <= 1e-6, `exp_avg of parameter ${i}`);
      assert.ok(maxDiff(s.v, c.state[i].v) <= 1e-6, `exp_avg_sq of parameter ${i}`);
    });
    opt.dispose();
    tf.dispose(vars);
  });
}

test('state round trip (through JSON) resumes identically', async () => {
  await tf.setBackend('cpu');
  const c = fixture.cases[0];
  const make = () => c.initial.map((p, i) => tf.variable(tf.tensor(flat(p), c.shapes[i])));
  // uninterrupted run
  const a = make();
  const optA = new AdamW(a, optionsOf(c, a));
  // interrupted after 3 steps, parameters and state saved, resumed in fresh objects
  const b = make();
  const optB = new AdamW(b, optionsOf(c, b));
  for (let t = 0; t < 3; t++) {
    for (const [vars, opt] of [[a, optA], [b, optB]] as const) {
      const g = gradMap(c, vars, t);
      opt.step(g);
      tf.dispose([...g.values()]);
    }
  }
  const saved = JSON.parse(JSON.stringify({ params: b.map((v) => Array.from(v.dataSync())), opt: optB.getState() })) as { params: number[][]; opt: AdamWState };
  optB.dispose();
  tf.dispose(b);
  const resumed = saved.params.map((p, i) => tf.variable(tf.tensor(p, c.shapes[i])));
  const optR = new AdamW(resumed, { lr: 1 });
  optR.setState(saved.opt);
  assert.equal(optR.learningRate, c.options.lr);
  for (let t = 3; t < c.grads.length; t++) {
    for (const [vars, opt] of [[a, optA], [resumed, optR]] as const) {
      const g = gradMap(c, vars, t);
      opt.step(g);
      tf.dispose([...g.values()]);
    }
  }
  a.forEach((v, i) => assert.deepEqual(Array.from(resumed[i].dataSync()), Array.from(v.dataSync()), `parameter ${i} after resume`));
  assert.deepEqual(optR.getState().variables.map((s) => s.step), optA.getState().variables.map((s) => s.step));
  optA.dispose();
  optR.dispose();
  tf.dispose([...a, ...resumed]);
});

test('gradients by variable name (tf.variableGrads), learning-rate changes, no leaks', async () => {
  await tf.setBackend('cpu');
  const w = tf.variable(tf.tensor1d([1, -2, 3]));
  const opt = new AdamW([w], { lr: 0.1, weightDecay: 0 });
  const loss = () => tf.sum(tf.square(w)) as tf.Scalar;
  const g0 = tf.variableGrads(loss, [w]);
  opt.step(g0.grads); // first Adam step moves each element by lr·sign(g) (bias-corrected m/√v = ±1)
  tf.dispose([g0.value, ...Object.values(g0.grads)]);
  const moved = Array.from(w.dataSync());
  [0.9, -1.9, 2.9].forEach((x, i) => assert.ok(Math.abs(moved[i] - x) < 1e-6, `element ${i}: ${moved[i]}`));
  opt.setLearningRate(0);
  const before = tf.memory().numTensors;
  const g1 = tf.variableGrads(loss, [w]);
  opt.step(g1.grads);
  tf.dispose([g1.value, ...Object.values(g1.grads)]);
  assert.equal(tf.memory().numTensors, before, 'step leaked tensors');
  assert.deepEqual(Array.from(w.dataSync()), moved, 'lr 0 leaves the parameters');
  opt.dispose();
  w.dispose();
});

test('AdamW rejects bad input clearly', async () => {
  await tf.setBackend('cpu');
  const w = tf.variable(tf.zeros([2, 2]));
  const other = tf.variable(tf.zeros([2]));
  assert.throws(() => new AdamW([w], { lr: -1 }), /lr must be/);
  assert.throws(() => new AdamW([w], { lr: 0.1, betas: [0.9, 1] }), /betas/);
  assert.throws(() => new AdamW([w, w], { lr: 0.1 }), /listed twice/);
  assert.throws(() => new AdamW([w], { lr: 0.1, lrScales: new Map([[other, 0.5]]) }), /lrScales names variable ".*", which is not one of the parameters/);
  assert.throws(() => new AdamW([w], { lr: 0.1, lrScales: new Map([[w, -0.5]]) }), /lr scale of ".*" must be a finite number ≥ 0, got -0.5/);
  assert.throws(() => new AdamW([w], { lr: 0.1, lrScales: new Map([[w, NaN]]) }), /lr scale/);
  const opt = new AdamW([w], { lr: 0.1 });
  const g = tf.zeros([3]);
  assert.throws(() => opt.step(new Map([[w, g]])), /gradient of ".*" has shape \[3\], the variable \[2, 2\]/);
  assert.throws(() => opt.step(new Map([[other, g]])), /does not update/);
  assert.throws(() => opt.setLearningRate(NaN), /lr must be/);
  const state = opt.getState();
  assert.throws(() => opt.setState({ ...state, format: 'x' } as unknown as AdamWState), /not an AdamW state/);
  assert.throws(() => opt.setState({ ...state, variables: [] }), /0 variables, the optimizer 1/);
  assert.throws(() => opt.setState({ ...state, variables: [{ ...state.variables[0], shape: [4] }] }), /saved with shape \[4\]/);
  assert.throws(() => opt.setState({ ...state, variables: [{ ...state.variables[0], step: 1, m: [1], v: [1] }] }), /moments have 1\/1 values, expected 4/);
  opt.dispose();
  assert.throws(() => opt.step(new Map()), /disposed/);
  tf.dispose([w, other, g]);
});

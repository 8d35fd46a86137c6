import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stepLR } from '../../../src/engine/training/schedule';

const { stepLR: torchTables } = JSON.parse(readFileSync(join(__dirname, '../../fixtures/adamw/adamw.json'), 'utf8')) as {
  stepLR: { lr: number; stepSize: number; gamma: number; lrs: number[] }[];
};

test('without warm-up stepLR equals torch StepLR epoch by epoch', () => {
  assert.equal(torchTables.length, 2);
  for (const t of torchTables) {
    t.lrs.forEach((expected, epoch) => {
      const got = stepLR(epoch, { lr: t.lr, stepSize: t.stepSize, gamma: t.gamma });
      assert.ok(Math.abs(got - expected) <= 1e-12 * t.lr, `StepLR(${t.stepSize}, ${t.gamma}) epoch ${epoch}: ${got} ≠ ${expected}`);
    });
  }
});

test('warm-up: constant, then ×γ every stepSize epochs counted from its end', () => {
  // fine-tuning: lr 1e-4, 10 warm-up epochs, ×0.5 every 10
  const o = { lr: 1e-4, stepSize: 10, gamma: 0.5, warmupEpochs: 10 };
  const table: [number, number][] = [
    [0, 1e-4], [9, 1e-4], [10, 1e-4], [19, 1e-4], [20, 5e-5], [29, 5e-5], [30, 2.5e-5],
  ];
  for (const [epoch, lr] of table) assert.ok(Math.abs(stepLR(epoch, o) - lr) < 1e-18, `epoch ${epoch}: ${stepLR(epoch, o)}`);
  // warm-up 3, step 2, γ 0.1: 1 1 1 | 1 1 | .1 .1 | .01
  const short = [1, 1, 1, 1, 1, 0.1, 0.1, 0.01].map((x) => x * 0.2);
  short.forEach((lr, e) => assert.ok(Math.abs(stepLR(e, { lr: 0.2, stepSize: 2, gamma: 0.1, warmupEpochs: 3 }) - lr) < 1e-15, `epoch ${e}`));
});

test('stepLR rejects bad options', () => {
  const o = { lr: 1e-4, stepSize: 10, gamma: 0.5 };
  assert.throws(() => stepLR(-1, o), /epoch must be an integer ≥ 0/);
  assert.throws(() => stepLR(1.5, o), /epoch/);
  assert.throws(() => stepLR(0, { ...o, stepSize: 0 }), /stepSize/);
  assert.throws(() => stepLR(0, { ...o, gamma: 0 }), /gamma/);
  assert.throws(() => stepLR(0, { ...o, gamma: 1.5 }), /gamma/);
  assert.throws(() => stepLR(0, { ...o, warmupEpochs: -2 }), /warmupEpochs/);
  assert.throws(() => stepLR(0, { ...o, lr: NaN }), /lr/);
});

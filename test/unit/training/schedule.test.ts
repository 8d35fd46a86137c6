import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stepLR } from '../../../src/engine/training/schedule';
import { resolveConfig } from '../../../src/engine/config/resolve';

interface TorchSchedule {
  lr: number;
  stepSize: number;
  gamma: number;
  warmupEpochs?: number;
  epochs: number;
  lrs: number[];
}
// made by test/fixtures/finetune/make_fixtures.py (torch StepLR / SequentialLR)
const { schedules } = JSON.parse(readFileSync(join(__dirname, '../../fixtures/finetune/finetune.json'), 'utf8')) as {
  schedules: Record<'finetuneDefault' | 'pretrainDefault' | 'warmupEnd', TorchSchedule>;
};

function assertSequence(got: number[], t: TorchSchedule, what: string): void {
  assert.equal(got.length, t.lrs.length, `${what}: epochs`);
  t.lrs.forEach((expected, e) => assert.ok(Math.abs(got[e]! - expected) <= 1e-12 * t.lr, `${what} epoch ${e}: ${got[e]} ≠ torch ${expected}`));
}

test("the default fine-tuning config's per-epoch lr is torch StepLR(10, 0.5): 1e-4 for epochs 0–9, 5e-5 for 10–19", () => {
  const { finetune } = resolveConfig({});
  const t = schedules.finetuneDefault;
  assert.deepEqual([finetune.lr, finetune.stepSize, finetune.gamma, finetune.epochs], [t.lr, t.stepSize, t.gamma, t.epochs]);
  assert.equal(finetune.warmupEpochs, 10, "the paper's 10-epoch warm-up is kept in the config");
  const got = Array.from({ length: finetune.epochs }, (_, e) => stepLR(e, { ...finetune }));
  assertSequence(got, t, 'finetune');
  assert.ok(got[19]! < got[0]!, 'the learning rate decays within the run');
});

test("the default pretraining config's per-epoch lr is torch StepLR(20, 0.8) over 400 epochs", () => {
  const { pretrain } = resolveConfig({});
  const t = schedules.pretrainDefault;
  assert.deepEqual([pretrain.lr, pretrain.stepSize, pretrain.gamma, pretrain.epochs], [t.lr, t.stepSize, t.gamma, t.epochs]);
  assertSequence(Array.from({ length: pretrain.epochs }, (_, e) => stepLR(e, { ...pretrain })), t, 'pretrain');
});

test("stepsFrom 'warmupEnd' is torch SequentialLR(ConstantLR(1, 10), StepLR(10, 0.5), milestones=[10])", () => {
  const { finetune } = resolveConfig({ finetune: { stepsFrom: 'warmupEnd', epochs: 30 } });
  const t = schedules.warmupEnd;
  assertSequence(Array.from({ length: finetune.epochs }, (_, e) => stepLR(e, { ...finetune })), t, 'warmupEnd');
  // and differs from the default reading in epochs 10–19
  assert.notEqual(stepLR(10, { ...finetune }), stepLR(10, { ...finetune, stepsFrom: 'start' }));
});

test("stepsFrom 'start' with a warm-up longer than one step: base rate, then the StepLR value of that epoch", () => {
  // W = 3, s = 2, γ = 0.1: epochs 0–2 at the base rate, then γ^floor(e/2): e3 → γ, e4,5 → γ², e6 → γ³
  const want = [1, 1, 1, 0.1, 0.01, 0.01, 0.001].map((x) => x * 0.2);
  want.forEach((lr, e) => assert.ok(Math.abs(stepLR(e, { lr: 0.2, stepSize: 2, gamma: 0.1, warmupEpochs: 3, stepsFrom: 'start' }) - lr) < 1e-15, `epoch ${e}`));
});

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

test("stepsFrom 'warmupEnd': constant, then ×γ every stepSize epochs counted from the warm-up's end", () => {
  // lr 1e-4, 10 warm-up epochs, ×0.5 every 10
  const o = { lr: 1e-4, stepSize: 10, gamma: 0.5, warmupEpochs: 10, stepsFrom: 'warmupEnd' as const };
  const table: [number, number][] = [
    [0, 1e-4], [9, 1e-4], [10, 1e-4], [19, 1e-4], [20, 5e-5], [29, 5e-5], [30, 2.5e-5],
  ];
  for (const [epoch, lr] of table) assert.ok(Math.abs(stepLR(epoch, o) - lr) < 1e-18, `epoch ${epoch}: ${stepLR(epoch, o)}`);
  // warm-up 3, step 2, γ 0.1: 1 1 1 | 1 1 | .1 .1 | .01
  const short = [1, 1, 1, 1, 1, 0.1, 0.1, 0.01].map((x) => x * 0.2);
  short.forEach((lr, e) => assert.ok(Math.abs(stepLR(e, { lr: 0.2, stepSize: 2, gamma: 0.1, warmupEpochs: 3, stepsFrom: 'warmupEnd' }) - lr) < 1e-15, `epoch ${e}`));
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
  assert.throws(() => stepLR(0, { ...o, stepsFrom: 'end' as never }), /stepsFrom/);
});

// finetune.headInit 'probe' (linear probing, then fine-tuning): the head
// starts as the logistic regression `mrcl probe` fits on the unit's starting
// encoder. Checked three ways: the head's linear function is written exactly
// (any hidden size, fc2 kept, fc1 changed by a rank-one update only); on a
// real tiny run whose fine-tuning barely moves the weights (lr 1e-12) every
// unit's scores are the probe's scores of the same unit, and not those of a
// random head; the config refuses it with a head that has a ReLU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../../../src/engine/backend';
import { loadConfig, resolveConfig } from '../../../src/engine/config/resolve';
import { ClassifierHead, writeLinearIntoHead } from '../../../src/engine/model/classifier';
import { runStudy } from '../../../src/engine/experiment/study';
import { linearProbe } from '../../../src/engine/experiment/probe';
import { RunFolder, readJson } from '../../../src/engine/training/run-folder';
import { readPredictions } from '../../../src/engine/training/finetune';
import { fitLinearProbe, fitLogistic, fitStandardizer, PROBE_DROPOUT_COPIES, standardize } from '../../../src/engine/metrics/logistic';
import { Rng } from '../../../src/engine/util/rng';
import { tinyWorkspace } from '../experiment/helpers';
import { runCli } from '../cli/run-cli';

const quiet = () => {};

test('writeLinearIntoHead: the head computes v·x + c exactly, in eval mode, for a hidden layer narrower or wider than its input; fc2 kept, fc1 changed along fc2 only', () => {
  const rng = new Rng(5);
  for (const [inDim, hidden] of [
    [12, 5],
    [6, 20],
  ] as const) {
    const head = new ClassifierHead('paper', inDim, hidden, 0.25, 17);
    const W1 = Array.from(head.fc1.weight.dataSync());
    const W2 = Array.from(head.fc2.weight.dataSync());
    const v = Array.from({ length: inDim }, () => rng.uniform(-2, 2));
    const c = -0.7;
    const residual = writeLinearIntoHead(head, v, c);
    assert.ok(residual < 1e-5, `residual ${residual}`);
    assert.deepEqual(Array.from(head.fc2.weight.dataSync()), W2, 'fc2 keeps its weights');
    // W1' − W1 = W2ᵀ r / ‖W2‖²: every row's change is the same vector scaled by that row's fc2 weight
    const W1b = Array.from(head.fc1.weight.dataSync());
    const norm = W2.reduce((s, w) => s + w * w, 0);
    const r = v.map((vj, j) => vj - W2.reduce((s, w, h) => s + w * W1[h * inDim + j]!, 0));
    W1b.forEach((w, k) => {
      const h = Math.floor(k / inDim);
      const j = k % inDim;
      assert.ok(Math.abs(w - (W1[k]! + (W2[h]! * r[j]!) / norm)) < 1e-5, `fc1[${h}, ${j}]`);
    });
    const X = Array.from({ length: 7 }, () => Array.from({ length: inDim }, () => rng.uniform(-3, 3)));
    const got = tf.tidy(() => Array.from(head.apply(tf.tensor2d(X), false).dataSync()));
    const want = X.map((row) => row.reduce((s, x, j) => s + x * v[j]!, c));
    got.forEach((g, i) => assert.ok(Math.abs(g - want[i]!) < 1e-4, `row ${i}: ${g} vs ${want[i]}`));
    head.dispose();
  }
  const relu = new ClassifierHead('relu', 4, 3, 0, 1);
  assert.throws(() => writeLinearIntoHead(relu, [1, 2, 3, 4], 0), /only a 'paper' head/);
  relu.dispose();
  const paper = new ClassifierHead('paper', 4, 3, 0, 1);
  assert.throws(() => writeLinearIntoHead(paper, [1, 2, 3], 0), /3 weights for 4 features/);
  assert.throws(() => writeLinearIntoHead(paper, [1, 2, NaN, 4], 0), /non-finite/);
  paper.dispose();
});

test("headInit 'probe': each unit starts from the probe of its own starting encoder (a run that barely trains scores as `mrcl probe` does), records it, and leaves no tensor behind", { timeout: 600_000 }, async () => {
  // lr 1e-12: the fine-tuned weights are the starting ones to float precision; recalibrateNorm: the batch norms end as the probe's;
  // no head dropout: the head's probe is then `mrcl probe`'s regression exactly
  const ws = await tinyWorkspace({ finetune: { initializations: ['random', 'pretrained'], lr: 1e-12, recalibrateNorm: true, headInit: 'probe', dropout: 0 } });
  const { config: input, baseDir } = loadConfig(ws.configPath);
  const outcome = await runStudy({ kind: 'experiment', config: input, baseDir, emit: quiet });
  assert.equal(outcome.status, 'done', outcome.error);
  const run = RunFolder.open(outcome.runDir!);
  await linearProbe(run, { emit: quiet });
  for (const arm of ['random', 'pretrained']) {
    for (const fold of [0, 1]) {
      const unit = readPredictions(run.path('finetune', arm, `fold-${fold}`, 'predictions.csv'));
      const probe = readPredictions(run.path('probe', 'finetune', arm, `fold-${fold}`, 'predictions.csv'));
      assert.deepEqual(unit.map((p) => p.id), probe.map((p) => p.id));
      unit.forEach((p, i) => assert.ok(Math.abs(p.score - probe[i]!.score) < 1e-4, `${arm} fold ${fold} ${p.id}: ${p.score} vs the probe's ${probe[i]!.score}`));
      const m = readJson<{ headInit?: { kind: string; C: number; residual: number; dropout: number; copies: number } }>(run.path('finetune', arm, `fold-${fold}`, 'metrics.json'));
      assert.equal(m.headInit?.kind, 'probe');
      assert.equal(m.headInit?.C, 1);
      assert.deepEqual([m.headInit?.dropout, m.headInit?.copies], [0, 1]);
      assert.ok(m.headInit!.residual < 1e-4);
    }
  }
  // the same run with the random head scores otherwise, and records no head initialisation
  const plain = await runStudy({ kind: 'experiment', config: { ...input, finetune: { ...input.finetune, headInit: 'random' } }, baseDir, emit: quiet });
  assert.equal(plain.status, 'done', plain.error);
  const plainRun = RunFolder.open(plain.runDir!);
  const random = readPredictions(plainRun.path('finetune', 'pretrained', 'fold-0', 'predictions.csv'));
  const probed = readPredictions(run.path('finetune', 'pretrained', 'fold-0', 'predictions.csv'));
  assert.ok(random.some((p, i) => Math.abs(p.score - probed[i]!.score) > 1e-3), 'a random head scores otherwise');
  assert.equal(readJson<{ headInit?: unknown }>(plainRun.path('finetune', 'pretrained', 'fold-0', 'metrics.json')).headInit, undefined);
  // fine-tuning with the probe's head leaves no tensor behind (the features, the head's new weights)
  const tensors = tf.memory().numTensors;
  const again = await runStudy({ kind: 'experiment', config: { ...input, finetune: { ...input.finetune, initializations: ['random'] } }, baseDir, emit: quiet });
  assert.equal(again.status, 'done', again.error);
  assert.equal(tf.memory().numTensors, tensors, 'no tensor left behind');
});

test('fitLinearProbe: without dropout the standardised logistic regression itself; under the head\'s dropout a head whose training loss under fresh masks is far lower than the clean fit\'s', () => {
  // features like pooled ReLU activations: large means, small spread across cases
  const rng = new Rng(11);
  const n = 60;
  const d = 8;
  const labels = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : 0)) as (0 | 1)[];
  const X = labels.map((y) => Array.from({ length: d }, (_, j) => 2 + 0.05 * rng.normal() + (j < 3 ? 0.04 * y : 0)));
  const clean = fitLinearProbe(X, labels, { dropout: 0, seed: 3 });
  assert.equal(clean.copies, 1);
  const scaler = fitStandardizer(X);
  const ref = fitLogistic(standardize(scaler, X), labels, { C: 1 });
  ref.w.forEach((w, j) => assert.ok(Math.abs(clean.w[j]! - w / scaler.scale[j]!) < 1e-9, `v[${j}]`));
  assert.ok(Math.abs(clean.b - (ref.b - clean.w.reduce((s, v, j) => s + v * scaler.mean[j]!, 0))) < 1e-9);
  // the training loss under the head's dropout (fresh masks, inverted scaling), averaged over many draws
  const p = 0.25;
  const lossUnderDropout = (v: number[], c: number) => {
    const masks = new Rng(99);
    let total = 0;
    const draws = 200;
    for (let k = 0; k < draws; k++) {
      X.forEach((row, i) => {
        const z = row.reduce((s, x, j) => s + (masks.next() < p ? 0 : x / (1 - p)) * v[j]!, c);
        total += Math.log1p(Math.exp(-Math.abs(z))) + Math.max(z, 0) - z * labels[i]!;
      });
    }
    return total / (draws * n);
  };
  const noisy = fitLinearProbe(X, labels, { dropout: p, seed: 3 });
  assert.equal(noisy.copies, PROBE_DROPOUT_COPIES);
  const cleanLoss = lossUnderDropout(clean.w, clean.b);
  const noisyLoss = lossUnderDropout(noisy.w, noisy.b);
  assert.ok(noisyLoss < Math.log(2) + 0.05, `fitted under dropout: ${noisyLoss}`);
  assert.ok(cleanLoss > 3 * noisyLoss, `clean fit under dropout ${cleanLoss} vs ${noisyLoss}`);
  assert.deepEqual(fitLinearProbe(X, labels, { dropout: p, seed: 3 }), noisy, 'seeded: the same masks');
  assert.notDeepEqual(fitLinearProbe(X, labels, { dropout: p, seed: 4 }).w, noisy.w, 'another seed, other masks');
});

test("the config: headInit defaults to 'random'; 'probe' needs the 'paper' head", async () => {
  assert.equal(resolveConfig({}, 'test').finetune.headInit, 'random');
  assert.throws(() => resolveConfig({ finetune: { headInit: 'probe', head: 'relu' } }, 'test'), /finetune\/headInit.*'probe' needs finetune\.head 'paper'/s);
  assert.throws(() => resolveConfig({ finetune: { headInit: 'linear' } }, 'test'), /headInit/);
  const ws = await tinyWorkspace();
  const bad = join(ws.dir, 'bad.mrcl.json');
  writeFileSync(bad, JSON.stringify({ ...JSON.parse(readFileSync(ws.configPath, 'utf8')), finetune: { headInit: 'probe', head: 'relu' } }));
  const cli = await runCli(['config', 'check', bad]);
  assert.notEqual(cli.code, 0);
  assert.match(cli.out + cli.err, /headInit/);
});

// The fine-tuning protocol on tiny data: class weighting ('balanced') and a
// threshold chosen on a held-out inner fold, recorded in metrics.json,
// applied to the test fold and the external cohort, kept by `mrcl evaluate`,
// and chosen again identically when a unit is resumed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, resolveConfig } from '../../../src/engine/config/resolve';
import { runStudy } from '../../../src/engine/experiment/study';
import { finetunePlan } from '../../../src/engine/experiment/units';
import { recomputeRunMetrics } from '../../../src/engine/experiment/evaluate';
import { RunFolder, readJson } from '../../../src/engine/training/run-folder';
import { openDataset } from '../../../src/engine/training/dataset';
import { downstreamFolds, readPredictions, splitMetrics, type ThresholdRecord } from '../../../src/engine/training/finetune';
import { chooseThreshold } from '../../../src/engine/metrics/threshold';
import type { FoldResult } from '../../../src/engine/results/types';
import type { EngineEvent } from '../../../src/shared/events';
import { readResults } from '../../../src/engine/results';
import { printResultsWarnings } from '../../../src/cli/commands/study';
import type { CommandContext } from '../../../src/cli/command';
import { tinyWorkspace } from './helpers';

type Metrics = FoldResult & { threshold: number; thresholdSelection: ThresholdRecord; positiveWeight: number; train: string[] };

test("thresholdRule 'inner' + positiveWeight 'balanced': threshold chosen on the held-out inner fold, recorded, applied, resumable", { timeout: 600_000 }, async () => {
  const ws = await tinyWorkspace({ finetune: { epochs: 2, folds: 2, innerFolds: 2, thresholdRule: 'inner', positiveWeight: 'balanced', recalibrateNorm: true } }, { internal: 24, external: 6 });
  try {
    await innerThresholdRun(ws);
  } finally {
    rmSync(ws.dir, { recursive: true, force: true });
  }
});

async function innerThresholdRun(ws: { configPath: string }): Promise<void> {
  const { config, baseDir } = loadConfig(ws.configPath);
  const events: EngineEvent[] = [];
  const outcome = await runStudy({ kind: 'finetune', config, baseDir, plan: finetunePlan(config, ['random']), emit: (e) => events.push(e) });
  assert.equal(outcome.status, 'done', outcome.error);
  // finetune.recalibrateNorm: each fold's batch norms recomputed before its threshold and evaluation
  const recal = events.filter((e) => e.type === 'log' && /running statistics of \d+ batch norm\(s\) recomputed over the \d+ training cases/.test(e.message));
  assert.equal(recal.length, 2, 'one recalibration per fold');
  const runDir = outcome.runDir!;
  const run = RunFolder.open(runDir);
  const ds = openDataset(run.config, '/');
  const { cases, splits } = downstreamFolds(run.config, ds);
  const labelOf = new Map(cases.map((c) => [c.case.id, c.label]));

  const before: Metrics[] = [];
  for (const fold of [0, 1]) {
    const dir = join(runDir, 'finetune', 'random', `fold-${fold}`);
    const m = readJson<Metrics>(join(dir, 'metrics.json'));
    before.push(m);
    const sel = m.thresholdSelection;
    assert.equal(sel.rule, 'inner');
    assert.equal(sel.criterion, 'f1');
    assert.equal(sel.innerFolds, 2);
    // the model trained on the training fold less the held-out inner fold; neither touches the test fold
    const split = splits[fold]!;
    const heldOut = sel.validation!.scores!.map((s) => s.id);
    const outerTrain = split.train.map((i) => cases[i]!.case.id);
    const test = new Set(split.test.map((i) => cases[i]!.case.id));
    assert.deepEqual([...m.train, ...heldOut].sort(), [...outerTrain].sort());
    assert.ok(heldOut.length > 0 && m.train.length > 0);
    assert.ok([...m.train, ...heldOut].every((id) => !test.has(id)));
    // stratified: both classes held out
    assert.ok(sel.validation!.positives > 0 && sel.validation!.positives < sel.validation!.n);
    // 'balanced' = negatives / positives of the cases trained on
    const trainLabels = m.train.map((id) => labelOf.get(id)!);
    const pos = trainLabels.filter((l) => l === 1).length;
    assert.equal(m.positiveWeight, (trainLabels.length - pos) / pos);
    // the threshold is the F1-best of the recorded held-out scores, and it is the one applied
    const choice = chooseThreshold(sel.validation!.scores!.map((s) => s.score), sel.validation!.scores!.map((s) => s.label), 'f1');
    assert.ok(!('reason' in choice));
    assert.equal(m.threshold, choice.threshold);
    assert.equal(sel.threshold, m.threshold);
    assert.equal(sel.value, choice.value);
    assert.equal(m.internal.threshold, m.threshold);
    assert.equal(m.external!.threshold, m.threshold);
    const preds = readPredictions(join(dir, 'predictions.csv'));
    assert.deepEqual(m.internal, splitMetrics(preds.filter((p) => p.cohort === 'internal'), m.threshold));
    assert.deepEqual(m.external, splitMetrics(preds.filter((p) => p.cohort === 'external'), m.threshold));
  }

  // `mrcl evaluate` keeps each fold's chosen threshold (not finetune.threshold)
  recomputeRunMetrics(run);
  for (const fold of [0, 1]) {
    const m = readJson<Metrics>(join(runDir, 'finetune', 'random', `fold-${fold}`, 'metrics.json'));
    assert.equal(m.threshold, before[fold]!.threshold);
    assert.deepEqual(m.internal, before[fold]!.internal);
  }

  // a unit whose training finished but whose metrics were not written: resumed, it chooses the same threshold
  const fold0 = join(runDir, 'finetune', 'random', 'fold-0');
  const predsBefore = readFileSync(join(fold0, 'predictions.csv'), 'utf8');
  rmSync(join(fold0, 'metrics.json'));
  const resumed = await runStudy({ kind: 'finetune', runDir, emit: () => {} });
  assert.equal(resumed.status, 'done', resumed.error);
  const again = readJson<Metrics>(join(fold0, 'metrics.json'));
  assert.deepEqual(again.thresholdSelection, before[0]!.thresholdSelection);
  assert.deepEqual(again.internal, before[0]!.internal);
  assert.equal(readFileSync(join(fold0, 'predictions.csv'), 'utf8'), predsBefore);
}

test('a fold that predicts one class is warned about in the events, results.json and the CLI', { timeout: 600_000 }, async () => {
  // threshold 1: no sigmoid score reaches it, so every case is predicted negative
  const ws = await tinyWorkspace({ finetune: { epochs: 1, folds: 2, threshold: 1 } });
  try {
    const { config, baseDir } = loadConfig(ws.configPath);
    const events: EngineEvent[] = [];
    const outcome = await runStudy({ kind: 'finetune', config, baseDir, plan: finetunePlan(config, ['random']), emit: (e) => events.push(e) });
    assert.equal(outcome.status, 'done', outcome.error);
    const warns = events.filter((e): e is Extract<EngineEvent, { type: 'log' }> => e.type === 'log' && e.level === 'warn').map((e) => e.message);
    for (const fold of [0, 1]) {
      for (const cohort of ['internal', 'external']) {
        assert.ok(warns.includes(`finetune/random/fold-${fold}: every ${cohort} case is predicted negative at threshold 1; its precision, recall and F1 say nothing about the model`), warns.join('\n'));
      }
    }
    const doc = readResults(join(outcome.runDir!, 'results.json'));
    assert.deepEqual(doc.warnings!.filter((w) => /one class only/.test(w)), [
      'Warning: Random init: 2 of 2 folds predict one class only on the internal cohort (all negative in folds 0, 1); precision, recall and F1 there say nothing about the model.',
      'Warning: Random init: 2 of 2 folds predict one class only on the external cohort (all negative in folds 0, 1); precision, recall and F1 there say nothing about the model.',
    ]);
    const lines: string[] = [];
    printResultsWarnings(outcome.runDir, { stderr: (s: string) => lines.push(s) } as unknown as CommandContext);
    assert.deepEqual(lines, doc.warnings!.map((w) => `${w}\n`));
  } finally {
    rmSync(ws.dir, { recursive: true, force: true });
  }
});

test("thresholdRule 'inner' needs innerFolds ≥ 2", () => {
  assert.throws(() => resolveConfig({ finetune: { thresholdRule: 'inner', innerFolds: 0 } }), /innerFolds: must be at least 2 with thresholdRule 'inner'/);
});

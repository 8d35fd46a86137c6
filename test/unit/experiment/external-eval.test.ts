// `mrcl evaluate RUN --external MANIFEST`: a finished tiny run's fold models
// scored on another external cohort. On the run's own manifest the scores are
// the run's own (the reload, with recalibrated batch norms, is the model that
// was evaluated); on a new cohort the tables describe it, the run's internal
// rows stay; a reload that does not reproduce the saved predictions, a
// manifest without labelled external cases, another manifest under a used
// name and a bad name are refused; a second call redoes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../../../src/engine/backend';
import { loadConfig } from '../../../src/engine/config/resolve';
import { runStudy, readPlan } from '../../../src/engine/experiment/study';
import { evaluateExternal, evaluationName, EXTERNAL_EVALUATION_FILE } from '../../../src/engine/experiment/external-eval';
import { synthesizeCohort } from '../../../src/engine/synth/cohort';
import { RunFolder, readJson } from '../../../src/engine/training/run-folder';
import { readPredictions, splitMetrics, writePredictions, type FoldResult } from '../../../src/engine/training/finetune';
import { downstreamCases, openDataset } from '../../../src/engine/training/dataset';
import type { ResultsDoc } from '../../../src/engine/results/types';
import type { EngineEvent } from '../../../src/shared/events';
import { CancelledError } from '../../../src/engine/training/loop';
import { tinyWorkspace } from './helpers';
import { runCli } from '../cli/run-cli';

async function finishedRun(): Promise<{ run: RunFolder; dir: string }> {
  // batch norms recalibrated after training: the reload must redo it to reproduce the scores
  const ws = await tinyWorkspace({ finetune: { initializations: ['random', 'pretrained'], recalibrateNorm: true } });
  const { config, baseDir } = loadConfig(ws.configPath);
  const outcome = await runStudy({ kind: 'experiment', config, baseDir, emit: () => {} });
  assert.equal(outcome.status, 'done', outcome.error);
  return { run: RunFolder.open(outcome.runDir!), dir: ws.dir };
}

const quiet = (): ((e: EngineEvent) => void) => () => {};

test('on the run\'s own manifest the reloaded models give the run\'s own external scores and metrics', { timeout: 600_000 }, async () => {
  const { run, dir } = await finishedRun();
  const tensors = tf.memory().numTensors;
  const out = await evaluateExternal(run, { manifest: join(dir, 'cohort', 'manifest.json'), emit: quiet() });
  assert.equal(tf.memory().numTensors, tensors, 'no tensor left behind (models, recalibration, scoring)');
  assert.equal(out.dir, join(run.dir, 'external', 'cohort'));
  const units = readPlan(run).finetune;
  assert.equal(out.evaluated, units.length);
  for (const u of units) {
    const was = readPredictions(run.path(u.stage, 'predictions.csv'));
    const now = readPredictions(join(out.dir, u.stage, 'predictions.csv'));
    assert.deepEqual(now.filter((p) => p.cohort === 'internal'), was.filter((p) => p.cohort === 'internal'), `${u.stage}: internal rows kept`);
    const wasExt = new Map(was.filter((p) => p.cohort === 'external').map((p) => [p.id, p]));
    const nowExt = now.filter((p) => p.cohort === 'external');
    assert.equal(nowExt.length, wasExt.size);
    for (const p of nowExt) {
      const q = wasExt.get(p.id)!;
      assert.ok(Math.abs(p.score - q.score) < 1e-5, `${u.stage} ${p.id}: ${p.score} vs ${q.score}`);
      assert.equal(p.label, q.label);
      for (const k of ['dice2d', 'dice3d'] as const) assert.ok(p[k] === q[k] || Math.abs(p[k]! - q[k]!) < 1e-9, `${u.stage} ${p.id} ${k}`);
    }
    const m = readJson<FoldResult>(join(out.dir, u.stage, 'metrics.json'));
    const o = readJson<FoldResult>(run.path(u.stage, 'metrics.json'));
    assert.deepEqual(m.internal, o.internal);
    assert.ok(Math.abs((m.external!.auc ?? 0) - (o.external!.auc ?? 0)) < 1e-9, `${u.stage}: external AUC ${m.external!.auc} vs ${o.external!.auc}`);
  }
});

test('a new external cohort: its labelled external cases scored at each unit\'s threshold, tables and shared-case intervals; a second call redoes nothing; refusals', { timeout: 600_000 }, async () => {
  const { run, dir } = await finishedRun();
  const newCohort = join(dir, 'new-site');
  await synthesizeCohort({ out: newCohort, internal: 3, external: 12, shape: [24, 24, 16], seed: 9 });
  const manifest = join(newCohort, 'manifest.json');
  const out = await evaluateExternal(run, { manifest, emit: quiet() });
  const config = run.config;
  const expected = downstreamCases(openDataset({ ...config, data: { ...config.data, manifest } }, '/')).external;
  assert.ok(expected.length >= 4, `fixture: ${expected.length} labelled external cases`);
  const record = readJson<{ manifest: string; cases: number; positives: number; run: string }>(join(out.dir, EXTERNAL_EVALUATION_FILE));
  assert.deepEqual([record.manifest, record.cases, record.positives], [manifest, expected.length, expected.filter((c) => c.label === 1).length]);
  const units = readPlan(run).finetune;
  for (const u of units) {
    const rows = readPredictions(join(out.dir, u.stage, 'predictions.csv'));
    const ext = rows.filter((p) => p.cohort === 'external');
    // only the new cohort's labelled external cases (not its internal ones), with their labels
    assert.deepEqual(ext.map((p) => [p.id, p.label]), expected.map((c) => [c.case.id, c.label]));
    const m = readJson<FoldResult & { threshold: number; externalCohort: string; baselines?: unknown }>(join(out.dir, u.stage, 'metrics.json'));
    const o = readJson<FoldResult & { threshold: number }>(run.path(u.stage, 'metrics.json'));
    assert.equal(m.threshold, o.threshold);
    assert.deepEqual(m.external, splitMetrics(ext, o.threshold));
    assert.deepEqual(m.internal, o.internal);
    assert.equal(m.externalCohort, manifest);
    assert.ok(!existsSync(join(out.dir, u.stage, 'heatmaps')), 'no heatmap files');
  }
  // the tables and intervals describe the new cohort; its cases resampled once for all folds
  const doc = readJson<ResultsDoc>(join(out.dir, 'results.json'));
  const ci = doc.ci!.find((c) => c.arm === 'random' && c.split === 'external' && c.metric === 'auc')!;
  assert.equal(ci.resampling, 'shared cases');
  assert.equal(ci.cases, expected.length);
  assert.ok(readFileSync(join(out.dir, 'results.md'), 'utf8').includes(`external cohort ${expected.length} cases`), 'results.md counts the new cohort');

  // again: nothing redone
  const stamp = statSync(join(out.dir, units[0]!.stage, 'metrics.json')).mtimeMs;
  const again = await evaluateExternal(run, { manifest, emit: quiet() });
  assert.deepEqual([again.evaluated, again.skipped], [0, units.length]);
  assert.equal(statSync(join(out.dir, units[0]!.stage, 'metrics.json')).mtimeMs, stamp);

  // a unit trained again since (another checkpoint) is scored again; the others stay
  const m0 = join(out.dir, units[0]!.stage, 'metrics.json');
  writeFileSync(m0, JSON.stringify({ ...JSON.parse(readFileSync(m0, 'utf8')), checkpoint: 'step-0000000' }));
  const rescored = await evaluateExternal(run, { manifest, emit: quiet() });
  assert.deepEqual([rescored.evaluated, rescored.skipped], [1, units.length - 1]);
  // the same manifest path holding other cases: refused, the evaluation would mix two cohorts
  await synthesizeCohort({ out: newCohort, internal: 3, external: 12, shape: [24, 24, 16], seed: 10 });
  await assert.rejects(evaluateExternal(run, { manifest, emit: quiet() }), /its labelled external cases are not those this evaluation began with .*would mix two cohorts/);
  await synthesizeCohort({ out: newCohort, internal: 3, external: 12, shape: [24, 24, 16], seed: 9 });

  // a unit of the run that has not finished: not scored, and its arm is "partial" in the evaluation's tables
  const last = units[units.length - 1]!;
  const lastMetrics = run.path(last.stage, 'metrics.json');
  const saved = readFileSync(lastMetrics, 'utf8');
  rmSync(lastMetrics);
  rmSync(join(out.dir, last.stage, 'metrics.json'));
  const partial = await evaluateExternal(run, { manifest, emit: quiet() });
  assert.deepEqual([partial.evaluated, partial.skipped], [0, units.length - 1]);
  const arm = readJson<ResultsDoc>(join(out.dir, 'results.json')).arms.find((a) => a.arm === last.arm)!;
  assert.equal(arm.status, 'partial');
  writeFileSync(lastMetrics, saved);

  // another manifest under the same name; a manifest without labelled external cases; a bad name
  await assert.rejects(evaluateExternal(run, { manifest: join(dir, 'cohort', 'manifest.json'), name: 'new-site', emit: quiet() }), /already holds an evaluation of .*new-site.*manifest\.json.*give this one another --name/);
  const internalOnly = join(dir, 'internal-only');
  await synthesizeCohort({ out: internalOnly, internal: 4, external: 0, shape: [24, 24, 16], seed: 11 });
  await assert.rejects(evaluateExternal(run, { manifest: join(internalOnly, 'manifest.json'), emit: quiet() }), new RegExp(`${join(internalOnly, 'manifest.json').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: no external case with a fusion or V600E label`));
  assert.throws(() => evaluationName(manifest, '../x'), /--name "\.\.\/x": an evaluation's name must be/);
  assert.throws(() => evaluationName('/manifest.json'), /\/manifest\.json: its folder's name "" cannot name the evaluation .*; give --name/);
  await assert.rejects(evaluateExternal(run, { manifest: join(dir, 'nowhere', 'manifest.json'), emit: quiet() }), /nowhere\/manifest\.json: no such manifest/);
});

test('a reload that does not reproduce the unit\'s saved predictions is refused, naming the case; nothing is written for that unit', { timeout: 600_000 }, async () => {
  const { run, dir } = await finishedRun();
  const u = readPlan(run).finetune[0]!;
  const path = run.path(u.stage, 'predictions.csv');
  const rows = readPredictions(path);
  const first = rows.find((p) => p.cohort === 'internal')!;
  writePredictions(path, rows.map((p) => (p === first ? { ...p, score: p.score > 0.5 ? p.score - 0.01 : p.score + 0.01 } : p)));
  await assert.rejects(
    evaluateExternal(run, { manifest: join(dir, 'cohort', 'manifest.json'), name: 'check', emit: quiet() }),
    (e: unknown) => (e as Error).message.includes(`${path}: the model reloaded from the unit's checkpoint scores case "${first.id}" 1.00e-2 away from its saved prediction`),
  );
  assert.ok(!existsSync(join(run.dir, 'external', 'check', u.stage, 'metrics.json')));
  // the checkpoint must be the last epoch's
  writePredictions(path, rows);
  const state = run.path(u.stage, 'checkpoints', readFileSync(run.path(u.stage, 'checkpoints', 'latest'), 'utf8').trim(), 'state.json');
  const s = JSON.parse(readFileSync(state, 'utf8'));
  writeFileSync(state, JSON.stringify({ ...s, loop: { ...s.loop, epoch: s.loop.epoch - 1 } }));
  await assert.rejects(evaluateExternal(run, { manifest: join(dir, 'cohort', 'manifest.json'), name: 'check', emit: quiet() }), /holds epoch 0 \(step 0 in it\), not the end of the unit's 1 epochs/);
});

test('mrcl evaluate RUN --external MANIFEST prints the CL comparisons on the cohort; --name needs --external', { timeout: 600_000 }, async () => {
  const { run, dir } = await finishedRun();
  const r = await runCli(['evaluate', run.dir, '--external', join(dir, 'cohort', 'manifest.json'), '--name', 'site-b']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^scored \d+ units on .*manifest\.json \(0 already done\); tables: .*external\/site-b\/results\.md\n$/);
  assert.match(r.err, /Proposed CL vs Random init: external AUC: Proposed CL \d\.\d{3} vs Random init \d\.\d{3}, difference [+−]\d\.\d{3} .*difference 95% CI [+−]\d\.\d{3} to [+−]\d\.\d{3} \(paired bootstrap, its \d+ cases resampled once for all 2 folds\)/);
  // --json: stdout holds the events only, one JSON object a line; the summary goes to stderr
  const j = await runCli(['evaluate', run.dir, '--external', join(dir, 'cohort', 'manifest.json'), '--name', 'site-c', '--json']);
  assert.equal(j.code, 0, j.err);
  const lines = j.out.trimEnd().split('\n');
  assert.ok(lines.length > 1 && lines.every((l) => typeof JSON.parse(l).type === 'string'), j.out.slice(0, 300));
  assert.match(j.err, /scored \d+ units on .*\(0 already done\)/);
  // a stop (Ctrl-C) before any unit: exit 130, nothing scored, and the next call does the work
  const ac = new AbortController();
  ac.abort();
  const stopped = await runCli(['evaluate', run.dir, '--external', join(dir, 'cohort', 'manifest.json'), '--name', 'site-d'], ac.signal);
  assert.equal(stopped.code, 130, stopped.err);
  assert.match(stopped.err, /cancelled; the units scored so far are kept: run the same command again to go on/);
  assert.ok(!existsSync(join(run.dir, 'external', 'site-d', readPlan(run).finetune[0]!.stage, 'metrics.json')));
  assert.equal((await runCli(['evaluate', run.dir, '--external', join(dir, 'cohort', 'manifest.json'), '--name', 'site-d'])).code, 0);
  // a stop while it scores: Ctrl-C reaches the process as an event-loop callback (here a setImmediate after the first unit), so
  // the loop must return to the event loop between units, else every unit is scored before the stop is seen
  const during = new AbortController();
  let scored = 0;
  await assert.rejects(
    evaluateExternal(run, { manifest: join(dir, 'cohort', 'manifest.json'), name: 'site-e', signal: during.signal, emit: (e) => { if (e.type === 'progress') { scored++; setImmediate(() => during.abort()); } } }),
    (e: Error) => e instanceof CancelledError,
  );
  assert.equal(scored, 1, 'stopped after the unit it was scoring');
  const bad = await runCli(['evaluate', run.dir, '--name', 'x']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--name goes with --external/);
  const badJson = await runCli(['evaluate', run.dir, '--json']);
  assert.equal(badJson.code, 2);
  assert.match(badJson.err, /--json goes with --external/);
});

test('an ablation run: every variant\'s fold models reload (its own loss config, recalibrated batch norms) and score the cohort; the tables are an ablation\'s', { timeout: 600_000 }, async () => {
  const ws = await tinyWorkspace({ finetune: { recalibrateNorm: true } });
  const { config, baseDir } = loadConfig(ws.configPath);
  const outcome = await runStudy({ kind: 'ablation', config, baseDir, emit: () => {} });
  assert.equal(outcome.status, 'done', outcome.error);
  const run = RunFolder.open(outcome.runDir!);
  const site = join(ws.dir, 'site-2');
  await synthesizeCohort({ out: site, internal: 2, external: 10, shape: [24, 24, 16], seed: 4 });
  const out = await evaluateExternal(run, { manifest: join(site, 'manifest.json'), emit: quiet() });
  const units = readPlan(run).finetune;
  assert.ok(new Set(units.map((u) => u.variant)).size >= 6, 'every ablation variant');
  assert.deepEqual([out.evaluated, out.skipped], [units.length, 0]);
  const doc = readJson<ResultsDoc>(join(out.dir, 'results.json'));
  assert.equal(doc.kind, 'ablation');
  assert.ok(doc.arms.every((a) => a.status === 'done' && a.folds.length === 2), JSON.stringify(doc.arms.map((a) => [a.arm, a.status])));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aggregateStatus, buildStages, formatMetrics, keyMetrics, listRunFolders, meanMetrics, readRunFolder, type NodeStatus } from '../../../src/extension/views/run-scan';
import { belongsTo, readExperiment, runIdPrefix } from '../../../src/extension/views/experiment-scan';

function write(path: string, value: unknown): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
}

function fold(auc: number, dice: number) {
  return { arm: 'x', fold: 0, internal: { n: 10, auc, f1: 0.5, dice2d: 0.1, dice3d: dice }, external: { auc: 0.1, dice3d: 0.9 } };
}

/** A run folder as the engine writes it (run.json, config.json, stage folders, metrics.json). */
function makeRun(root: string, id: string, status = 'done', created = '2026-01-01T00:00:00.000Z', name = 'exp'): string {
  const dir = join(root, id);
  write(join(dir, 'run.json'), {
    format: 'mrcl-run-1',
    id,
    kind: 'experiment',
    status,
    created,
    updated: created,
    backend: 'cpu (@tensorflow/tfjs)',
    stages: {
      'finetune/medicalnet': 'skipped',
      pretrain: 'done',
      'finetune/random/fold-0': 'done',
      'finetune/random/fold-1': 'done',
      'finetune/pretrained/fold-0': 'done',
      'finetune/pretrained/fold-1': status === 'done' ? 'done' : 'cancelled',
    },
  });
  write(join(dir, 'config.json'), { name, outDir: root });
  write(join(dir, 'events.jsonl'), '');
  write(join(dir, 'plan.json'), {});
  write(join(dir, 'pretrain', 'model.safetensors'), 'x');
  write(join(dir, 'finetune', 'random', 'fold-0', 'metrics.json'), fold(0.5, 0.2));
  write(join(dir, 'finetune', 'random', 'fold-1', 'metrics.json'), fold(0.7, 0.4));
  write(join(dir, 'finetune', 'pretrained', 'fold-0', 'metrics.json'), fold(0.8, 0.5));
  write(join(dir, 'finetune', 'pretrained', 'fold-0', 'predictions.csv'), 'id\n');
  mkdirSync(join(dir, 'finetune', 'pretrained', 'fold-0', 'heatmaps'), { recursive: true });
  if (status === 'done') {
    write(join(dir, 'finetune', 'pretrained', 'fold-1', 'metrics.json'), fold(0.9, 0.7));
    write(join(dir, 'results.md'), '# results');
    write(join(dir, 'results.json'), {});
  }
  return dir;
}

test('keyMetrics reads the internal split of a fold metrics.json, and metrics events', () => {
  assert.deepEqual(keyMetrics(fold(0.8, 0.5)), { auc: 0.8, dice: 0.5, folds: 1 });
  assert.deepEqual(keyMetrics({ aucInternal: 0.6, dice3dInternal: 0.3 }), { auc: 0.6, dice: 0.3, folds: 1 });
  assert.deepEqual(keyMetrics({ internal: { auc: null, dice3d: null, dice2d: 0.25 } }), { dice: 0.25, folds: 1 });
  assert.deepEqual(keyMetrics({ internal: { auc: Number.NaN } }), {});
  assert.deepEqual(keyMetrics(null), {});
  assert.deepEqual(keyMetrics([1, 2]), {});
});

test('meanMetrics and formatMetrics', () => {
  assert.deepEqual(meanMetrics([{ auc: 0.8, dice: 0.5, folds: 1 }, { auc: 0.9, folds: 1 }, {}]), { auc: 0.8500000000000001, dice: 0.5, folds: 2 });
  assert.deepEqual(meanMetrics([]), {});
  assert.equal(formatMetrics({ auc: 0.85, dice: 0.5, folds: 2 }), 'AUC 0.850 · Dice 0.50 (2 folds)');
  assert.equal(formatMetrics({ auc: 0.8123, folds: 1 }), 'AUC 0.812');
  assert.equal(formatMetrics({}), '');
});

test('aggregateStatus: failures first, then activity, then completion', () => {
  const table: [NodeStatus[], NodeStatus][] = [
    [[], 'not run'],
    [['done', 'done'], 'done'],
    [['done', 'skipped'], 'done'],
    [['skipped'], 'skipped'],
    [['done', 'running'], 'running'],
    [['running', 'failed'], 'failed'],
    [['done', 'cancelled'], 'cancelled'],
    [['done', 'not run'], 'not run'],
    [['queued', 'done'], 'queued'],
  ];
  for (const [input, want] of table) assert.equal(aggregateStatus(input), want, input.join(','));
});

test('a run folder becomes run → stages (nested by "/") → artifacts, with fold metrics averaged per arm', () => {
  const root = mkdtempSync(join(tmpdir(), 'mrcl-scan-'));
  const dir = makeRun(root, 'exp-20260101-000000');
  const run = readRunFolder(dir)!;
  assert.equal(run.id, 'exp-20260101-000000');
  assert.equal(run.kind, 'experiment');
  assert.equal(run.status, 'done');
  assert.equal(run.name, 'exp');
  assert.equal(run.backend, 'cpu (@tensorflow/tfjs)');
  assert.equal(run.results, join(dir, 'results.md'));
  // top-level artifacts: not run.json/events.jsonl, not the stage folders
  assert.deepEqual(run.artifacts.map((a) => a.name), ['config.json', 'plan.json', 'results.json', 'results.md']);
  assert.deepEqual(run.stages.map((s) => s.label), ['finetune', 'pretrain']);
  const finetune = run.stages[0]!;
  assert.deepEqual(finetune.children.map((c) => [c.label, c.status]), [['medicalnet', 'skipped'], ['random', 'done'], ['pretrained', 'done']]);
  assert.equal(finetune.status, 'done');
  assert.deepEqual(finetune.metrics, {}, 'arms of different initialisations are not averaged together');
  const pretrained = finetune.children[2]!;
  assert.equal(pretrained.stage, 'finetune/pretrained');
  assert.deepEqual(pretrained.metrics, { auc: (0.8 + 0.9) / 2, dice: (0.5 + 0.7) / 2, folds: 2 });
  const fold0 = pretrained.children[0]!;
  assert.equal(fold0.dir, join(dir, 'finetune', 'pretrained', 'fold-0'));
  assert.deepEqual(fold0.metrics, { auc: 0.8, dice: 0.5, folds: 1 });
  assert.deepEqual(fold0.artifacts.map((a) => [a.name, a.isFolder]), [['metrics.json', false], ['predictions.csv', false], ['heatmaps', true]]);
  assert.deepEqual(run.metrics, pretrained.metrics, "the run's headline is the pretrained arm");
  assert.deepEqual(run.stages[1]!.artifacts.map((a) => a.name), ['model.safetensors']);
});

test('a cancelled run keeps its partial metrics and shows the cancelled fold', () => {
  const root = mkdtempSync(join(tmpdir(), 'mrcl-scan-'));
  const run = readRunFolder(makeRun(root, 'exp-2', 'cancelled'))!;
  assert.equal(run.status, 'cancelled');
  assert.equal(run.results, undefined);
  const pretrained = run.stages[0]!.children[2]!;
  assert.equal(pretrained.status, 'cancelled');
  assert.deepEqual(pretrained.metrics, { auc: 0.8, dice: 0.5, folds: 1 });
});

test('bad run folders: none, unreadable and foreign run.json', () => {
  const root = mkdtempSync(join(tmpdir(), 'mrcl-scan-'));
  assert.equal(readRunFolder(join(root, 'nothing')), undefined);
  write(join(root, 'torn', 'run.json'), '{"format": "mrcl-run-1", "st');
  const torn = readRunFolder(join(root, 'torn'))!;
  assert.equal(torn.status, 'failed');
  assert.match(torn.error!, /torn[\\/]run\.json: cannot read/);
  write(join(root, 'other', 'run.json'), { format: 'something-else' });
  assert.match(readRunFolder(join(root, 'other'))!.error!, /not a run folder \(format "something-else"\)/);
  write(join(root, 'weird', 'run.json'), { format: 'mrcl-run-1', status: 'exploded', stages: { a: 'bogus' } });
  const weird = readRunFolder(join(root, 'weird'))!;
  assert.equal(weird.status, 'failed', 'an unknown status is not shown as fine');
  assert.equal(weird.stages[0]!.status, 'not run');
});

test('listRunFolders: newest first, non-run folders ignored, missing folder is empty', () => {
  const root = mkdtempSync(join(tmpdir(), 'mrcl-scan-'));
  makeRun(root, 'exp-a', 'done', '2026-01-01T00:00:00.000Z');
  makeRun(root, 'exp-b', 'done', '2026-02-01T00:00:00.000Z');
  mkdirSync(join(root, 'not-a-run'));
  assert.deepEqual(listRunFolders(root).map((r) => r.id), ['exp-b', 'exp-a']);
  assert.deepEqual(listRunFolders(join(root, 'missing')), []);
});

test('buildStages keeps the recorded order and handles a stage nested under a stage', () => {
  const stages = buildStages('/r', { 'ablation/global-only/pretrain': 'done', 'ablation/global-only/finetune/fold-0': 'running', pretrain: 'done' });
  assert.deepEqual(stages.map((s) => [s.label, s.status]), [['ablation', 'running'], ['pretrain', 'done']]);
  const g = stages[0]!.children[0]!;
  assert.equal(g.stage, 'ablation/global-only');
  assert.deepEqual(g.children.map((c) => c.stage), ['ablation/global-only/pretrain', 'ablation/global-only/finetune']);
});

test('an experiment lists the runs of its name in its outDir', () => {
  const ws = mkdtempSync(join(tmpdir(), 'mrcl-exp-'));
  write(join(ws, 'a.mrcl.json'), { name: 'exp', outDir: 'out' });
  makeRun(join(ws, 'out'), 'exp-20260101-000000', 'done', '2026-01-01T00:00:00.000Z', 'exp');
  makeRun(join(ws, 'out'), 'other-20260101-000000', 'done', '2026-01-01T00:00:00.000Z', 'other');
  const e = readExperiment(join(ws, 'a.mrcl.json'));
  assert.equal(e.name, 'exp');
  assert.equal(e.outDir, join(ws, 'out'));
  assert.deepEqual(e.runs.map((r) => r.id), ['exp-20260101-000000']);
  assert.equal(e.problem, undefined);

  write(join(ws, 'b.mrcl.json'), '{ "name": ');
  const broken = readExperiment(join(ws, 'b.mrcl.json'));
  assert.equal(broken.problem, 'not valid JSON');
  assert.equal(broken.name, 'experiment');
  assert.equal(broken.outDir, join(ws, 'runs'));
  assert.match(readExperiment(join(ws, 'missing.mrcl.json')).problem!, /cannot read: ENOENT/);
});

test('belongsTo: by recorded name, else by run-id prefix', () => {
  const base = { dir: '/r', kind: 'experiment', status: 'done' as const, stages: [], metrics: {}, artifacts: [] };
  assert.equal(belongsTo({ ...base, id: 'exp-1', name: 'exp' }, 'exp'), true);
  assert.equal(belongsTo({ ...base, id: 'exp-1', name: 'other' }, 'exp'), false);
  assert.equal(belongsTo({ ...base, id: 'my-exp-20260101-000000' }, 'my exp'), true);
  assert.equal(runIdPrefix('my exp/1'), 'my-exp-1-');
});

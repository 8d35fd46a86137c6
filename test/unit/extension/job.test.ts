import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyEvent, describeProgress, formatDuration, fractionDone, requestLabel, resumeCommand, type Job } from '../../../src/extension/runs/job';
import { contextValue, jobContextValue, runContextValue } from '../../../src/extension/views/context-values';
import type { RunModel } from '../../../src/extension/views/run-scan';

function job(over: Partial<Job> = {}): Job {
  return { id: 'job-1', label: 'L', request: { command: 'experiment', config: '/w/exp.mrcl.json' }, status: 'running', queuedAt: 0, ...over };
}

test('formatDuration', () => {
  const table: [number, string][] = [
    [0, '0s'],
    [42.4, '42s'],
    [59.6, '1m 00s'],
    [65, '1m 05s'],
    [3599, '59m 59s'],
    [3720, '1h 02m'],
    [-5, '0s'],
  ];
  for (const [s, want] of table) assert.equal(formatDuration(s), want, String(s));
});

test('describeProgress shows stage, 1-based epoch, percent and ETA when known', () => {
  const progress = { type: 'progress' as const, stage: 'pretrain', done: 21, total: 50, epoch: 2, epochs: 10, etaSeconds: 65 };
  assert.equal(describeProgress(job({ progress, stage: 'pretrain' })), 'pretrain · epoch 3/10 · 42% · ETA 1m 05s');
  assert.equal(describeProgress(job({ progress, stage: 'pretrain', stopping: true })), 'stopping… · pretrain · epoch 3/10 · 42% · ETA 1m 05s');
  assert.equal(describeProgress(job()), 'running');
  assert.equal(describeProgress(job({ status: 'queued', progress })), 'queued');
  assert.equal(describeProgress(job({ status: 'done', progress })), 'done');
  assert.equal(describeProgress(job({ progress: { type: 'progress', stage: 's', done: 5, total: 0 } })), 'running', 'no total: no percent');
});

test('fractionDone clamps and needs a total', () => {
  assert.equal(fractionDone(undefined), undefined);
  assert.equal(fractionDone({ type: 'progress', stage: 's', done: 3, total: 0 }), undefined);
  assert.equal(fractionDone({ type: 'progress', stage: 's', done: 3, total: 4 }), 0.75);
  assert.equal(fractionDone({ type: 'progress', stage: 's', done: 9, total: 4 }), 1);
});

test('applyEvent folds progress, stages, epochs and metrics; other events change nothing shown', () => {
  const j = job();
  assert.equal(applyEvent(j, { type: 'stage', stage: 'pretrain', status: 'started' }), true);
  assert.equal(j.stage, 'pretrain');
  assert.equal(applyEvent(j, { type: 'epoch', stage: 'pretrain', epoch: 1, epochs: 4, loss: 1, lr: 1e-4, seconds: 1 }), true);
  assert.deepEqual(j.progress, { type: 'progress', stage: 'pretrain', done: 0, total: 0, epoch: 1, epochs: 4 });
  applyEvent(j, { type: 'progress', stage: 'finetune/random/fold-0', done: 5, total: 10 });
  assert.equal(j.stage, 'finetune/random/fold-0');
  applyEvent(j, { type: 'metrics', stage: 's', metrics: { a: 1 } });
  applyEvent(j, { type: 'metrics', stage: 's', metrics: { b: null } });
  assert.deepEqual(j.metrics, { a: 1, b: null });
  assert.equal(applyEvent(j, { type: 'log', level: 'info', message: 'x' }), false);
  assert.equal(applyEvent(j, { type: 'artifact', stage: 's', kind: 'other', path: 'p' }), false);
});

test('requestLabel and resumeCommand', () => {
  assert.equal(requestLabel({ command: 'experiment', config: '/w/exp.mrcl.json' }), 'Experiment exp.mrcl.json');
  assert.equal(requestLabel({ command: 'synth', out: '/w/synthetic-cohort' }), 'Synthetic cohort → synthetic-cohort');
  assert.equal(requestLabel({ command: 'validate', manifest: '/w/c/manifest.json' }), 'Validate dataset manifest.json');
  assert.equal(requestLabel({ command: 'ablate', runDir: '/w/runs/exp-1', resume: true }), 'Ablations (resume exp-1)');
  assert.equal(requestLabel({ command: 'demo', out: '/w/demo-out' }), 'Demo');
  assert.deepEqual(['experiment', 'pretrain', 'finetune', 'ablation', 'demo', 'run'].map(resumeCommand), ['experiment', 'pretrain', 'finetune', 'ablate', 'demo', undefined]);
});

test('contextValue flags drive the menus', () => {
  assert.equal(contextValue('run', { resumable: true, active: false, folder: true }), 'run folder resumable');
  const run: RunModel = { dir: '/r', id: 'r', kind: 'experiment', status: 'cancelled', stages: [], metrics: {}, artifacts: [] };
  assert.equal(runContextValue(run, undefined), 'run config deletable folder resumable');
  assert.equal(runContextValue({ ...run, status: 'done', results: '/r/results.md' }, undefined), 'run config deletable folder results');
  assert.equal(runContextValue(run, job({ status: 'running' })), 'run active config folder', 'being resumed: not resumable, not deletable');
  assert.equal(runContextValue({ ...run, kind: 'mystery' }, undefined), 'run config deletable folder');
  assert.equal(runContextValue({ ...run, status: 'running' }, undefined), 'run config folder', 'another process: neither stopped nor deleted here');
  assert.equal(jobContextValue(job({ status: 'queued' })), 'job active training');
  assert.equal(jobContextValue(job({ status: 'done', runDir: '/c' })), 'job folder results training');
  assert.equal(jobContextValue(job({ status: 'failed', runDir: '/c' })), 'job folder training');
  assert.equal(jobContextValue(job({ status: 'done' })), 'job training');
  const synth = { command: 'synth' as const, out: '/w/cohort' };
  assert.equal(jobContextValue(job({ status: 'running', request: synth })), 'job active', 'a synthetic cohort has no training to chart');
});

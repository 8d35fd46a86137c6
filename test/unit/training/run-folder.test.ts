import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { withFileLock } from '../../../src/engine/io/atomic';
import { basename, join } from 'node:path';
import { tmpdir } from 'node:os';
import { RunFolder, claimRunDir, newRunId, readEvents } from '../../../src/engine/training/run-folder';
import { resolveConfig } from '../../../src/engine/config/resolve';

test('run ids: name-YYYYMMDD-HHMMSS, unique within one second', () => {
  const now = new Date(2026, 10, 29, 8, 5, 7);
  assert.equal(newRunId('my exp/1', now), 'my-exp-1-20261129-080507');
  const out = mkdtempSync(join(tmpdir(), 'mrcl-runs-'));
  const a = claimRunDir(out, 'x', now);
  const b = claimRunDir(out, 'x', now);
  const c = claimRunDir(out, 'x', now);
  assert.deepEqual([a, b, c].map((d) => basename(d)), ['x-20261129-080507', 'x-20261129-080507-2', 'x-20261129-080507-3']);
});

test('a run folder records the resolved config, its status, and every event (a torn last line is skipped)', () => {
  const dir = claimRunDir(mkdtempSync(join(tmpdir(), 'mrcl-runs-')), 'r');
  const config = resolveConfig({ seed: 5 });
  const run = RunFolder.create(dir, 'experiment', config);
  assert.throws(() => RunFolder.create(dir, 'experiment', config), /a run already exists here/);
  assert.equal(run.config.seed, 5);
  assert.equal(run.config.pretrain.lr, 1e-4);
  run.emit({ type: 'stage', stage: 'pretrain', status: 'started' });
  run.emit({ type: 'log', level: 'info', message: 'hello' });
  appendFileSync(join(dir, 'events.jsonl'), '{"type":"lo');
  const events = readEvents(dir);
  assert.deepEqual(events.map((e) => e.type), ['stage', 'log']);
  assert.equal(RunFolder.open(dir).status.stages.pretrain, 'running');
  run.setStatus('done');
  assert.equal(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).status, 'done');
});

test('processes sharing a run (parallel units) keep each other\'s stages in run.json', () => {
  const dir = claimRunDir(mkdtempSync(join(tmpdir(), 'mrcl-runs-')), 'r');
  RunFolder.create(dir, 'experiment', resolveConfig({}));
  // two openers, as two `mrcl unit` processes: each holds the run.json it read
  const a = RunFolder.open(dir);
  const b = RunFolder.open(dir);
  a.emit({ type: 'stage', stage: 'finetune/random/fold-0', status: 'started' });
  b.emit({ type: 'stage', stage: 'finetune/random/fold-1', status: 'started' });
  a.setStage('finetune/random/fold-0', 'done');
  b.setStatus('running', { backend: 'cpu' });
  const disk = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
  assert.deepEqual(disk.stages, { 'finetune/random/fold-0': 'done', 'finetune/random/fold-1': 'running' });
  assert.equal(disk.backend, 'cpu');
  assert.equal(existsSync(join(dir, 'run.json.lock')), false, 'the lock is released');
});

test('withFileLock waits for a live holder, breaks a stale one, and names the lock when it times out', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-lock-'));
  const lock = join(dir, 'x.lock');
  writeFileSync(lock, '');
  assert.throws(() => withFileLock(lock, () => 1, 100), /x\.lock: held by another process/);
  const old = new Date(Date.now() - 120_000);
  utimesSync(lock, old, old);
  assert.equal(withFileLock(lock, () => 42, 100), 42, 'a lock left by a killed process is broken');
  assert.equal(existsSync(lock), false);
  assert.throws(() => withFileLock(lock, () => {
    throw new Error('inner');
  }), /inner/);
  assert.equal(existsSync(lock), false, 'released when f throws');
});

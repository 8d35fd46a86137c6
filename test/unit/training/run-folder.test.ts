import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
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

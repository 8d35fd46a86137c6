import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RunManager } from '../../../src/extension/runs/run-manager';
import type { WorkerSpawn } from '../../../src/extension/runs/worker-process';
import type { Job } from '../../../src/extension/runs/job';

const FAKE = resolve('test/fixtures/extension/fake-worker.mjs');
const fake = (): WorkerSpawn => ({ command: process.execPath, args: [FAKE] });

function manager(max = 1, stopGraceMs = 5_000, spawnSpec = fake): RunManager {
  return new RunManager({ spawnSpec, maxParallel: () => max, stopGraceMs: () => stopGraceMs });
}

function runFolder(status: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-rm-'));
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ format: 'mrcl-run-1', id: 'r', kind: 'experiment', status, created: 'c', updated: 'u', stages: {} }));
  return dir;
}

test('a run goes queued → running → done, with its events folded into the job', async () => {
  const m = manager();
  const seen: string[] = [];
  m.onDidChange((j) => seen.push(j.status));
  const logs: string[] = [];
  m.onLog((l) => logs.push(l.message));
  const dir = runFolder('running');
  const job = m.start({ command: 'experiment', config: 'ok', runDir: dir });
  assert.equal(job.label, `Experiment ok`);
  const done = await m.whenSettled(job.id);
  assert.equal(done.status, 'done');
  assert.equal(done.runDir, dir);
  assert.deepEqual(done.progress, { type: 'progress', stage: 'pretrain', done: 1, total: 2, epoch: 0, epochs: 2, etaSeconds: 65 });
  assert.deepEqual(done.metrics, { aucInternal: 0.75 });
  assert.equal(seen[0], 'queued');
  assert.ok(seen.includes('running'));
  assert.equal(seen.at(-1), 'done');
  assert.ok(logs.includes('halfway'), 'engine log events reach onLog');
  await m.dispose();
});

test('at most maxParallel runs at once; the rest wait in order', async () => {
  const m = manager(1);
  const a = m.start({ command: 'experiment', config: 'slow' });
  const b = m.start({ command: 'experiment', config: 'ok' });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(m.get(a.id)!.status, 'running');
  assert.equal(m.get(b.id)!.status, 'queued', 'the second run waits for the first');
  m.stop(a.id);
  assert.equal((await m.whenSettled(a.id)).status, 'cancelled');
  assert.equal((await m.whenSettled(b.id)).status, 'done');
  await m.dispose();
});

test('two runs in parallel when maxParallel is 2', async () => {
  const m = manager(2);
  const a = m.start({ command: 'experiment', config: 'slow' });
  const b = m.start({ command: 'experiment', config: 'slow' });
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual([m.get(a.id)!.status, m.get(b.id)!.status], ['running', 'running']);
  assert.notEqual(m.get(a.id)!.pid, m.get(b.id)!.pid, 'one worker process per run');
  m.stop(a.id);
  m.stop(b.id);
  await Promise.all([m.whenSettled(a.id), m.whenSettled(b.id)]);
  await m.dispose();
});

test('stopping a queued run cancels it without starting a worker', async () => {
  const m = manager(1);
  const a = m.start({ command: 'experiment', config: 'slow' });
  const b = m.start({ command: 'experiment', config: 'ok' });
  m.stop(b.id);
  const settled = await m.whenSettled(b.id);
  assert.equal(settled.status, 'cancelled');
  assert.equal(settled.pid, undefined);
  m.stop(a.id);
  await m.whenSettled(a.id);
  await m.dispose();
});

test('a crashed worker fails its run with its last output, and run.json is not left running', async () => {
  const m = manager();
  const dir = runFolder('running');
  const job = m.start({ command: 'experiment', config: 'crash', runDir: dir });
  const j = await m.whenSettled(job.id);
  assert.equal(j.status, 'failed');
  // the first line (what a notification shows) already says why
  assert.equal(j.error!.split('\n')[0], 'the engine worker exited with code 3 before the run finished: fatal: out of memory in conv3d');
  const info = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
  assert.equal(info.status, 'failed');
  assert.match(info.error, /exited with code 3 before the run finished: fatal: out of memory/);
  await m.dispose();
});

test('a run that ignores stop is killed after the grace period and marked cancelled (resumable)', async () => {
  const m = manager(1, 300);
  const dir = runFolder('running');
  const job = m.start({ command: 'experiment', config: 'hang', runDir: dir });
  await new Promise((r) => setTimeout(r, 300));
  m.stop(job.id);
  assert.equal(m.get(job.id)!.stopping, true);
  const j = await m.whenSettled(job.id);
  assert.equal(j.status, 'cancelled');
  assert.match(j.error!, /killed/);
  assert.equal(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).status, 'cancelled');
  await m.dispose();
});

test('a node binary that cannot start fails the run with the reason', async () => {
  const m = manager(1, 1000, () => ({ command: '/nonexistent/node', args: [FAKE] }));
  const j = await m.whenSettled(m.start({ command: 'validate', manifest: 'x' }).id);
  assert.equal(j.status, 'failed');
  assert.match(j.error!, /cannot start \/nonexistent\/node: ENOENT/);
  await m.dispose();
});

test('a spawn spec that throws (bad setting) fails the run before any process', async () => {
  const m = manager(1, 1000, () => {
    throw new Error('mrcl.nodePath: "nodez" is not an executable file on PATH');
  });
  const j = await m.whenSettled(m.start({ command: 'validate', manifest: 'x' }).id);
  assert.equal(j.status, 'failed');
  assert.match(j.error!, /mrcl.nodePath/);
  await m.dispose();
});

test('stray stdout lines become log lines, not protocol errors', async () => {
  const m = manager();
  const lines: string[] = [];
  m.onLog((l) => lines.push(l.message));
  const j = await m.whenSettled(m.start({ command: 'validate', config: 'noise' }).id);
  assert.equal(j.status, 'done');
  assert.ok(lines.includes('Hi there, a stray line'));
  await m.dispose();
});

test('dispose stops running runs and cancels queued ones', async () => {
  const m = manager(1);
  const a = m.start({ command: 'experiment', config: 'slow' });
  const b = m.start({ command: 'experiment', config: 'slow' });
  await new Promise((r) => setTimeout(r, 200));
  const jobs: Job[] = [];
  m.onDidChange((j) => jobs.push({ ...j }));
  await m.dispose();
  assert.equal(m.get(a.id)!.status, 'cancelled');
  assert.equal(m.get(b.id)!.status, 'cancelled');
  assert.throws(() => m.start({ command: 'validate', manifest: 'x' }), /shut down/);
});

// One writer per run: the lock file names its holder, a second writer is
// refused with who holds it, a lock whose process is gone is broken, one
// from another host is reported with that host, and the lock goes away when
// its process exits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireLock, checkNotLocked, readLock, releaseLock, RunLockedError, slurmTaskId, WRITER_LOCK } from '../../../src/engine/training/run-lock';

const ROOT = join(__dirname, '..', '..', '..');

function lockFile(dir: string, holder: { pid: number; host?: string; token?: string; command?: string }): string {
  const path = join(dir, WRITER_LOCK);
  writeFileSync(path, JSON.stringify({ format: 'mrcl-lock-1', host: hostname(), started: '2026-01-01T00:00:00.000Z', command: 'mrcl experiment --resume R', token: 'other', ...holder }));
  return path;
}

/** The pid of a process that has exited (its pid is free on this host). */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}

test('a lock records pid, host, start and command; a second writer is refused with who holds it; release removes it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-lock-'));
  const path = join(dir, WRITER_LOCK);
  const token = acquireLock(path, 'run R');
  const h = readLock(path)!;
  assert.equal(h.pid, process.pid);
  assert.equal(h.host, hostname());
  assert.ok(Math.abs(Date.parse(h.started) - Date.now()) < 60_000);
  assert.equal(h.command, process.argv.slice(1).join(' ').slice(0, 500));
  assert.throws(
    () => acquireLock(path, 'run R'),
    (e: unknown) => e instanceof RunLockedError && e.message.includes(`run R is being written by process ${process.pid} on ${hostname()}`),
  );
  // the holder's own token passes the check a unit makes; anything else does not
  checkNotLocked(path, 'run R', token);
  assert.throws(() => checkNotLocked(path, 'run R', undefined), RunLockedError);
  releaseLock(path, token);
  assert.ok(!existsSync(path));
  releaseLock(path, token); // twice is harmless
});

test('a live process of this host holds its lock; a dead one\'s lock is stale and taken over', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-lock-'));
  const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
  try {
    const path = lockFile(dir, { pid: sleeper.pid! });
    assert.throws(() => acquireLock(path, 'run R'), new RegExp(`process ${sleeper.pid} on ${hostname()}, started 2026-01-01T00:00:00.000Z: mrcl experiment --resume R`));
    lockFile(dir, { pid: deadPid() });
    const token = acquireLock(path, 'run R');
    assert.equal(readLock(path)!.pid, process.pid);
    releaseLock(path, token);
  } finally {
    sleeper.kill();
  }
});

test('a lock from another host cannot be checked here: refused, naming the host and what to do', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-lock-'));
  const path = lockFile(dir, { pid: deadPid(), host: 'node17.cluster' });
  assert.throws(() => acquireLock(path, 'run R'), (e: unknown) => e instanceof Error && e.message.includes('on node17.cluster') && e.message.includes(`if that process no longer runs on node17.cluster, delete ${path}`));
  // a lock that is not one is an error naming the file, not a silent takeover
  writeFileSync(path, '\u0000garbage');
  assert.throws(() => acquireLock(path, 'run R'), new RegExp(`${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not a valid lock file`));
});

test('a process that exits holding a lock leaves none behind', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-lock-'));
  const path = join(dir, WRITER_LOCK);
  const script = `const { acquireLock } = require(${JSON.stringify(join(ROOT, 'src/engine/training/run-lock.ts'))}); acquireLock(${JSON.stringify(path)}, 'run R'); require('node:fs').writeFileSync(${JSON.stringify(path + '.seen')}, require('node:fs').readFileSync(${JSON.stringify(path)})); process.exit(3);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', cwd: ROOT });
  assert.equal(r.status, 3, r.stderr);
  assert.equal(JSON.parse(readFileSync(`${path}.seen`, 'utf8')).pid, r.pid);
  assert.ok(!existsSync(path), 'the lock is released on exit');
});

test('a Slurm task is named as jobs.json names it: ARRAYJOB_TASK for an array task, else the job id', () => {
  assert.equal(slurmTaskId({ SLURM_JOB_ID: '102', SLURM_ARRAY_JOB_ID: '101', SLURM_ARRAY_TASK_ID: '1' }), '101_1');
  assert.equal(slurmTaskId({ SLURM_JOB_ID: '100' }), '100');
  assert.equal(slurmTaskId({}), undefined);
});

test('a lock file that is a link to /dev/zero is refused quickly, naming it, not read without limit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-lock-zero-'));
  const path = join(dir, '.writer.lock');
  symlinkSync('/dev/zero', path);
  const t0 = Date.now();
  assert.throws(() => readLock(path), (e: Error) => e.message.startsWith(path) && /not a regular file|limit/.test(e.message));
  assert.ok(Date.now() - t0 < 2000);
});

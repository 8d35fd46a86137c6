// Two writers on one run are refused (issue #14, class 5): a resume, a
// unit (a Slurm task) or a Slurm resubmission while another process writes
// the run. And a resume on changed data or config is refused, naming what
// changed (class 6).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { firstStepRun, tinyWorkspace } from './helpers';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createdRun } from './run-fixtures';
import { runStudy, runUnit } from '../../../src/engine/experiment/study';
import { pretrainPlan } from '../../../src/engine/experiment/units';
import { checkFingerprint } from '../../../src/engine/experiment/fingerprint';
import { readEvents } from '../../../src/engine/training/run-folder';
import { RunLockedError, WRITER_LOCK } from '../../../src/engine/training/run-lock';
import { openDataset } from '../../../src/engine/training/dataset';
import { resumeSlurm } from '../../../src/engine/slurm/submit';
import { writeJobs, type SlurmJobs } from '../../../src/engine/slurm/jobs';
import type { ToolResult } from '../../../src/engine/slurm/tools';

function liveProcess(): ChildProcess {
  return spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
}

function foreignLock(path: string, pid: number): void {
  writeFileSync(path, JSON.stringify({ format: 'mrcl-lock-1', pid, host: hostname(), started: '2026-01-01T00:00:00.000Z', command: 'mrcl pretrain --resume R', token: 'theirs' }));
}

test('a second --resume of a run that another process is writing is refused, naming it, and writes nothing', async () => {
  const { run } = await createdRun();
  const other = liveProcess();
  try {
    foreignLock(run.path(WRITER_LOCK), other.pid!);
    const before = readFileSync(run.path('run.json'), 'utf8');
    await assert.rejects(
      runStudy({ kind: 'pretrain', runDir: run.dir, emit: () => {} }),
      (e: unknown) => e instanceof RunLockedError && e.message.includes(`run ${run.dir} is being written by process ${other.pid} on ${hostname()}`) && e.message.includes('mrcl pretrain --resume R'),
    );
    assert.equal(readFileSync(run.path('run.json'), 'utf8'), before, 'run.json untouched');
    assert.deepEqual(readEvents(run.dir), [], 'no event recorded');
    assert.ok(!existsSync(run.path('pretrain')), 'no unit started');
    assert.equal(JSON.parse(readFileSync(run.path(WRITER_LOCK), 'utf8')).pid, other.pid, 'the holder keeps its lock');
  } finally {
    other.kill();
  }
});

test('a unit (a Slurm task) is refused while another process writes the run, and a resume while a unit runs elsewhere', async () => {
  const { run, config } = await createdRun();
  const other = liveProcess();
  try {
    foreignLock(run.path(WRITER_LOCK), other.pid!);
    const ds = openDataset(config, '/');
    const unit = pretrainPlan().pretrain[0]!;
    await assert.rejects(runUnit(run, unit, ds, { emit: () => {} }), (e: unknown) => e instanceof RunLockedError && e.message.includes(`process ${other.pid}`));
    // with the holder's token (a --workers child of that writer) it is let through to the unit's own lock
    mkdirSync(run.path('pretrain'), { recursive: true });
    foreignLock(run.path('pretrain', WRITER_LOCK), other.pid!);
    await assert.rejects(runUnit(run, unit, ds, { emit: () => {}, runToken: 'theirs' }), (e: unknown) => e instanceof RunLockedError && e.message.startsWith(`unit pretrain of run ${run.dir} is being written by process ${other.pid}`));
    // a whole-run resume while that unit runs elsewhere
    const { rmSync } = await import('node:fs');
    rmSync(run.path(WRITER_LOCK));
    await assert.rejects(runStudy({ kind: 'pretrain', runDir: run.dir, emit: () => {} }), /unit pretrain of run .* is being written by process/);
    assert.ok(!existsSync(run.path(WRITER_LOCK)), 'the refused resume released the run lock it took');
  } finally {
    other.kill();
  }
});

test('resubmitting to Slurm is refused while a local process writes the run', async () => {
  const { run } = await createdRun('experiment');
  const other = liveProcess();
  try {
    foreignLock(run.path(WRITER_LOCK), other.pid!);
    const tools = () => {
      throw new Error('no Slurm tool may run');
    };
    assert.throws(() => resumeSlurm(run.dir, { tools }), (e: unknown) => e instanceof RunLockedError && e.message.includes(`process ${other.pid}`));
  } finally {
    other.kill();
  }
});

test('resume refuses changed data or config and says what changed: cases, files, config keys', async () => {
  const { run, config } = await createdRun();
  assert.equal(checkFingerprint(run), true, 'unchanged: nothing to report');
  const manifestPath = config.data.manifest;
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { cases: { id: string; marker: string; image: string }[] };
  const markers = [...new Set(manifest.cases.map((c) => c.marker))];
  assert.ok(markers.length >= 2);
  const relabelled = manifest.cases[0]!;
  relabelled.marker = markers.find((m) => m !== relabelled.marker)!;
  const dropped = manifest.cases.pop()!;
  writeFileSync(manifestPath, JSON.stringify(manifest));
  const image = join(manifestPath, '..', manifest.cases[1]!.image);
  const size = readFileSync(image).length;
  appendFileSync(image, Buffer.alloc(3));
  const cfg = JSON.parse(readFileSync(run.path('config.json'), 'utf8'));
  const lr = cfg.pretrain.lr;
  cfg.pretrain.lr = lr * 2;
  writeFileSync(run.path('config.json'), JSON.stringify(cfg));

  let message = '';
  await assert.rejects(runStudy({ kind: 'pretrain', runDir: run.dir, emit: () => {} }), (e: unknown) => ((message = (e as Error).message), true));
  assert.match(message, /the data or config changed since this run was created/);
  assert.ok(message.includes(`manifest ${manifestPath}: its content changed`), message);
  assert.ok(message.includes(`cases removed: ${dropped.id}`), message);
  assert.ok(message.includes(`cases changed (label, cohort, report or paths): ${relabelled.id}`), message);
  assert.ok(message.includes(`files changed: ${image} (size ${size} → ${size + 3} bytes)`), message);
  assert.ok(message.includes(`config keys changed: pretrain.lr (${lr} → ${lr * 2})`), message);
  assert.ok(!existsSync(run.path('pretrain')), 'nothing ran');
  assert.ok(!existsSync(run.path(WRITER_LOCK)), 'the lock is released');
  assert.equal(JSON.parse(readFileSync(run.path('run.json'), 'utf8')).status, 'running', 'the run itself is not marked failed');
});

test('mrcl resume --slurm clears the lock of its Slurm task that failed, and refuses a unit another process may hold', async () => {
  const { run } = await createdRun('experiment');
  const unitDir = run.path('finetune', 'random', 'fold-0');
  mkdirSync(unitDir, { recursive: true });
  const lock = join(unitDir, WRITER_LOCK);
  const held = (extra: Record<string, unknown>) =>
    writeFileSync(lock, JSON.stringify({ format: 'mrcl-lock-1', pid: 4242, host: 'node3.cluster', started: '2026-01-01T00:00:00.000Z', command: 'mrcl unit R finetune/random/fold-0', token: 't', ...extra }));
  // fold-0 ran as task 0 of array job 101, which Slurm reports failed (killed on its node, lock left behind)
  writeJobs(run.dir, {
    format: 'mrcl-slurm-1',
    submissions: [{ round: 1, role: 'finetune', jobId: '101', script: '/x/finetune-1.sbatch', units: ['finetune/random/fold-0', 'finetune/random/fold-1'], array: true, submitted: '2026-01-01T00:00:00.000Z' }],
  } satisfies SlurmJobs);
  const tools = (tool: string, args: readonly string[]): ToolResult => {
    if (tool === 'scontrol' && args[3] === '101') return { status: 0, stdout: 'JobId=102 ArrayJobId=101 ArrayTaskId=0 JobState=FAILED Reason=NonZeroExitCode ExitCode=1:0 StdOut=/x/f.log\n', stderr: '' };
    return { status: 1, stdout: '', stderr: 'Invalid job id specified\n' };
  };
  // a lock of another task (not the one Slurm reports ended) may be live: refused, with its host
  held({ slurmJob: '99_0' });
  assert.throws(() => resumeSlurm(run.dir, { dryRun: true, tools }), (e: unknown) => e instanceof RunLockedError && e.message.includes('on node3.cluster (Slurm job 99_0)') && e.message.includes(`delete ${lock}`));
  // not a Slurm task: likewise
  held({});
  assert.throws(() => resumeSlurm(run.dir, { dryRun: true, tools }), RunLockedError);
  // the failed task's own lock is stale: cleared, and the unit resubmitted
  held({ slurmJob: '101_0' });
  const r = resumeSlurm(run.dir, { dryRun: true, tools });
  assert.ok(r.round?.units.includes('finetune/random/fold-0'));
  assert.ok(!existsSync(lock), 'the failed task\'s lock is cleared');
});

test('the CLI stopped by SIGTERM leaves no lock: the run and its unit are free to resume', { timeout: 600_000 }, async () => {
  const ws = await tinyWorkspace({ pretrain: { epochs: 3, batchSize: 4 } });
  const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'cli-entry.ts'), 'pretrain', ws.configPath], { stdio: 'ignore' });
  const outDir = join(ws.dir, 'runs');
  const runDir = await firstStepRun(outDir, child);
  // both locks are held while it trains
  assert.ok(existsSync(join(runDir, WRITER_LOCK)));
  assert.ok(existsSync(join(runDir, 'pretrain', WRITER_LOCK)));
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', (c) => r(c))));
  assert.equal(code, 130);
  assert.ok(!existsSync(join(runDir, WRITER_LOCK)), 'run lock released');
  assert.ok(!existsSync(join(runDir, 'pretrain', WRITER_LOCK)), 'unit lock released');
  assert.equal(JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')).stages.pretrain, 'cancelled');
});

// Submission, status, resume and cancel against a scripted stand-in for
// Slurm's tools (the real cluster is test/slurm): what is submitted in which
// order with which dependencies, what is recorded, and the errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../../src/engine/config/resolve';
import { submitStudy, resumeSlurm, cancelSlurmRun } from '../../../src/engine/slurm/submit';
import { slurmRunStatus, formatStatus } from '../../../src/engine/slurm/status';
import { readJobs } from '../../../src/engine/slurm/jobs';
import { SlurmMissingError, type ToolResult } from '../../../src/engine/slurm/tools';
import { tinyWorkspace } from '../experiment/helpers';

class FakeSlurm {
  calls: string[][] = [];
  nextId = 100;
  partitions = 'debug*\ngpu\n';
  scontrol = new Map<string, string>();
  reject?: string;
  missing = false;
  run = (tool: string, args: readonly string[]): ToolResult => {
    if (this.missing) throw new SlurmMissingError(`${tool} not found on PATH: run this on a Slurm login node (or load the Slurm module first)`);
    this.calls.push([tool, ...args]);
    const ok = (stdout = ''): ToolResult => ({ status: 0, stdout, stderr: '' });
    if (tool === 'sbatch' && args[0] === '--version') return ok('slurm 22.05.8\n');
    if (tool === 'sbatch') {
      if (this.reject) return { status: 1, stdout: '', stderr: this.reject };
      return ok(`${this.nextId++}\n`);
    }
    if (tool === 'sinfo') return ok(this.partitions);
    if (tool === 'scontrol') {
      const out = this.scontrol.get(args[3]!);
      return out === undefined ? { status: 1, stdout: '', stderr: 'slurm_load_jobs error: Invalid job id specified\n' } : ok(out);
    }
    if (tool === 'scancel') return ok();
    throw new Error(`unexpected tool ${tool}`);
  };
  submissions = () => this.calls.filter((c) => c[0] === 'sbatch' && c[1] === '--parsable');
}

async function workspace() {
  const ws = await tinyWorkspace();
  return { ws, ...loadConfig(ws.configPath) };
}

test('experiment --slurm: pretraining job, fine-tuning array after it, final job after both; jobs.json records them', { timeout: 120_000 }, async () => {
  const { config, baseDir } = await workspace();
  const fake = new FakeSlurm();
  const r = submitStudy('experiment', config, baseDir, { overrides: { partition: 'gpu', cpusPerTask: 2 }, tools: fake.run });
  const subs = fake.submissions();
  assert.deepEqual(
    subs.map((c) => c.slice(2).map((a) => a.replace(r.runDir, 'RUN'))),
    [['RUN/slurm/pretrain-1.sbatch'], ['--dependency=afterok:100', 'RUN/slurm/finetune-1.sbatch'], ['--dependency=afterany:100:101', 'RUN/slurm/finish-1.sbatch']],
  );
  const jobs = readJobs(r.runDir);
  assert.deepEqual(
    jobs.submissions.map((s) => [s.round, s.role, s.jobId, s.array, s.units.length]),
    [
      [1, 'pretrain', '100', false, 1],
      [1, 'finetune', '101', true, 4],
      [1, 'finish', '102', false, 0],
    ],
  );
  // medicalnet has no checkpoint: not run, so 2 initialisations × 2 folds
  assert.equal(readFileSync(join(r.runDir, 'slurm', 'finetune-1.units'), 'utf8'), 'finetune/random/fold-0\nfinetune/random/fold-1\nfinetune/pretrained/fold-0\nfinetune/pretrained/fold-1\n');
  assert.match(readFileSync(join(r.runDir, 'slurm', 'finetune-1.sbatch'), 'utf8'), /#SBATCH --array=0-3\n[\s\S]*#SBATCH --partition=gpu\n[\s\S]*#SBATCH --cpus-per-task=2\n/);
  // a status with Slurm's records: pretraining running, the array pending on it
  fake.scontrol.set('100', 'JobId=100 JobName=mrcl-pretrain-1 JobState=RUNNING Reason=None ExitCode=0:0 StdOut=/x/p.log\n');
  fake.scontrol.set('101', 'JobId=101 ArrayJobId=101 ArrayTaskId=0-3 JobState=PENDING Reason=Dependency ExitCode=0:0 StdOut=/x/f_%A_%a.log\n');
  const s = slurmRunStatus(r.runDir, fake.run);
  assert.deepEqual(
    s.units.map((u) => [u.id, u.state, u.jobId]),
    [
      ['pretrain', 'running', '100'],
      ['finetune/random/fold-0', 'pending', '101_0'],
      ['finetune/random/fold-1', 'pending', '101_1'],
      ['finetune/pretrained/fold-0', 'pending', '101_2'],
      ['finetune/pretrained/fold-1', 'pending', '101_3'],
    ],
  );
  assert.equal(s.units[1]!.log, join(r.runDir, 'slurm', 'logs', 'finetune-1_101_0.log'), 'log path from the pattern when scontrol shows an unexpanded one');
  assert.equal(s.done, 0);
  assert.equal(s.results, undefined);
});

test('ablate --slurm: the six pretrainings as one array, the folds after it', { timeout: 120_000 }, async () => {
  const { config, baseDir } = await workspace();
  const fake = new FakeSlurm();
  const r = submitStudy('ablation', config, baseDir, { tools: fake.run });
  const jobs = readJobs(r.runDir);
  assert.deepEqual(jobs.submissions.map((s) => [s.role, s.array, s.units.length, s.dependency]), [
    ['pretrain', true, 6, undefined],
    ['finetune', true, 12, 'afterok:100'],
    ['finish', false, 0, 'afterany:100:101'],
  ]);
  assert.match(readFileSync(join(r.runDir, 'slurm', 'pretrain-1.sbatch'), 'utf8'), /#SBATCH --array=0-5\n/);
});

test('status and resume: failed, cancelled and forgotten units are resubmitted, done and running ones are not', { timeout: 120_000 }, async () => {
  const { config, baseDir } = await workspace();
  const fake = new FakeSlurm();
  const r = submitStudy('experiment', config, baseDir, { tools: fake.run });
  // pretraining done; fold tasks: 0 done, 1 failed, 2 cancelled, 3 forgotten by Slurm → not run
  const mark = (stage: string, file: string) => {
    mkdirSync(join(r.runDir, stage), { recursive: true });
    writeFileSync(join(r.runDir, stage, file), '{}\n');
  };
  mark('pretrain', 'done.json');
  mark('finetune/random/fold-0', 'metrics.json');
  mkdirSync(join(r.runDir, 'slurm', 'logs'), { recursive: true });
  writeFileSync(join(r.runDir, 'slurm', 'logs', 'finetune-1_101_1.log'), 'mrcl unit finetune/random/fold-1\nError: out of cheese\n');
  fake.scontrol.set(
    '101',
    [
      'JobId=102 ArrayJobId=101 ArrayTaskId=1 JobState=FAILED Reason=NonZeroExitCode ExitCode=1:0 StdOut=' + join(r.runDir, 'slurm', 'logs', 'finetune-1_101_1.log'),
      'JobId=103 ArrayJobId=101 ArrayTaskId=2 JobState=CANCELLED Reason=None ExitCode=0:15 StdOut=/nowhere.log',
      '',
    ].join('\n'),
  );
  const s = slurmRunStatus(r.runDir, fake.run);
  assert.deepEqual(s.units.map((u) => u.state), ['done', 'done', 'failed', 'cancelled', 'not run']);
  assert.equal(s.units[2]!.logTail, 'mrcl unit finetune/random/fold-1\nError: out of cheese');
  assert.equal(fake.calls.filter((c) => c[0] === 'scontrol').length, 1, 'only the jobs of unfinished units are queried');
  const text = formatStatus(s);
  assert.match(text, /finetune\/random\/fold-1\s+failed\s+101_1\s+FAILED exit 1:0 \(NonZeroExitCode\)/);
  assert.match(text, /2\/5 done, 0 running, 0 pending, 1 failed, 1 cancelled, 1 not run/);
  assert.match(text, /--- finetune\/random\/fold-1 \(failed\): .*finetune-1_101_1\.log\nmrcl unit finetune\/random\/fold-1\nError: out of cheese/);

  fake.nextId = 200;
  const res = resumeSlurm(r.runDir, { tools: fake.run });
  assert.deepEqual(res.round!.units, ['finetune/random/fold-1', 'finetune/pretrained/fold-0', 'finetune/pretrained/fold-1']);
  assert.deepEqual(res.done, ['pretrain', 'finetune/random/fold-0']);
  const jobs = readJobs(r.runDir);
  assert.deepEqual(jobs.submissions.filter((x) => x.round === 2).map((x) => [x.role, x.jobId, x.dependency]), [
    ['finetune', '200', undefined],
    ['finish', '201', 'afterany:200'],
  ]);
  assert.equal(readFileSync(join(r.runDir, 'slurm', 'finetune-2.units'), 'utf8'), 'finetune/random/fold-1\nfinetune/pretrained/fold-0\nfinetune/pretrained/fold-1\n');
  // the new array's task 0 is now fold-1's task
  fake.scontrol.set('200', 'JobId=200 ArrayJobId=200 ArrayTaskId=0-2 JobState=PENDING Reason=Priority ExitCode=0:0\n');
  const s2 = slurmRunStatus(r.runDir, fake.run);
  assert.deepEqual(s2.units.map((u) => [u.state, u.jobId ?? '']), [
    ['done', '100'],
    ['done', '101_0'],
    ['pending', '200_0'],
    ['pending', '200_1'],
    ['pending', '200_2'],
  ]);
  // nothing left to resubmit while they wait
  assert.equal(resumeSlurm(r.runDir, { tools: fake.run }).round, undefined);

  cancelSlurmRun(r.runDir, fake.run);
  assert.deepEqual(fake.calls.filter((c) => c[0] === 'scancel').map((c) => c[1]), ['100', '101', '102', '200', '201']);
  assert.ok(existsSync(join(r.runDir, 'finetune/random/fold-0/metrics.json')), 'finished units are kept');
  assert.equal(JSON.parse(readFileSync(join(r.runDir, 'run.json'), 'utf8')).status, 'cancelled');
});

test('resume waits for a pretraining that is still running', { timeout: 120_000 }, async () => {
  const { config, baseDir } = await workspace();
  const fake = new FakeSlurm();
  const r = submitStudy('experiment', config, baseDir, { tools: fake.run });
  fake.scontrol.set('100', 'JobId=100 JobState=RUNNING Reason=None ExitCode=0:0\n');
  fake.scontrol.set('101', 'JobId=101 ArrayJobId=101 ArrayTaskId=0-3 JobState=CANCELLED Reason=DependencyNeverSatisfied ExitCode=0:0\n');
  fake.nextId = 300;
  const res = resumeSlurm(r.runDir, { tools: fake.run });
  assert.deepEqual(res.active, ['pretrain']);
  assert.deepEqual(readJobs(r.runDir).submissions.filter((x) => x.round === 2).map((x) => [x.role, x.dependency]), [
    ['finetune', 'afterok:100'],
    ['finish', 'afterany:100:300'],
  ]);
});

test('errors: sbatch missing, unknown partition, rejected submission (with Slurm\'s message); no run folder before the checks pass', { timeout: 120_000 }, async () => {
  const { ws, config, baseDir } = await workspace();
  const fake = new FakeSlurm();
  fake.missing = true;
  assert.throws(() => submitStudy('experiment', config, baseDir, { tools: fake.run }), /sbatch not found on PATH: run this on a Slurm login node/);
  fake.missing = false;
  assert.throws(() => submitStudy('experiment', config, baseDir, { tools: fake.run, overrides: { partition: 'nosuch' } }), /unknown Slurm partition "nosuch" \(this cluster has: debug, gpu\)/);
  assert.ok(!existsSync(join(ws.dir, 'runs')), 'no run folder yet');
  fake.reject = 'sbatch: error: Batch job submission failed: Requested node configuration is not available\n';
  assert.throws(() => submitStudy('experiment', config, baseDir, { tools: fake.run }), /Slurm rejected .*pretrain-1\.sbatch: sbatch: error: Batch job submission failed: Requested node configuration is not available\n\(run folder .* is kept with its scripts: fix the problem, then submit with: mrcl resume .* --slurm\)/);
  // run ids are per second
  await new Promise((r) => setTimeout(r, 1100));
  // a dry run needs no Slurm at all and submits nothing
  fake.missing = true;
  const dry = submitStudy('experiment', config, baseDir, { tools: fake.run, dryRun: true });
  assert.deepEqual(dry.scripts.map((s) => s.role), ['pretrain', 'finetune', 'finish']);
  assert.equal(dry.submissions.length, 0);
  assert.ok(!existsSync(join(dry.runDir, 'slurm', 'jobs.json')));
  assert.deepEqual(readdirSync(join(dry.runDir, 'slurm')).sort(), ['finetune-1.sbatch', 'finetune-1.units', 'finish-1.sbatch', 'logs', 'pretrain-1.sbatch', 'pretrain-1.units']);
});

// End to end on a real single-node Slurm (started here as root; skipped
// with a message otherwise): a tiny experiment submitted with --slurm runs
// every fine-tuning unit as an array task and gives the same tables as the
// same experiment run locally; a cancelled task and a failing task are
// reported (the failure with its log) and `mrcl resume --slurm` completes
// the run.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tinyWorkspace } from '../unit/experiment/helpers';
import { cannotStart, startCluster, type Cluster } from './cluster';
import type { SlurmRunStatus } from '../../src/engine/slurm/status';
import type { SlurmJobs } from '../../src/engine/slurm/jobs';

const ROOT = join(__dirname, '..', '..');
const MRCL = join(ROOT, 'bin', 'mrcl.js');
const skip = cannotStart();
if (skip) console.log(`# Slurm tests skipped: ${skip}`);
let cluster: Cluster | undefined;

before(async () => {
  if (!skip) cluster = await startCluster();
});
after(() => cluster?.stop());
process.on('exit', () => cluster?.stop());

function mrcl(args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MRCL, ...args], { encoding: 'utf8', env: cluster?.env ?? process.env, timeout: 600_000 });
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

function status(run: string): SlurmRunStatus {
  const r = mrcl(['status', run, '--json', '--no-build']);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as SlurmRunStatus;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until no unit is pending or running (or `until` holds). */
async function waitFor(run: string, until: (s: SlurmRunStatus) => boolean = (s) => s.counts.pending + s.counts.running === 0, limitMs = 600_000): Promise<SlurmRunStatus> {
  const t0 = Date.now();
  for (;;) {
    const s = status(run);
    if (until(s)) return s;
    if (Date.now() - t0 > limitMs) throw new Error(`timed out waiting on ${run}: ${JSON.stringify(s.counts)}`);
    await sleep(1000);
  }
}

/** Waits until the run's jobs have all left the queue (the final job included). */
async function waitForQueue(run: string): Promise<void> {
  const jobs = JSON.parse(readFileSync(join(run, 'slurm', 'jobs.json'), 'utf8')) as SlurmJobs;
  const ids = jobs.submissions.map((s) => s.jobId).join(',');
  for (let i = 0; i < 600; i++) {
    const q = spawnSync('squeue', ['-h', '-j', ids, '-o', '%i %T'], { encoding: 'utf8', env: cluster!.env });
    if (!q.stdout.trim()) return;
    await sleep(1000);
  }
  throw new Error(`jobs of ${run} still queued`);
}

function submit(args: string[]): string {
  const r = mrcl(args);
  assert.equal(r.status, 0, r.stderr);
  const m = /run folder: (.*)/.exec(r.stderr);
  assert.ok(m, r.stderr);
  return m[1]!.trim();
}

const tables = (dir: string) => Object.fromEntries(readdirSync(join(dir, 'tables')).map((f) => [f, readFileSync(join(dir, 'tables', f), 'utf8')]));

const SLURM_FLAGS = ['--slurm', '--cpus-per-task', '1', '--mem', '1G', '--time', '00:20:00'];

test('a tiny experiment on Slurm: array tasks, same tables as locally, cancel + failure + resume', { skip, timeout: 1_500_000 }, async () => {
  assert.ok(existsSync(join(ROOT, 'dist', 'cli.js')), 'dist/cli.js is missing: run `npm run build` first (npm test does)');
  const ws = await tinyWorkspace();
  const local = mrcl(['experiment', ws.configPath]);
  assert.equal(local.status, 0, local.stderr);
  const localRun = /done: (.*)/.exec(local.stderr)![1]!.trim();

  // 1. the whole experiment on Slurm
  const run = submit(['experiment', ws.configPath, ...SLURM_FLAGS, '--partition', cluster!.partition]);
  const jobs = JSON.parse(readFileSync(join(run, 'slurm', 'jobs.json'), 'utf8')) as SlurmJobs;
  const fine = jobs.submissions.find((s) => s.role === 'finetune')!;
  const pre = jobs.submissions.find((s) => s.role === 'pretrain')!;
  assert.deepEqual(pre.units, ['pretrain']);
  assert.equal(fine.array, true);
  assert.equal(fine.dependency, `afterok:${pre.jobId}`);
  assert.deepEqual([...fine.units].sort(), ['finetune/pretrained/fold-0', 'finetune/pretrained/fold-1', 'finetune/random/fold-0', 'finetune/random/fold-1']);
  const s1 = await waitFor(run);
  assert.equal(s1.done, s1.total, JSON.stringify(s1.units));
  // every fine-tuning unit ran as its own task of the array (its log names the unit and the task)
  for (const [i, unit] of fine.units.entries()) {
    const log = readFileSync(join(run, 'slurm', 'logs', `finetune-1_${fine.jobId}_${i}.log`), 'utf8');
    assert.match(log, new RegExp(`mrcl unit ${unit} \\(job \\d+, array task ${i}\\)`));
  }
  await waitForQueue(run); // the final job builds the tables
  assert.ok(existsSync(join(run, 'results.md')), 'the final job built the tables');
  assert.deepEqual(tables(run), tables(localRun));
  assert.equal(JSON.parse(readFileSync(join(run, 'run.json'), 'utf8')).status, 'done');

  // 2. a task that fails and a task cancelled while running, then resume
  const marker = join(ws.dir, 'fail-and-hold');
  writeFileSync(marker, '');
  const hold = 'finetune/pretrained/fold-0';
  const failing = 'finetune/random/fold-1';
  const preamble = [
    `if [ -e ${marker} ] && [ "$MRCL_UNIT" = ${failing} ]; then echo "simulated failure of $MRCL_UNIT" >&2; exit 3; fi`,
    `if [ -e ${marker} ] && [ "$MRCL_UNIT" = ${hold} ]; then sleep 300; fi`,
  ];
  const run2 = submit(['experiment', ws.configPath, ...SLURM_FLAGS, ...preamble.flatMap((l) => ['--preamble', l])]);
  const s2 = await waitFor(run2, (s) => s.units.find((u) => u.id === hold)!.state === 'running');
  const held = s2.units.find((u) => u.id === hold)!;
  const sc = spawnSync('scancel', [held.jobId!], { encoding: 'utf8', env: cluster!.env });
  assert.equal(sc.status, 0, sc.stderr);
  const s3 = await waitFor(run2);
  const byId = new Map(s3.units.map((u) => [u.id, u]));
  assert.equal(byId.get(hold)!.state, 'cancelled', JSON.stringify(byId.get(hold)));
  assert.equal(byId.get(failing)!.state, 'failed', JSON.stringify(byId.get(failing)));
  assert.match(byId.get(failing)!.logTail ?? '', /simulated failure of finetune\/random\/fold-1/);
  assert.equal(s3.done, s3.total - 2);
  // the text report shows the failed task's log
  const text = mrcl(['status', run2, '--no-build']);
  assert.match(text.stdout, /finetune\/random\/fold-1\s+failed/);
  assert.match(text.stdout, /--- finetune\/random\/fold-1 \(failed\): .*\n[\s\S]*simulated failure/);
  assert.ok(!existsSync(join(run2, 'results.md')), 'no tables while units are missing');
  await waitForQueue(run2);

  rmSync(marker);
  const before = readFileSync(join(run2, 'finetune', 'random', 'fold-0', 'metrics.json'), 'utf8');
  const res = mrcl(['resume', run2, '--slurm', '--cpus-per-task', '1', '--mem', '1G']);
  assert.equal(res.status, 0, res.stderr);
  assert.match(res.stderr, /resubmitting 2 units/);
  const jobs2 = JSON.parse(readFileSync(join(run2, 'slurm', 'jobs.json'), 'utf8')) as SlurmJobs;
  const round2 = jobs2.submissions.filter((s) => s.round === 2);
  assert.deepEqual(round2.map((s) => s.role), ['finetune', 'finish'], 'only the two missing units, no pretraining');
  assert.deepEqual([...round2[0]!.units].sort(), [hold, failing].sort());
  const s4 = await waitFor(run2);
  assert.equal(s4.done, s4.total, JSON.stringify(s4.units));
  await waitForQueue(run2);
  assert.equal(readFileSync(join(run2, 'finetune', 'random', 'fold-0', 'metrics.json'), 'utf8'), before, 'finished units are left intact');
  assert.deepEqual(tables(run2), tables(localRun));

  // 3. cancel: a pending run's jobs go, nothing is lost
  const run3 = submit(['experiment', ws.configPath, ...SLURM_FLAGS, '--preamble', 'sleep 300']);
  const c = mrcl(['cancel', run3]);
  assert.equal(c.status, 0, c.stderr);
  await waitForQueue(run3);
  const s5 = status(run3);
  assert.equal(s5.counts.pending + s5.counts.running + s5.done, 0, JSON.stringify(s5.counts));
});

test('unknown partition and rejected submissions are clear errors', { skip, timeout: 120_000 }, async () => {
  const ws = await tinyWorkspace();
  const bad = mrcl(['experiment', ws.configPath, '--slurm', '--partition', 'nosuch']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /unknown Slurm partition "nosuch" \(this cluster has: debug\)/);
  assert.ok(!existsSync(join(ws.dir, 'runs')), 'no run folder for a refused submission');
  const big = mrcl(['experiment', ws.configPath, '--slurm', '--cpus-per-task', '1', '--sbatch=--nodelist=nosuchnode']);
  assert.equal(big.status, 1, big.stderr);
  assert.match(big.stderr, /Slurm rejected .*pretrain-1\.sbatch: sbatch: error: .*invalid node name/i);
  assert.match(big.stderr, /fix the problem, then submit with: mrcl resume .* --slurm/);
});

// sbatch scripts: the lines each option gives, the array, the unit lookup,
// and option checks (hand-written expectations).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateScript, logPath, shellQuote } from '../../../src/engine/slurm/script';
import { slurmOptions, SLURM_DEFAULTS, type SlurmOptions } from '../../../src/engine/slurm/options';
import { resolveConfig } from '../../../src/engine/config/resolve';

const opts = (o: Partial<SlurmOptions> = {}): SlurmOptions => ({ ...SLURM_DEFAULTS, node: '/usr/bin/node', cli: '/opt/mrcl/bin/mrcl.js', ...o });
const sbatchLines = (s: string) => s.split('\n').filter((l) => l.startsWith('#SBATCH ')).map((l) => l.slice(8));

test('fine-tuning array script: #SBATCH lines from the options, one unit per task', () => {
  const s = generateScript({
    role: 'finetune',
    round: 2,
    runDir: '/runs/r1',
    unitsFile: '/runs/r1/slurm/finetune-2.units',
    count: 6,
    array: true,
    options: opts({ partition: 'gpu', account: 'lab', time: '1-02:00:00', cpusPerTask: 8, gpusPerTask: 1, memPerTask: '32G', sbatch: ['--qos=high', ' --constraint=a100 '], preamble: ['module load nodejs/20'] }),
  });
  assert.deepEqual(sbatchLines(s), [
    '--job-name=mrcl-finetune-2',
    '--output=/runs/r1/slurm/logs/finetune-2_%A_%a.log',
    '--chdir=/runs/r1',
    '--ntasks=1',
    '--array=0-5',
    '--partition=gpu',
    '--account=lab',
    '--time=1-02:00:00',
    '--cpus-per-task=8',
    '--gpus-per-task=1',
    '--mem=32G',
    '--kill-on-invalid-dep=yes',
    '--qos=high',
    '--constraint=a100',
  ]);
  assert.ok(s.startsWith('#!/bin/bash\n'));
  assert.match(s, /\nmodule load nodejs\/20\nexec \/usr\/bin\/node --v8-pool-size=1 \/opt\/mrcl\/bin\/mrcl.js unit "\$RUN" "\$MRCL_UNIT"\n$/);
  assert.equal(logPath('/runs/r1', 'finetune', 2, '77', 3), '/runs/r1/slurm/logs/finetune-2_77_3.log');
});

test('plain pretraining job: no array, no partition/account/GPU lines when unset, %j log', () => {
  const s = generateScript({ role: 'pretrain', round: 1, runDir: '/r', unitsFile: '/r/slurm/pretrain-1.units', count: 1, array: false, options: opts({ memPerTask: '' }) });
  assert.deepEqual(sbatchLines(s), ['--job-name=mrcl-pretrain-1', '--output=/r/slurm/logs/pretrain-1_%j.log', '--chdir=/r', '--ntasks=1', '--time=04:00:00', '--cpus-per-task=4', '--kill-on-invalid-dep=yes']);
  assert.equal(logPath('/r', 'pretrain', 1, '5', undefined), '/r/slurm/logs/pretrain-1_5.log');
});

test('the final job runs mrcl status on the run', () => {
  const s = generateScript({ role: 'finish', round: 1, runDir: '/r', count: 1, array: false, options: opts({ cpusPerTask: 16, gpusPerTask: 2 }) });
  assert.ok(sbatchLines(s).includes('--cpus-per-task=1'));
  assert.ok(!sbatchLines(s).some((l) => l.startsWith('--gpus')));
  assert.match(s, /exec \/usr\/bin\/node --v8-pool-size=1 \/opt\/mrcl\/bin\/mrcl.js status "\$RUN"\n$/);
});

test('each array task picks its own line of the units file; a missing line fails the task', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-sbatch-'));
  const units = join(dir, 'finetune-1.units');
  writeFileSync(units, 'finetune/random/fold-0\nfinetune/random/fold-1\n');
  // "node" is echo: the script prints the command it would exec
  const s = generateScript({ role: 'finetune', round: 1, runDir: dir, unitsFile: units, count: 2, array: true, options: opts({ node: '/bin/echo', preamble: ['echo "pre $MRCL_UNIT"'] }) });
  const script = join(dir, 'finetune-1.sbatch');
  writeFileSync(script, s);
  const run = (task: string) => spawnSync('bash', [script], { encoding: 'utf8', env: { PATH: process.env.PATH, SLURM_ARRAY_TASK_ID: task, SLURM_CPUS_PER_TASK: '3' } });
  const r1 = run('1');
  assert.equal(r1.status, 0, r1.stderr);
  assert.match(r1.stdout, /mrcl unit finetune\/random\/fold-1 \(job \?, array task 1\)/);
  assert.match(r1.stdout, /pre finetune\/random\/fold-1\n/);
  assert.match(r1.stdout, new RegExp(`/opt/mrcl/bin/mrcl.js unit ${dir} finetune/random/fold-1\\n$`));
  const r5 = run('5');
  assert.equal(r5.status, 2);
  assert.match(r5.stderr, /no unit on line 6 of .*finetune-1.units/);
});

test('shell quoting of paths', () => {
  assert.equal(shellQuote('/a/b-c_d.e'), '/a/b-c_d.e');
  assert.equal(shellQuote("/my runs/it's"), `'/my runs/it'\\''s'`);
});

test('options: defaults ← config.slurm ← flags, and bad values are clear errors', () => {
  const config = resolveConfig({ slurm: { partition: 'cpu', cpusPerTask: 2, preamble: ['module load node'] } }, 'x.mrcl.json');
  const o = slurmOptions(config, { cpusPerTask: 6, account: undefined }, '/cli.js', '/node');
  assert.equal(o.partition, 'cpu');
  assert.equal(o.cpusPerTask, 6);
  assert.equal(o.account, '');
  assert.equal(o.time, '04:00:00');
  assert.equal(o.node, '/node');
  assert.equal(o.cli, '/cli.js');
  assert.deepEqual(o.preamble, ['module load node']);
  // a run folder recorded before the slurm section existed
  const { slurm: _s, ...old } = config;
  assert.equal(slurmOptions(old as typeof config, {}, '/c', '/n').memPerTask, '16G');
  assert.throws(() => slurmOptions(config, { time: 'soon' }, '', ''), /slurm.time: "soon" is not a Slurm time/);
  assert.throws(() => slurmOptions(config, { memPerTask: '16 GB' }, '', ''), /slurm.memPerTask: "16 GB"/);
  assert.throws(() => slurmOptions(config, { partition: 'a\n#SBATCH --x' }, '', ''), /slurm.partition: must be one line/);
  assert.throws(() => slurmOptions(config, { sbatch: ['qos=x'] }, '', ''), /slurm.sbatch: "qos=x" is not an sbatch option/);
  for (const t of ['30', '10:00', '04:00:00', '2-00:00:00', '1-12', 'UNLIMITED']) assert.equal(slurmOptions(config, { time: t }, '', '').time, t);
});

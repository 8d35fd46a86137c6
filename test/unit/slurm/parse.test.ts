// Slurm's tables as this cluster's tools print them (Slurm 22.05), and the
// unit states read from them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandTaskIds, findRecord, parseScontrol, parseSqueue, scontrolFields, unitState } from '../../../src/engine/slurm/parse';

const PENDING_ARRAY =
  'JobId=7 ArrayJobId=7 ArrayTaskId=1-3 JobName=mrcl-finetune-1 UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901759 Nice=0 Account=(null) QOS=(null) JobState=PENDING Reason=Dependency Dependency=afterok:6(unfulfilled) Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:0 RunTime=00:00:00 TimeLimit=00:20:00 WorkDir=/tmp/run StdErr=/tmp/run/slurm/logs/finetune-1_7_4294967294.log StdIn=/dev/null StdOut=/tmp/run/slurm/logs/finetune-1_7_4294967294.log Power= ';
const TASKS = [
  'JobId=9 ArrayJobId=7 ArrayTaskId=0 JobName=mrcl-finetune-1 JobState=FAILED Reason=NonZeroExitCode Dependency=(null) ExitCode=3:0 NodeList=vm StdErr=/tmp/run/slurm/logs/finetune-1_7_0.log StdIn=/dev/null StdOut=/tmp/run/slurm/logs/finetune-1_7_0.log Power= ',
  'JobId=8 ArrayJobId=7 ArrayTaskId=2 JobName=mrcl-finetune-1 JobState=CANCELLED Reason=None ExitCode=0:15 StdOut=/tmp/run/slurm/logs/finetune-1_7_2.log Power= ',
  'JobId=7 ArrayJobId=7 ArrayTaskId=3 JobName=mrcl-finetune-1 JobState=RUNNING Reason=None ExitCode=0:0 StdOut=/tmp/run/slurm/logs/finetune-1_7_3.log Power= ',
  'JobId=6 JobName=mrcl-pretrain-1 JobState=COMPLETED Reason=None Dependency=(null) ExitCode=0:0 StdOut=/tmp/run with space/slurm/logs/pretrain-1_6.log Power= ',
].join('\n');

test('array task lists expand, with ranges, steps and throttles', () => {
  assert.deepEqual(expandTaskIds('0-3'), [0, 1, 2, 3]);
  assert.deepEqual(expandTaskIds('1,4-5%2'), [1, 4, 5]);
  assert.deepEqual(expandTaskIds('[2-6:2]'), [2, 4, 6]);
  assert.equal(expandTaskIds('N/A'), undefined);
  assert.equal(expandTaskIds(undefined), undefined);
  assert.throws(() => expandTaskIds('x-y'), /unexpected Slurm array task list "x-y"/);
});

test('scontrol -o fields: values may hold spaces and parentheses', () => {
  const f = scontrolFields('JobId=6 JobState=COMPLETED UserId=root(0) StdOut=/tmp/run with space/a.log Power= ');
  assert.equal(f.JobId, '6');
  assert.equal(f.UserId, 'root(0)');
  assert.equal(f.StdOut, '/tmp/run with space/a.log');
  assert.equal(f.Power, '');
});

test('parseScontrol: grouped pending tasks, ended tasks, plain jobs', () => {
  const recs = parseScontrol(`${PENDING_ARRAY}\n${TASKS}\n`);
  assert.equal(recs.length, 5);
  assert.deepEqual(recs[0], {
    jobId: '7',
    arrayJobId: '7',
    taskIds: [1, 2, 3],
    state: 'PENDING',
    reason: 'Dependency',
    exitCode: '0:0',
    stdOut: '/tmp/run/slurm/logs/finetune-1_7_4294967294.log',
  });
  assert.equal(findRecord(recs, '7', 0)!.state, 'FAILED');
  assert.equal(findRecord(recs, '7', 0)!.exitCode, '3:0');
  assert.equal(findRecord(recs, '7', 1)!.state, 'PENDING');
  assert.equal(findRecord(recs, '7', 4), undefined);
  assert.equal(findRecord(recs, '6', undefined)!.state, 'COMPLETED');
  assert.equal(findRecord(recs, '6', undefined)!.stdOut, '/tmp/run with space/slurm/logs/pretrain-1_6.log');
  assert.equal(findRecord(recs, '6', 0), undefined);
});

test('parseSqueue with -r and %F|%K|%i|%T|%r', () => {
  const recs = parseSqueue('7|2|7_2|CANCELLED|None\n7|0|7_0|RUNNING|None\n6|N/A|6|COMPLETED|None\n');
  assert.deepEqual(recs.map((r) => [r.arrayJobId, r.taskIds, r.state]), [
    ['7', [2], 'CANCELLED'],
    ['7', [0], 'RUNNING'],
    ['6', undefined, 'COMPLETED'],
  ]);
  assert.equal(findRecord(recs, '7', 2)!.state, 'CANCELLED');
  assert.equal(findRecord(recs, '6', undefined)!.state, 'COMPLETED');
  assert.throws(() => parseSqueue('garbage'), /unexpected squeue line "garbage"/);
});

test('unit states: the result file decides, then the Slurm record; no record is "not run"', () => {
  const rec = (state: string, reason?: string) => ({ jobId: '1', arrayJobId: '1', state, reason, exitCode: '1:0' });
  assert.deepEqual(unitState(true, rec('FAILED')), { state: 'done' });
  assert.deepEqual(unitState(false, undefined), { state: 'not run' });
  assert.equal(unitState(false, rec('PENDING', 'Dependency')).state, 'pending');
  assert.equal(unitState(false, rec('PENDING', 'Dependency')).detail, 'PENDING (Dependency)');
  assert.equal(unitState(false, rec('RUNNING')).state, 'running');
  assert.equal(unitState(false, rec('COMPLETING')).state, 'running');
  assert.equal(unitState(false, rec('CANCELLED', 'DependencyNeverSatisfied')).state, 'cancelled');
  assert.deepEqual(unitState(false, rec('FAILED', 'NonZeroExitCode')), { state: 'failed', detail: 'FAILED exit 1:0 (NonZeroExitCode)' });
  assert.equal(unitState(false, rec('TIMEOUT')).state, 'failed');
  assert.equal(unitState(false, rec('OUT_OF_MEMORY')).state, 'failed');
  assert.deepEqual(unitState(false, rec('COMPLETED')), { state: 'failed', detail: 'the task ended without writing its result' });
});

// The sbatch scripts of a run, written into RUN/slurm/ so that they can be
// read, edited and resubmitted by hand. Each task looks its unit up in a
// units file by SLURM_ARRAY_TASK_ID and runs `mrcl unit RUN UNIT`, which
// writes the unit's result atomically.
import type { SlurmOptions } from './options';
import { TRAINING_NODE_FLAGS } from '../../shared/node-flags';

export type SubmissionRole = 'pretrain' | 'finetune' | 'finish';

export interface ScriptSpec {
  role: SubmissionRole;
  /** submission round: 1 for the first submission, +1 per resume */
  round: number;
  runDir: string;
  /** absolute path of the units file (one unit id per line); not for 'finish' */
  unitsFile?: string;
  /** number of units: > 1 makes a job array */
  count: number;
  /** a job array even for one unit (fine-tuning units always are) */
  array: boolean;
  options: SlurmOptions;
}

/** Single-quotes a word for bash. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function scriptName(role: SubmissionRole, round: number): string {
  return `${role}-${round}`;
}

/** The log file sbatch writes for a task (%A_%a for arrays, %j otherwise). */
export function logPattern(runDir: string, role: SubmissionRole, round: number, array: boolean): string {
  return `${runDir}/slurm/logs/${scriptName(role, round)}_${array ? '%A_%a' : '%j'}.log`;
}

export function logPath(runDir: string, role: SubmissionRole, round: number, jobId: string, index: number | undefined): string {
  return `${runDir}/slurm/logs/${scriptName(role, round)}_${jobId}${index === undefined ? '' : `_${index}`}.log`;
}

export function generateScript(spec: ScriptSpec): string {
  const o = spec.options;
  const name = scriptName(spec.role, spec.round);
  const what =
    spec.role === 'finish'
      ? 'builds the tables once every unit is in (mrcl status)'
      : `runs ${spec.count} ${spec.role === 'pretrain' ? 'pretraining' : 'fine-tuning'} unit${spec.count === 1 ? '' : 's'}, listed in ${spec.unitsFile}`;
  const sb: string[] = [`--job-name=mrcl-${name}`, `--output=${logPattern(spec.runDir, spec.role, spec.round, spec.array)}`, `--chdir=${spec.runDir}`, '--ntasks=1'];
  if (spec.array) sb.push(`--array=0-${spec.count - 1}`);
  if (o.partition) sb.push(`--partition=${o.partition}`);
  if (o.account) sb.push(`--account=${o.account}`);
  if (spec.role === 'finish') {
    sb.push('--cpus-per-task=1', '--time=00:30:00');
  } else {
    if (o.time) sb.push(`--time=${o.time}`);
    sb.push(`--cpus-per-task=${o.cpusPerTask}`);
    if (o.gpusPerTask > 0) sb.push(`--gpus-per-task=${o.gpusPerTask}`);
    if (o.memPerTask) sb.push(`--mem=${o.memPerTask}`);
  }
  // tasks whose dependency can never be met (a failed pretraining) are cancelled, not left pending
  sb.push('--kill-on-invalid-dep=yes');
  sb.push(...o.sbatch.map((l) => l.trim()));
  const run = shellQuote(spec.runDir);
  const exe = [o.node, ...TRAINING_NODE_FLAGS, o.cli].map(shellQuote).join(' ');
  const lines = [
    '#!/bin/bash',
    `# mrcl ${name}: ${what}.`,
    '# Written by `mrcl experiment|ablate|resume --slurm`; dependencies are given on the sbatch command line.',
    '# It can be edited and resubmitted by hand: sbatch [--dependency=afterok:JOBID] THIS_FILE',
    ...sb.map((l) => `#SBATCH ${l}`),
    'set -eo pipefail',
    `RUN=${run}`,
  ];
  if (spec.role === 'finish') {
    lines.push(...preamble(o.preamble), `exec ${exe} status "$RUN"`);
  } else {
    lines.push(
      `UNITS=${shellQuote(spec.unitsFile ?? '')}`,
      'TASK="${SLURM_ARRAY_TASK_ID:-0}"',
      'MRCL_UNIT="$(sed -n "$((TASK + 1))p" "$UNITS")"',
      'if [ -z "$MRCL_UNIT" ]; then echo "mrcl: no unit on line $((TASK + 1)) of $UNITS" >&2; exit 2; fi',
      'export MRCL_UNIT',
      '# the engine uses as many threads as Slurm gave CPUs',
      'export MRCL_THREADS="${SLURM_CPUS_PER_TASK:-1}"',
      'echo "mrcl unit $MRCL_UNIT (job ${SLURM_JOB_ID:-?}, array task $TASK) on $(hostname) at $(date -Is)"',
      ...preamble(o.preamble),
      `exec ${exe} unit "$RUN" "$MRCL_UNIT"`,
    );
  }
  return lines.join('\n') + '\n';
}

function preamble(lines: readonly string[]): string[] {
  return lines.length ? ['# preamble (slurm.preamble)', ...lines] : [];
}

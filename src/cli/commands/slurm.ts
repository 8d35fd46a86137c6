// --slurm for experiment/ablate, and the commands that follow a run on a
// Slurm cluster: status, resume, cancel.
import { resolve } from 'node:path';
import type { SlurmConfig } from '../../shared/config';
import type { loadConfig } from '../../engine/config/resolve';
import { submitStudy, resumeSlurm, cancelSlurmRun, type SubmittedRound } from '../../engine/slurm/submit';
import { slurmRunStatus, formatStatus } from '../../engine/slurm/status';
import { hasSlurmJobs } from '../../engine/slurm/jobs';
import { runStudy } from '../../engine/experiment/study';
import { readPlan } from '../../engine/experiment/study';
import { RunFolder } from '../../engine/training/run-folder';
import { intOption, UsageError, type Command, type CommandContext, type OptionSpec, type ParsedArgs } from '../command';
import { eventPrinter } from '../events';

export const slurmFlags: Record<string, OptionSpec> = {
  slurm: { type: 'boolean', description: 'Submit the units to Slurm (sbatch) instead of running them here' },
  'dry-run': { type: 'boolean', description: 'With --slurm: write and print the sbatch scripts, submit nothing' },
  partition: { type: 'string', valueName: 'P', description: 'Slurm partition (default: slurm.partition of the config)' },
  account: { type: 'string', valueName: 'A', description: 'Slurm account (default: slurm.account)' },
  time: { type: 'string', valueName: 'T', description: 'Time limit per task, e.g. 04:00:00 (default: slurm.time)' },
  'cpus-per-task': { type: 'string', valueName: 'N', description: 'CPUs per task (default: slurm.cpusPerTask)' },
  'gpus-per-task': { type: 'string', valueName: 'N', description: 'GPUs per task (default: slurm.gpusPerTask)' },
  mem: { type: 'string', valueName: 'M', description: 'Memory per task, e.g. 16G (default: slurm.memPerTask)' },
  sbatch: { type: 'string', multiple: true, valueName: 'OPT', description: 'An extra #SBATCH option, e.g. --qos=normal (repeatable; replaces slurm.sbatch)' },
  preamble: { type: 'string', multiple: true, valueName: 'LINE', description: 'A shell line each task runs first, e.g. "module load nodejs" (repeatable; replaces slurm.preamble)' },
  node: { type: 'string', valueName: 'PATH', description: 'Node.js on the compute nodes (default: this one)' },
};

const SLURM_ONLY = Object.keys(slurmFlags).filter((k) => k !== 'slurm');

/** The slurm fields given as flags (the rest come from the config). */
export function slurmOverrides(args: ParsedArgs): Partial<SlurmConfig> {
  const v = args.values;
  const o: Partial<SlurmConfig> = {};
  if (typeof v.partition === 'string') o.partition = v.partition;
  if (typeof v.account === 'string') o.account = v.account;
  if (typeof v.time === 'string') o.time = v.time;
  if (typeof v.mem === 'string') o.memPerTask = v.mem;
  if (typeof v.node === 'string') o.node = v.node;
  const cpus = intOption(v['cpus-per-task'], 'cpus-per-task');
  if (cpus !== undefined) o.cpusPerTask = cpus;
  const gpus = intOption(v['gpus-per-task'], 'gpus-per-task', 0);
  if (gpus !== undefined) o.gpusPerTask = gpus;
  if (Array.isArray(v.sbatch)) o.sbatch = v.sbatch.map(String);
  if (Array.isArray(v.preamble)) o.preamble = v.preamble.map(String);
  return o;
}

/** Misuse: Slurm flags without --slurm. */
export function checkSlurmFlags(args: ParsedArgs): void {
  if (args.values.slurm) return;
  const given = SLURM_ONLY.filter((k) => args.values[k] !== undefined);
  if (given.length) throw new UsageError(`--${given[0]} needs --slurm`);
}

function report(r: SubmittedRound, dryRun: boolean, ctx: CommandContext): void {
  if (dryRun) {
    for (const s of r.scripts) ctx.stdout(`# ===== ${s.path}\n${s.text}\n`);
    ctx.stderr(`dry run: nothing submitted; scripts in ${r.runDir}/slurm\nsubmit with: mrcl resume ${r.runDir} --slurm\n`);
    return;
  }
  for (const s of r.submissions) ctx.stderr(`submitted ${s.role} job ${s.jobId}${s.array ? ` (array of ${s.units.length})` : ''}${s.dependency ? `, after ${s.dependency}` : ''}\n`);
  ctx.stderr(`run folder: ${r.runDir}\nfollow with: mrcl status ${r.runDir}\n`);
}

export async function submitFromCli(kind: 'experiment' | 'ablation', loaded: ReturnType<typeof loadConfig>, args: ParsedArgs, ctx: CommandContext): Promise<number> {
  const dryRun = Boolean(args.values['dry-run']);
  const r = submitStudy(kind, loaded.config, loaded.baseDir, { overrides: slurmOverrides(args), dryRun });
  report(r, dryRun, ctx);
  if (args.values.json) ctx.stdout(`${JSON.stringify({ runDir: r.runDir, round: r.round, submissions: r.submissions })}\n`);
  return 0;
}

const runArg = [{ name: 'RUN', description: 'run folder', required: true }];

export const statusCommand: Command = {
  name: 'status',
  summary: "Each unit's state (done, pending, running, failed, cancelled, not run) from its result file and Slurm; builds the tables once all are in.",
  usage: 'mrcl status RUN [--json] [--no-build]',
  positionals: runArg,
  options: {
    json: { type: 'boolean', description: 'Print the status as one JSON object' },
    'no-build': { type: 'boolean', description: 'Do not build the tables even when every unit is in' },
    lines: { type: 'string', valueName: 'N', description: 'Log lines shown for each failed task', default: '20' },
  },
  async run(args, ctx) {
    const dir = resolve(args.positionals[0]!);
    const s = slurmRunStatus(dir, undefined, { build: !args.values['no-build'], tailLines: intOption(args.values.lines, 'lines') ?? 20 });
    ctx.stdout(args.values.json ? `${JSON.stringify(s)}\n` : formatStatus(s));
    return 0;
  },
};

export const resumeCommand: Command = {
  name: 'resume',
  summary: 'Resume a run: with --slurm, resubmit only its failed, cancelled and missing units; without, finish it here.',
  usage: 'mrcl resume RUN [--slurm [--dry-run] [--partition P] ...] [--workers N] [--json]',
  positionals: runArg,
  options: {
    ...slurmFlags,
    workers: { type: 'string', valueName: 'N', description: 'Without --slurm: run independent units as N parallel processes', default: '1' },
    json: { type: 'boolean', description: 'Print events (or the submissions) as JSON' },
  },
  async run(args, ctx) {
    checkSlurmFlags(args);
    const dir = resolve(args.positionals[0]!);
    if (args.values.slurm) {
      const dryRun = Boolean(args.values['dry-run']);
      const r = resumeSlurm(dir, { overrides: slurmOverrides(args), dryRun });
      if (!r.round) {
        ctx.stderr(`nothing to resubmit: ${r.done.length} units done, ${r.active.length} pending or running\n`);
        return 0;
      }
      if (r.active.length) ctx.stderr(`left alone (pending or running): ${r.active.join(', ')}\n`);
      ctx.stderr(`resubmitting ${r.round.units.length} units: ${r.round.units.join(', ')}\n`);
      report(r.round, dryRun, ctx);
      return 0;
    }
    const run = RunFolder.open(dir);
    const kind = readPlan(run).kind;
    const print = eventPrinter(ctx, Boolean(args.values.json));
    const outcome = await runStudy({ kind, runDir: dir, workers: intOption(args.values.workers, 'workers') ?? 1, signal: ctx.signal, emit: print });
    ctx.stderr(`${outcome.status}: ${outcome.runDir}${outcome.error ? ` (${outcome.error})` : ''}\n`);
    return outcome.status === 'done' ? 0 : outcome.status === 'cancelled' ? 130 : 1;
  },
};

export const cancelCommand: Command = {
  name: 'cancel',
  summary: "Cancel a Slurm run's jobs (scancel); finished units keep their results and `mrcl resume RUN --slurm` continues.",
  usage: 'mrcl cancel RUN',
  positionals: runArg,
  options: {},
  async run(args, ctx) {
    const dir = resolve(args.positionals[0]!);
    if (!hasSlurmJobs(dir)) throw new Error(`${dir}: no Slurm jobs recorded (slurm/jobs.json missing)`);
    const r = cancelSlurmRun(dir);
    ctx.stderr(`cancelled jobs: ${r.cancelled.join(', ') || 'none still queued or running'}\n`);
    if (r.errors.length) {
      ctx.stderr(`scancel failed:\n  ${r.errors.join('\n  ')}\n`);
      return 1;
    }
    return 0;
  },
};

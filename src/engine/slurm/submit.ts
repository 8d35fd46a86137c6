// Submitting a run's units to Slurm: pretraining as one job (an array of
// stages for ablations), the fine-tuning units as a job array that waits
// for it (afterok), and a small final job that builds the tables. Resume
// resubmits only the units that failed, were cancelled or never ran.
import { mkdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { ExperimentConfig, SlurmConfig } from '../../shared/config';
import { absolutizePaths, planFor, preflight, readPlan, VALIDATION_FILE } from '../experiment/study';
import { allUnits, type Plan, type Unit } from '../experiment/units';
import { checkFingerprint, writeFingerprint } from '../experiment/fingerprint';
import { checkNotLocked, readLock, WRITER_LOCK } from '../training/run-lock';
import { RunFolder, claimRunDir, writeJsonAtomic } from '../training/run-folder';
import { packageRootOf } from '../util/package-root';
import { writeFileAtomic } from '../io/atomic';
import { readJobs, slurmDir, writeJobs, latestTask, type SlurmJobs, type Submission } from './jobs';
import { slurmOptions, type SlurmOptions } from './options';
import { generateScript, scriptName, type SubmissionRole } from './script';
import { unitStatuses } from './status';
import { checkPartition, checkSbatch, runTool, sbatch, type ToolRunner } from './tools';

export interface SlurmSubmitOptions {
  /** CLI flags / editor settings over the config's slurm section */
  overrides?: Partial<SlurmConfig>;
  /** write and return the scripts, submit nothing */
  dryRun?: boolean;
  tools?: ToolRunner;
}

export interface SubmittedRound {
  runDir: string;
  round: number;
  /** scripts written, in submission order */
  scripts: { role: SubmissionRole; path: string; text: string }[];
  /** empty for a dry run */
  submissions: Submission[];
  units: string[];
}

function defaultCli(): string {
  return join(packageRootOf(__dirname), 'bin', 'mrcl.js');
}

function optionsFor(run: RunFolder, o: SlurmSubmitOptions): SlurmOptions {
  return slurmOptions(run.config, o.overrides ?? {}, defaultCli(), process.execPath);
}

/** Creates the run folder of a Slurm study (config, plan), after the same checks as a local run. */
export function createSlurmRun(kind: 'experiment' | 'ablation', config: ExperimentConfig, baseDir: string): RunFolder {
  const c = absolutizePaths(config, baseDir);
  const plan = planFor(kind, c);
  const ds = preflight(c, plan); // bad data or configs fail before a run folder exists
  const run = RunFolder.create(claimRunDir(c.outDir, c.name), kind, c);
  writeJsonAtomic(run.path('plan.json'), plan);
  writeFingerprint(run, c, ds.manifest);
  if (ds.validation) writeJsonAtomic(run.path(VALIDATION_FILE), ds.validation);
  for (const n of plan.notRun) run.setStage(`finetune/${n.arm}`, 'not run');
  return run;
}

/**
 * Writes and (unless dryRun) submits one round: the given pretraining and
 * fine-tuning units, fine-tuning after the new pretraining job and after
 * `waitFor` (jobs still running from earlier rounds), and the final job.
 */
export function submitRound(run: RunFolder, pretrain: readonly Unit[], finetune: readonly Unit[], waitFor: readonly string[], o: SlurmSubmitOptions = {}): SubmittedRound {
  const tools = o.tools ?? runTool;
  const options = optionsFor(run, o);
  if (!o.dryRun) {
    checkSbatch(tools);
    checkPartition(options.partition, tools);
  }
  const jobs = readJobs(run.dir);
  const round = Math.max(0, ...jobs.submissions.map((s) => s.round)) + 1;
  const dir = slurmDir(run.dir);
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const out: SubmittedRound = { runDir: run.dir, round, scripts: [], submissions: [], units: [...pretrain, ...finetune].map((u) => u.stage) };

  const submit = (role: SubmissionRole, units: readonly Unit[], array: boolean, dependency: string | undefined): string | undefined => {
    const base = join(dir, scriptName(role, round));
    let unitsFile: string | undefined;
    if (role !== 'finish') {
      unitsFile = `${base}.units`;
      writeFileAtomic(unitsFile, [Buffer.from(units.map((u) => u.stage).join('\n') + '\n')]);
    }
    const text = generateScript({ role, round, runDir: run.dir, unitsFile, count: Math.max(1, units.length), array, options });
    const path = `${base}.sbatch`;
    writeFileAtomic(path, [Buffer.from(text)]);
    out.scripts.push({ role, path, text });
    if (o.dryRun) return undefined;
    const jobId = sbatch(path, dependency, tools);
    const s: Submission = { round, role, jobId, script: path, units: units.map((u) => u.stage), array, ...(dependency ? { dependency } : {}), submitted: new Date().toISOString() };
    jobs.submissions.push(s);
    out.submissions.push(s);
    writeJobs(run.dir, jobs); // after every submission: a later rejection keeps the ids of what was submitted
    return jobId;
  };

  const after: string[] = [...waitFor];
  if (pretrain.length) {
    const id = submit('pretrain', pretrain, pretrain.length > 1, undefined);
    if (id) after.push(id);
  }
  const finishAfter = [...after];
  if (finetune.length) {
    const id = submit('finetune', finetune, true, after.length ? `afterok:${after.join(':')}` : undefined);
    if (id) finishAfter.push(id);
  }
  if (finetune.length || pretrain.length) submit('finish', [], false, finishAfter.length ? `afterany:${finishAfter.join(':')}` : undefined);
  if (!o.dryRun) run.setStatus('running');
  return out;
}

/** `mrcl experiment|ablate CONFIG --slurm`: a new run folder, every unit submitted. */
export function submitStudy(kind: 'experiment' | 'ablation', config: ExperimentConfig, baseDir: string, o: SlurmSubmitOptions = {}): SubmittedRound {
  const tools = o.tools ?? runTool;
  if (!o.dryRun) {
    // before any run folder exists
    checkSbatch(tools);
    checkPartition(slurmOptions(config, o.overrides ?? {}, '', '').partition, tools);
  }
  const run = createSlurmRun(kind, config, baseDir);
  const plan = readPlan(run);
  try {
    return submitRound(run, plan.pretrain, plan.finetune, [], o);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    run.setStatus('failed', { error: message });
    throw new Error(`${message}\n(run folder ${run.dir} is kept with its scripts: fix the problem, then submit with: mrcl resume ${run.dir} --slurm)`);
  }
}

export interface ResumeResult {
  round?: SubmittedRound;
  /** units already done, and units still pending or running (left alone) */
  done: string[];
  active: string[];
}

/** `mrcl resume RUN --slurm`: resubmits the failed, cancelled and never-run units. */
export function resumeSlurm(runDir: string, o: SlurmSubmitOptions = {}): ResumeResult {
  const tools = o.tools ?? runTool;
  const run = RunFolder.open(runDir);
  const plan: Plan = readPlan(run);
  // not beside a local writer of the run, nor on changed data
  checkNotLocked(run.path(WRITER_LOCK), `run ${run.dir}`, undefined);
  checkFingerprint(run);
  const jobs = readJobs(runDir);
  const states = unitStatuses(run, plan, jobs, tools);
  const by = new Map(states.map((s) => [s.id, s.state]));
  const redo = (u: Unit) => ['failed', 'cancelled', 'not run'].includes(by.get(u.stage) ?? 'not run');
  for (const u of allUnits(plan).filter(redo)) clearEndedTaskLock(run, u, jobs, by.get(u.stage));
  const active = states.filter((s) => s.state === 'pending' || s.state === 'running');
  const waitFor = [
    ...new Set(
      plan.pretrain
        .filter((u) => by.get(u.stage) === 'pending' || by.get(u.stage) === 'running')
        .map((u) => latestTask(jobs, u.stage)?.submission.jobId)
        .filter((x): x is string => Boolean(x)),
    ),
  ];
  const pre = plan.pretrain.filter(redo);
  const fine = plan.finetune.filter(redo);
  const result: ResumeResult = { done: states.filter((s) => s.state === 'done').map((s) => s.id), active: active.map((s) => s.id) };
  if (pre.length || fine.length) result.round = submitRound(run, pre, fine, waitFor, o);
  return result;
}

/**
 * A unit to resubmit may still hold the lock of its last Slurm task (a task
 * killed without a chance to clean up, on another node). When Slurm says
 * that very task failed or was cancelled, the lock is stale and removed; a
 * lock of any other process is checked as usual (refused while it may run).
 */
function clearEndedTaskLock(run: RunFolder, u: Unit, jobs: SlurmJobs, state: string | undefined): void {
  const path = run.path(u.stage, WRITER_LOCK);
  const h = readLock(path);
  const last = latestTask(jobs, u.stage);
  const lastId = last && (last.index === undefined ? last.submission.jobId : `${last.submission.jobId}_${last.index}`);
  if (h?.slurmJob && h.slurmJob === lastId && (state === 'failed' || state === 'cancelled')) unlinkSync(path);
  else checkNotLocked(path, `unit ${u.stage} of run ${run.dir}`, undefined);
}

/** `mrcl cancel RUN`: scancel of the run's jobs; finished units keep their results. */
export function cancelSlurmRun(runDir: string, tools: ToolRunner = runTool): { cancelled: string[]; errors: string[] } {
  const run = RunFolder.open(runDir);
  const ids = [...new Set(readJobs(runDir).submissions.map((s) => s.jobId))];
  const cancelled: string[] = [];
  const errors: string[] = [];
  for (const id of ids) {
    const r = tools('scancel', [id]);
    const msg = `${r.stderr}${r.stdout}`.trim();
    // jobs that already ended (or that Slurm has forgotten) need no cancelling
    if (r.status === 0 && !msg) cancelled.push(id);
    else if (!/invalid job id|already completing or completed|job has already finished/i.test(msg)) errors.push(`${id}: ${msg || `scancel exited with ${r.status}`}`);
  }
  if (run.status.status === 'running') run.setStatus('cancelled');
  return { cancelled, errors };
}


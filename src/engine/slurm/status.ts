// `mrcl status RUN`: each unit's state from its result file plus its Slurm
// task (scontrol, else squeue); failed tasks come with the tail of their
// log. Once every unit is in, the run's tables are built as in a local run.
import { existsSync } from 'node:fs';
import { READ_LIMITS, readTextTail } from '../io/bounded-read';
import type { Plan, Unit } from '../experiment/units';
import { allUnits } from '../experiment/units';
import { buildStudyResults, readPlan } from '../experiment/study';
import { RunFolder } from '../training/run-folder';
import { latestTask, readJobs, type SlurmJobs } from './jobs';
import { findRecord, parseScontrol, parseSqueue, SQUEUE_FORMAT, unitState, type JobRecord, type UnitState } from './parse';
import { logPath } from './script';
import { runTool, SlurmMissingError, type ToolRunner } from './tools';

export interface UnitStatus {
  id: string;
  kind: Unit['kind'];
  state: UnitState;
  detail?: string;
  jobId?: string;
  /** array task index */
  task?: number;
  log?: string;
  /** last lines of the log of a failed task */
  logTail?: string;
}

export interface SlurmRunStatus {
  runDir: string;
  units: UnitStatus[];
  counts: Record<UnitState, number>;
  done: number;
  total: number;
  /** results.md, when every unit is in and the tables were built */
  results?: string;
}

/** The file whose existence means a unit is done (written atomically by the unit). */
export function resultFile(run: RunFolder, u: Unit): string {
  return run.path(u.stage, u.kind === 'pretrain' ? 'done.json' : 'metrics.json');
}

function tail(path: string, lines: number): string | undefined {
  if (!existsSync(path)) return undefined;
  let text: string;
  try {
    // only the end of the log: a log can be far larger than what is shown
    text = readTextTail(path, READ_LIMITS.logTail, 'log').replace(/\s+$/, '');
  } catch (e) {
    return `(${(e as Error).message})`;
  }
  return text.split('\n').slice(-lines).join('\n');
}

/** The records Slurm still has of the given jobs (scontrol, else squeue when scontrol is missing). */
export function queryJobs(jobIds: readonly string[], tools: ToolRunner = runTool): JobRecord[] {
  const out: JobRecord[] = [];
  for (const id of jobIds) {
    let r;
    try {
      r = tools('scontrol', ['-o', 'show', 'job', id]);
    } catch (e) {
      if (!(e instanceof SlurmMissingError)) throw e;
      const q = tools('squeue', ['-h', '-r', '-t', 'all', '-j', id, '-o', SQUEUE_FORMAT]);
      if (q.status === 0) out.push(...parseSqueue(q.stdout));
      continue;
    }
    if (r.status === 0) out.push(...parseScontrol(r.stdout));
    else if (!/invalid job id/i.test(r.stderr)) throw new Error(`scontrol show job ${id}: ${r.stderr.trim()}`);
    // an invalid id is a job Slurm has forgotten: its units are decided by their files
  }
  return out;
}

export function unitStatuses(run: RunFolder, plan: Plan, jobs: SlurmJobs, tools: ToolRunner = runTool, tailLines = 20): UnitStatus[] {
  const units = allUnits(plan);
  const pending = units.filter((u) => !existsSync(resultFile(run, u)));
  const ids = [...new Set(pending.map((u) => latestTask(jobs, u.stage)?.submission.jobId).filter((x): x is string => Boolean(x)))];
  const records = ids.length ? queryJobs(ids, tools) : [];
  return units.map((u) => {
    const done = existsSync(resultFile(run, u));
    const t = latestTask(jobs, u.stage);
    const rec = t && !done ? findRecord(records, t.submission.jobId, t.index) : undefined;
    const { state, detail } = unitState(done, rec);
    const s: UnitStatus = { id: u.stage, kind: u.kind, state, ...(detail ? { detail } : {}) };
    if (t) {
      s.jobId = t.index === undefined ? t.submission.jobId : `${t.submission.jobId}_${t.index}`;
      if (t.index !== undefined) s.task = t.index;
      s.log = rec?.stdOut && !rec.stdOut.includes('%') ? rec.stdOut : logPath(run.dir, t.submission.role, t.submission.round, t.submission.jobId, t.index);
      if (state === 'failed' || state === 'cancelled') {
        const lt = tail(s.log, tailLines);
        if (lt !== undefined) s.logTail = lt;
      }
    }
    return s;
  });
}

/** Status of a Slurm run; builds the tables (and marks the run done) once every unit is in. */
export function slurmRunStatus(runDir: string, tools: ToolRunner = runTool, opts: { build?: boolean; tailLines?: number } = {}): SlurmRunStatus {
  const run = RunFolder.open(runDir);
  const plan = readPlan(run);
  const units = unitStatuses(run, plan, readJobs(runDir), tools, opts.tailLines);
  const counts: Record<UnitState, number> = { done: 0, pending: 0, running: 0, failed: 0, cancelled: 0, 'not run': 0 };
  for (const u of units) counts[u.state]++;
  const status: SlurmRunStatus = { runDir, units, counts, done: counts.done, total: units.length };
  if (counts.done === units.length && plan.finetune.length && opts.build !== false) {
    const results = run.path('results.md');
    if (!existsSync(results) || run.status.status !== 'done') {
      for (const n of plan.notRun) run.setStage(`finetune/${n.arm}`, 'not run');
      buildStudyResults(run, plan);
      run.setStatus('done');
    }
    status.results = results;
  } else if (counts.done === units.length && !plan.finetune.length && run.status.status !== 'done') {
    run.setStatus('done');
  }
  return status;
}

/** A plain-text table of a status, failed tasks followed by their log tail. */
export function formatStatus(s: SlurmRunStatus): string {
  const w = Math.max(4, ...s.units.map((u) => u.id.length));
  const lines = [`${'unit'.padEnd(w)}  ${'state'.padEnd(9)}  ${'job'.padEnd(12)}  detail`];
  for (const u of s.units) lines.push(`${u.id.padEnd(w)}  ${u.state.padEnd(9)}  ${(u.jobId ?? '-').padEnd(12)}  ${u.detail ?? ''}`.trimEnd());
  const c = s.counts;
  lines.push('', `${s.done}/${s.total} done, ${c.running} running, ${c.pending} pending, ${c.failed} failed, ${c.cancelled} cancelled, ${c['not run']} not run`);
  for (const u of s.units.filter((x) => x.state === 'failed' || x.state === 'cancelled')) {
    if (u.logTail === undefined) continue;
    lines.push('', `--- ${u.id} (${u.state}): ${u.log}`, u.logTail);
  }
  if (s.results) lines.push('', `tables: ${s.results}`);
  return lines.join('\n') + '\n';
}

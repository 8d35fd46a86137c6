// Reading Slurm's own tables: `scontrol -o show job ID` (one line per job
// or array task, KEY=VALUE) and `squeue -h -r -o '%F|%K|%i|%T|%r'`. No
// accounting database is needed; tasks that ended long ago are simply
// absent, and the unit's result file decides.

export interface JobRecord {
  /** the job's own id (an array task has one of its own) */
  jobId: string;
  /** the array's id, or the job id itself for plain jobs */
  arrayJobId: string;
  /** array task indices this record stands for (pending tasks come grouped); undefined for plain jobs */
  taskIds?: number[];
  /** PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, ... */
  state: string;
  reason?: string;
  exitCode?: string;
  stdOut?: string;
}

/** "0-3,5,7-9%2" → [0,1,2,3,5,7,8,9]; "N/A" or "(null)" → undefined. */
export function expandTaskIds(s: string | undefined): number[] | undefined {
  if (!s || s === 'N/A' || s === '(null)') return undefined;
  const out: number[] = [];
  const body = s.replace(/^\[|\]$/g, '').replace(/%\d+$/, '');
  for (const part of body.split(',')) {
    const m = /^(\d+)(?:-(\d+))?(?::(\d+))?$/.exec(part.trim());
    if (!m) throw new Error(`unexpected Slurm array task list "${s}"`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    const step = m[3] === undefined ? 1 : Number(m[3]);
    for (let i = a; i <= b; i += step) out.push(i);
  }
  return out;
}

/** KEY=VALUE fields of one `scontrol -o` line (values run to the next " KEY="). */
export function scontrolFields(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /(?:^|\s)([A-Za-z][A-Za-z0-9_:/]*)=/g;
  const keys: { key: string; start: number; valueStart: number }[] = [];
  for (let m = re.exec(line); m; m = re.exec(line)) keys.push({ key: m[1]!, start: m.index, valueStart: m.index + m[0].length });
  keys.forEach((k, i) => {
    out[k.key] = line.slice(k.valueStart, i + 1 < keys.length ? keys[i + 1]!.start : line.length).trim();
  });
  return out;
}

export function parseScontrol(text: string): JobRecord[] {
  const out: JobRecord[] = [];
  for (const line of text.split('\n')) {
    if (!/^\s*JobId=/.test(line)) continue;
    const f = scontrolFields(line.trim());
    const jobId = f.JobId!;
    const taskIds = expandTaskIds(f.ArrayTaskId);
    out.push({
      jobId,
      arrayJobId: f.ArrayJobId && f.ArrayJobId !== '(null)' ? f.ArrayJobId : jobId,
      taskIds,
      state: (f.JobState ?? 'UNKNOWN').split(/\s/)[0]!,
      reason: f.Reason && f.Reason !== 'None' ? f.Reason : undefined,
      exitCode: f.ExitCode,
      stdOut: f.StdOut,
    });
  }
  return out;
}

/** The format string parseSqueue expects (with -h -r). */
export const SQUEUE_FORMAT = '%F|%K|%i|%T|%r';

export function parseSqueue(text: string): JobRecord[] {
  const out: JobRecord[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const [arrayJobId, task, id, state, reason] = line.split('|');
    if (!arrayJobId || !id || !state) throw new Error(`unexpected squeue line "${line}" (format ${SQUEUE_FORMAT})`);
    const taskIds = expandTaskIds(task);
    out.push({ jobId: id.replace(/_.*$/, '') || arrayJobId, arrayJobId, taskIds, state, reason: reason && reason !== 'None' ? reason : undefined });
  }
  return out;
}

/** The record of plain job `jobId` (index undefined) or of task `index` of array `jobId`. */
export function findRecord(records: readonly JobRecord[], jobId: string, index: number | undefined): JobRecord | undefined {
  if (index === undefined) return records.find((r) => r.jobId === jobId && r.taskIds === undefined);
  return records.find((r) => r.arrayJobId === jobId && r.taskIds?.includes(index));
}

export type UnitState = 'done' | 'pending' | 'running' | 'failed' | 'cancelled' | 'not run';

/**
 * A unit's state: done when its result file exists; otherwise from its
 * task's Slurm record; a task Slurm no longer knows (or never ran) is 'not run'.
 */
export function unitState(hasResult: boolean, record: JobRecord | undefined): { state: UnitState; detail?: string } {
  if (hasResult) return { state: 'done' };
  if (!record) return { state: 'not run' };
  const s = record.state;
  const reason = record.reason ? ` (${record.reason})` : '';
  if (s === 'PENDING' || s === 'REQUEUED' || s === 'REQUEUE_HOLD' || s === 'SUSPENDED' || s === 'RESV_DEL_HOLD') return { state: 'pending', detail: `${s}${reason}` };
  if (s === 'RUNNING' || s === 'CONFIGURING' || s === 'COMPLETING' || s === 'STAGE_OUT' || s === 'SIGNALING' || s === 'RESIZING') return { state: 'running', detail: s };
  if (s === 'CANCELLED') return { state: 'cancelled', detail: `${s}${reason}` };
  if (s === 'COMPLETED') return { state: 'failed', detail: 'the task ended without writing its result' };
  // FAILED, TIMEOUT, OUT_OF_MEMORY, NODE_FAIL, BOOT_FAIL, DEADLINE, PREEMPTED
  return { state: 'failed', detail: `${s}${record.exitCode ? ` exit ${record.exitCode}` : ''}${reason}` };
}

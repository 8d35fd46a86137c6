// One writer per run folder (and per unit). A lock file is created
// atomically with its content (written to a temp file, then hard-linked
// into place: like O_EXCL, the link fails if the lock exists, and nobody
// ever reads a half-written lock) and names its holder: pid, host, start
// time and command. A lock whose pid is gone on this host is stale and
// broken; a lock from another host cannot be checked from here and is
// reported with its host. Locks are released on return, on error and on
// process exit (SIGINT/SIGTERM end in one of these).
import { closeSync, linkSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { withFileLock } from '../io/atomic';
import { BoundedReadError, READ_LIMITS, readTextBounded } from '../io/bounded-read';

/** The lock of a whole-run writer (run folder) or of one unit (stage folder). */
export const WRITER_LOCK = '.writer.lock';
/** A `mrcl unit` child of the run's writer (--workers) runs under its lock token. */
export const RUN_LOCK_ENV = 'MRCL_RUN_LOCK';

export interface LockHolder {
  format: 'mrcl-lock-1';
  pid: number;
  host: string;
  started: string;
  command: string;
  token: string;
  /** the holder's Slurm task (slurmTaskId), when it is one */
  slurmJob?: string;
}

export class RunLockedError extends Error {
  constructor(
    readonly lockPath: string,
    readonly holder: LockHolder,
    message: string,
  ) {
    super(message);
    this.name = 'RunLockedError';
  }
}

const held = new Map<string, string>(); // lock path → our token
let exitHooked = false;

function releaseAllOnExit(): void {
  for (const [path, token] of held) releaseLock(path, token);
}

export function describeHolder(h: LockHolder): string {
  return `process ${h.pid} on ${h.host}${h.slurmJob ? ` (Slurm job ${h.slurmJob})` : ''}, started ${h.started}: ${h.command}`;
}

/** A Slurm task as jobs.json names it: ARRAYJOB_TASK for an array task, else the job id; undefined outside Slurm. */
export function slurmTaskId(env: NodeJS.ProcessEnv): string | undefined {
  if (env.SLURM_ARRAY_JOB_ID && env.SLURM_ARRAY_TASK_ID) return `${env.SLURM_ARRAY_JOB_ID}_${env.SLURM_ARRAY_TASK_ID}`;
  return env.SLURM_JOB_ID || undefined;
}

/** The lock's holder; undefined when there is no lock. A lock that cannot be parsed is an error naming it. */
export function readLock(path: string): LockHolder | undefined {
  let text: string;
  try {
    // a cloned run folder may hold anything under this name (a link to /dev/zero, a FIFO)
    text = readTextBounded(path, { maxBytes: READ_LIMITS.small, what: 'run lock' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (e instanceof BoundedReadError) throw new Error(`${e.message} (delete it if no run is active)`);
    throw new Error(`${path}: cannot read the lock: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const h = JSON.parse(text) as LockHolder;
    if (h.format === 'mrcl-lock-1' && typeof h.pid === 'number' && typeof h.host === 'string' && typeof h.token === 'string') return h;
  } catch {
    // reported below
  }
  throw new Error(`${path}: not a valid lock file (delete it if no run is active)`);
}

/** 'live' (its process runs on this host), 'dead' (it does not) or 'unknown' (another host). */
export function holderState(h: LockHolder): 'live' | 'dead' | 'unknown' {
  if (h.host !== hostname()) return 'unknown';
  // our own pid: ours if we hold its token, else left by an earlier process that had this pid
  if (h.pid === process.pid) return [...held.values()].includes(h.token) ? 'live' : 'dead';
  try {
    process.kill(h.pid, 0);
    return 'live';
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM' ? 'live' : 'dead';
  }
}

function lockedMessage(what: string, path: string, h: LockHolder, state: 'live' | 'unknown'): string {
  const hint = state === 'unknown' ? `; if that process no longer runs on ${h.host}, delete ${path}` : '';
  return `${what} is being written by ${describeHolder(h)} (lock ${path})${hint}`;
}

/**
 * Takes the lock at `path` for this process, or throws RunLockedError
 * naming its holder. `what` names the locked thing in the message.
 * Returns the token that releases it.
 */
export function acquireLock(path: string, what: string): string {
  const token = randomBytes(8).toString('hex');
  const slurm = slurmTaskId(process.env);
  const holder: LockHolder = {
    format: 'mrcl-lock-1',
    pid: process.pid,
    host: hostname(),
    started: new Date().toISOString(),
    command: process.argv.slice(1).join(' ').slice(0, 500),
    token,
    ...(slurm ? { slurmJob: slurm } : {}),
  };
  // breaking a stale lock and taking it is one step under a short guard, so
  // two processes never both break it and both take it
  withFileLock(`${path}.guard`, () => {
    for (;;) {
      const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
      try {
        const fd = openSync(tmp, 'wx');
        try {
          writeSync(fd, `${JSON.stringify(holder)}\n`);
        } finally {
          closeSync(fd);
        }
        linkSync(tmp, path);
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      } finally {
        rmSync(tmp, { force: true }); // also after a failed write (a full disk)
      }
      const h = readLock(path);
      if (!h) continue;
      const state = holderState(h);
      if (state !== 'dead') throw new RunLockedError(path, h, lockedMessage(what, path, h, state));
      unlinkSync(path); // its process is gone: a stale lock
    }
  });
  held.set(path, token);
  if (!exitHooked) {
    exitHooked = true;
    process.on('exit', releaseAllOnExit);
  }
  return token;
}

/** Removes the lock if it is still ours (a lock broken and retaken by another process is left alone). */
export function releaseLock(path: string, token: string): void {
  held.delete(path);
  try {
    if (readLock(path)?.token === token) unlinkSync(path);
  } catch {
    // gone or unreadable: nothing of ours to remove
  }
}

/**
 * Refuses when the lock at `path` is held by a live process (or one on
 * another host), unless it holds `token`: the check of a unit process that
 * must not run beside another whole-run writer.
 */
export function checkNotLocked(path: string, what: string, token: string | undefined): void {
  const h = readLock(path);
  if (!h || (token && h.token === token)) return;
  const state = holderState(h);
  if (state !== 'dead') throw new RunLockedError(path, h, lockedMessage(what, path, h, state));
}

/** Runs `f` holding the lock at `path`, released afterwards whatever happens. */
export async function withWriterLock<T>(path: string, what: string, f: (token: string) => Promise<T>): Promise<T> {
  const token = acquireLock(path, what);
  try {
    return await f(token);
  } finally {
    releaseLock(path, token);
  }
}

// A run folder: the resolved config, run.json (status), events.jsonl (one
// line per event, with time) and the stage sub-folders. Whole files are
// written atomically (temp + rename); events are appended line by line so a
// killed run keeps every event it emitted.
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { ExperimentConfig } from '../../shared/config';
import type { EngineEvent, EventSink, TimedEvent } from '../../shared/events';
import { withFileLock, writeFileAtomic } from '../io/atomic';
import { BoundedReadError, READ_LIMITS, readTextBounded } from '../io/bounded-read';
import { dataPath } from '../io/safe-path';

export type RunKind = 'experiment' | 'pretrain' | 'finetune' | 'ablation' | 'demo';
export type RunStatus = 'running' | 'done' | 'failed' | 'cancelled';

export interface RunInfo {
  format: 'mrcl-run-1';
  id: string;
  kind: RunKind;
  status: RunStatus;
  created: string;
  updated: string;
  backend?: string;
  error?: string;
  /** stage name → status, as the tree shows them */
  stages: Record<string, RunStatus | 'skipped' | 'not run'>;
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, [Buffer.from(`${JSON.stringify(value, null, 2)}\n`)]);
}

export function readJson<T>(path: string): T {
  let text: string;
  try {
    text = readTextBounded(path, { maxBytes: READ_LIMITS.runFile, what: 'run file' });
  } catch (e) {
    if (e instanceof BoundedReadError) throw e;
    throw new Error(`${path}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new Error(`${path}: not valid JSON: ${(e as Error).message}`);
  }
}

/** A timestamped, filesystem-safe run id: name-YYYYMMDD-HHMMSS. */
export function newRunId(name: string, now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  return `${name.replace(/[^A-Za-z0-9._-]+/g, '-')}-${stamp}`;
}

/**
 * A new run folder under `outDir`: name-YYYYMMDD-HHMMSS, with -2, -3, …
 * appended when runs of the same name start within one second. The folder
 * is created here (mkdir without `recursive` fails if another process took
 * the name first, so two processes never share one).
 */
export function claimRunDir(outDir: string, name: string, now = new Date()): string {
  mkdirSync(outDir, { recursive: true });
  const base = newRunId(name, now);
  for (let i = 1; ; i++) {
    const dir = join(outDir, i === 1 ? base : `${base}-${i}`);
    try {
      mkdirSync(dir);
      return dir;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

export class RunFolder {
  private info: RunInfo;
  private listeners: EventSink[] = [];

  private constructor(
    readonly dir: string,
    info: RunInfo,
  ) {
    this.info = info;
  }

  /** Creates a new run folder with the resolved config (what every run records). */
  static create(dir: string, kind: RunKind, config: ExperimentConfig): RunFolder {
    if (existsSync(join(dir, 'run.json'))) throw new Error(`${dir}: a run already exists here (use --resume to continue it)`);
    mkdirSync(dir, { recursive: true });
    writeJsonAtomic(join(dir, 'config.json'), config);
    const now = new Date().toISOString();
    const info: RunInfo = { format: 'mrcl-run-1', id: dir.split(/[\\/]/).pop() ?? dir, kind, status: 'running', created: now, updated: now, stages: {} };
    writeJsonAtomic(join(dir, 'run.json'), info);
    return new RunFolder(dir, info);
  }

  /** Opens an existing run folder (to resume it or read it). */
  static open(dir: string): RunFolder {
    const info = readJson<RunInfo>(join(dir, 'run.json'));
    if (info.format !== 'mrcl-run-1') throw new Error(`${join(dir, 'run.json')}: not a run folder (format ${String(info.format)})`);
    return new RunFolder(dir, info);
  }

  get config(): ExperimentConfig {
    return readJson<ExperimentConfig>(join(this.dir, 'config.json'));
  }

  get status(): RunInfo {
    return { ...this.info, stages: { ...this.info.stages } };
  }

  /** A path inside the run folder; stage names come from plan.json, so they are checked (dataPath). */
  path(...parts: string[]): string {
    dataPath(this.dir, ...parts);
    return join(this.dir, ...parts); // as before: relative when the folder was given relative
  }

  rel(path: string): string {
    return relative(this.dir, path);
  }

  subscribe(sink: EventSink): void {
    this.listeners.push(sink);
  }

  /** Records an event in events.jsonl and passes it on. */
  emit(event: EngineEvent): void {
    const timed: TimedEvent = { ...event, time: Date.now() };
    appendFileSync(join(this.dir, 'events.jsonl'), `${JSON.stringify(timed)}\n`);
    if (event.type === 'stage') this.update({}, { [event.stage]: event.status === 'started' ? 'running' : event.status });
    for (const l of this.listeners) l(event);
  }

  setStatus(status: RunStatus, extra: Partial<Pick<RunInfo, 'backend' | 'error'>> = {}): void {
    this.update({ ...extra, status });
  }

  setStage(stage: string, status: RunInfo['stages'][string]): void {
    this.update({}, { [stage]: status });
  }

  /**
   * Applies this process's changes to run.json as it is on disk, under a
   * lock: parallel units of one run (--workers, Slurm array tasks) each
   * record their own stages without undoing the others'.
   */
  private update(top: Partial<Pick<RunInfo, 'status' | 'backend' | 'error'>>, stages: RunInfo['stages'] = {}): void {
    const path = join(this.dir, 'run.json');
    withFileLock(`${path}.lock`, () => {
      let base = this.info;
      if (existsSync(path)) {
        const disk = readJson<RunInfo>(path);
        if (disk.format === 'mrcl-run-1') base = disk;
      }
      this.info = { ...base, ...top, stages: { ...base.stages, ...stages }, updated: new Date().toISOString() };
      writeJsonAtomic(path, this.info);
    });
  }
}

/** Reads events.jsonl, skipping a torn last line (a killed writer). */
export function readEvents(dir: string): TimedEvent[] {
  const p = join(dir, 'events.jsonl');
  if (!existsSync(p)) return [];
  const out: TimedEvent[] = [];
  for (const line of readTextBounded(p, { maxBytes: READ_LIMITS.events, what: 'event log' }).split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as TimedEvent);
    } catch {
      // only the last line can be torn by a kill; anything else is skipped too
    }
  }
  return out;
}

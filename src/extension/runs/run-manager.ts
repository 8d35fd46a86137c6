// Queues engine runs and runs each in its own worker process, at most
// `maxParallel()` at once (one process per run: runs may use different
// backends, do not block each other, and a crash takes down only its own
// run). Stop asks the worker to stop at a step boundary, so the run stays
// resumable; a worker that does not stop in time is killed. A worker that
// exits without finishing its run is reported with its last lines, and a
// run.json it left "running" is marked failed. No vscode here.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineEvent } from '../../shared/events';
import type { RunOutcome, RunRequest, WorkerMessage } from '../../shared/protocol';
import { RunFolder } from '../../engine/training/run-folder';
import { Emitter } from '../util/emitter';
import { applyEvent, isActive, requestLabel, type Job } from './job';
import { WorkerProcess, type WorkerExit, type WorkerSpawn } from './worker-process';

export interface RunManagerOptions {
  /** how to start a worker (node binary, dist/worker.js, environment) */
  spawnSpec: () => WorkerSpawn;
  maxParallel: () => number;
  /** how long a stopping run may take to reach a step boundary before it is killed */
  stopGraceMs?: () => number;
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

export interface LogLine {
  level: LogLevel;
  message: string;
  job?: Job;
}

interface Running {
  worker: WorkerProcess;
  finished: boolean;
}

const DEFAULT_STOP_GRACE_MS = 60_000;
const SHUTDOWN_GRACE_MS = 5_000;

export class RunManager {
  private readonly jobs = new Map<string, Job>();
  private readonly running = new Map<string, Running>();
  private readonly settled = new Map<string, Array<(job: Job) => void>>();
  private seq = 0;
  private disposed = false;

  private readonly changed = new Emitter<Job>();
  private readonly events = new Emitter<{ job: Job; event: EngineEvent }>();
  private readonly logs = new Emitter<LogLine>();
  /** a job was queued, started, progressed or finished */
  readonly onDidChange = this.changed.event;
  /** every engine event of every job */
  readonly onEvent = this.events.event;
  /** engine log lines, worker output and the manager's own notes */
  readonly onLog = this.logs.event;

  constructor(private readonly options: RunManagerOptions) {}

  list(): Job[] {
    return [...this.jobs.values()];
  }

  get(id: string): Job | undefined {
    return this.jobs.get(id);
  }

  /** The active job working on this run folder, if any. */
  findByRunDir(runDir: string): Job | undefined {
    return this.list().find((j) => j.runDir === runDir && isActive(j));
  }

  /** Queues a run; it starts as soon as fewer than maxParallel runs are running. */
  start(request: RunRequest, label = requestLabel(request)): Job {
    if (this.disposed) throw new Error('the run manager is shut down');
    const id = `job-${++this.seq}`;
    const job: Job = { id, label, request, status: 'queued', queuedAt: Date.now() };
    if (request.runDir) job.runDir = request.runDir;
    this.jobs.set(id, job);
    this.changed.fire(job);
    this.pump();
    return job;
  }

  /** Resolves when the job is done, failed or cancelled. */
  whenSettled(id: string): Promise<Job> {
    const job = this.jobs.get(id);
    if (!job) return Promise.reject(new Error(`no run ${id}`));
    if (!isActive(job)) return Promise.resolve(job);
    return new Promise((resolve) => {
      const list = this.settled.get(id) ?? [];
      list.push(resolve);
      this.settled.set(id, list);
    });
  }

  /** Stops a run at its next step boundary (a queued one is just dropped). */
  stop(id: string): void {
    const job = this.jobs.get(id);
    if (!job || !isActive(job)) return;
    if (job.status === 'queued') {
      this.settle(job, { status: 'cancelled', error: 'cancelled before it started' });
      return;
    }
    const r = this.running.get(id);
    if (!r || job.stopping) return;
    job.stopping = true;
    this.changed.fire(job);
    this.log('info', 'stop requested; the run stops at the next step boundary', job);
    r.worker.send({ type: 'stop', id });
    r.worker.killAfter(this.options.stopGraceMs?.() ?? DEFAULT_STOP_GRACE_MS);
  }

  /** Stops every run (they stay resumable) and waits for the workers to exit. */
  async dispose(): Promise<void> {
    this.disposed = true;
    for (const job of this.list()) if (job.status === 'queued') this.settle(job, { status: 'cancelled', error: 'the window closed before it started' });
    const exits = [...this.running.entries()].map(
      ([id, r]) =>
        new Promise<void>((resolve) => {
          if (!r.worker.alive) return resolve();
          void this.whenSettled(id).then(() => resolve());
          r.worker.shutdown(SHUTDOWN_GRACE_MS);
        }),
    );
    await Promise.all(exits);
    this.changed.dispose();
    this.events.dispose();
    this.logs.dispose();
  }

  private pump(): void {
    const max = Math.max(1, Math.floor(this.options.maxParallel()) || 1);
    for (const job of this.list()) {
      if (this.running.size >= max || this.disposed) break;
      if (job.status === 'queued') this.launch(job);
    }
  }

  private launch(job: Job): void {
    let spec: WorkerSpawn;
    try {
      spec = this.options.spawnSpec();
    } catch (e) {
      this.settle(job, { status: 'failed', error: (e as Error).message });
      return;
    }
    job.status = 'running';
    job.startedAt = Date.now();
    const entry: Running = { finished: false, worker: undefined as unknown as WorkerProcess };
    this.running.set(job.id, entry);
    entry.worker = new WorkerProcess(spec, {
      onMessage: (msg) => this.onMessage(job, entry, msg),
      onOutput: (line, stream) => this.log(stream === 'stderr' ? 'warn' : 'info', line, job),
      onExit: (exit) => this.onExit(job, entry, exit),
    });
    job.pid = entry.worker.pid;
    this.log('debug', `worker started: ${spec.command} ${spec.args.join(' ')} (pid ${job.pid ?? '?'})`, job);
    entry.worker.send({ type: 'start', id: job.id, request: job.request });
    this.changed.fire(job);
  }

  private onMessage(job: Job, entry: Running, msg: WorkerMessage): void {
    switch (msg.type) {
      case 'ready':
        this.log('debug', `worker ready (pid ${msg.pid}, backend ${msg.backend})`, job);
        return;
      case 'log':
        this.log(msg.level, msg.message, job);
        return;
      case 'started':
        if (msg.runDir && msg.runDir !== job.runDir) {
          job.runDir = msg.runDir;
          this.changed.fire(job);
        }
        return;
      case 'event':
        if (msg.event.type === 'log') this.log(msg.event.level, msg.event.message, job);
        if (applyEvent(job, msg.event)) this.changed.fire(job);
        this.events.fire({ job, event: msg.event });
        return;
      case 'finished':
        entry.finished = true;
        this.settle(job, msg.outcome);
        // one run per worker: it can go now
        entry.worker.shutdown(SHUTDOWN_GRACE_MS);
        return;
    }
  }

  private onExit(job: Job, entry: Running, exit: WorkerExit): void {
    this.running.delete(job.id);
    if (!entry.finished && isActive(job)) {
      const how = exit.spawnError ?? (exit.signal ? `was killed (${exit.signal})` : `exited with code ${exit.code}`);
      const killedOnStop = job.stopping && exit.signal === 'SIGKILL';
      // the last line first (notifications show one line), then the tail for the log
      const last = exit.lastLines.at(-1);
      const error = killedOnStop
        ? 'did not stop within the grace period and was killed; the run resumes from its last checkpoint'
        : `the engine worker ${how} before the run finished${last ? `: ${last}` : ''}${exit.lastLines.length > 1 ? `\nlast output:\n${exit.lastLines.slice(-10).join('\n')}` : ''}`;
      this.log(killedOnStop ? 'warn' : 'error', error, job);
      this.markRunFolder(job, killedOnStop ? 'cancelled' : 'failed', error);
      this.settle(job, { status: killedOnStop ? 'cancelled' : 'failed', error });
    }
    this.pump();
  }

  /** A worker that died cannot update run.json: do it, so the run is not left "running". */
  private markRunFolder(job: Job, status: 'failed' | 'cancelled', error: string): void {
    const dir = job.runDir;
    if (!dir || !existsSync(join(dir, 'run.json'))) return;
    try {
      const run = RunFolder.open(dir);
      if (run.status.status === 'running') run.setStatus(status, { error: error.split('\n')[0] });
    } catch (e) {
      this.log('warn', `could not mark ${dir} as ${status}: ${(e as Error).message}`, job);
    }
  }

  private settle(job: Job, outcome: RunOutcome): void {
    if (!isActive(job)) return;
    job.status = outcome.status;
    job.finishedAt = Date.now();
    job.stopping = false;
    if (outcome.runDir) job.runDir = outcome.runDir;
    if (outcome.error) job.error = outcome.error;
    this.changed.fire(job);
    for (const resolve of this.settled.get(job.id) ?? []) resolve(job);
    this.settled.delete(job.id);
    this.pump();
  }

  private log(level: LogLevel, message: string, job?: Job): void {
    this.logs.fire(job ? { level, message, job } : { level, message });
  }
}

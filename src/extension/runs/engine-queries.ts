// One-off questions to the engine (a config's model summary) from the
// extension host: asked of a worker process of their own, started on the
// first question and let go after a while without one, so they never wait
// behind a training run and TF.js never loads into the editor. Questions are
// answered in order; one that takes too long kills the process (the next one
// starts a fresh one). No vscode here: unit-tested with a stand-in worker.
import type { EngineQueries, QueryMethod, WorkerMessage } from '../../shared/protocol';
import { WorkerProcess, type WorkerExit, type WorkerSpawn } from './worker-process';

export interface EngineQueryOptions {
  /** how to start a worker (node binary, dist/worker.js, environment) */
  spawnSpec: () => WorkerSpawn;
  /** the process goes after this long without a question (default 60 s) */
  idleMs?: number;
  /** a question unanswered after this long fails and the process is killed (default 180 s) */
  timeoutMs?: number;
  /** the worker's log lines and stderr */
  onLog?: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;
}

interface Pending {
  /** the process asked: its exit fails only its own questions */
  worker: WorkerProcess;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

const SHUTDOWN_GRACE_MS = 2_000;

function exitText(exit: WorkerExit): string {
  const how = exit.spawnError ?? (exit.signal ? `was killed (${exit.signal})` : `exited with code ${exit.code}`);
  const tail = exit.lastLines.slice(-5).join('\n');
  return `the engine process ${how}${tail ? `; its last lines:\n${tail}` : ''}`;
}

export class EngineQueryClient {
  private worker: WorkerProcess | undefined;
  private readonly pending = new Map<string, Pending>();
  private seq = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private disposed = false;

  constructor(private readonly options: EngineQueryOptions) {}

  /** Whether a worker process is running now (for tests and the log). */
  get running(): boolean {
    return this.worker?.alive ?? false;
  }

  ask<K extends QueryMethod>(method: K, params: EngineQueries[K]['params']): Promise<EngineQueries[K]['result']> {
    if (this.disposed) return Promise.reject(new Error('the engine query process is shut down'));
    let worker: WorkerProcess;
    try {
      worker = this.ensureWorker();
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    clearTimeout(this.idleTimer);
    const id = `q-${++this.seq}`;
    const timeoutMs = this.options.timeoutMs ?? 180_000;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.settle(id, new Error(`${method}: no answer from the engine after ${+(timeoutMs / 1000).toFixed(1)} s; its process was stopped`));
        worker.kill();
      }, timeoutMs);
      this.pending.set(id, { worker, resolve: resolve as (v: unknown) => void, reject, timer });
      worker.send({ type: 'query', id, method, params });
    });
  }

  /** Stops the process; unanswered questions fail. */
  dispose(): void {
    this.disposed = true;
    clearTimeout(this.idleTimer);
    this.failAll(new Error('the engine query process is shut down'));
    this.worker?.shutdown(SHUTDOWN_GRACE_MS);
    this.worker = undefined;
  }

  private ensureWorker(): WorkerProcess {
    if (this.worker?.alive) return this.worker;
    const worker: WorkerProcess = new WorkerProcess(this.options.spawnSpec(), {
      onMessage: (msg) => this.onMessage(msg),
      onOutput: (line) => this.options.onLog?.('info', line),
      onExit: (exit) => {
        if (this.worker === worker) this.worker = undefined;
        this.failAll(new Error(exitText(exit)), worker);
      },
    });
    this.worker = worker;
    return worker;
  }

  private onMessage(msg: WorkerMessage): void {
    if (msg.type === 'log') this.options.onLog?.(msg.level, msg.message);
    if (msg.type !== 'answer') return;
    if (msg.ok) this.settle(msg.id, undefined, msg.result);
    else this.settle(msg.id, new Error(msg.error));
  }

  private settle(id: string, error: Error | undefined, result?: unknown): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (error) p.reject(error);
    else p.resolve(result);
    if (this.pending.size === 0) this.scheduleIdle();
  }

  private failAll(error: Error, worker?: WorkerProcess): void {
    for (const [id, p] of [...this.pending]) if (!worker || p.worker === worker) this.settle(id, error);
  }

  private scheduleIdle(): void {
    clearTimeout(this.idleTimer);
    if (!this.worker) return;
    this.idleTimer = setTimeout(() => {
      if (this.pending.size > 0) return;
      this.worker?.shutdown(SHUTDOWN_GRACE_MS);
      this.worker = undefined;
    }, this.options.idleMs ?? 60_000);
    this.idleTimer.unref();
  }
}

// One engine worker child process (dist/worker.js) seen from the extension
// host: JSON lines both ways, stderr and stray stdout kept as log lines, and
// an exit reported with the last lines it printed (a crash must be explained,
// not just noticed). No vscode here: unit-tested with a real child process.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { HostMessage, WorkerMessage } from '../../shared/protocol';

export interface WorkerSpawn {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** the worker's last log / stderr lines, oldest first */
  lastLines: string[];
  /** set when the process could not be started at all */
  spawnError?: string;
}

export interface WorkerHandlers {
  onMessage(msg: WorkerMessage): void;
  /** a line that is not a protocol message (stderr, or stray stdout) */
  onOutput(line: string, stream: 'stdout' | 'stderr'): void;
  onExit(exit: WorkerExit): void;
}

const TAIL = 40;
const WORKER_TYPES = new Set(['ready', 'event', 'started', 'finished', 'answer', 'log']);

export class WorkerProcess {
  private readonly child: ChildProcess;
  private readonly tail: string[] = [];
  private exited = false;
  private killTimer: NodeJS.Timeout | undefined;

  constructor(spec: WorkerSpawn, private readonly handlers: WorkerHandlers) {
    this.child = spawn(spec.command, spec.args, { cwd: spec.cwd, env: spec.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    let spawnError: string | undefined;
    this.child.on('error', (e) => {
      // ENOENT / EACCES of the node binary: reported through onExit
      spawnError = `cannot start ${spec.command}: ${(e as NodeJS.ErrnoException).code ?? e.message}`;
      this.remember(spawnError);
      if (this.child.pid === undefined) this.finish({ code: null, signal: null, lastLines: [...this.tail], spawnError });
    });
    this.child.stdin?.on('error', () => {
      // EPIPE after the worker died: its exit is reported instead
    });
    createInterface({ input: this.child.stdout!, crlfDelay: Infinity }).on('line', (line) => this.stdoutLine(line));
    createInterface({ input: this.child.stderr!, crlfDelay: Infinity }).on('line', (line) => {
      if (!line.trim()) return;
      this.remember(line);
      this.handlers.onOutput(line, 'stderr');
    });
    // 'close' (not 'exit'): every line of stdout/stderr has been read by then
    this.child.on('close', (code, signal) => this.finish({ code, signal, lastLines: [...this.tail], ...(spawnError ? { spawnError } : {}) }));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return !this.exited;
  }

  send(msg: HostMessage): void {
    if (this.exited || !this.child.stdin || this.child.stdin.destroyed) return;
    this.child.stdin.write(`${JSON.stringify(msg)}\n`);
  }

  /** Asks the worker to stop its runs and exit; kills it after `graceMs`. */
  shutdown(graceMs: number): void {
    this.send({ type: 'shutdown' });
    this.child.stdin?.end();
    this.killAfter(graceMs);
  }

  killAfter(graceMs: number): void {
    if (this.exited || this.killTimer) return;
    this.killTimer = setTimeout(() => this.kill(), graceMs);
    this.killTimer.unref();
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }

  private remember(line: string): void {
    this.tail.push(line);
    if (this.tail.length > TAIL) this.tail.shift();
  }

  private stdoutLine(line: string): void {
    if (!line.trim()) return;
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      msg = undefined;
    }
    if (typeof msg === 'object' && msg !== null && WORKER_TYPES.has((msg as { type?: string }).type ?? '')) {
      const m = msg as WorkerMessage;
      if (m.type === 'log') this.remember(`[${m.level}] ${m.message}`);
      else if (m.type === 'event' && m.event.type === 'log') this.remember(`[${m.event.level}] ${m.event.message}`);
      else if (m.type === 'finished' && m.outcome.error) this.remember(`[${m.outcome.status}] ${m.outcome.error}`);
      else if (m.type === 'answer' && !m.ok) this.remember(`[query failed] ${m.error}`);
      this.handlers.onMessage(m);
      return;
    }
    this.remember(line);
    this.handlers.onOutput(line, 'stdout');
  }

  private finish(exit: WorkerExit): void {
    if (this.exited) return;
    this.exited = true;
    if (this.killTimer) clearTimeout(this.killTimer);
    this.handlers.onExit(exit);
  }
}

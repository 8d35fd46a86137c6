// The engine's child process (dist/worker.js). The extension host spawns it
// so training never blocks or crashes the editor. It reads HostMessages (one
// JSON object per line on stdin), runs each request with its own
// AbortController, answers one-off queries (queries.ts), and writes
// WorkerMessages (one per line on stdout).
// stdout carries nothing else: console output from the engine or TF.js is
// turned into `log` messages.
//
// Training steps run synchronously, so the event loop may not turn for a
// whole run and stdin would not be read until it ends. A thread therefore
// reads stdin and passes each line through a MessagePort; every engine event
// — a step boundary — drains that port synchronously, so a Stop reaches the
// run at its next step.
import { format } from 'node:util';
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import type { EngineEvent } from '../shared/events';
import type { HostMessage, QueryMethod, RunOutcome, RunRequest, WorkerMessage } from '../shared/protocol';
import { runEngineCommand } from '../engine/api/run';
import { answerQuery } from './queries';

const writeOut = process.stdout.write.bind(process.stdout);

function send(msg: WorkerMessage): void {
  writeOut(`${JSON.stringify(msg)}\n`);
}

// Anything printed with console.* or written to stdout directly becomes a
// log message instead of breaking the line protocol.
const levels = { debug: 'debug', log: 'info', info: 'info', warn: 'warn', error: 'error' } as const;
for (const [method, level] of Object.entries(levels)) {
  (console as unknown as Record<string, (...args: unknown[]) => void>)[method] = (...args: unknown[]) =>
    send({ type: 'log', level, message: format(...args) });
}
process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
  const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
  for (const line of text.split('\n')) if (line.trim()) send({ type: 'log', level: 'info', message: line });
  const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
  cb?.();
  return true;
}) as typeof process.stdout.write;

/**
 * The stdin reader thread: its own event loop reads stdin (a socket or pipe,
 * never a blocking read, which would hold up process.exit) and posts each
 * line, then end-of-input, to the port.
 */
const READER = `
const { workerData } = require('node:worker_threads');
const { Socket } = require('node:net');
const { StringDecoder } = require('node:string_decoder');
const port = workerData.port;
const decoder = new StringDecoder('utf8');
let rest = '';
let ended = false;
const end = (error) => {
  if (ended) return;
  ended = true;
  if (rest.trim()) port.postMessage({ line: rest });
  if (error) port.postMessage({ error });
  port.postMessage({ eof: true });
};
const input = new Socket({ fd: 0, readable: true, writable: false });
input.on('data', (chunk) => {
  rest += decoder.write(chunk);
  for (let i; (i = rest.indexOf('\\n')) >= 0; ) { port.postMessage({ line: rest.slice(0, i) }); rest = rest.slice(i + 1); }
});
input.on('end', () => end());
input.on('close', () => end());
input.on('error', (e) => end(e.message));
`;

type ReaderMessage = { line: string } | { eof: true } | { error: string };

interface Active {
  controller: AbortController;
  done: Promise<void>;
}
const active = new Map<string, Active>();

const { port1: input, port2 } = new MessageChannel();

/** Handles lines that arrived while the engine was busy; stops act at once, starts and queries wait for the event loop. */
function drainInput(): void {
  for (let m = receiveMessageOnPort(input); m; m = receiveMessageOnPort(input)) {
    const msg = m.message as ReaderMessage;
    if ('line' in msg && /"type"\s*:\s*"(start|query)"/.test(msg.line)) setImmediate(() => onInput(msg));
    else onInput(msg);
  }
}

async function execute(id: string, req: RunRequest, controller: AbortController): Promise<RunOutcome> {
  const emit = (event: EngineEvent) => {
    send({ type: 'event', id, event });
    drainInput();
  };
  return runEngineCommand(req, { signal: controller.signal, emit, onRunDir: (dir) => send({ type: 'started', id, runDir: dir }) });
}

function start(id: string, request: RunRequest): void {
  if (active.has(id)) {
    send({ type: 'finished', id, outcome: { status: 'failed', error: `run id "${id}" is already running in this worker` } });
    return;
  }
  const controller = new AbortController();
  send({ type: 'started', id });
  const done = execute(id, request, controller)
    .catch((e: unknown): RunOutcome => {
      const aborted = controller.signal.aborted || (e instanceof Error && (e.name === 'AbortError' || e.name === 'CancelledError'));
      const error = e instanceof Error ? e.message : String(e);
      if (!aborted && e instanceof Error && e.stack) send({ type: 'log', level: 'debug', message: e.stack });
      return aborted ? { status: 'cancelled', error } : { status: 'failed', error };
    })
    .then((outcome) => {
      active.delete(id);
      send({ type: 'finished', id, outcome });
    });
  active.set(id, { controller, done });
}

/** Answers a query (one at a time: model building is synchronous), never throwing: a failure is an `answer` with the error. */
let queries: Promise<void> = Promise.resolve();
function query(id: string, method: QueryMethod, params: unknown): void {
  queries = queries.then(async () => {
    try {
      const result = await answerQuery(method, params, { busy: active.size > 0 });
      send({ type: 'answer', id, ok: true, result });
    } catch (e) {
      if (e instanceof Error && e.stack) send({ type: 'log', level: 'debug', message: e.stack });
      send({ type: 'answer', id, ok: false, error: e instanceof Error ? e.message : String(e) });
    }
  });
}

let shuttingDown = false;
async function shutdown(code: number): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  // stop at the next step boundary; runs stay resumable
  for (const a of active.values()) a.controller.abort();
  await Promise.all([...active.values()].map((a) => a.done));
  await queries; // answered (or failed) before the process goes
  process.exit(code);
}

function handle(line: string): void {
  if (!line.trim()) return;
  let msg: HostMessage;
  try {
    msg = JSON.parse(line) as HostMessage;
  } catch {
    send({ type: 'log', level: 'error', message: `worker: ignored a line that is not JSON: ${line.slice(0, 200)}` });
    return;
  }
  switch (msg.type) {
    case 'start':
      if (shuttingDown) send({ type: 'finished', id: msg.id, outcome: { status: 'cancelled', error: 'the worker is shutting down' } });
      else start(msg.id, msg.request);
      break;
    case 'stop':
      active.get(msg.id)?.controller.abort();
      break;
    case 'query':
      if (shuttingDown) send({ type: 'answer', id: msg.id, ok: false, error: 'the worker is shutting down' });
      else query(msg.id, msg.method, msg.params);
      break;
    case 'shutdown':
      void shutdown(0);
      break;
    default:
      send({ type: 'log', level: 'error', message: `worker: unknown message type ${JSON.stringify((msg as { type?: unknown }).type)}` });
  }
}

function onInput(msg: ReaderMessage): void {
  if ('line' in msg) handle(msg.line);
  else if ('eof' in msg) void shutdown(0); // the extension host went away: stop rather than train orphaned
  else send({ type: 'log', level: 'error', message: `worker: cannot read stdin: ${msg.error}` });
}

process.on('uncaughtException', (e) => {
  send({ type: 'log', level: 'error', message: `worker crashed: ${e.stack ?? e.message}` });
  process.exit(70);
});
process.on('unhandledRejection', (e) => {
  send({ type: 'log', level: 'error', message: `worker crashed (unhandled rejection): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}` });
  process.exit(70);
});
process.on('SIGTERM', () => void shutdown(143));
process.on('SIGINT', () => void shutdown(130));

input.on('message', (m: ReaderMessage) => onInput(m));
new Worker(READER, { eval: true, workerData: { port: port2 }, transferList: [port2] });

// the backend is chosen per run (config, request or MRCL_BACKEND); run.json records the one used
send({ type: 'ready', pid: process.pid, backend: process.env.MRCL_BACKEND || 'auto' });

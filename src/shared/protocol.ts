// Messages between the extension host and the engine worker process
// (dist/worker.js, a child process: training never runs in the extension
// host). One JSON object per line on the worker's stdin/stdout.
import type { EngineEvent } from './events';

export type EngineCommand = 'experiment' | 'pretrain' | 'finetune' | 'ablate' | 'evaluate' | 'demo' | 'synth' | 'validate';

export interface RunRequest {
  command: EngineCommand;
  /** experiment config file (.mrcl.json); not used by demo/synth */
  config?: string;
  /** an existing run folder to resume or evaluate */
  runDir?: string;
  resume?: boolean;
  /** output folder (demo, synth) */
  out?: string;
  /** manifest (validate); with `config`, validated with the config's labels, leak terms and fold count */
  manifest?: string;
  /** cohort size (synth); the engine's defaults where left out */
  synth?: { internal?: number; external?: number; shape?: [number, number, number]; seed?: number };
  workers?: number;
  /** backend override (else the config's, else MRCL_BACKEND, else auto) */
  backend?: string;
}

/** Extension → worker. */
export type HostMessage =
  | { type: 'start'; id: string; request: RunRequest }
  | { type: 'stop'; id: string }
  | { type: 'shutdown' };

export interface RunOutcome {
  status: 'done' | 'failed' | 'cancelled';
  runDir?: string;
  error?: string;
}

/** Worker → extension. */
export type WorkerMessage =
  | { type: 'ready'; pid: number; backend: string }
  | { type: 'event'; id: string; event: EngineEvent }
  | { type: 'started'; id: string; runDir?: string }
  | { type: 'finished'; id: string; outcome: RunOutcome }
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; message: string };

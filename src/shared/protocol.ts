// Messages between the extension host and the engine worker process
// (dist/worker.js, a child process: training never runs in the extension
// host). One JSON object per line on the worker's stdin/stdout.
import type { EngineEvent } from './events';
import type { ModelSummary } from './model-summary';

export type EngineCommand = 'experiment' | 'pretrain' | 'finetune' | 'ablate' | 'evaluate' | 'demo' | 'synth' | 'validate' | 'import';

/** What `import` reads: a DICOM folder with its cases table, a MONAI datalist, or a BIDS folder. */
export interface ImportSource {
  kind: 'dicom' | 'monai' | 'bids';
  /** the DICOM folder, the datalist file or the BIDS folder */
  source: string;
  /** dicom: the cases table (CSV) */
  table?: string;
  /** monai: the folder the datalist's paths are relative to (default: the datalist's folder) */
  base?: string;
  /** dicom: which series to take (else the FLAIR, chosen by its sidecar) */
  seriesFilter?: string;
}

/** The validation report an import writes in the dataset folder (the editor opens it when the import ends). */
export const IMPORT_VALIDATION_REPORT = 'validation-report.txt';

export interface RunRequest {
  command: EngineCommand;
  /** experiment config file (.mrcl.json); not used by demo/synth */
  config?: string;
  /** an existing run folder to resume or evaluate */
  runDir?: string;
  resume?: boolean;
  /** output folder (demo, synth, import) */
  out?: string;
  /** manifest (validate); with `config`, validated with the config's labels, leak terms and fold count */
  manifest?: string;
  /** cohort size (synth); the engine's defaults where left out */
  synth?: { internal?: number; external?: number; shape?: [number, number, number]; seed?: number };
  /** the source of an import (the dataset is written to `out`) */
  import?: ImportSource;
  workers?: number;
  /** backend override (else the config's, else MRCL_BACKEND, else auto) */
  backend?: string;
}

/**
 * One-off questions the engine answers without a run, by name: params and
 * result. Asked of a worker the extension keeps for them (a training worker
 * would answer only between steps).
 */
export type EngineQueries = {
  /** trainable and frozen parameters per component (the paper's Table 7) of a config; `text` stands for the file's content when given (an editor's unsaved text) */
  modelSummary: { params: { config: string; text?: string }; result: { summary: ModelSummary; table: string } };
};
export type QueryMethod = keyof EngineQueries;

/** Extension → worker. */
export type HostMessage =
  | { type: 'start'; id: string; request: RunRequest }
  | { type: 'stop'; id: string }
  | { type: 'query'; id: string; method: QueryMethod; params: EngineQueries[QueryMethod]['params'] }
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
  | { type: 'answer'; id: string; ok: true; result: EngineQueries[QueryMethod]['result'] }
  | { type: 'answer'; id: string; ok: false; error: string }
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; message: string };

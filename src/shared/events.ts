// Typed events the engine emits while it works. The CLI draws them as a
// progress bar (or prints them as JSON lines with --json), the extension's
// run manager receives them from the worker process, and every run folder
// keeps them in events.jsonl so dashboards can be restored.

export type StageName = string; // e.g. "pretrain", "finetune/pretrained/fold-2", "ablation/global-only/pretrain"

export interface LogEvent {
  type: 'log';
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
}

export interface StageEvent {
  type: 'stage';
  stage: StageName;
  status: 'started' | 'done' | 'skipped' | 'failed' | 'cancelled';
  detail?: string;
}

export interface ProgressEvent {
  type: 'progress';
  stage: StageName;
  /** units done / total within the whole command (steps, cases, …) */
  done: number;
  total: number;
  epoch?: number;
  epochs?: number;
  etaSeconds?: number;
}

/** Loss terms (global/local, α/β only in pretraining), learning rate, duration. */
export interface LossFields {
  loss: number;
  global?: number;
  local?: number;
  alpha?: number;
  beta?: number;
  lr: number;
  seconds: number;
}

export interface StepEvent extends LossFields {
  type: 'step';
  stage: StageName;
  epoch: number;
  step: number;
}

export interface EpochEvent extends LossFields {
  type: 'epoch';
  stage: StageName;
  epoch: number;
  epochs: number;
  /** validation or other per-epoch metrics */
  metrics?: Record<string, number>;
}

export interface MetricsEvent {
  type: 'metrics';
  stage: StageName;
  metrics: Record<string, number | null>;
}

export interface ArtifactEvent {
  type: 'artifact';
  stage: StageName;
  kind: 'checkpoint' | 'predictions' | 'metrics' | 'heatmap' | 'attention' | 'results' | 'config' | 'other';
  /** path relative to the run folder */
  path: string;
}

export type EngineEvent = LogEvent | StageEvent | ProgressEvent | StepEvent | EpochEvent | MetricsEvent | ArtifactEvent;

/** An event as written to events.jsonl: with a wall-clock time (ms since epoch). */
export type TimedEvent = EngineEvent & { time: number };

export type EventSink = (event: EngineEvent) => void;

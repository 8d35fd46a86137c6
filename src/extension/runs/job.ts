// A run as the run manager tracks it (queued → running → done / failed /
// cancelled), and the short texts the status bar, notifications and tree
// show for it. Pure data and formatting.
import type { EngineEvent, ProgressEvent } from '../../shared/events';
import type { RunRequest } from '../../shared/protocol';

export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface Job {
  /** the manager's id for this job (not the run folder's id) */
  id: string;
  label: string;
  request: RunRequest;
  status: JobStatus;
  /** the run folder once the engine made it (the cohort folder for synth) */
  runDir?: string;
  error?: string;
  /** the latest progress event */
  progress?: ProgressEvent;
  /** the latest metrics (validate counts, fold AUC, …) */
  metrics?: Record<string, number | null>;
  /** the current stage */
  stage?: string;
  queuedAt: number;
  startedAt?: number;
  finishedAt?: number;
  /** the worker's pid while it runs */
  pid?: number;
  /** a stop was asked for */
  stopping?: boolean;
}

export const ACTIVE: readonly JobStatus[] = ['queued', 'running'];

export function isActive(job: Job): boolean {
  return ACTIVE.includes(job.status);
}

/** "1h 02m", "3m 05s", "42s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** Fraction done in [0, 1], if known. */
export function fractionDone(p: ProgressEvent | undefined): number | undefined {
  if (!p || !(p.total > 0)) return undefined;
  return Math.min(1, Math.max(0, p.done / p.total));
}

/** "pretrain · epoch 3/10 · 42% · ETA 1m 05s" (the parts that are known). */
export function describeProgress(job: Pick<Job, 'status' | 'progress' | 'stopping' | 'stage'>): string {
  if (job.status === 'queued') return 'queued';
  if (job.status !== 'running') return job.status;
  const p = job.progress;
  const parts: string[] = [];
  if (job.stopping) parts.push('stopping…');
  if (job.stage) parts.push(job.stage);
  // events count epochs from 0
  if (p?.epoch !== undefined && p.epochs !== undefined) parts.push(`epoch ${Math.min(p.epoch + 1, p.epochs)}/${p.epochs}`);
  const f = fractionDone(p);
  if (f !== undefined) parts.push(`${Math.floor(f * 100)}%`);
  if (p?.etaSeconds !== undefined && Number.isFinite(p.etaSeconds)) parts.push(`ETA ${formatDuration(p.etaSeconds)}`);
  return parts.length ? parts.join(' · ') : 'running';
}

/** Folds an engine event into the job's live state; returns whether anything shown changed. */
export function applyEvent(job: Job, event: EngineEvent): boolean {
  switch (event.type) {
    case 'progress':
      job.progress = event;
      job.stage = event.stage;
      return true;
    case 'stage':
      if (event.status === 'started') job.stage = event.stage;
      return true;
    case 'metrics':
      job.metrics = { ...job.metrics, ...event.metrics };
      return true;
    case 'epoch':
      // an epoch event carries the epoch count even when progress events lag
      job.progress = { ...(job.progress ?? { type: 'progress', stage: event.stage, done: 0, total: 0 }), epoch: event.epoch, epochs: event.epochs };
      return true;
    default:
      return false;
  }
}

/** A label for a request: "Experiment exp.mrcl.json", "Synthetic cohort → data/synth", … */
export function requestLabel(req: RunRequest, base: (p: string) => string = (p) => p.split(/[\\/]/).pop() ?? p): string {
  const titles: Record<RunRequest['command'], string> = {
    experiment: 'Experiment',
    pretrain: 'Pretraining',
    finetune: 'Fine-tuning',
    ablate: 'Ablations',
    evaluate: 'Evaluation',
    demo: 'Demo',
    synth: 'Synthetic cohort',
    validate: 'Validate dataset',
    import: 'Import dataset',
  };
  const title = titles[req.command];
  if (req.resume && req.runDir) return `${title} (resume ${base(req.runDir)})`;
  if ((req.command === 'synth' || req.command === 'import') && req.out) return `${title} → ${base(req.out)}`;
  if (req.command === 'validate') return `${title} ${base(req.manifest ?? req.config ?? '')}`.trim();
  if (req.config) return `${title} ${base(req.config)}`;
  if (req.runDir) return `${title} ${base(req.runDir)}`;
  return title;
}

/** The engine command that resumes a run folder of this kind (run.json `kind`). */
export function resumeCommand(kind: string): RunRequest['command'] | undefined {
  const map: Record<string, RunRequest['command']> = { experiment: 'experiment', pretrain: 'pretrain', finetune: 'finetune', ablation: 'ablate', demo: 'demo' };
  return map[kind];
}

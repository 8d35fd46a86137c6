// Training dashboard data from engine events (live from the run manager, or
// replayed from events.jsonl): per stage, the step curves (total, global,
// local loss, α, β, learning rate) and epoch means; the latest progress
// (epoch, fraction, ETA); the fold AUCs as each fold finishes. Pure: the
// dashboard webview folds events into this state and uPlot draws it.
import type { EngineEvent, StageEvent } from '../../src/shared/events';

export const CURVES = ['loss', 'global', 'local', 'alpha', 'beta', 'lr'] as const;
export type CurveName = (typeof CURVES)[number];

export interface StageSeries {
  stage: string;
  /** x: the step's position within the stage (1, 2, …) */
  x: number[];
  /** one value per x, null where the event lacked the term */
  curves: Record<CurveName, (number | null)[]>;
  /** epoch means: epoch number and total loss */
  epochs: { epoch: number; loss: number }[];
  status?: StageEvent['status'];
}

export interface FoldAuc {
  stage: string;
  aucInternal: number | null;
  aucExternal: number | null;
}

export interface DashboardState {
  stages: StageSeries[];
  progress?: { stage: string; done: number; total: number; epoch?: number; epochs?: number; etaSeconds?: number };
  folds: FoldAuc[];
  /** the stage the newest step came from: the one the dashboard shows first */
  current?: string;
}

export function emptyDashboard(): DashboardState {
  return { stages: [], folds: [] };
}

function stageOf(state: DashboardState, stage: string): StageSeries {
  let s = state.stages.find((x) => x.stage === stage);
  if (!s) {
    s = { stage, x: [], curves: { loss: [], global: [], local: [], alpha: [], beta: [], lr: [] }, epochs: [] };
    state.stages.push(s);
  }
  return s;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Folds one event into the state (mutates and returns it). Unknown events are ignored. */
export function applyDashboardEvent(state: DashboardState, e: EngineEvent): DashboardState {
  switch (e.type) {
    case 'step': {
      const s = stageOf(state, e.stage);
      s.x.push(s.x.length + 1);
      for (const c of CURVES) s.curves[c].push(num(e[c]));
      state.current = e.stage;
      break;
    }
    case 'epoch': {
      const s = stageOf(state, e.stage);
      const loss = num(e.loss);
      if (loss !== null) s.epochs.push({ epoch: e.epoch, loss });
      break;
    }
    case 'progress': {
      const { stage, done, total, epoch, epochs, etaSeconds } = e;
      state.progress = { stage, done, total, ...(epoch !== undefined ? { epoch } : {}), ...(epochs !== undefined ? { epochs } : {}), ...(etaSeconds !== undefined ? { etaSeconds } : {}) };
      break;
    }
    case 'stage':
      if (state.stages.some((x) => x.stage === e.stage) || e.status === 'started') stageOf(state, e.stage).status = e.status;
      break;
    case 'metrics':
      if ('aucInternal' in e.metrics || 'aucExternal' in e.metrics) {
        const fold: FoldAuc = { stage: e.stage, aucInternal: num(e.metrics['aucInternal']), aucExternal: num(e.metrics['aucExternal']) };
        const i = state.folds.findIndex((f) => f.stage === e.stage);
        if (i >= 0) state.folds[i] = fold; // a resumed fold reports again: keep the newest
        else state.folds.push(fold);
      }
      break;
    default:
      break;
  }
  return state;
}

export function dashboardFromEvents(events: readonly EngineEvent[]): DashboardState {
  const state = emptyDashboard();
  for (const e of events) applyDashboardEvent(state, e);
  return state;
}

/**
 * Parses events.jsonl text. A torn last line (the run is still writing) is
 * skipped; any other bad line is an error naming the file and line.
 */
export function parseEventsJsonl(text: string, file: string): (EngineEvent & { time?: number })[] {
  const lines = text.split('\n');
  const out: (EngineEvent & { time?: number })[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      if (i === lines.length - 1) break; // torn final line
      throw new Error(`${file}: line ${i + 1} is not valid JSON (${(e as Error).message})`);
    }
    if (typeof v !== 'object' || v === null || typeof (v as { type?: unknown }).type !== 'string') {
      throw new Error(`${file}: line ${i + 1} is not an event (an object with a "type")`);
    }
    out.push(v as EngineEvent & { time?: number });
  }
  return out;
}

/** "3m 05s"-style ETA text, or "" when unknown. */
export function formatEta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '';
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** A learning-rate axis tick: 1e-4, 2.5e-5, 0 (uPlot passes null for ticks it hides). */
export function formatLr(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '';
  if (v === 0) return '0';
  const [m, e] = v.toExponential(2).split('e');
  return `${String(Number(m))}e${Number(e)}`;
}

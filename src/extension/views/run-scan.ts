// Reads what the engine wrote into a run folder (run.json, config.json,
// the stage folders and their metrics.json, results.json) into plain data
// for the experiments tree. No vscode here, so it is unit-tested on real
// folders; nothing is ever written.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { BoundedReadError, READ_LIMITS, readTextBounded } from '../../engine/io/bounded-read';
import { join } from 'node:path';

export type NodeStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled' | 'skipped' | 'not run';

export interface KeyMetrics {
  auc?: number;
  dice?: number;
  /** how many folds the numbers are averaged over (1 for a single fold) */
  folds?: number;
}

export interface ArtifactModel {
  name: string;
  path: string;
  isFolder: boolean;
}

export interface StageModel {
  /** the full stage name, e.g. "finetune/pretrained/fold-2" */
  stage: string;
  /** the last part of it, e.g. "fold-2" */
  label: string;
  status: NodeStatus;
  /** the stage's folder (it may not exist yet) */
  dir: string;
  metrics: KeyMetrics;
  children: StageModel[];
  artifacts: ArtifactModel[];
}

export interface RunModel {
  dir: string;
  id: string;
  kind: string;
  status: NodeStatus;
  created?: string;
  updated?: string;
  backend?: string;
  error?: string;
  /** the experiment name from the run's config.json */
  name?: string;
  stages: StageModel[];
  /** results.md / results.json when the run has written them */
  results?: string;
  metrics: KeyMetrics;
  /** files at the top of the run folder (config.json, results.md, …) */
  artifacts: ArtifactModel[];
}

const RUN_STATUSES: readonly NodeStatus[] = ['running', 'done', 'failed', 'cancelled'];
const STAGE_STATUSES: readonly NodeStatus[] = ['running', 'done', 'failed', 'cancelled', 'skipped', 'not run'];
/** Files of the run's own bookkeeping, not shown as artifacts. */
const HIDDEN = new Set(['run.json', 'events.jsonl']);
const MAX_ARTIFACTS = 200;

/** run.json, config.json and metrics.json are small: a cloned workspace's huge or special file is refused, not read. */
function readJsonFile(path: string): unknown {
  return JSON.parse(readTextBounded(path, { maxBytes: READ_LIMITS.config, what: 'run file' })) as unknown;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** AUC and Dice from a fold's metrics.json (or a metrics event): the internal test split when there is one. */
export function keyMetrics(v: unknown): KeyMetrics {
  if (!isRecord(v)) return {};
  const internal = isRecord(v.internal) ? v.internal : undefined;
  const auc = num(internal?.auc) ?? num(v.aucInternal) ?? num(v.auc);
  const dice = num(internal?.dice3d) ?? num(internal?.dice2d) ?? num(v.dice3dInternal) ?? num(v.dice3d) ?? num(v.dice2d) ?? num(v.dice);
  const out: KeyMetrics = {};
  if (auc !== undefined) out.auc = auc;
  if (dice !== undefined) out.dice = dice;
  if (auc !== undefined || dice !== undefined) out.folds = 1;
  return out;
}

/** The mean of the children's metrics (folds of one initialisation, say). */
export function meanMetrics(items: readonly KeyMetrics[]): KeyMetrics {
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const aucs = items.flatMap((m) => (m.auc === undefined ? [] : [m.auc]));
  const dices = items.flatMap((m) => (m.dice === undefined ? [] : [m.dice]));
  const folds = items.reduce((a, m) => a + (m.folds ?? 0), 0);
  const out: KeyMetrics = {};
  if (aucs.length) out.auc = mean(aucs);
  if (dices.length) out.dice = mean(dices);
  if (folds) out.folds = folds;
  return out;
}

/** "AUC 0.812 · Dice 0.43 (5 folds)"; '' when there is nothing to show. */
export function formatMetrics(m: KeyMetrics): string {
  const parts: string[] = [];
  if (m.auc !== undefined) parts.push(`AUC ${m.auc.toFixed(3)}`);
  if (m.dice !== undefined) parts.push(`Dice ${m.dice.toFixed(2)}`);
  if (!parts.length) return '';
  return `${parts.join(' · ')}${m.folds && m.folds > 1 ? ` (${m.folds} folds)` : ''}`;
}

/** A group's status from its children's: failures first, then activity. */
export function aggregateStatus(statuses: readonly NodeStatus[]): NodeStatus {
  if (!statuses.length) return 'not run';
  for (const s of ['failed', 'running', 'cancelled', 'queued'] as const) if (statuses.includes(s)) return s;
  if (statuses.every((s) => s === 'done' || s === 'skipped')) return statuses.includes('done') ? 'done' : 'skipped';
  return 'not run';
}

/** The files and folders in `dir` (hidden and bookkeeping files left out), files first. */
export function listArtifacts(dir: string, exclude: ReadonlySet<string> = new Set()): ArtifactModel[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return [];
  }
  const out: ArtifactModel[] = [];
  for (const name of names) {
    if (HIDDEN.has(name) || exclude.has(name) || name.startsWith('.')) continue;
    const path = join(dir, name);
    let isFolder = false;
    try {
      isFolder = statSync(path).isDirectory();
    } catch {
      continue; // removed while listing
    }
    out.push({ name, path, isFolder });
    if (out.length >= MAX_ARTIFACTS) break;
  }
  // folders after files, as an explorer shows them
  return out.sort((a, b) => Number(a.isFolder) - Number(b.isFolder) || a.name.localeCompare(b.name));
}

interface StageDraft {
  label: string;
  stage: string;
  status?: NodeStatus;
  children: Map<string, StageDraft>;
}

/** Stage names ("finetune/pretrained/fold-2") as a tree, in the order the run recorded them. */
export function buildStages(runDir: string, stages: Record<string, unknown>): StageModel[] {
  const root = new Map<string, StageDraft>();
  for (const [name, raw] of Object.entries(stages)) {
    const status = (STAGE_STATUSES as readonly unknown[]).includes(raw) ? (raw as NodeStatus) : 'not run';
    const parts = name.split('/').filter(Boolean);
    let level = root;
    parts.forEach((label, i) => {
      const stage = parts.slice(0, i + 1).join('/');
      let d = level.get(label);
      if (!d) level.set(label, (d = { label, stage, children: new Map() }));
      if (i === parts.length - 1) d.status = status;
      level = d.children;
    });
  }
  const finish = (d: StageDraft): StageModel => {
    const dir = join(runDir, ...d.stage.split('/'));
    const children = [...d.children.values()].map(finish);
    let metrics: KeyMetrics = {};
    const metricsPath = join(dir, 'metrics.json');
    if (existsSync(metricsPath)) {
      try {
        metrics = keyMetrics(readJsonFile(metricsPath));
      } catch {
        // a metrics file being replaced: shown on the next refresh
      }
    } else if (children.length && children.every((c) => c.children.length === 0)) {
      // folds of one arm: their mean; arms of different initialisations are not averaged
      metrics = meanMetrics(children.map((c) => c.metrics));
    }
    const status = d.status ?? aggregateStatus(children.map((c) => c.status));
    const artifacts = listArtifacts(dir, new Set(d.children.keys()));
    return { stage: d.stage, label: d.label, status, dir, metrics, children, artifacts };
  };
  return [...root.values()].map(finish);
}

/**
 * The run folder's model, or undefined when `dir` holds no run.json. A
 * run.json that cannot be read gives a failed run whose error says why.
 */
export function readRunFolder(dir: string): RunModel | undefined {
  const runJson = join(dir, 'run.json');
  if (!existsSync(runJson)) return undefined;
  const id = dir.split(/[\\/]/).filter(Boolean).pop() ?? dir;
  let info: unknown;
  try {
    info = readJsonFile(runJson);
  } catch (e) {
    const why = e instanceof BoundedReadError ? e.problem : (e as Error).message;
    return { dir, id, kind: 'run', status: 'failed', error: `${runJson}: cannot read: ${why}`, stages: [], metrics: {}, artifacts: [] };
  }
  if (!isRecord(info) || info.format !== 'mrcl-run-1') {
    return { dir, id, kind: 'run', status: 'failed', error: `${runJson}: not a run folder (format ${JSON.stringify(isRecord(info) ? info.format : undefined)})`, stages: [], metrics: {}, artifacts: [] };
  }
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const status = (RUN_STATUSES as readonly unknown[]).includes(info.status) ? (info.status as NodeStatus) : 'failed';
  const stages = buildStages(dir, isRecord(info.stages) ? info.stages : {});
  let name: string | undefined;
  try {
    const c = readJsonFile(join(dir, 'config.json'));
    if (isRecord(c)) name = str(c.name);
  } catch {
    // no or unreadable config.json: the run is still listed
  }
  const results = ['results.md', 'results.json'].map((f) => join(dir, f)).find((p) => existsSync(p));
  const topStages = new Set(stages.map((s) => s.label));
  const model: RunModel = {
    dir,
    id: str(info.id) ?? id,
    kind: str(info.kind) ?? 'run',
    status,
    stages,
    metrics: runMetrics(stages),
    artifacts: listArtifacts(dir, topStages),
  };
  const created = str(info.created);
  const updated = str(info.updated);
  const backend = str(info.backend);
  const error = str(info.error);
  if (created) model.created = created;
  if (updated) model.updated = updated;
  if (backend) model.backend = backend;
  if (error) model.error = error;
  if (name) model.name = name;
  if (results) model.results = results;
  return model;
}

/** The run's headline numbers: the proposed arm's folds when it has them, else all folds. */
function runMetrics(stages: readonly StageModel[]): KeyMetrics {
  const finetune = stages.find((s) => s.label === 'finetune');
  if (!finetune) return {};
  const proposed = finetune.children.find((c) => c.label === 'pretrained');
  return proposed?.metrics.auc !== undefined ? proposed.metrics : finetune.metrics;
}

/** Run folders directly inside `runsDir`, newest first. */
export function listRunFolders(runsDir: string): RunModel[] {
  let names: string[];
  try {
    names = readdirSync(runsDir);
  } catch {
    return [];
  }
  const runs: RunModel[] = [];
  for (const n of names) {
    const r = readRunFolder(join(runsDir, n));
    if (r) runs.push(r);
  }
  return runs.sort((a, b) => (b.created ?? '').localeCompare(a.created ?? '') || b.id.localeCompare(a.id));
}

// From per-fold results to statistics: checks the input, takes
// mean and std of every metric over folds, runs the paired t-tests between
// arms. The tables are laid out in tables.ts.
// Std is the sample standard deviation (n − 1): the paper reports "mean and
// standard deviation" over the five folds without saying which; n − 1 is the
// usual choice for a sample of models (numpy's ddof=1, pandas' default).
// With one fold the std is undefined: kept as null and footnoted.
// follows: METHOD.md §6–7 (mean and std over folds, paired t-test over folds)
import { pairedTTest } from '../metrics/ttest';
import { isProposedArm } from './paper';
import type { ArmResult, ArmStatus, BaselineMethodKey, FoldResult, MetricKey, NumberFormat, PairedTestResult, ResultsInput, Split, SplitMetrics } from './types';

/** the metrics paired-tested between arms */
export const METRICS: readonly MetricKey[] = ['auc', 'precision', 'recall', 'f1', 'dice2d', 'dice3d', 'mass3d'];
export const SPLITS: readonly Split[] = ['internal', 'external'];
/** Baseline explanation methods in table order, and their row labels (METHOD.md §7, baseline explanations). */
export const BASELINE_KEYS: readonly BaselineMethodKey[] = ['gradCam', 'occlusion'];
export const BASELINE_LABELS: Record<BaselineMethodKey, string> = { gradCam: 'Grad-CAM', occlusion: 'occlusion' };
const STATUSES: readonly ArmStatus[] = ['done', 'not run', 'failed', 'partial'];
/** Column headers as the paper prints them. */
export const METRIC_HEADERS: Record<MetricKey, string> = {
  auc: 'AUC',
  precision: 'Precision',
  recall: 'Recall',
  f1: 'F1-score',
  dice2d: '2D Dice Score',
  dice3d: '3D Dice Score',
  foreground: 'Map foreground',
  floor2d: '2D Dice, whole-slice map',
  floor3d: '3D Dice, whole-volume map',
  bound2d: '2D Dice, best grid-cell map',
  bound3d: '3D Dice, best grid-cell map',
  mass3d: 'Map mass in tumour',
  massFloor3d: 'Mass of a flat map',
  pointing: 'Peak in tumour',
};
export const METRIC_FORMATS: Record<MetricKey, NumberFormat> = {
  auc: 'decimal3',
  precision: 'decimal3',
  recall: 'decimal3',
  f1: 'decimal3',
  dice2d: 'percent1',
  dice3d: 'percent1',
  foreground: 'percent1',
  floor2d: 'percent1',
  floor3d: 'percent1',
  bound2d: 'percent1',
  bound3d: 'percent1',
  mass3d: 'percent1',
  massFloor3d: 'percent1',
  pointing: 'percent1',
};

export interface Summary {
  mean: number;
  /** sample std (n − 1); null for a single value */
  std: number | null;
  n: number;
}

export function summarize(values: readonly number[]): Summary {
  const n = values.length;
  if (n === 0) throw new Error('summarize: no values');
  const mean = values.reduce((s, v) => s + v, 0) / n;
  if (n === 1) return { mean, std: null, n };
  const ss = values.reduce((s, v) => s + (v - mean) * (v - mean), 0);
  return { mean, std: Math.sqrt(ss / (n - 1)), n };
}

export interface MetricFolds {
  /** folds with a value, in fold order */
  folds: number[];
  values: number[];
  /** folds without the split at all (no external cohort) */
  noSplit: number;
  /** folds with the split but a null metric */
  noValue: number;
}

export function metricFolds(arm: ArmResult, split: Split, metric: MetricKey): MetricFolds {
  const out: MetricFolds = { folds: [], values: [], noSplit: 0, noValue: 0 };
  for (const f of [...arm.folds].sort((a, b) => a.fold - b.fold)) {
    const m = f[split];
    if (m === null) out.noSplit++;
    else if (m[metric] === null || m[metric] === undefined) out.noValue++; // undefined: a field older runs lack
    else {
      out.folds.push(f.fold);
      out.values.push(m[metric] as number);
    }
  }
  return out;
}

/**
 * 'positive' or 'negative' when every case of a split was predicted that one
 * class at its threshold (from the split's predicted-positive count), where
 * precision, recall and F1 say nothing about the model; else undefined
 * (also for older results without the count).
 */
export function singleClassPrediction(m: SplitMetrics): 'positive' | 'negative' | undefined {
  if (m.predictedPositives === undefined || m.n === 0) return undefined;
  if (m.predictedPositives === 0) return 'negative';
  if (m.predictedPositives === m.n) return 'positive';
  return undefined;
}

export interface SingleClassFolds {
  /** folds whose every case was predicted negative / positive */
  negative: number[];
  positive: number[];
}

/** The arm's folds that predict one class only on a split. */
export function singleClassFolds(arm: ArmResult, split: Split): SingleClassFolds {
  const out: SingleClassFolds = { negative: [], positive: [] };
  for (const f of [...arm.folds].sort((a, b) => a.fold - b.fold)) {
    const m = f[split];
    const one = m ? singleClassPrediction(m) : undefined;
    if (one) out[one].push(f.fold);
  }
  return out;
}

/** The warning for an arm's single-class folds on a split, or undefined when there are none. */
export function singleClassWarning(arm: ArmResult, split: Split): string | undefined {
  const s = singleClassFolds(arm, split);
  const k = s.negative.length + s.positive.length;
  if (k === 0) return undefined;
  const parts = (['negative', 'positive'] as const)
    .filter((c) => s[c].length)
    .map((c) => `all ${c} in fold${s[c].length === 1 ? '' : 's'} ${s[c].join(', ')}`);
  return `${arm.label}: ${k} of ${arm.folds.length} fold${arm.folds.length === 1 ? '' : 's'} predict one class only on the ${split} cohort (${parts.join('; ')}); precision, recall and F1 there say nothing about the model`;
}

/** The footnote of an arm that is not done (or has fewer folds than configured), or undefined. */
export function armStatusNote(arm: ArmResult, expectedFolds?: number): string | undefined {
  const why = arm.reason ? `: ${arm.reason}` : ' (no reason given)';
  const k = arm.folds.length;
  const of = expectedFolds !== undefined ? `${k} of ${expectedFolds} folds` : `${k} fold${k === 1 ? '' : 's'}`;
  if (arm.status === 'not run' || arm.status === 'failed') return `${arm.label} ${arm.status}${why}`;
  if (arm.status === 'partial') return `${arm.label} partial, ${of}${arm.reason ? ` (${arm.reason})` : ''}`;
  if (expectedFolds !== undefined && k < expectedFolds) return `${arm.label}: ${of}`;
  return undefined;
}

/** Pairs tested: the proposed arm against each other arm, else every pair. */
export function armPairs(arms: readonly ArmResult[]): [ArmResult, ArmResult][] {
  const ref = arms.find((a) => isProposedArm(a.arm));
  if (ref) return arms.filter((a) => a !== ref).map((a) => [ref, a]);
  const pairs: [ArmResult, ArmResult][] = [];
  for (let i = 0; i < arms.length; i++) for (let j = i + 1; j < arms.length; j++) pairs.push([arms[i], arms[j]]);
  return pairs;
}

/** Paired t-test of one metric over the folds both arms have it; a − b. */
export function pairedFoldTest(a: ArmResult, b: ArmResult, split: Split, metric: MetricKey): PairedTestResult {
  const base = { a: a.arm, b: b.arm, split, metric };
  for (const arm of [a, b]) {
    if (arm.status === 'not run' || arm.status === 'failed') {
      return { ...base, status: 'skipped', folds: [], t: null, p: null, df: null, reason: armStatusNote(arm) };
    }
  }
  const fa = metricFolds(a, split, metric);
  const fb = metricFolds(b, split, metric);
  const byFold = new Map(fb.folds.map((f, i) => [f, fb.values[i]]));
  const folds: number[] = [];
  const x: number[] = [];
  const y: number[] = [];
  fa.folds.forEach((f, i) => {
    const v = byFold.get(f);
    if (v !== undefined) {
      folds.push(f);
      x.push(fa.values[i]);
      y.push(v);
    }
  });
  if (folds.length < 2) {
    const reason = `${a.label} vs ${b.label}, ${split} ${METRIC_HEADERS[metric]}: ${folds.length} paired fold${folds.length === 1 ? '' : 's'}, a paired t-test needs 2`;
    return { ...base, status: 'skipped', folds, t: null, p: null, df: null, reason };
  }
  const r = pairedTTest(x, y);
  return { ...base, status: 'done', folds, t: r.t, p: r.p, df: r.df };
}

// ---- input checks: every problem names the input and the offending path ----

function fail(source: string, path: string, problem: string): never {
  throw new Error(`${source}: ${path} ${problem}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const shown = (v: unknown): string => (typeof v === 'number' ? String(v) : (JSON.stringify(v) ?? String(v)));

function checkFraction(v: unknown, source: string, path: string, nullable: boolean): void {
  if (v === null && nullable) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) {
    fail(source, path, `is ${shown(v)}, expected a number in [0, 1]${nullable ? ' or null' : ''}`);
  }
}

function checkCount(v: unknown, source: string, path: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(source, path, `is ${shown(v)}, expected a whole number ≥ 0`);
  return v;
}

function checkSplit(v: unknown, source: string, path: string): void {
  if (!isRecord(v)) fail(source, path, 'is not an object of metrics');
  const n = checkCount(v.n, source, `${path}.n`);
  const pos = checkCount(v.positives, source, `${path}.positives`);
  if (pos > n) fail(source, `${path}.positives`, `is ${pos}, more than n = ${n}`);
  const m = v as Partial<SplitMetrics>;
  checkFraction(m.auc, source, `${path}.auc`, true);
  checkFraction(m.precision, source, `${path}.precision`, false);
  checkFraction(m.recall, source, `${path}.recall`, false);
  checkFraction(m.f1, source, `${path}.f1`, false);
  if (m.threshold !== undefined && (typeof m.threshold !== 'number' || !Number.isFinite(m.threshold))) fail(source, `${path}.threshold`, `is ${shown(m.threshold)}, expected a finite number`);
  if (m.predictedPositives !== undefined) {
    const pp = checkCount(m.predictedPositives, source, `${path}.predictedPositives`);
    if (pp > n) fail(source, `${path}.predictedPositives`, `is ${pp}, more than n = ${n}`);
  }
  checkFraction(m.dice2d, source, `${path}.dice2d`, true);
  checkFraction(m.dice3d, source, `${path}.dice3d`, true);
  for (const k of ['foreground', 'floor2d', 'floor3d', 'bound2d', 'bound3d', 'mass3d', 'massFloor3d', 'pointing'] as const) {
    if (m[k] !== undefined) checkFraction(m[k], source, `${path}.${k}`, true);
  }
}

/** metrics.json `baselines` (explain.baselines): per split, per method, n and the means. */
function checkBaselines(v: unknown, source: string, path: string): void {
  if (!isRecord(v)) fail(source, path, 'is not an object { internal, external }');
  for (const split of SPLITS) {
    const s = v[split];
    if (split === 'external' && s === null) continue;
    if (!isRecord(s)) fail(source, `${path}.${split}`, `is ${shown(s)}, expected an object of methods${split === 'external' ? ' or null' : ''}`);
    for (const [method, m] of Object.entries(s)) {
      const p = `${path}.${split}.${method}`;
      if (!BASELINE_KEYS.includes(method as BaselineMethodKey)) fail(source, p, `is not a baseline explanation method (expected ${BASELINE_KEYS.join(' or ')})`);
      if (!isRecord(m)) fail(source, p, 'is not an object { n, dice2d, dice3d, foreground }');
      checkCount(m.n, source, `${p}.n`);
      for (const k of ['dice2d', 'dice3d', 'foreground'] as const) checkFraction(m[k], source, `${p}.${k}`, true);
      for (const k of ['mass3d', 'pointing'] as const) if (m[k] !== undefined) checkFraction(m[k], source, `${p}.${k}`, true);
    }
  }
}

function checkFold(v: unknown, arm: string, source: string, path: string): void {
  if (!isRecord(v)) fail(source, path, 'is not a fold result object');
  if (v.arm !== arm) fail(source, `${path}.arm`, `is ${JSON.stringify(v.arm)}, but the fold is listed under arm ${JSON.stringify(arm)}`);
  checkCount(v.fold, source, `${path}.fold`);
  checkSplit(v.internal, source, `${path}.internal`);
  if (v.external !== null) checkSplit(v.external, source, `${path}.external`);
  const g = v.attentionGrid;
  if (g !== undefined && g !== null && !(Array.isArray(g) && g.length === 3 && g.every((d) => Number.isInteger(d) && d >= 1))) {
    fail(source, `${path}.attentionGrid`, `is ${shown(g)}, expected three positive integers or null`);
  }
  if (v.baselines !== undefined) checkBaselines(v.baselines, source, `${path}.baselines`);
}

/** Throws an Error naming `source` and the offending field when `input` is not a usable ResultsInput. */
export function checkResultsInput(input: unknown, source = 'results input'): ResultsInput {
  if (!isRecord(input)) fail(source, '(root)', 'is not an object');
  if (input.kind !== 'experiment' && input.kind !== 'ablation') fail(source, 'kind', `is ${JSON.stringify(input.kind)}, expected "experiment" or "ablation"`);
  if (typeof input.runId !== 'string' || input.runId === '') fail(source, 'runId', 'must be a non-empty string');
  if (input.showPaper !== undefined && typeof input.showPaper !== 'boolean') fail(source, 'showPaper', 'must be true or false');
  if (input.config !== undefined) {
    if (!isRecord(input.config)) fail(source, 'config', 'is not an object');
    const k = checkCount(input.config.folds, source, 'config.folds');
    if (k < 1) fail(source, 'config.folds', 'must be at least 1');
    if (typeof input.config.seed !== 'number' || !Number.isInteger(input.config.seed)) fail(source, 'config.seed', 'must be an integer');
  }
  if (!Array.isArray(input.arms) || input.arms.length === 0) fail(source, 'arms', 'must be a non-empty array');
  const names = new Set<string>();
  input.arms.forEach((a: unknown, i: number) => {
    const p = `arms[${i}]`;
    if (!isRecord(a)) fail(source, p, 'is not an arm object');
    if (typeof a.arm !== 'string' || a.arm === '') fail(source, `${p}.arm`, 'must be a non-empty string');
    if (names.has(a.arm)) fail(source, `${p}.arm`, `repeats arm ${JSON.stringify(a.arm)}`);
    names.add(a.arm);
    if (typeof a.label !== 'string' || a.label === '') fail(source, `${p}.label`, 'must be a non-empty string');
    if (!STATUSES.includes(a.status as ArmStatus)) fail(source, `${p}.status`, `is ${JSON.stringify(a.status)}, expected one of ${STATUSES.map((s) => `"${s}"`).join(', ')}`);
    if (a.reason !== undefined && typeof a.reason !== 'string') fail(source, `${p}.reason`, 'must be a string');
    if (!Array.isArray(a.folds)) fail(source, `${p}.folds`, 'must be an array');
    const status = a.status as ArmStatus;
    if ((status === 'not run' || status === 'failed') && a.folds.length > 0) {
      fail(source, `${p}.folds`, `holds ${a.folds.length} fold results but the arm's status is "${status}" (use "partial")`);
    }
    if ((status === 'done' || status === 'partial') && a.folds.length === 0) fail(source, `${p}.folds`, `is empty but the arm's status is "${status}"`);
    const seen = new Set<number>();
    a.folds.forEach((f: unknown, j: number) => {
      checkFold(f, a.arm as string, source, `${p}.folds[${j}]`);
      const k = (f as FoldResult).fold;
      if (seen.has(k)) fail(source, `${p}.folds[${j}].fold`, `repeats fold ${k}`);
      seen.add(k);
    });
  });
  return input as unknown as ResultsInput;
}

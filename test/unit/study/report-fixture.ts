// Hand-built run folders for the study report tests: plan.json, each unit's
// metrics.json and predictions.csv, results.json (built by the engine's own
// buildResults from those metrics) and pretrain/retrieval.json. An arm's
// quality is a knob: `separation` moves its positives' scores up, `dice`
// sets the centre of its attention Dice, so a test can make CL better or worse.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { buildResults, writeResults } from '../../../src/engine/results';
import type { ArmResult, FoldResult, SplitMetrics } from '../../../src/engine/results';
import type { FoldCases } from '../../../src/engine/results/bootstrap-ci';
import { rocAuc } from '../../../src/engine/metrics/roc-auc';
import type { Prediction } from '../../../src/engine/training/finetune';

export interface FakeArm {
  arm: string;
  label: string;
  /** added to the positives' scores (0: chance) */
  separation: number;
  /** centre of the per-case Dice; null: no maps (a probe made before it scored them) */
  dice: number | null;
  /** centre of the per-case attention mass in the tumour; unset: the run predates the mass columns */
  mass?: number;
}

/** A predictions.csv row with the columns the report reads. */
export type FakeCase = Pick<Prediction, 'id' | 'cohort' | 'label' | 'score' | 'dice2d' | 'dice3d'> & { mass3d?: number | null };

/** A small deterministic generator (the fixture's own, so the engine's is not under test here). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const FOLDS = 5;
const HEADER = 'id,cohort,label,score,dice2d,dice3d,foreground,floor2d,floor3d,bound2d,bound3d';
const MASS_HEADER = `${HEADER},mass3d,massFloor3d,pointing`;

function split(cases: FakeCase[]): SplitMetrics {
  const scores = cases.map((c) => c.score);
  const labels = cases.map((c) => c.label);
  const pos = labels.filter((l) => l === 1).length;
  const pred = scores.map((s) => (s >= 0.5 ? 1 : 0));
  const tp = pred.filter((p, i) => p === 1 && labels[i] === 1).length;
  const pp = pred.filter((p) => p === 1).length;
  const precision = pp ? tp / pp : 0;
  const recall = pos ? tp / pos : 0;
  const mean = (k: 'dice2d' | 'dice3d' | 'mass3d') => {
    const v = cases.map((c) => c[k]).filter((x): x is number => typeof x === 'number');
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
  };
  return {
    n: cases.length,
    positives: pos,
    auc: pos > 0 && pos < cases.length ? rocAuc(scores, labels) : null,
    precision,
    recall,
    f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0,
    threshold: 0.5,
    predictedPositives: pp,
    dice2d: mean('dice2d'),
    dice3d: mean('dice3d'),
    ...(cases.some((c) => c.mass3d !== undefined) ? { mass3d: mean('mass3d') } : {}),
  };
}

/** The cases one arm's fold evaluates: its internal test fold and the whole external cohort. */
export function fakeCases(arm: FakeArm, fold: number, seed: number): FakeCase[] {
  const rnd = lcg(seed * 7919 + fold * 104729 + arm.arm.length * 31 + arm.separation * 1000);
  const clamp = (v: number) => Math.max(0, Math.min(1, v));
  const out: FakeCase[] = [];
  const make = (id: string, cohort: 'internal' | 'external', label: 0 | 1): FakeCase => {
    const score = clamp(0.3 + 0.4 * rnd() + (label ? arm.separation : 0));
    const d = clamp((arm.dice ?? 0) + 0.2 * (rnd() - 0.5));
    // an occasional case without a mask: no Dice (every case without maps)
    const noMask = rnd() < 0.05 || arm.dice === null;
    const c: FakeCase = { id, cohort, label, score: Math.round(score * 1e4) / 1e4, dice2d: noMask ? null : Math.round(clamp(d * 1.3) * 1e4) / 1e4, dice3d: noMask ? null : Math.round(d * 1e4) / 1e4 };
    if (arm.mass !== undefined) c.mass3d = noMask ? null : Math.round(clamp(arm.mass + 0.02 * (rnd() - 0.5)) * 1e4) / 1e4;
    return c;
  };
  for (let i = 0; i < 10; i++) out.push(make(`int-${fold}-${i}`, 'internal', (i % 2) as 0 | 1));
  for (let i = 0; i < 12; i++) out.push(make(`ext-${i}`, 'external', (i % 3 === 0 ? 1 : 0) as 0 | 1));
  return out;
}

export interface FakeRun {
  dir: string;
  cases: Map<string, FakeCase[]>;
}

/** Writes a run folder of `kind` with the given arms (5 folds each). */
export function fakeRun(kind: 'experiment' | 'ablation', arms: readonly FakeArm[], o: { seed?: number; retrieval?: object; dir?: string } = {}): FakeRun {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'mrcl-report-run-'));
  const seed = o.seed ?? 1;
  const finetune: object[] = [];
  const results: ArmResult[] = [];
  const caseResults: FoldCases[] = [];
  const cases = new Map<string, FakeCase[]>();
  for (const a of arms) {
    const folds: FoldResult[] = [];
    for (let fold = 0; fold < FOLDS; fold++) {
      const stage = kind === 'experiment' ? join('finetune', a.arm, `fold-${fold}`) : join('ablation', a.arm, `fold-${fold}`);
      finetune.push({ kind: 'finetune', stage, arm: a.arm, init: kind === 'experiment' ? a.arm : 'pretrained', fold, variant: 'base' });
      const cs = fakeCases(a, fold, seed);
      cases.set(`${a.arm}/${fold}`, cs);
      const metrics: FoldResult = { arm: a.arm, fold, internal: split(cs.filter((c) => c.cohort === 'internal')), external: split(cs.filter((c) => c.cohort === 'external')), attentionGrid: [4, 4, 3] };
      folds.push(metrics);
      caseResults.push({ arm: a.arm, fold, cases: cs.map(({ cohort, label, score, dice2d, dice3d }) => ({ cohort, label, score, dice2d, dice3d })) });
      mkdirSync(join(dir, stage), { recursive: true });
      writeFileSync(join(dir, stage, 'metrics.json'), JSON.stringify(metrics));
      const mass = (c: FakeCase) => (a.mass === undefined ? [] : [c.mass3d ?? '', c.mass3d == null ? '' : 0.004, c.mass3d == null ? '' : 0]);
      const rows = cs.map((c) => [c.id, c.cohort, c.label, c.score, c.dice2d ?? '', c.dice3d ?? '', c.dice3d === null ? '' : 0.1, '', '', '', '', ...mass(c)].join(','));
      writeFileSync(join(dir, stage, 'predictions.csv'), `${[a.mass === undefined ? HEADER : MASS_HEADER, ...rows].join('\n')}\n`);
    }
    results.push({ arm: a.arm, label: a.label, status: 'done', folds });
  }
  writeFileSync(join(dir, 'plan.json'), JSON.stringify({ kind, pretrain: [], finetune, notRun: [] }));
  const doc = buildResults({ kind, runId: dir.split('/').pop()!, arms: results, config: { folds: FOLDS, seed }, caseResults });
  writeResults(dir, doc);
  if (o.retrieval) {
    const pre = kind === 'experiment' ? join(dir, 'pretrain') : join(dir, 'ablation', 'proposed', 'pretrain');
    mkdirSync(pre, { recursive: true });
    writeFileSync(join(pre, 'retrieval.json'), JSON.stringify(o.retrieval));
  }
  return { dir, cases };
}

export const RANDOM: FakeArm = { arm: 'random', label: 'Random init', separation: 0, dice: 0.05 };
export const MEDICALNET: FakeArm = { arm: 'medicalnet', label: 'MedicalNet', separation: 0.05, dice: 0.1 };
export const GOOD_CL: FakeArm = { arm: 'pretrained', label: 'Proposed CL', separation: 0.4, dice: 0.35 };
export const BAD_CL: FakeArm = { arm: 'pretrained', label: 'Proposed CL', separation: -0.1, dice: 0.02 };

/** retrieval.json of N pairs with the given ranks (formats.md: recall from the ranks, chance min(k, N)/N). */
export function fakeRetrieval(pairs: 'held-out' | 'training', ranks: { imageToReport: number[]; reportToImage: number[] }, withRanks = true): object {
  const n = ranks.imageToReport.length;
  const at = (d: number[], k: number) => d.filter((r) => r <= k).length / n;
  const med = (d: number[]) => {
    const s = [...d].sort((a, b) => a - b);
    return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
  };
  const both = (f: (d: number[]) => number) => ({ imageToReport: f(ranks.imageToReport), reportToImage: f(ranks.reportToImage) });
  return {
    pairs,
    cases: n,
    'recall@1': both((d) => at(d, 1)),
    'recall@5': both((d) => at(d, 5)),
    'recall@10': both((d) => at(d, 10)),
    medianRank: both(med),
    meanRank: both((d) => d.reduce((a, b) => a + b, 0) / n),
    chance: { 'recall@1': 1 / n, 'recall@5': Math.min(5, n) / n, 'recall@10': Math.min(10, n) / n, medianRank: (n + 1) / 2, meanRank: (n + 1) / 2 },
    ...(withRanks ? { ranks } : {}),
  };
}

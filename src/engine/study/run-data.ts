// What the study report reads from a finished run folder: results.json, the
// plan's fine-tuning units with their metrics.json and predictions.csv, and
// the pretraining stage's retrieval.json / zero-shot.json. Nothing is
// recomputed here; a missing optional file is recorded as missing (the
// report says "not measured"), an unreadable one is an error naming it.
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { longformerConfigFromHf } from '../networks/longformer-config';
import { readModelConfig } from '../networks/hf-text';
import type { ExperimentConfig } from '../../shared/config';
import type { RetrievalByLocation } from '../metrics/retrieval-ranks';
import type { LocationNeighbours } from '../metrics/label-neighbours';
import { readResults } from '../results/render';
import type { ArmResult, FoldResult, ResultsDoc } from '../results/types';
import { readJson } from '../training/run-folder';
import { readPredictions, type Prediction } from '../training/finetune';
import { dataPath } from '../io/safe-path';
import type { Plan } from '../experiment/units';
import { CROSS_ATTENTION_FILE, PROBE_DIR, TUMOUR_REACH_FILE, type CrossAttentionProbeFile, type CrossAttentionStage, type TumourReachFile } from '../experiment/probe';
import { REACH_BINS, type ReachSummary } from '../explain/tumour-reach';
import type { StoredLocalPairing } from '../explain/local-pairing';
import type { EmbeddingSpread } from '../metrics/embedding-spread';

export interface UnitData {
  arm: string;
  fold: number;
  /** the unit's folder (absolute) */
  dir: string;
  metrics: FoldResult | undefined;
  predictions: Prediction[] | undefined;
}

/** The pretraining stage whose retrieval.json and zero-shot.json a run's report reads: the proposed arm's for an ablation. */
export const retrievalStage = (kind: ResultsDoc['kind']): string => (kind === 'ablation' ? 'ablation/proposed/pretrain' : 'pretrain');

/** pretrain/retrieval.json (docs/formats.md, "Evaluations beyond the paper"). */
export interface RetrievalFile {
  pairs: 'held-out' | 'training';
  cases: number;
  'recall@1': { imageToReport: number; reportToImage: number };
  'recall@5': { imageToReport: number; reportToImage: number };
  'recall@10': { imageToReport: number; reportToImage: number };
  medianRank: { imageToReport: number; reportToImage: number };
  meanRank: { imageToReport: number; reportToImage: number };
  chance: Record<string, number>;
  /** each query's 1-based rank of its true item, when the run stored them: the full recall@k curve */
  ranks?: { imageToReport: number[]; reportToImage: number[] };
  /** the misses split by tumour location, when every evaluated case has one (runs before it stored none) */
  byLocation?: RetrievalByLocation;
  /** nearest-neighbour location agreement within each modality, evaluated and training pairs (runs before it stored none) */
  locationNeighbours?: LocationNeighbours;
  /** whether the local representation reads the other modality (runs before it stored none; `words` absent in runs before the word-level scores) */
  localPairing?: StoredLocalPairing;
  /** whether the global embeddings are collapsed (metrics/embedding-spread.ts; runs before it stored none: `mrcl evaluate RUN --global-spread` adds it) */
  globalSpread?: EmbeddingSpread;
}

export interface ZeroShotFile {
  pairs?: string;
  classes: string[];
  n: number;
  accuracy: number;
  macroAuc: number | null;
}

export interface RunData {
  dir: string;
  doc: ResultsDoc;
  config: ExperimentConfig | undefined;
  units: UnitData[];
  retrieval: RetrievalFile | undefined;
  zeroShot: ZeroShotFile | undefined;
  /** the pretraining stages' report → image cross-attention scored by `mrcl probe` (probe/cross-attention.json), when probed */
  crossAttention?: CrossAttentionStage[];
  /** how far the tumour reaches into the arms' frozen features, measured by `mrcl probe` on a synthetic cohort (probe/tumour-reach.json) */
  tumourReach?: TumourReachFile;
  /** the pairs the pretraining stage learnt from (its split.json's training ids), when it recorded them */
  pretrainPairs?: number;
  /** text.pretrained's model size, from its config.json where that folder is readable here (the report may be rendered on another machine than the run) */
  textModel?: { layers: number; hidden: number };
}

/** Reads a run folder for the report; results.json is required. */
export function readRunData(dir: string): RunData {
  const resultsPath = join(dir, 'results.json');
  if (!existsSync(resultsPath)) throw new Error(`${resultsPath}: missing (the run has no results; run \`mrcl evaluate ${dir}\` once its units are done)`);
  const doc = readResults(resultsPath);
  const configPath = join(dir, 'config.json');
  const config = existsSync(configPath) ? readJson<ExperimentConfig>(configPath) : undefined;
  const planPath = join(dir, 'plan.json');
  const units: UnitData[] = [];
  if (existsSync(planPath)) {
    const plan = readJson<Plan>(planPath);
    if (!Array.isArray(plan.finetune)) throw new Error(`${planPath}: no "finetune" list of units`);
    for (const u of plan.finetune) {
      const unitDir = dataPath(dir, ...String(u.stage).split(/[\\/]/));
      const m = join(unitDir, 'metrics.json');
      const p = join(unitDir, 'predictions.csv');
      units.push({
        arm: u.arm,
        fold: u.fold,
        dir: unitDir,
        metrics: existsSync(m) ? readJson<FoldResult>(m) : undefined,
        predictions: existsSync(p) ? readPredictions(p) : undefined,
      });
    }
  }
  const pretrain = join(dir, retrievalStage(doc.kind));
  const r = join(pretrain, 'retrieval.json');
  const z = join(pretrain, 'zero-shot.json');
  const x = join(dir, PROBE_DIR, CROSS_ATTENTION_FILE);
  const t = join(dir, PROBE_DIR, TUMOUR_REACH_FILE);
  const sp = join(pretrain, 'split.json');
  return {
    dir,
    doc,
    config,
    units,
    retrieval: existsSync(r) ? checkRetrieval(readJson<RetrievalFile>(r), r) : undefined,
    zeroShot: existsSync(z) ? readJson<ZeroShotFile>(z) : undefined,
    ...(existsSync(x) ? { crossAttention: checkCrossAttention(readJson<CrossAttentionProbeFile>(x), x) } : {}),
    ...(existsSync(t) ? { tumourReach: checkTumourReach(readJson<TumourReachFile>(t), t) } : {}),
    ...(existsSync(sp) ? { pretrainPairs: splitTrainCount(readJson<{ train?: unknown }>(sp), sp) } : {}),
    ...textModelOf(config),
  };
}

/** The size of the run's pretrained text model, where its folder (an absolute path in a run's config.json) holds a Longformer config.json this engine reads; nothing otherwise. */
function textModelOf(config: ExperimentConfig | undefined): { textModel?: { layers: number; hidden: number } } {
  const folder = config?.text?.pretrained;
  if (typeof folder !== 'string' || !isAbsolute(folder)) return {};
  const path = join(folder, 'config.json');
  try {
    const c = longformerConfigFromHf(readModelConfig(path), path);
    return { textModel: { layers: c.layers, hidden: c.hidden } };
  } catch {
    return {}; // not here, or not a model this engine loads: the row names the folder alone
  }
}

/** The number of training ids in a pretraining stage's split.json (training/pretrain.ts writes it). */
function splitTrainCount(f: { train?: unknown }, path: string): number {
  if (typeof f !== 'object' || f === null || !Array.isArray(f.train) || f.train.some((id) => typeof id !== 'string')) throw new Error(`${path}: "train" must be the list of the pretraining's case ids`);
  return f.train.length;
}

function checkTumourReach(f: TumourReachFile, path: string): TumourReachFile {
  const summary = (m: ReachSummary | undefined): boolean =>
    typeof m === 'object' && m !== null && Number.isInteger(m.cases) && Array.isArray(m.relative) && m.relative.length === REACH_BINS &&
    m.relative.every((v) => v === null || typeof v === 'number') && [m.tumourShare, m.tumourFraction].every((v) => v === null || (typeof v === 'number' && v >= 0 && v <= 1));
  if (f?.format !== 'mrcl-probe-tumour-reach-1' || !Array.isArray(f.cases) || !Array.isArray(f.encoders) || !summary(f.input)) {
    throw new Error(`${path}: not a probe tumour-reach file (format "mrcl-probe-tumour-reach-1" with "cases", "input" and "encoders")`);
  }
  for (const e of f.encoders) {
    if (typeof e?.arm !== 'string' || !summary(e.layer3) || !summary(e.layer4)) throw new Error(`${path}: each encoder must name its "arm" and hold "layer3" and "layer4" summaries (${REACH_BINS} relative changes, shares in [0, 1])`);
  }
  return f;
}

function checkCrossAttention(f: CrossAttentionProbeFile, path: string): CrossAttentionStage[] {
  if (f?.format !== 'mrcl-probe-cross-attention-1' || !Array.isArray(f.stages)) throw new Error(`${path}: not a probe cross-attention file (format "mrcl-probe-cross-attention-1" with a "stages" list)`);
  for (const s of f.stages) {
    if (typeof s?.stage !== 'string' || typeof s.rule !== 'string') throw new Error(`${path}: each stage must name its "stage" and "rule"`);
    for (const m of [s.heldOut, s.training]) {
      if (m === null) continue;
      // massReachable: absent in files written before it
      const shares = ['dice3d', 'mass3d', 'massFloor3d', 'pointing', 'entropy', ...(m?.massReachable === undefined ? [] : ['massReachable' as const])] as const;
      if (typeof m !== 'object' || !Number.isInteger(m.cases) || !shares.every((k) => typeof m[k] === 'number' && m[k] >= 0 && m[k] <= 1)) {
        throw new Error(`${path}: stage ${JSON.stringify(s.stage)}: each pair set must be null or { cases, dice3d, mass3d, massFloor3d, pointing, entropy } with shares in [0, 1]`);
      }
    }
  }
  return f.stages;
}

function checkRetrieval(r: RetrievalFile, path: string): RetrievalFile {
  if (typeof r !== 'object' || r === null || !Number.isInteger(r.cases) || r.cases < 1) throw new Error(`${path}: "cases" must be a positive whole number`);
  for (const k of ['recall@1', 'recall@5', 'recall@10'] as const) {
    const v = r[k];
    if (typeof v?.imageToReport !== 'number' || typeof v?.reportToImage !== 'number') throw new Error(`${path}: "${k}" must be { imageToReport, reportToImage }`);
  }
  if (r.ranks !== undefined) {
    for (const d of ['imageToReport', 'reportToImage'] as const) {
      const a = r.ranks[d];
      if (!Array.isArray(a) || a.length !== r.cases || a.some((x) => !Number.isInteger(x) || x < 1 || x > r.cases)) throw new Error(`${path}: ranks.${d} must list ${r.cases} ranks in 1…${r.cases}`);
    }
  }
  const num = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);
  if (r.byLocation !== undefined) {
    const b = r.byLocation;
    const dirsOk = (['imageToReport', 'reportToImage', 'chance'] as const).every((d) => num(b?.[d]?.meanSameAbove) && num(b?.[d]?.meanOtherAbove));
    if (!b || typeof b.counts !== 'object' || b.counts === null || !dirsOk) {
      throw new Error(`${path}: byLocation must hold counts and, for imageToReport, reportToImage and chance, meanSameAbove and meanOtherAbove`);
    }
  }
  if (r.locationNeighbours !== undefined) {
    const ln = r.locationNeighbours;
    const sets = [['evaluated', ln?.evaluated], ['training', ln?.training]] as const;
    for (const [name, set] of sets) {
      if (name === 'training' && set === null) continue;
      for (const m of ['image', 'report'] as const) {
        const v = set?.[m];
        if (!v || !(v.agreement >= 0 && v.agreement <= 1) || !(v.chance >= 0 && v.chance <= 1)) {
          throw new Error(`${path}: locationNeighbours.${name}.${m} must hold an agreement and a chance in [0, 1]`);
        }
      }
    }
  }
  if (r.localPairing !== undefined) {
    const lp = r.localPairing;
    const sides = [['image', lp?.image, 'otherReport'], ['text', lp?.text, 'otherImage'], ['words', lp?.words, 'otherImage']] as const;
    if (!lp || !Number.isInteger(lp.cases) || lp.cases < 1) throw new Error(`${path}: localPairing.cases must be a positive whole number`);
    for (const [name, side, other] of sides) {
      if (name === 'words' && side === undefined) continue;
      const v = side as Record<string, unknown> | undefined;
      if (!v || !num(v.own) || !num(v[other]) || !num(v.difference)) throw new Error(`${path}: localPairing.${name} must hold finite own, ${other} and difference`);
    }
  }
  if (r.globalSpread !== undefined) {
    const g = r.globalSpread;
    const cosines = [g?.image, g?.report, g?.ownPair, g?.otherPair];
    if (!g || !Number.isInteger(g.cases) || g.cases < 2 || !cosines.every((v) => num(v) && (v as number) >= -1 - 1e-6 && (v as number) <= 1 + 1e-6)) {
      throw new Error(`${path}: globalSpread must hold cases (at least 2) and the image, report, ownPair and otherPair mean cosines in [-1, 1]`);
    }
  }
  return r;
}

/** The arm's folds from the units' metrics.json, as the tables had them. */
export function armResult(run: RunData, arm: string): ArmResult | undefined {
  const folds = run.units.filter((u) => u.arm === arm && u.metrics).map((u) => u.metrics!);
  if (folds.length === 0) return undefined;
  const label = run.doc.arms.find((a) => a.arm === arm)?.label ?? arm;
  return { arm, label, status: 'done', folds };
}

/** The arm's label in the run's tables (its arm name when absent). */
export const armLabelOf = (run: RunData, arm: string): string => run.doc.arms.find((a) => a.arm === arm)?.label ?? arm;

/** The arms with units, in the tables' order. */
export function runArms(run: RunData): string[] {
  const withUnits = new Set(run.units.map((u) => u.arm));
  return run.doc.arms.map((a) => a.arm).filter((a) => withUnits.has(a));
}

/** All cases of an arm's folds on a cohort (pooled; each fold scored by its own model). */
export function pooledCases(run: RunData, arm: string, cohort: 'internal' | 'external'): Prediction[] {
  return run.units.filter((u) => u.arm === arm && u.predictions).flatMap((u) => u.predictions!.filter((p) => p.cohort === cohort));
}

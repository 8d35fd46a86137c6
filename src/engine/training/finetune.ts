// Downstream fine-tuning of one unit (initialisation × fold) and its
// evaluation on the held-out fold and the external cohort: predictions,
// classification metrics, attention heatmaps and Dice against the masks.
// follows: METHOD.md §6–7
import { existsSync, mkdirSync } from 'node:fs';
import { parse as parseCsv } from 'csv-parse/sync';
import { join } from 'node:path';
import { tf } from '../backend';
import type { ExperimentConfig } from '../../shared/config';
import { hashSeed } from '../util/rng';
import { MarkerClassifier, bceWithLogits, positiveWeightFor, writeLinearIntoHead, type ClassifierOutput } from '../model/classifier';
import { DEFAULT_C, fitLinearProbe } from '../metrics/logistic';
import { volumesToInput } from '../networks/image-input';
import { loadMedicalNet } from '../networks/medicalnet';
import { foldSplits, nestedSplits } from '../data/folds';
import { rocAuc, classificationMetrics } from '../metrics';
import { chooseThreshold, type ThresholdCriterion } from '../metrics/threshold';
import { explainCase, thresholdRule, type ExplainResult } from '../explain/dice-eval';
import { writeHeatmap } from '../explain/heatmap-io';
import { evaluationMasks } from '../explain/masks';
import { explainBaselines, summariseBaselines, writeBaselineScores, type BaselineScore } from '../explain/baselines';
import { writeFileAtomic } from '../io/atomic';
import { READ_LIMITS, readTextBounded } from '../io/bounded-read';
import { resolveIn } from '../config/resolve';
import { AdamW } from './adamw';
import { stepLR } from './schedule';
import { runLoop } from './loop';
import { recalibrateBatchNorm, recalibrationBatches } from './recalibrate';
import { phase } from './profile';
import { epochBatches, type StageOptions } from './pretrain';
import { loadModelWeights } from './checkpoint';
import { batchSizeIssues, MIN_FINETUNE_BATCH } from './batch-rules';
import { downstreamCases, type Dataset, type LabelledCase } from './dataset';
import { readJson, writeJsonAtomic } from './run-folder';
import { quoteForMessage } from '../util/quote';
import type { SplitMetrics, FoldResult } from '../results/types';
import { singleClassPrediction } from '../results/aggregate';

export type Initialization = ExperimentConfig['finetune']['initializations'][number];

export type { SplitMetrics, FoldResult };

export interface Prediction {
  id: string;
  cohort: 'internal' | 'external';
  label: 0 | 1;
  score: number;
  dice2d: number | null;
  dice3d: number | null;
  /** the binary map's foreground voxels / all voxels; null without an attention map */
  foreground: number | null;
  /** Dice of the whole-slice / whole-volume map for this case (the floor); null when dice is */
  floor2d: number | null;
  floor3d: number | null;
  /** best Dice of a map made of whole layer4 grid cells (the bound); null when dice is */
  bound2d: number | null;
  bound3d: number | null;
  /** threshold-free (explain/mass.ts): the map's mass share on the tumour, a flat map's, the peak's hit (0/1); null when dice is */
  mass3d: number | null;
  massFloor3d: number | null;
  pointing: number | null;
}

export interface UnitSpec {
  /** arm name in the tables ('random', 'medicalnet', 'pretrained' or an ablation) */
  arm: string;
  init: Initialization;
  fold: number;
  /** pretrained contrastive model (safetensors) for init 'pretrained' */
  pretrainedModel?: string;
}

export interface DownstreamSplit {
  /** the fold's training part and its held-out test part (indices into cases) */
  train: number[];
  test: number[];
  /** the cases the model trains on: `train`, less `validation` */
  fit: number[];
  /** with thresholdRule 'inner': the held-out inner fold the threshold is chosen on; else empty */
  validation: number[];
}

/**
 * The stratified folds of the downstream internal cohort (seeded by
 * finetune.foldSeed). With thresholdRule 'inner', each training part is
 * split again into finetune.innerFolds stratified inner folds (same seed)
 * and the first is held out as `validation` (the authors' code trains on the
 * first inner split of their nested 5-fold and stops there).
 * follows: METHOD.md §6 (decision threshold)
 */
/**
 * The folds the manifest gives (finetune.foldsFrom 'manifest'): case i is in
 * the test set of fold `fold`. Every case needs a fold in 0 … k−1 and every
 * fold a test case of each class, else an error naming the manifest.
 */
export function manifestFoldSplits(internal: readonly LabelledCase[], k: number, manifest: string): { train: number[]; test: number[] }[] {
  const missing = internal.filter((c) => c.case.fold === undefined || c.case.fold >= k);
  if (missing.length) {
    const list = missing.slice(0, 5).map((c) => `"${c.case.id}"${c.case.fold === undefined ? ' (none)' : ` (${c.case.fold})`}`).join(', ');
    throw new Error(`${manifest}: finetune.foldsFrom is 'manifest', but ${missing.length} downstream case(s) have no fold in 0…${k - 1}: ${list}${missing.length > 5 ? ', …' : ''}`);
  }
  return Array.from({ length: k }, (_, f) => {
    const test = internal.flatMap((c, i) => (c.case.fold === f ? [i] : []));
    const labels = new Set(test.map((i) => internal[i]!.label));
    if (labels.size < 2) throw new Error(`${manifest}: fold ${f} of the manifest's folds has ${test.length ? 'only one class' : 'no downstream case'} in its test set (finetune.foldsFrom 'manifest')`);
    return { train: internal.flatMap((c, i) => (c.case.fold === f ? [] : [i])), test };
  });
}

export function downstreamFolds(config: ExperimentConfig, ds: Dataset): { cases: LabelledCase[]; splits: DownstreamSplit[] } {
  const { internal } = downstreamCases(ds);
  const k = config.finetune.folds;
  const ids = internal.map((c) => c.case.id);
  const labels = internal.map((c) => c.label);
  const outer = config.finetune.foldsFrom === 'manifest' ? manifestFoldSplits(internal, k, ds.manifest.path) : foldSplits(ids, labels, k, config.finetune.foldSeed);
  // a run recorded before finetune.trainFraction existed fine-tuned on every training case
  const fraction = config.finetune.trainFraction ?? 1;
  const splits = outer.map((s, fold): DownstreamSplit => {
    if (config.finetune.thresholdRule !== 'inner') return { ...s, fit: labelledShare(s.train, ids, labels, fraction, config.finetune.foldSeed), validation: [] };
    let inner;
    try {
      inner = nestedSplits(s.train, ids, labels, config.finetune.innerFolds, config.finetune.foldSeed)[0]!;
    } catch (e) {
      throw new Error(`fold ${fold}: the inner split for thresholdRule 'inner' failed: ${(e as Error).message}`);
    }
    return { ...s, fit: labelledShare(inner.train, ids, labels, fraction, config.finetune.foldSeed), validation: inner.test };
  });
  return { cases: internal, splits };
}

/**
 * `finetune.trainFraction` of the training indices, per class: the cases
 * first in the order of a seeded hash of their ids, round(fraction × n) of
 * each class and at least one; in the fold's order. A smaller fraction's
 * cases are a subset of a larger one's (the same order), so a
 * label-efficiency curve adds cases rather than redrawing them. The whole
 * list at fraction 1.
 */
export function labelledShare(train: readonly number[], ids: readonly string[], labels: readonly (0 | 1)[], fraction: number, seed: number): number[] {
  if (!(fraction > 0 && fraction <= 1)) throw new Error(`finetune.trainFraction must be in (0, 1] (got ${fraction})`);
  if (fraction === 1) return [...train];
  const keep = new Set<number>();
  for (const label of [0, 1] as const) {
    const own = train.filter((i) => labels[i] === label);
    const ranked = own.map((i) => ({ i, h: hashSeed(seed, `trainFraction:${ids[i]}`) })).sort((a, b) => a.h - b.h || (ids[a.i]! < ids[b.i]! ? -1 : 1));
    const n = own.length ? Math.max(1, Math.round(fraction * own.length)) : 0;
    for (const r of ranked.slice(0, n)) keep.add(r.i);
  }
  return train.filter((i) => keep.has(i));
}

/** Is this arm runnable? (MedicalNet needs a checkpoint the user downloads.) */
export function armUnavailable(config: ExperimentConfig, init: Initialization): string | undefined {
  if (init === 'medicalnet' && !config.image.medicalNet) {
    return 'no MedicalNet checkpoint configured (image.medicalNet); MedicalNet weights are a separate download';
  }
  return undefined;
}

/** The smallest batch fine-tuning keeps (epochBatches drops smaller ones). */
function finetuneMinBatch(trainCases: number): number {
  return Math.min(MIN_FINETUNE_BATCH, trainCases);
}

export function finetuneSteps(config: ExperimentConfig, trainCases: number): number {
  const { batchSize, epochs } = config.finetune;
  const minBatch = finetuneMinBatch(trainCases);
  if (batchSize < minBatch || trainCases === 0) return 0;
  return (Math.floor(trainCases / batchSize) + (trainCases % batchSize >= minBatch ? 1 : 0)) * epochs;
}

/** The seed of a fine-tuning unit's random initialisation and batch order. */
export const unitSeed = (config: ExperimentConfig, unit: Pick<UnitSpec, 'arm' | 'fold'>): number => hashSeed(config.seed, `finetune:${unit.arm}:${unit.fold}`);

/**
 * A unit's classifier before fine-tuning: random weights from the unit's
 * seed, then the arm's initialisation (MedicalNet's checkpoint, or the
 * pretraining stage's image encoder). The linear probe starts from the same
 * encoder (experiment/probe.ts).
 */
export function initialClassifier(config: ExperimentConfig, unit: UnitSpec, baseDir: string, stage: string): MarkerClassifier {
  const model = new MarkerClassifier(config, unitSeed(config, unit));
  try {
    if (unit.init === 'medicalnet') {
      loadMedicalNet(model.image, resolveIn(baseDir, config.image.medicalNet));
    } else if (unit.init === 'pretrained') {
      if (!unit.pretrainedModel) throw new Error(`${stage}: init 'pretrained' needs the pretraining stage's model`);
      loadModelWeights(unit.pretrainedModel, model.image, { prefix: 'image_encoder.', strict: true });
    }
    return model;
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/**
 * finetune.encoderLrScale: the image encoder's trainable weights learn at
 * lr·scale, the head at lr (torch param groups). A run recorded before the
 * option used one rate (1).
 */
export function encoderLrScales(config: ExperimentConfig, model: MarkerClassifier): Map<tf.Variable, number> {
  const scale = config.finetune.encoderLrScale ?? 1;
  return new Map(scale === 1 ? [] : model.image.trainableWeights.map((v) => [v, scale] as const));
}

export async function finetuneUnit(config: ExperimentConfig, ds: Dataset, unit: UnitSpec, opts: StageOptions): Promise<FoldResult> {
  mkdirSync(opts.dir, { recursive: true });
  const metricsPath = join(opts.dir, 'metrics.json');
  if (opts.resume && existsSync(metricsPath)) {
    opts.emit({ type: 'stage', stage: opts.stage, status: 'done', detail: 'already complete' });
    return readJson<FoldResult & { predictions?: unknown }>(metricsPath);
  }
  const unusable = batchSizeIssues(config, { pretraining: false, finetuning: true });
  if (unusable.length) throw new Error(`${opts.stage}: ${unusable[0]!.message}`);
  opts.emit({ type: 'stage', stage: opts.stage, status: 'started' });
  const { cases, splits } = downstreamFolds(config, ds);
  const split = splits[unit.fold];
  if (!split) throw new Error(`fold ${unit.fold} does not exist (finetune.folds = ${config.finetune.folds})`);
  const train = split.fit.map((i) => cases[i]!);
  const validation = split.validation.map((i) => cases[i]!);
  const test = split.test.map((i) => cases[i]!);
  const posWeight = positiveWeightFor(config.finetune.positiveWeight, train.map((c) => c.label));
  const external = downstreamCases(ds).external;
  const seed = unitSeed(config, unit);
  const model = initialClassifier(config, unit, opts.baseDir, opts.stage);
  try {
    // a run recorded before finetune.headInit existed started from the random head
    const headInit = (config.finetune.headInit ?? 'random') === 'probe' ? probeHead(config, ds, model, train, seed) : undefined;
    if (headInit) {
      opts.emit({
        type: 'log',
        level: 'info',
        message: `${opts.stage}: the head starts as the logistic regression (C = ${headInit.C}) of the ${train.length} training cases' labels on the starting encoder's features${headInit.copies > 1 ? `, under the head's dropout (${headInit.copies} masked copies of each case)` : ''} (finetune.headInit 'probe'; ${headInit.iterations} Newton iteration(s))`,
      });
    }
    model.image.setTrainableFrom(config.image.trainableFrom);
    const trainable = model.trainableWeights;
    const lrScales = encoderLrScales(config, model);
    if (lrScales.size) {
      opts.emit({
        type: 'log',
        level: 'info',
        message: `${opts.stage}: the image encoder's ${lrScales.size} trainable weight tensor(s) learn at ${config.finetune.encoderLrScale} × the head's rate (finetune.encoderLrScale)`,
      });
    }
    const optimizer = new AdamW(trainable, { lr: config.finetune.lr, weightDecay: config.finetune.weightDecay, lrScales });
    try {
      await runLoop<LabelledCase[]>({
        stage: opts.stage,
        dir: opts.dir,
        config,
        model,
        optimizer,
        epochs: config.finetune.epochs,
        checkpointEvery: config.finetune.checkpointEvery,
        lr: (epoch) => stepLR(epoch, { ...config.finetune }), // follows: METHOD.md §6 (schedule)
        batches: (epoch) => epochBatches(train, config.finetune.batchSize, finetuneMinBatch(train.length), seed, epoch),
        noBatches: `${train.length} training case(s) in batches of ${config.finetune.batchSize} leave no batch of at least ${finetuneMinBatch(train.length)}`,
        step: (batch) => {
          const x = phase('data', () =>
            volumesToInput(
              batch.map((c) => ds.image(c.case)),
              batch.map((c) => c.case.id),
            ),
          );
          const y = tf.tensor1d(batch.map((c) => c.label), 'float32');
          try {
            const { value, grads } = phase('backward', () =>
              tf.variableGrads(() => {
                const out = phase('forward', () => model.apply(x, true));
                return phase('losses', () => bceWithLogits(out.logits, y, posWeight));
              }, trainable),
            );
            const loss = phase('metrics', () => value.dataSync()[0]!);
            value.dispose();
            phase('optimizer', () => optimizer.step(grads));
            for (const g of Object.values(grads)) g.dispose();
            return { loss };
          } finally {
            x.dispose();
            y.dispose();
          }
        },
        seed: hashSeed(seed, 'loop'),
        resume: opts.resume,
        signal: opts.signal,
        emit: opts.emit,
        progress: opts.progress,
      });
    } finally {
      optimizer.dispose();
    }
    if (config.finetune.recalibrateNorm) {
      const n = recalibrateClassifier(config, ds, model, train);
      opts.emit({ type: 'log', level: 'info', message: `${opts.stage}: running statistics of ${n} batch norm(s) recomputed over the ${train.length} training cases with the final weights (finetune.recalibrateNorm)` });
    }
    const selection = selectThreshold(config, ds, model, validation);
    if (selection.fallback) opts.emit({ type: 'log', level: 'warn', message: `${opts.stage}: ${selection.fallback}` });
    const threshold = selection.threshold;
    const { predictions, attentionGrid, baselines } = evaluateCases(config, ds, model, [...test.map((c) => ({ ...c, cohort: 'internal' as const })), ...external.map((c) => ({ ...c, cohort: 'external' as const }))], opts, { heatmaps: config.explain.saveHeatmaps });
    const result: FoldResult = {
      arm: unit.arm,
      fold: unit.fold,
      internal: splitMetrics(predictions.filter((p) => p.cohort === 'internal'), threshold),
      external: external.length ? splitMetrics(predictions.filter((p) => p.cohort === 'external'), threshold) : null,
      attentionGrid,
    };
    for (const [name, m] of [['internal', result.internal], ['external', result.external]] as const) {
      const one = m && singleClassPrediction(m);
      if (one) {
        opts.emit({
          type: 'log',
          level: 'warn',
          message: `${opts.stage}: every ${name} case is predicted ${one} at threshold ${formatThreshold(threshold)}; its precision, recall and F1 say nothing about the model`,
        });
      }
    }
    writePredictions(join(opts.dir, 'predictions.csv'), predictions);
    opts.emit({ type: 'artifact', stage: opts.stage, kind: 'predictions', path: join(opts.dir, 'predictions.csv') });
    if (config.explain.baselines.length) writeBaselineScores(join(opts.dir, 'explain-baselines.csv'), baselines);
    writeJsonAtomic(metricsPath, {
      ...result,
      // per split, the baseline explanations' means (explain.baselines; absent without)
      ...(config.explain.baselines.length
        ? {
            baselines: {
              internal: summariseBaselines(baselines.filter((r) => r.cohort === 'internal')),
              external: external.length ? summariseBaselines(baselines.filter((r) => r.cohort === 'external')) : null,
            },
          }
        : {}),
      init: unit.init,
      ...(headInit ? { headInit } : {}),
      threshold,
      thresholdSelection: selection.record,
      positiveWeight: posWeight,
      train: train.map((c) => c.case.id),
    });
    opts.emit({ type: 'artifact', stage: opts.stage, kind: 'metrics', path: metricsPath });
    opts.emit({
      type: 'metrics',
      stage: opts.stage,
      metrics: {
        aucInternal: result.internal.auc,
        f1Internal: result.internal.f1,
        aucExternal: result.external?.auc ?? null,
        f1External: result.external?.f1 ?? null,
        dice3dInternal: result.internal.dice3d,
      },
    });
    opts.emit({ type: 'stage', stage: opts.stage, status: 'done' });
    return result;
  } finally {
    model.dispose();
  }
}

/** How a fold's decision threshold was set (metrics.json "thresholdSelection"). */
export interface ThresholdRecord {
  rule: 'fixed' | 'inner';
  /** the threshold applied to the test fold and the external cohort */
  threshold: number;
  criterion?: ThresholdCriterion;
  /** the criterion's value on the held-out inner fold at `threshold` */
  value?: number;
  innerFolds?: number;
  /** the held-out inner fold: cases, positives, and each case's score the threshold was chosen on */
  validation?: { n: number; positives: number; scores?: { id: string; label: 0 | 1; score: number }[] };
  /** why the fixed threshold was used after all */
  fallback?: string;
}

/**
 * The fold's decision threshold: finetune.threshold ('fixed'), or the one
 * maximising finetune.thresholdCriterion on the held-out inner fold's scores
 * ('inner'; the fixed one when that fold holds one class only). The trained
 * model in eval mode scores the cases, so a resumed unit chooses the same.
 * follows: METHOD.md §6 (decision threshold)
 */
function selectThreshold(config: ExperimentConfig, ds: Dataset, model: MarkerClassifier, validation: LabelledCase[]): { threshold: number; fallback?: string; record: ThresholdRecord } {
  const { threshold: fixed, thresholdRule: rule, thresholdCriterion: criterion, innerFolds } = config.finetune;
  if (rule !== 'inner') return { threshold: fixed, record: { rule: 'fixed', threshold: fixed } };
  const labels = validation.map((c) => c.label);
  const scores = scoreCases(config, ds, model, validation);
  const held = { n: validation.length, positives: labels.filter((l) => l === 1).length, scores: validation.map((c, i) => ({ id: c.case.id, label: c.label, score: scores[i]! })) };
  const base = { rule: 'inner' as const, criterion, innerFolds, validation: held };
  const choice = validation.length ? chooseThreshold(scores, labels, criterion) : { reason: 'no held-out cases' };
  if ('reason' in choice) {
    const fallback = `no threshold chosen on the inner fold (${choice.reason}); the fixed threshold ${fixed} is used`;
    return { threshold: fixed, fallback, record: { ...base, threshold: fixed, fallback } };
  }
  return { threshold: choice.threshold, record: { ...base, threshold: choice.threshold, value: choice.value } };
}

/**
 * finetune.recalibrateNorm: every batch norm's statistics recomputed over the
 * fold's training cases with the final weights (dropout off, batches of the
 * stage's size); the number of batch norms recomputed.
 * follows: docs/METHOD.md §6 (recalibrateNorm)
 */
export function recalibrateClassifier(config: ExperimentConfig, ds: Dataset, model: MarkerClassifier, train: readonly LabelledCase[]): number {
  return recalibrateBatchNorm(model, recalibrationBatches(train, config.finetune.batchSize), (batch) =>
    model.apply(
      volumesToInput(
        batch.map((c) => ds.image(c.case)),
        batch.map((c) => c.case.id),
      ),
      true,
    ),
  );
}

/** What metrics.json records of a head started by the probe (finetune.headInit 'probe'). */
export interface ProbeHeadRecord {
  kind: 'probe';
  /** the logistic regression's inverse L2 penalty, per training case */
  C: number;
  /** the head's input dropout the regression was fitted under, and the masked copies of each case it saw (1 without dropout) */
  dropout: number;
  copies: number;
  iterations: number;
  /** the largest absolute gradient component of its objective at the answer */
  gradMax: number;
  /** the largest |weight| error of the head's linear function against the regression's (rounding) */
  residual: number;
}

/**
 * finetune.headInit 'probe' (linear probing, then fine-tuning): the model's
 * batch norms recomputed over the training cases' images, then the linear
 * probe of their global features (eval mode, fitLinearProbe) under the
 * head's dropout, written into the head.
 * follows: METHOD.md §6 (head initialisation)
 */
export function probeHead(config: ExperimentConfig, ds: Dataset, model: MarkerClassifier, train: readonly LabelledCase[], seed: number): ProbeHeadRecord {
  recalibrateClassifier(config, ds, model, train);
  const features = globalFeatures(config, ds, model, train);
  const dropout = config.finetune.dropout;
  const fit = fitLinearProbe(features, train.map((c) => c.label), { dropout, seed });
  const residual = writeLinearIntoHead(model.head, fit.w, fit.b);
  return { kind: 'probe', C: DEFAULT_C, dropout, copies: fit.copies, iterations: fit.iterations, gradMax: fit.gradMax, residual };
}

/** Runs the model over the cases in batches (eval mode) and collects what `read` takes from each batch's output, in order. */
function mapBatches<T>(config: ExperimentConfig, ds: Dataset, model: MarkerClassifier, cases: readonly LabelledCase[], read: (res: ClassifierOutput) => T[]): T[] {
  const out: T[] = [];
  const bs = Math.max(1, config.finetune.batchSize);
  for (let i = 0; i < cases.length; i += bs) {
    const batch = cases.slice(i, i + bs);
    const x = volumesToInput(
      batch.map((c) => ds.image(c.case)),
      batch.map((c) => c.case.id),
    );
    const res = model.apply(x, false);
    try {
      out.push(...read(res));
    } finally {
      x.dispose();
      for (const v of Object.values(res)) if (v instanceof tf.Tensor) v.dispose();
    }
  }
  return out;
}

/** Sigmoid scores of the cases (eval mode), in order. */
export function scoreCases(config: ExperimentConfig, ds: Dataset, model: MarkerClassifier, cases: LabelledCase[]): number[] {
  return mapBatches(config, ds, model, cases, (res) => {
    const s = tf.sigmoid(res.logits);
    try {
      return Array.from(s.dataSync());
    } finally {
      s.dispose();
    }
  });
}

/** The classifier head's input for each case (eval mode): the image encoder's global representation, in order. */
export function globalFeatures(config: ExperimentConfig, ds: Dataset, model: MarkerClassifier, cases: readonly LabelledCase[]): number[][] {
  return mapBatches(config, ds, model, cases, (res) => res.global.arraySync() as number[][]);
}

const formatThreshold = (t: number): string => String(Number(t.toPrecision(4)));

export type EvalCase = LabelledCase & { cohort: 'internal' | 'external' };

/**
 * Scores, attention heatmaps and Dice for each case (eval mode; masks read
 * here only), the layer4 grid the maps were made on (null without
 * self-attention), and the scores of the baseline explanations
 * (explain.baselines; empty without); with `features`, also each case's
 * global representation (the head's input, as globalFeatures gives it) from
 * the same forward pass.
 */
export function evaluateCases(
  config: ExperimentConfig,
  ds: Dataset,
  model: MarkerClassifier,
  cases: EvalCase[],
  opts: Pick<StageOptions, 'dir' | 'stage' | 'emit'>,
  { heatmaps = true, features = false }: { heatmaps?: boolean; features?: boolean } = {},
): { predictions: Prediction[]; attentionGrid: [number, number, number] | null; baselines: BaselineScore[]; features?: number[][] } {
  const masks = evaluationMasks(config, ds.manifest.path);
  const out: Prediction[] = [];
  const globals: number[][] = [];
  const baselines: BaselineScore[] = [];
  let attentionGrid: [number, number, number] | null = null;
  const bs = Math.max(1, config.finetune.batchSize);
  for (let i = 0; i < cases.length; i += bs) {
    const batch = cases.slice(i, i + bs);
    const volumes = batch.map((c) => ds.image(c.case));
    const x = volumesToInput(
      volumes,
      batch.map((c) => c.case.id),
    );
    const res = model.apply(x, false);
    // each case's mask read once, when a map needs it
    const caseMasks = new Map<number, Uint8Array | undefined>();
    const maskFor = (b: number): Uint8Array | undefined => {
      if (!caseMasks.has(b)) caseMasks.set(b, masks.get(batch[b]!.case));
      return caseMasks.get(b);
    };
    try {
      const probabilities = tf.sigmoid(res.logits);
      const scores = probabilities.dataSync().slice();
      probabilities.dispose();
      if (features) globals.push(...(res.global.arraySync() as number[][]));
      const att = res.attention?.dataSync();
      const [, X4, Y4, Z4] = res.layer4.shape;
      const P = X4 * Y4 * Z4;
      if (att) attentionGrid = [X4, Y4, Z4];
      batch.forEach((c, b) => {
        let ex: ExplainResult | undefined;
        if (att) {
          const mask = maskFor(b);
          ex = explainCase({
            attention: att.subarray(b * P * P, (b + 1) * P * P) as Float32Array,
            grid: [X4, Y4, Z4],
            imageDims: volumes[b]!.dims,
            rule: thresholdRule(config.explain),
            threshold: config.explain.threshold,
            topPercent: config.explain.topPercent,
            smooth: config.explain.smooth,
            mask,
            caseId: c.case.id,
          });
          if (heatmaps) writeHeatmap(join(opts.dir, 'heatmaps'), c.case.id, volumes[b]!, ex, opts.dir, { mask });
        }
        out.push({ id: c.case.id, cohort: c.cohort, label: c.label, score: scores[b]!, ...explainColumns(ex) });
      });
      // follows: METHOD.md §7 (baseline explanations): the same rule and Dice as the attention maps
      if (config.explain.baselines.length) {
        // occluded volumes go through the model in batches of the evaluation's own size
        const baselineCases = batch.map((c, b) => ({ id: c.case.id, cohort: c.cohort, volume: volumes[b]!, mask: maskFor(b) }));
        baselines.push(...explainBaselines(model, baselineCases, config.explain, { batchSize: bs }));
      }
    } finally {
      x.dispose();
      for (const t of [res.layer3, res.layer4, res.attention, res.global, res.logits]) t?.dispose();
    }
  }
  if (heatmaps) opts.emit({ type: 'artifact', stage: opts.stage, kind: 'heatmap', path: join(opts.dir, 'heatmaps') });
  return { predictions: out, attentionGrid, baselines, ...(features ? { features: globals } : {}) };
}

function meanOrNull(xs: (number | null | undefined)[]): number | null {
  const v = xs.filter((x): x is number => typeof x === 'number');
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
}

/** Metrics of a split, recomputable from its predictions and the threshold alone. */
export function splitMetrics(preds: Prediction[], threshold: number): SplitMetrics {
  const scores = preds.map((p) => p.score);
  const labels = preds.map((p) => p.label);
  const positives = labels.filter((l) => l === 1).length;
  const auc = positives > 0 && positives < preds.length ? rocAuc(scores, labels) : null;
  const cm = preds.length ? classificationMetrics(scores, labels, threshold) : { precision: 0, recall: 0, f1: 0, tp: 0, fp: 0 };
  return {
    n: preds.length,
    positives,
    auc,
    precision: cm.precision,
    recall: cm.recall,
    f1: cm.f1,
    threshold,
    predictedPositives: cm.tp + cm.fp,
    dice2d: meanOrNull(preds.map((p) => p.dice2d)),
    dice3d: meanOrNull(preds.map((p) => p.dice3d)),
    // follows: METHOD.md §7 (degenerate maps): means over the same cases as the Dice
    foreground: meanOrNull(preds.map((p) => p.foreground)),
    floor2d: meanOrNull(preds.map((p) => p.floor2d)),
    floor3d: meanOrNull(preds.map((p) => p.floor3d)),
    bound2d: meanOrNull(preds.map((p) => p.bound2d)),
    bound3d: meanOrNull(preds.map((p) => p.bound3d)),
    // follows: METHOD.md §7 (threshold-free map measures)
    mass3d: meanOrNull(preds.map((p) => p.mass3d)),
    massFloor3d: meanOrNull(preds.map((p) => p.massFloor3d)),
    pointing: meanOrNull(preds.map((p) => p.pointing)),
  };
}

const EXPLAIN_COLUMNS = ['dice2d', 'dice3d', 'foreground', 'floor2d', 'floor3d', 'bound2d', 'bound3d', 'mass3d', 'massFloor3d', 'pointing'] as const;
type ExplainColumn = (typeof EXPLAIN_COLUMNS)[number];

/** A prediction's map columns: each the explanation's field of the same name, null without a map, mask or Dice (all null without an explanation). */
export const explainColumns = (ex?: ExplainResult): Pick<Prediction, ExplainColumn> =>
  Object.fromEntries(EXPLAIN_COLUMNS.map((k) => [k, ex?.[k] ?? null])) as Pick<Prediction, ExplainColumn>;
const CSV_HEADER = `id,cohort,label,score,${EXPLAIN_COLUMNS.join(',')}`;
/** predictions.csv as written before the foreground, floor and bound columns, and before the mass columns (later columns of an older file: null) */
const OLDER_CSV_HEADERS = ['id,cohort,label,score,dice2d,dice3d', 'id,cohort,label,score,dice2d,dice3d,foreground,floor2d,floor3d,bound2d,bound3d'];

export function writePredictions(path: string, preds: Prediction[]): void {
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = preds.map((p) => [q(p.id), p.cohort, p.label, p.score, ...EXPLAIN_COLUMNS.map((k) => p[k] ?? '')].join(','));
  writeFileAtomic(path, [Buffer.from(`${CSV_HEADER}\n${lines.join('\n')}\n`)]);
}

/** Reads predictions.csv written by writePredictions (older files without the foreground, floor, bound or mass columns: null). */
export function readPredictions(path: string): Prediction[] {
  const text = readTextBounded(path, { maxBytes: READ_LIMITS.predictions, what: 'predictions file' });
  const [header, ...rows] = text.trimEnd().split('\n');
  if (header !== CSV_HEADER && !OLDER_CSV_HEADERS.includes(header ?? '')) throw new Error(`${path}: not a predictions file (header ${quoteForMessage(header ?? '')})`);
  const columns = header.split(',').length;
  let records: string[][];
  try {
    records = parseCsv(rows.join('\n'), { relax_column_count: true }) as string[][];
  } catch (e) {
    throw new Error(`${path}: not valid CSV: ${quoteForMessage((e as Error).message)}`);
  }
  const seen = new Map<string, number>();
  return records.map((r, i) => {
    const at = `${path}: row ${i + 2}`; // the header is row 1
    if (r.length !== columns) throw new Error(`${at}: ${r.length} fields, the header has ${columns}`);
    const [id, cohort, label, score, ...rest] = r as [string, string, string, string, ...string[]];
    if (!id) throw new Error(`${at}: empty id`);
    if (cohort !== 'internal' && cohort !== 'external') throw new Error(`${at}: bad cohort ${quoteForMessage(cohort)}`);
    const key = `${cohort}\u0000${id}`;
    if (seen.has(key)) throw new Error(`${at}: case ${quoteForMessage(id)} (${cohort}) is listed again (first on row ${seen.get(key)})`);
    seen.set(key, i + 2);
    if (label !== '0' && label !== '1') throw new Error(`${at}: label ${quoteForMessage(label)} is not 0 or 1`);
    const p = Number(score);
    if (score.trim() === '' || !Number.isFinite(p) || p < 0 || p > 1) throw new Error(`${at}: score ${quoteForMessage(score)} is not a probability in [0, 1]`);
    const explained = Object.fromEntries(
      EXPLAIN_COLUMNS.map((k, j) => {
        const v = rest[j];
        if (!v) return [k, null];
        const x = Number(v);
        if (!Number.isFinite(x)) throw new Error(`${at}: ${k} ${quoteForMessage(v)} is not a number`);
        return [k, x];
      }),
    ) as Pick<Prediction, ExplainColumn>;
    return { id, cohort, label: Number(label) as 0 | 1, score: p, ...explained };
  });
}


// Downstream fine-tuning of one unit (initialisation × fold) and its
// evaluation on the held-out fold and the external cohort: predictions,
// classification metrics, attention heatmaps and Dice against the masks.
// follows: METHOD.md §6–7
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { parse as parseCsv } from 'csv-parse/sync';
import { join } from 'node:path';
import { tf } from '../backend';
import type { ExperimentConfig } from '../../shared/config';
import { hashSeed } from '../util/rng';
import { MarkerClassifier, bceWithLogits } from '../model/classifier';
import { volumesToInput } from '../networks/image-input';
import { loadMedicalNet } from '../networks/medicalnet';
import { foldSplits } from '../data/folds';
import { rocAuc, classificationMetrics } from '../metrics';
import { explainCase } from '../explain/dice-eval';
import { writeHeatmap } from '../explain/heatmap-io';
import { evaluationMasks } from '../explain/masks';
import { writeFileAtomic } from '../io/atomic';
import { resolveIn } from '../config/resolve';
import { AdamW } from './adamw';
import { stepLR } from './schedule';
import { runLoop } from './loop';
import { epochBatches, type StageOptions } from './pretrain';
import { loadModelWeights } from './checkpoint';
import { downstreamCases, type Dataset, type LabelledCase } from './dataset';
import { readJson, writeJsonAtomic } from './run-folder';
import type { SplitMetrics, FoldResult } from '../results/types';

export type Initialization = ExperimentConfig['finetune']['initializations'][number];

export type { SplitMetrics, FoldResult };

export interface Prediction {
  id: string;
  cohort: 'internal' | 'external';
  label: 0 | 1;
  score: number;
  dice2d: number | null;
  dice3d: number | null;
}

export interface UnitSpec {
  /** arm name in the tables ('random', 'medicalnet', 'pretrained' or an ablation) */
  arm: string;
  init: Initialization;
  fold: number;
  /** pretrained contrastive model (safetensors) for init 'pretrained' */
  pretrainedModel?: string;
}

/** The stratified folds of the downstream internal cohort (seeded by finetune.foldSeed). */
export function downstreamFolds(config: ExperimentConfig, ds: Dataset): { cases: LabelledCase[]; splits: { train: number[]; test: number[] }[] } {
  const { internal } = downstreamCases(ds);
  const k = config.finetune.folds;
  const splits = foldSplits(
    internal.map((c) => c.case.id),
    internal.map((c) => c.label),
    k,
    config.finetune.foldSeed,
  );
  return { cases: internal, splits };
}

/** Is this arm runnable? (MedicalNet needs a checkpoint the user downloads.) */
export function armUnavailable(config: ExperimentConfig, init: Initialization): string | undefined {
  if (init === 'medicalnet' && !config.image.medicalNet) {
    return 'no MedicalNet checkpoint configured (image.medicalNet); MedicalNet weights are a separate download';
  }
  return undefined;
}

export function finetuneSteps(config: ExperimentConfig, trainCases: number): number {
  const { batchSize, epochs } = config.finetune;
  return (Math.floor(trainCases / batchSize) + (trainCases % batchSize >= 2 ? 1 : 0)) * epochs;
}

export async function finetuneUnit(config: ExperimentConfig, ds: Dataset, unit: UnitSpec, opts: StageOptions): Promise<FoldResult> {
  mkdirSync(opts.dir, { recursive: true });
  const metricsPath = join(opts.dir, 'metrics.json');
  if (opts.resume && existsSync(metricsPath)) {
    opts.emit({ type: 'stage', stage: opts.stage, status: 'done', detail: 'already complete' });
    return readJson<FoldResult & { predictions?: unknown }>(metricsPath);
  }
  opts.emit({ type: 'stage', stage: opts.stage, status: 'started' });
  const { cases, splits } = downstreamFolds(config, ds);
  const split = splits[unit.fold];
  if (!split) throw new Error(`fold ${unit.fold} does not exist (finetune.folds = ${config.finetune.folds})`);
  const train = split.train.map((i) => cases[i]!);
  const test = split.test.map((i) => cases[i]!);
  const external = downstreamCases(ds).external;
  const seed = hashSeed(config.seed, `finetune:${unit.arm}:${unit.fold}`);
  const model = new MarkerClassifier(config, seed);
  try {
    if (unit.init === 'medicalnet') {
      loadMedicalNet(model.image, resolveIn(opts.baseDir, config.image.medicalNet));
    } else if (unit.init === 'pretrained') {
      if (!unit.pretrainedModel) throw new Error(`${opts.stage}: init 'pretrained' needs the pretraining stage's model`);
      loadModelWeights(unit.pretrainedModel, model.image, { prefix: 'image_encoder.', strict: true });
    }
    model.image.setTrainableFrom(config.image.trainableFrom);
    const trainable = model.trainableWeights;
    const optimizer = new AdamW(trainable, { lr: config.finetune.lr, weightDecay: config.finetune.weightDecay });
    try {
      await runLoop<LabelledCase[]>({
        stage: opts.stage,
        dir: opts.dir,
        config,
        model,
        optimizer,
        epochs: config.finetune.epochs,
        checkpointEvery: config.finetune.checkpointEvery,
        lr: (epoch) => stepLR(epoch, { ...config.finetune }),
        batches: (epoch) => epochBatches(train, config.finetune.batchSize, Math.min(2, train.length), seed, epoch),
        step: (batch) => {
          const x = volumesToInput(
            batch.map((c) => ds.image(c.case)),
            batch.map((c) => c.case.id),
          );
          const y = tf.tensor1d(batch.map((c) => c.label), 'float32');
          try {
            const { value, grads } = tf.variableGrads(() => {
              const out = model.apply(x, true);
              const loss = bceWithLogits(out.logits, y);
              return loss;
            }, trainable);
            const loss = value.dataSync()[0]!;
            value.dispose();
            const byVar = new Map<tf.Variable, tf.Tensor>();
            for (const v of trainable) if (grads[v.name]) byVar.set(v, grads[v.name]!);
            optimizer.step(byVar);
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
    const predictions = evaluate(config, ds, model, [...test.map((c) => ({ ...c, cohort: 'internal' as const })), ...external.map((c) => ({ ...c, cohort: 'external' as const }))], opts);
    const result: FoldResult = {
      arm: unit.arm,
      fold: unit.fold,
      internal: splitMetrics(predictions.filter((p) => p.cohort === 'internal'), config.finetune.threshold),
      external: external.length ? splitMetrics(predictions.filter((p) => p.cohort === 'external'), config.finetune.threshold) : null,
    };
    writePredictions(join(opts.dir, 'predictions.csv'), predictions);
    opts.emit({ type: 'artifact', stage: opts.stage, kind: 'predictions', path: join(opts.dir, 'predictions.csv') });
    writeJsonAtomic(metricsPath, { ...result, init: unit.init, threshold: config.finetune.threshold, train: train.map((c) => c.case.id) });
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

type EvalCase = LabelledCase & { cohort: 'internal' | 'external' };

/** Scores, attention heatmaps and Dice for each case (eval mode; masks read here only). */
function evaluate(config: ExperimentConfig, ds: Dataset, model: MarkerClassifier, cases: EvalCase[], opts: StageOptions): Prediction[] {
  const masks = evaluationMasks(config, ds.manifest.path);
  const out: Prediction[] = [];
  const bs = Math.max(1, config.finetune.batchSize);
  for (let i = 0; i < cases.length; i += bs) {
    const batch = cases.slice(i, i + bs);
    const volumes = batch.map((c) => ds.image(c.case));
    const x = volumesToInput(
      volumes,
      batch.map((c) => c.case.id),
    );
    const res = model.apply(x, false);
    try {
      const scores = tf.tidy(() => tf.sigmoid(res.logits)).dataSync();
      const att = res.attention?.dataSync();
      const [, X4, Y4, Z4] = res.layer4.shape;
      const P = X4 * Y4 * Z4;
      batch.forEach((c, b) => {
        let d2: number | null = null;
        let d3: number | null = null;
        if (att) {
          const ex = explainCase({
            attention: att.subarray(b * P * P, (b + 1) * P * P) as Float32Array,
            grid: [X4, Y4, Z4],
            imageDims: volumes[b]!.dims,
            threshold: config.explain.threshold,
            normalize: config.explain.normalize,
            smooth: config.explain.smooth,
            mask: masks.get(c.case),
            caseId: c.case.id,
          });
          d2 = ex.dice2d ?? null;
          d3 = ex.dice3d ?? null;
          writeHeatmap(join(opts.dir, 'heatmaps'), c.case.id, volumes[b]!, ex);
        }
        out.push({ id: c.case.id, cohort: c.cohort, label: c.label, score: scores[b]!, dice2d: d2, dice3d: d3 });
      });
    } finally {
      x.dispose();
      for (const t of [res.layer3, res.layer4, res.attention, res.global, res.logits]) t?.dispose();
    }
  }
  opts.emit({ type: 'artifact', stage: opts.stage, kind: 'heatmap', path: join(opts.dir, 'heatmaps') });
  return out;
}

function meanOrNull(xs: (number | null)[]): number | null {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
}

/** Metrics of a split, recomputable from its predictions alone. */
export function splitMetrics(preds: Prediction[], threshold: number): SplitMetrics {
  const scores = preds.map((p) => p.score);
  const labels = preds.map((p) => p.label);
  const positives = labels.filter((l) => l === 1).length;
  const auc = positives > 0 && positives < preds.length ? rocAuc(scores, labels) : null;
  const cm = preds.length ? classificationMetrics(scores, labels, threshold) : { precision: 0, recall: 0, f1: 0 };
  return {
    n: preds.length,
    positives,
    auc,
    precision: cm.precision,
    recall: cm.recall,
    f1: cm.f1,
    dice2d: meanOrNull(preds.map((p) => p.dice2d)),
    dice3d: meanOrNull(preds.map((p) => p.dice3d)),
  };
}

const CSV_HEADER = 'id,cohort,label,score,dice2d,dice3d';

export function writePredictions(path: string, preds: Prediction[]): void {
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = preds.map((p) => [q(p.id), p.cohort, p.label, p.score, p.dice2d ?? '', p.dice3d ?? ''].join(','));
  writeFileAtomic(path, [Buffer.from(`${CSV_HEADER}\n${lines.join('\n')}\n`)]);
}

/** Reads predictions.csv written by writePredictions. */
export function readPredictions(path: string): Prediction[] {
  const text = readFileSync(path, 'utf8');
  const [header, ...rows] = text.trimEnd().split('\n');
  if (header !== CSV_HEADER) throw new Error(`${path}: not a predictions file (header "${header}")`);
  return (parseCsv(rows.join('\n')) as string[][]).map((r, i) => {
    const [id, cohort, label, score, d2, d3] = r;
    if (cohort !== 'internal' && cohort !== 'external') throw new Error(`${path}: row ${i + 2}: bad cohort "${cohort}"`);
    return { id: id!, cohort, label: Number(label) as 0 | 1, score: Number(score), dice2d: d2 ? Number(d2) : null, dice3d: d3 ? Number(d3) : null };
  });
}


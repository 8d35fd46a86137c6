// Contrastive MRI–report pretraining (METHOD.md §5–6): the location-weighted
// global triplet loss and the local (cross-attention) triplet loss, AdamW,
// StepLR, seeded shuffling, resumable checkpoints.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../backend';
import type { ExperimentConfig } from '../../shared/config';
import type { EngineEvent } from '../../shared/events';
import { Rng, hashSeed } from '../util/rng';
import { ContrastiveModel } from '../model/contrastive';
import { volumesToInput } from '../networks/image-input';
import { disposeTextBatch, wordOverflow } from '../networks/text-batch';
import { loadHfTextEncoder } from '../networks/hf-text';
import type { LongformerEncoder } from '../networks/longformer';
import { loadTokenizer, saveTokenizer, type Encoding, type ReportTokenizer } from '../text/tokenizer';
import { effectiveMinDocuments, trainCorpusTokenizer } from '../text/bpe-train';
import type { CaseRecord } from '../data/manifest';
import { AdamW } from './adamw';
import { stepLR } from './schedule';
import { augmentBatch, augmentationEnabled, type AugmentOptions } from './augment';
import { recalibrateBatchNorm, recalibrationBatches } from './recalibrate';
import { runLoop, type StepMetrics } from './loop';
import { phase } from './profile';
import { saveModelWeights } from './checkpoint';
import { writeEncoderMetadata } from './encoder-metadata';
import { pretrainSplit, type Dataset } from './dataset';
import { readJson, writeJsonAtomic } from './run-folder';
import { resolveIn } from '../config/resolve';
import { loadMedicalNet } from '../networks/medicalnet';
import { batchSizeIssues, minimumBatch } from './batch-rules';

export interface StageOptions {
  /** folder of this stage inside the run folder */
  dir: string;
  stage: string;
  baseDir: string;
  resume: boolean;
  signal?: AbortSignal;
  emit(event: EngineEvent): void;
  progress?: { offset: number; total: number };
}

export interface PretrainResult {
  /** final weights of the whole contrastive model (safetensors) */
  model: string;
  tokenizer: string;
  steps: number;
}

export { minimumBatch };

/** Batches of an epoch: a seeded shuffle, the last short batch dropped when below the minimum. */
export function epochBatches<T>(items: readonly T[], batchSize: number, minBatch: number, seed: number, epoch: number): T[][] {
  const order = new Rng(hashSeed(seed, `shuffle:${epoch}`)).shuffle(items.map((_, i) => i));
  const out: T[][] = [];
  for (let i = 0; i < order.length; i += batchSize) {
    const b = order.slice(i, i + batchSize).map((j) => items[j]!);
    if (b.length >= minBatch) out.push(b);
  }
  return out;
}

export function pretrainSteps(config: ExperimentConfig, cases: number): number {
  const { batchSize, accumulate, epochs } = config.pretrain;
  const minBatch = minimumBatch(config);
  // batches below the minimum are dropped (epochBatches)
  const perEpoch = batchSize < minBatch ? 0 : Math.floor(cases / batchSize) + (cases % batchSize >= minBatch ? 1 : 0);
  return Math.ceil(perEpoch / accumulate) * epochs;
}

export interface TextSide {
  tokenizer: ReportTokenizer;
  encoder?: LongformerEncoder;
}

/** The tokenizer (and a pretrained text encoder) of a pretraining stage; writes tokenizer.json into opts.dir. Exported for the bench's loop case. */
export async function prepareText(config: ExperimentConfig, opts: StageOptions, reports: string[]): Promise<TextSide> {
  const saved = join(opts.dir, 'tokenizer.json');
  if (config.text.pretrained) {
    const hf = await loadHfTextEncoder(resolveIn(opts.baseDir, config.text.pretrained), {
      globalCls: config.text.globalCls,
      trainableLayers: config.text.trainableLayers,
      maxWords: config.text.maxWords,
    });
    if (!existsSync(saved)) saveTokenizer(hf.tokenizer, saved);
    return { tokenizer: hf.tokenizer, encoder: hf.encoder };
  }
  if (opts.resume && existsSync(saved)) return { tokenizer: loadTokenizer(saved) };
  const tokenizer =
    config.tokenizer.kind === 'pretrained'
      ? loadTokenizer(resolveIn(opts.baseDir, config.tokenizer.path))
      : corpusTokenizer(config, opts, reports);
  saveTokenizer(tokenizer, saved);
  return { tokenizer };
}

/** The corpus tokenizer, learnt under the minDocuments privacy rule (lowered for a tiny corpus, with a log line). */
function corpusTokenizer(config: ExperimentConfig, opts: StageOptions, reports: string[]): ReportTokenizer {
  const minDocuments = effectiveMinDocuments(config.tokenizer.minDocuments, reports.length);
  if (minDocuments !== config.tokenizer.minDocuments) {
    opts.emit({
      type: 'log',
      level: 'info',
      message: `${opts.stage}: only ${reports.length} reports, so the tokenizer learns tokens found in at least ${minDocuments} reports (tokenizer.minDocuments is ${config.tokenizer.minDocuments})`,
    });
  }
  return trainCorpusTokenizer(reports, { vocabSize: config.tokenizer.vocabSize, minFrequency: config.tokenizer.minFrequency, minDocuments });
}

/** The MedicalNet checkpoint pretraining starts from, or undefined for a random image encoder. */
export function pretrainImageInit(config: ExperimentConfig, baseDir: string): string | undefined {
  return config.image.medicalNet && config.image.pretrainFromMedicalNet ? resolveIn(baseDir, config.image.medicalNet) : undefined;
}

export async function pretrain(config: ExperimentConfig, ds: Dataset, opts: StageOptions): Promise<PretrainResult> {
  mkdirSync(opts.dir, { recursive: true });
  const donePath = join(opts.dir, 'done.json');
  if (opts.resume && existsSync(donePath)) {
    opts.emit({ type: 'stage', stage: opts.stage, status: 'done', detail: 'already complete' });
    return readJson<PretrainResult>(donePath);
  }
  const unusable = batchSizeIssues(config, { pretraining: true, finetuning: false });
  if (unusable.length) throw new Error(`${opts.stage}: ${unusable[0]!.message}`);
  opts.emit({ type: 'stage', stage: opts.stage, status: 'started' });
  const split = pretrainSplit(ds);
  const cases = split.train;
  const minBatch = minimumBatch(config);
  if (cases.length < minBatch) {
    const held = split.heldOut.length ? ` (${split.heldOut.length} more held out by pretrain.heldOut)` : '';
    throw new Error(`${ds.manifest.path}: pretraining needs at least ${minBatch} internal cases with reports, found ${cases.length}${held}`);
  }
  writeJsonAtomic(join(opts.dir, 'split.json'), { heldOut: config.pretrain.heldOut ?? 0, seed: config.seed, train: cases.map((c) => c.id), heldOutIds: split.heldOut.map((c) => c.id) });
  const reports = cases.map((c) => ds.report(c)!);
  const text = await prepareText(config, opts, reports);
  const model = new ContrastiveModel(config, { size: text.tokenizer.vocabSize, padId: text.tokenizer.padId }, config.seed, text.encoder);
  const fromMedicalNet = pretrainImageInit(config, opts.baseDir);
  if (fromMedicalNet) {
    // follows: METHOD.md §6 (pretraining starts from MedicalNet; conv1–layer2 stay frozen)
    try {
      loadMedicalNet(model.image, fromMedicalNet);
    } catch (e) {
      model.dispose();
      throw e;
    }
    model.image.setTrainableFrom(config.image.trainableFrom);
    opts.emit({ type: 'log', level: 'info', message: `${opts.stage}: image encoder initialised from MedicalNet ${fromMedicalNet}` });
  }
  const maxTokens = model.text.maxTokens;
  const encodings = new Map<string, Encoding>(cases.map((c, i) => [c.id, text.tokenizer.encode(reports[i]!, { maxTokens })]));
  const overflow = wordOverflow([...encodings.values()], model.text.maxWords);
  if (overflow.over > 0) {
    opts.emit({
      type: 'log',
      level: 'warn',
      message: `${opts.stage}: ${overflow.over} of ${encodings.size} training reports have more words than text.maxWords (${model.text.maxWords}; the longest has ${overflow.longest}): their later words are left out of the local representation and the local loss (the global representation still reads them); set text.maxWords to at least ${overflow.longest} to keep whole reports, as the paper does`,
    });
  }
  const trainable = model.trainableWeights;
  const optimizer = new AdamW(trainable, { lr: config.pretrain.lr, weightDecay: config.pretrain.weightDecay });
  const locations = (batch: CaseRecord[]) => batch.map((c) => c.location ?? '');
  const accumulate = config.pretrain.accumulate;
  try {
    const result = await runLoop<CaseRecord[][]>({
      stage: opts.stage,
      dir: opts.dir,
      config,
      model,
      optimizer,
      epochs: config.pretrain.epochs,
      checkpointEvery: config.pretrain.checkpointEvery,
      lr: (epoch) => stepLR(epoch, { ...config.pretrain }),
      batches: (epoch) => {
        const micro = epochBatches(cases, config.pretrain.batchSize, minBatch, config.seed, epoch);
        const groups: CaseRecord[][][] = [];
        for (let i = 0; i < micro.length; i += accumulate) groups.push(micro.slice(i, i + accumulate));
        return groups;
      },
      step: (group, rng) => pretrainStep(model, optimizer, trainable, group, ds, encodings, locations, rng, config.pretrain.augment),
      noBatches: `${cases.length} case(s) in batches of ${config.pretrain.batchSize} leave no batch of at least ${minBatch}`,
      seed: hashSeed(config.seed, 'pretrain-loop'),
      resume: opts.resume,
      signal: opts.signal,
      emit: opts.emit,
      progress: opts.progress,
    });
    if (config.pretrain.recalibrateNorm) {
      // follows: docs/METHOD.md §6 (recalibrateNorm)
      const n = recalibrateBatchNorm(model, recalibrationBatches(cases, config.pretrain.batchSize, minBatch), (batch) => {
        const images = volumesToInput(
          batch.map((c) => ds.image(c)),
          batch.map((c) => c.id),
        );
        const textBatch = model.text.batch(batch.map((c) => encodings.get(c.id)!));
        try {
          model.forward(images, textBatch, true);
        } finally {
          disposeTextBatch(textBatch);
        }
      });
      opts.emit({ type: 'log', level: 'info', message: `${opts.stage}: running statistics of ${n} batch norm(s) recomputed over the ${cases.length} training pairs with the final weights (pretrain.recalibrateNorm)` });
    }
    const modelPath = join(opts.dir, 'model.safetensors');
    saveModelWeights(modelPath, model, config, { stage: 'pretrain' });
    writeEncoderMetadata(opts.dir, config);
    const out: PretrainResult = { model: modelPath, tokenizer: join(opts.dir, 'tokenizer.json'), steps: result.steps };
    writeJsonAtomic(donePath, { ...out, finalLoss: result.lastEpoch ?? null, imageInit: fromMedicalNet ? { medicalNet: fromMedicalNet } : 'random' });
    opts.emit({ type: 'artifact', stage: opts.stage, kind: 'checkpoint', path: modelPath });
    opts.emit({ type: 'stage', stage: opts.stage, status: 'done' });
    return out;
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}

/** One optimizer step over `group` (micro-batches whose gradients are summed then averaged). Exported for the bench's loop case. */
export function pretrainStep(
  model: ContrastiveModel,
  optimizer: AdamW,
  trainable: tf.Variable[],
  group: CaseRecord[][],
  ds: Dataset,
  encodings: Map<string, Encoding>,
  locations: (b: CaseRecord[]) => string[],
  rng: Rng,
  augment?: AugmentOptions,
): StepMetrics {
  let sum: Map<tf.Variable, tf.Tensor> | undefined;
  const metrics: StepMetrics = { loss: 0, global: undefined, local: undefined };
  let globalSum = 0;
  let localSum = 0;
  for (const batch of group) {
    const images = phase('data', () => {
      const x = volumesToInput(
        batch.map((c) => ds.image(c)),
        batch.map((c) => c.id),
      );
      if (!augmentationEnabled(augment)) return x;
      // follows: docs/METHOD.md §6 (pretrain.augment)
      const y = augmentBatch(x, augment, rng);
      x.dispose();
      return y;
    });
    const textBatch = phase('text', () => model.text.batch(batch.map((c) => encodings.get(c.id)!)));
    let parts: { global: tf.Tensor | null; local: tf.Tensor | null } = { global: null, local: null };
    let alpha = 0;
    let beta = 0;
    try {
      const { value, grads } = phase('backward', () => tf.variableGrads(() => {
        const out = phase('forward', () => model.forward(images, textBatch, true));
        const l = phase('losses', () => model.loss(out, locations(batch), rng));
        parts = { global: l.global ? tf.keep(l.global) : null, local: l.local ? tf.keep(l.local) : null };
        alpha = l.alpha;
        beta = l.beta;
        return l.total;
      }, trainable));
      phase('metrics', () => {
        metrics.loss += value.dataSync()[0]! / group.length;
        value.dispose();
        if (parts.global) globalSum += parts.global.dataSync()[0]!;
        if (parts.local) localSum += parts.local.dataSync()[0]!;
      });
      metrics.alpha = alpha;
      metrics.beta = beta;
      const byVar = new Map<tf.Variable, tf.Tensor>();
      for (const v of trainable) {
        const g = grads[v.name];
        if (g) byVar.set(v, g);
      }
      if (!sum) sum = byVar;
      else {
        for (const [v, g] of byVar) {
          const prev = sum.get(v);
          sum.set(v, prev ? tf.tidy(() => prev.add(g)) : g.clone());
          prev?.dispose();
          g.dispose();
        }
      }
    } finally {
      parts.global?.dispose();
      parts.local?.dispose();
      images.dispose();
      disposeTextBatch(textBatch);
    }
  }
  if (sum) phase('optimizer', () => applyGrads(optimizer, sum!, group.length));
  if (model.config.loss.components !== 'local' && model.config.loss.weighting !== 'localOnly') metrics.global = globalSum / group.length;
  if (model.config.loss.components !== 'global') metrics.local = localSum / group.length;
  return metrics;
}

/** Averages summed micro-batch gradients over `n` and takes the optimizer step; disposes the gradients. */
function applyGrads(optimizer: AdamW, sum: Map<tf.Variable, tf.Tensor>, n: number): void {
  if (n > 1) {
    for (const [v, g] of sum) {
      sum.set(v, tf.tidy(() => g.div(n)));
      g.dispose();
    }
  }
  optimizer.step(sum);
  for (const g of sum.values()) g.dispose();
}

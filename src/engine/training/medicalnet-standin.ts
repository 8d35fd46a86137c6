// A stand-in for MedicalNet's weights, made the way Med3D made them (Chen
// et al. 2019): the configured ResNet encoder (no self-attention, which
// MedicalNet lacks) with MedicalNet's segmentation head `conv_seg`, trained
// with voxel-wise cross-entropy on a segmentation task, here the phantom's
// tissue classes on a synthetic cohort disjoint from every study cohort
// (standin-cohort.ts). Tumours are no class and their voxels are left out
// of the loss, so the stand-in never learns what a tumour looks like. The
// labels go to the head's output grid by nearest neighbour, as MedicalNet
// resized its labels to the output (not the logits to the labels).
// Saved as MedicalNet's files are: a legacy torch.save of
// {'ecpoch': E, 'state_dict': {'module.conv1.weight', …, 'module.conv_seg.*'}},
// so it initialises an encoder through the same `image.medicalNet` path a
// released Med3D .pth takes, plus `<file>.json` saying what it is.
// follows: METHOD.md §2 (MedicalNet stand-in)
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { tf } from '../backend';
import type { ExperimentConfig } from '../../shared/config';
import type { Volume } from '../io/volume';
import { saveTorchCheckpoint, type SaveTensor } from '../io/torch-save';
import { resampleTo } from '../data/resample';
import { volumesToInput } from '../networks/image-input';
import { MedicalNetSegHead } from '../networks/medicalnet-decoder';
import { torchStateDict, type Module } from '../networks/module';
import { encoderGrids, resnet3dFromConfig, type ResNet3dEncoder } from '../networks/resnet3d';
import { writeJsonAtomic } from '../synth/folder';
import { TISSUE_CLASSES } from '../synth/tissue';
import { hashSeed } from '../util/rng';
import { epochBatches } from './pretrain';
import { AdamW } from './adamw';
import { CancelledError } from './loop';
import { standinCase, standinIds, STANDIN_ID_PREFIX, type StandinCase } from './standin-cohort';
import { eventLoopTurn } from '../util/yield';

export const STANDIN_KIND = 'medicalnet-standin';
export const STANDIN_DESCRIPTION = 'synthetic stand-in for MedicalNet, not Med3D weights';
export const STANDIN_DEFAULTS = { cases: 48, heldOut: 4, epochs: 10, batchSize: 4, seed: 2019, lr: 1e-3, weightDecay: 0.01 } as const;

export interface StandinOptions {
  /** the encoder (image.depth, shortcut, width, outputStride) and the preprocessing (data.shape, data.normalization) */
  config: Pick<ExperimentConfig, 'image' | 'data'>;
  /** the .pth to write (its folder is created); `<out>.json` is written beside it */
  out: string;
  /** training cases (default 48) */
  cases?: number;
  /** held-out cases for the Dice in the record (default 4) */
  heldOut?: number;
  epochs?: number;
  batchSize?: number;
  /** the cohort's and the initial weights' seed (default 2019) */
  seed?: number;
  lr?: number;
  weightDecay?: number;
  /** stops between steps: nothing is written */
  signal?: AbortSignal;
  onProgress?: (p: StandinProgress) => void;
  /** called with the trained networks before they are saved and disposed (inspection, tests) */
  onTrained?: (model: { encoder: ResNet3dEncoder; head: MedicalNetSegHead }) => void;
}

export type StandinProgress =
  | { phase: 'cohort'; done: number; total: number }
  | { phase: 'train'; epoch: number; epochs: number; step: number; steps: number; loss: number }
  | { phase: 'epoch'; epoch: number; epochs: number; loss: number };

/** What `<file>.json` holds. */
export interface StandinRecord {
  kind: typeof STANDIN_KIND;
  description: typeof STANDIN_DESCRIPTION;
  checkpoint: string;
  encoder: { depth: number; shortcut: string; width: number; outputStride: number; dilate?: boolean; selfAttention: false };
  decoder: { hidden: number; classes: readonly string[]; outputGrid: [number, number, number] };
  cohort: { seed: number; idPrefix: string; train: number; heldOut: number; shape: [number, number, number]; normalization: string };
  training: { epochs: number; batchSize: number; optimizer: 'AdamW'; lr: number; weightDecay: number; loss: string; stepsPerEpoch: number };
  /** mean cross-entropy of each epoch's steps */
  epochLosses: number[];
  finalLoss: number;
  /** per class, mean over held-out cases where the class is present (in truth or prediction); null: in none */
  heldOutDice: Record<string, number | null>;
}

type Resolved = Required<Omit<StandinOptions, 'signal' | 'onProgress' | 'onTrained'>>;

function resolve(o: StandinOptions): Resolved {
  const bad = (msg: string) => new Error(`medicalnet standin: ${msg}`);
  if (typeof o !== 'object' || o === null) throw bad('options must be an object');
  if (!o.config?.image || !o.config?.data) throw bad('config must be an experiment config (with image and data sections)');
  if (typeof o.out !== 'string' || o.out.trim() === '') throw bad('out must be a file path (the .pth to write)');
  const int = (name: 'cases' | 'heldOut' | 'epochs' | 'batchSize' | 'seed', min: number, max: number): number => {
    const v = o[name] ?? STANDIN_DEFAULTS[name];
    if (!Number.isInteger(v) || v < min || v > max) throw bad(`${name} must be an integer from ${min} to ${max}, got ${String(v)}`);
    return v;
  };
  const num = (name: 'lr' | 'weightDecay'): number => {
    const v = o[name] ?? STANDIN_DEFAULTS[name];
    if (!Number.isFinite(v) || v < 0) throw bad(`${name} must be a finite number ≥ 0, got ${String(v)}`);
    return v;
  };
  const r = {
    config: o.config,
    out: o.out,
    cases: int('cases', 2, 10_000),
    heldOut: int('heldOut', 0, 1000),
    epochs: int('epochs', 1, 100_000),
    batchSize: int('batchSize', 1, 1024),
    seed: int('seed', 0, 0xffffffff),
    lr: num('lr'),
    weightDecay: num('weightDecay'),
  };
  if (r.batchSize > r.cases) throw bad(`batch size ${r.batchSize} is larger than the ${r.cases} training cases`);
  return r;
}

/** The encoder the stand-in trains: the config's, without self-attention or dropout (MedicalNet has neither), every stage trainable. */
export function standinEncoder(image: ExperimentConfig['image'], seed: number): ResNet3dEncoder {
  return resnet3dFromConfig({ ...image, selfAttention: false, dropout: 0, trainableFrom: 'conv1' }, hashSeed(seed, 'standin:encoder'));
}

/** The head's output grid for data.shape: layer4's grid doubled. */
export function standinOutputGrid(config: Pick<ExperimentConfig, 'image' | 'data'>): [number, number, number] {
  const l4 = encoderGrids(config.data.shape, config.image.outputStride).layer4;
  return [2 * l4[0], 2 * l4[1], 2 * l4[2]];
}

interface Target {
  labels: Volume;
  /** 1: counts in the loss and Dice; 0: tumour */
  weight: Volume;
}

function targetOn(c: StandinCase, grid: [number, number, number]): Target {
  const labels = resampleTo(c.labels, grid, 'nearest');
  const tumour = resampleTo(c.tumour, grid, 'nearest');
  return { labels, weight: { ...tumour, data: tumour.data.map((t) => (t > 0.5 ? 0 : 1)) } };
}

/**
 * Mean voxel-wise cross-entropy over the voxels of weight 1:
 * Σ w·(−log softmax(logits)[label]) / max(Σ w, 1).
 */
export function maskedCrossEntropy(logits: tf.Tensor5D, labels: tf.Tensor, weight: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const classes = logits.shape[4];
    const onehot = tf.oneHot(labels.reshape([-1]).toInt(), classes);
    const logp = tf.logSoftmax(logits.reshape([-1, classes]));
    const nll = onehot.mul(logp).sum(1).neg();
    const w = weight.reshape([-1]);
    return nll.mul(w).sum().div(tf.maximum(w.sum(), 1)) as tf.Scalar;
  });
}

/** One optimizer step on a batch; returns the loss. Leaves no tensors behind. */
export function standinStep(encoder: ResNet3dEncoder, head: MedicalNetSegHead, optimizer: AdamW, batch: StandinCase[], targets: Target[]): number {
  const trainable = [...encoder.trainableWeights, ...head.trainableWeights];
  const ids = batch.map((c) => c.id);
  const x = volumesToInput(batch.map((c) => c.image), ids);
  const y = volumesToInput(targets.map((t) => t.labels), ids);
  const w = volumesToInput(targets.map((t) => t.weight), ids);
  try {
    const { value, grads } = tf.variableGrads(() => {
      const { layer3, layer4, global } = encoder.apply(x, { training: true });
      layer3.dispose();
      global.dispose();
      const logits = head.apply(layer4, { training: true });
      layer4.dispose();
      if (logits.shape.slice(1, 4).some((n, i) => n !== y.shape[i + 1])) {
        throw new Error(`medicalnet standin: the head's output grid [${logits.shape.slice(1, 4).join(',')}] differs from the labels' [${y.shape.slice(1, 4).join(',')}]`);
      }
      return maskedCrossEntropy(logits, y, w);
    }, trainable);
    const loss = value.dataSync()[0]!;
    value.dispose();
    optimizer.step(grads);
    for (const g of Object.values(grads)) g.dispose();
    return loss;
  } finally {
    tf.dispose([x, y, w]);
  }
}

/**
 * Dice 2|P∩G|/(|P|+|G|) of each class k < `classes` between predicted and
 * true class indices, over the voxels of non-zero weight; null for a class
 * in neither.
 */
export function classDice(pred: ArrayLike<number>, labels: ArrayLike<number>, weight: ArrayLike<number>, classes: number): (number | null)[] {
  if (pred.length !== labels.length || pred.length !== weight.length) {
    throw new Error(`classDice: ${pred.length} predictions, ${labels.length} labels and ${weight.length} weights`);
  }
  const inter = new Array<number>(classes).fill(0);
  const sum = new Array<number>(classes).fill(0);
  for (let n = 0; n < pred.length; n++) {
    if (!weight[n]) continue;
    const p = pred[n]!;
    const g = Math.round(labels[n]!);
    if (p < classes) sum[p]++;
    if (g < classes) sum[g]++;
    if (p === g && p < classes) inter[p]++;
  }
  return sum.map((s, k) => (s ? (2 * inter[k]!) / s : null));
}

/** Per-class Dice of the head's argmax against the labels on one case (eval mode), tumour voxels left out. */
function caseDice(encoder: ResNet3dEncoder, head: MedicalNetSegHead, c: StandinCase, t: Target): (number | null)[] {
  const pred = tf.tidy(() => {
    const out = encoder.apply(volumesToInput([c.image]));
    const p = head.apply(out.layer4).argMax(4);
    tf.dispose([out.layer3, out.layer4, out.global]);
    return p;
  });
  const p = pred.dataSync();
  pred.dispose();
  const labels = tf.tidy(() => volumesToInput([t.labels]).dataSync());
  const weight = tf.tidy(() => volumesToInput([t.weight]).dataSync());
  return classDice(p, labels, weight, TISSUE_CLASSES.length);
}

/** A module's tensors as `module.<prefix><name>`, in PyTorch layout (int BN counters as int64). */
function exportState(m: Module, prefix: string, out: Map<string, SaveTensor>): void {
  const state = torchStateDict(m);
  try {
    for (const [name, t] of state) {
      const values = t.dataSync();
      const data = t.dtype === 'float32' ? Float32Array.from(values) : BigInt64Array.from(Array.from(values, (v) => BigInt(Math.round(v))));
      out.set(`module.${prefix}${name}`, { shape: [...t.shape], data });
    }
  } finally {
    tf.dispose([...state.values()]);
  }
}

function checkCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError('medicalnet standin');
}

/** The path of the record beside a stand-in checkpoint. */
export const standinRecordPath = (checkpoint: string): string => `${checkpoint}.json`;

/**
 * The stand-in record beside a MedicalNet checkpoint, or undefined when the
 * checkpoint has none (a released Med3D file): what tables and reports read
 * to say that their MedicalNet arm is the stand-in. A record that is not
 * JSON or not a stand-in's is an error naming the file.
 */
export function readStandinRecord(checkpoint: string): StandinRecord | undefined {
  const path = standinRecordPath(checkpoint);
  if (!existsSync(path)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`${path}: not a readable JSON record (${(e as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || (value as { kind?: unknown }).kind !== STANDIN_KIND) {
    throw new Error(`${path}: not a MedicalNet stand-in record (expected "kind": "${STANDIN_KIND}")`);
  }
  return value as StandinRecord;
}

export interface StandinResult {
  checkpoint: string;
  record: string;
  summary: StandinRecord;
}

/** Generates the cohort, trains, evaluates on the held-out cases, then writes the .pth and its record (atomically, nothing on cancel). */
export async function trainMedicalNetStandin(options: StandinOptions): Promise<StandinResult> {
  const o = resolve(options);
  const { config } = o;
  const shape = config.data.shape as [number, number, number];
  const grid = standinOutputGrid(config);
  const ids = standinIds(o.cases, o.heldOut);
  const all = [...ids.train, ...ids.heldOut];
  const cases: StandinCase[] = [];
  options.onProgress?.({ phase: 'cohort', done: 0, total: all.length });
  for (let i = 0; i < all.length; i++) {
    checkCancelled(options.signal);
    cases.push(standinCase(o.seed, all[i]!, i, config));
    options.onProgress?.({ phase: 'cohort', done: i + 1, total: all.length });
    await eventLoopTurn();
  }
  const targets = cases.map((c) => targetOn(c, grid));
  const train = cases.slice(0, o.cases);
  const heldOut = cases.slice(o.cases);

  const encoder = standinEncoder(config.image, o.seed);
  const head = new MedicalNetSegHead(encoder.featureChannels.global, TISSUE_CLASSES.length, { seed: hashSeed(o.seed, 'standin:head') });
  const optimizer = new AdamW([...encoder.trainableWeights, ...head.trainableWeights], { lr: o.lr, weightDecay: o.weightDecay });
  try {
    const epochLosses: number[] = [];
    const steps = Math.ceil(train.length / o.batchSize);
    const trainIndices = [...train.keys()];
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      // every case once per epoch, shuffled as training shuffles, the last batch possibly smaller
      const batches = epochBatches(trainIndices, o.batchSize, 1, hashSeed(o.seed, 'standin'), epoch);
      let total = 0;
      for (const [s, idx] of batches.entries()) {
        checkCancelled(options.signal);
        const loss = standinStep(encoder, head, optimizer, idx.map((i) => train[i]!), idx.map((i) => targets[i]!));
        if (!Number.isFinite(loss)) throw new Error(`medicalnet standin: the loss became ${loss} in epoch ${epoch + 1}; lower the learning rate`);
        total += loss;
        options.onProgress?.({ phase: 'train', epoch: epoch + 1, epochs: o.epochs, step: s + 1, steps, loss });
        await eventLoopTurn();
      }
      epochLosses.push(total / steps);
      options.onProgress?.({ phase: 'epoch', epoch: epoch + 1, epochs: o.epochs, loss: total / steps });
    }
    const perCase = heldOut.map((c, i) => caseDice(encoder, head, c, targets[o.cases + i]!));
    const heldOutDice = Object.fromEntries(
      TISSUE_CLASSES.map((name, k) => {
        const v = perCase.map((d) => d[k]).filter((d): d is number => d !== null);
        return [name, v.length ? v.reduce((a, b) => a + b, 0) / v.length : null];
      }),
    );
    options.onTrained?.({ encoder, head });
    checkCancelled(options.signal);
    const tensors = new Map<string, SaveTensor>();
    exportState(encoder, '', tensors);
    exportState(head, 'conv_seg.', tensors);
    const summary: StandinRecord = {
      kind: STANDIN_KIND,
      description: STANDIN_DESCRIPTION,
      checkpoint: basename(o.out),
      encoder: { depth: encoder.depth, shortcut: encoder.shortcut, width: encoder.width, outputStride: encoder.outputStride, dilate: encoder.dilate, selfAttention: false },
      decoder: { hidden: head.up.outChannels, classes: TISSUE_CLASSES, outputGrid: grid },
      cohort: { seed: o.seed, idPrefix: STANDIN_ID_PREFIX, train: o.cases, heldOut: o.heldOut, shape, normalization: config.data.normalization },
      training: {
        epochs: o.epochs,
        batchSize: o.batchSize,
        optimizer: 'AdamW',
        lr: o.lr,
        weightDecay: o.weightDecay,
        loss: 'voxel-wise cross-entropy on the head output grid, labels by nearest neighbour, tumour voxels left out',
        stepsPerEpoch: steps,
      },
      epochLosses,
      finalLoss: epochLosses[epochLosses.length - 1]!,
      heldOutDice,
    };
    mkdirSync(dirname(o.out), { recursive: true });
    const recordPath = standinRecordPath(o.out);
    // a record from an earlier stand-in must never describe this file
    if (existsSync(recordPath)) rmSync(recordPath);
    saveTorchCheckpoint(o.out, tensors, { scalars: { ecpoch: o.epochs } });
    writeJsonAtomic(recordPath, summary);
    return { checkpoint: o.out, record: recordPath, summary };
  } finally {
    optimizer.dispose();
    encoder.dispose();
    head.dispose();
  }
}

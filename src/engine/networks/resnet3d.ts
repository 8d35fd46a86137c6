// The image encoder: MedicalNet's 3D ResNet (BasicBlocks; layer3/4 strided,
// or dilated as MedicalNet's own: `outputStride`) with the authors'
// self-attention on layer4. Parameter names are PyTorch's
// (`conv1.weight`, `layer2.0.downsample.0.weight`, `self_attention.gamma`),
// so MedicalNet checkpoints and the authors' weights load unchanged.
//
// Axes. Input is NDHWC [N, D, H, W, 1]; PyTorch's [N, 1, D, H, W] is the
// same tensor with the channel axis moved last. A volume's (X, Y, Z) grid is
// (D, H, W), as the authors feed nibabel arrays (see image-input.ts), so a
// 240×240×155 scan gives layer3 15×15×10 and layer4 8×8×5 at output stride
// 32; at output stride 8 a 64×64×40 input gives both 8×8×5.
//
// Output stride: 32: layer3 and layer4 stride 2.
// 16: layer4 stride 1, dilation 2. 8: layer3 stride 1 dilation 2 and layer4
// stride 1 dilation 4 (MedicalNet's resnet.py). Every block of a dilated
// layer dilates both 3×3×3 convs (padding = dilation); no weight changes
// shape, so one checkpoint loads into every variant. `dilate: false` keeps
// the unstrided layers undilated (padding 1), as the paper's layer4 on its
// 8×8×5 grid: on a grid that small, dilation reaches into the padding.
//
// follows: METHOD.md §2
import { tf } from '../backend';
import type { ImageConfig } from '../../shared/config';
import { hashSeed } from '../util/rng';
import { Module } from './module';
import { BasicBlock3d, type ShortcutType } from './layers/basic-block3d';
import { BatchNorm3d, type FrozenBatchNormMode, type TrainingFlag } from './layers/batchnorm3d';
import { Conv3d } from './layers/conv3d';
import { Dropout } from './layers/dropout';
import { maxPool3d } from './layers/maxpool3d';
import { checkNDHWC } from './layers/pad3d';
import { SelfAttention3d } from './self-attention3d';
import { dilatedLayout, type OutputStride } from './grids';
import { untaped } from '../util/tape-memory';

export type ResNetDepth = 10 | 18 | 34;
export type EncoderStage = 'conv1' | 'layer1' | 'layer2' | 'layer3' | 'layer4';
export const ENCODER_STAGES: readonly EncoderStage[] = ['conv1', 'layer1', 'layer2', 'layer3', 'layer4'];
export { OUTPUT_STRIDES, dilatedLayout, encoderGrids, type OutputStride } from './grids';

/** BasicBlocks per layer (MedicalNet's resnet10/18/34) */
export const RESNET_BLOCKS: Record<ResNetDepth, [number, number, number, number]> = {
  10: [1, 1, 1, 1],
  18: [2, 2, 2, 2],
  34: [3, 4, 6, 3],
};

export interface ResNet3dOptions {
  /** default: MedicalNet's pairing, 'B' for depth 10 and 'A' for 18 and 34 */
  shortcut?: ShortcutType;
  /** self-attention on layer4 (default true) */
  selfAttention?: boolean;
  /** channels of conv1 and layer1; layers 2–4 have 2×, 4×, 8× (default 64) */
  width?: number;
  /** dropout after the maxpool and after layers 1–3, training only (default 0.25) */
  dropout?: number;
  /** first trainable stage; earlier ones are frozen, their BN in eval mode (default 'layer3') */
  trainableFrom?: EncoderStage;
  seed?: number;
  /** 'kaiming' (MedicalNet's init, default) or 'zeros' before loading a checkpoint */
  init?: 'kaiming' | 'zeros';
  /** let gradients through shortcut A (MedicalNet detaches it; default false) */
  shortcutAGradient?: boolean;
  /** 32 (strided layer3/4, default), 16 (layer4 dilated 2) or 8 (layer3 dilated 2, layer4 dilated 4) */
  outputStride?: OutputStride;
  /** with outputStride 16 or 8, dilate the unstrided layers (MedicalNet's form, default true) or keep them undilated (false) */
  dilate?: boolean;
  /** dropout on the self-attention's q, k, v in training (default 0.2, the authors'; 0: none) */
  attentionDropout?: number;
  /** initial γ of the self-attention's gated residual (default 0, SAGAN's and the authors') */
  attentionGamma?: number;
  /** scale the self-attention's scores by 1/√C (default false, the authors') */
  attentionScale?: boolean;
  /** add layer4 back to the self-attention's output (default true, the authors'; image.attentionResidual) */
  attentionResidual?: boolean;
  /** learned register keys and values in the self-attention (default 0: none, the authors'; image.attentionRegisters) */
  attentionRegisters?: number;
  /** frozen stages' BN in training: 'train' batch statistics, running stats updated (the authors' code, default) | 'eval' running statistics kept */
  frozenBatchNorm?: FrozenBatchNormMode;
}

export interface ImageEncoderOutput {
  /** layer3's output after its dropout: the local features [N, D/16, H/16, W/16, 4w] (D/8… at output stride 8) */
  layer3: tf.Tensor5D;
  /** layer4's output after self-attention (raw layer4 without it) [N, D/s, H/s, W/s, 8w], s = output stride */
  layer4: tf.Tensor5D;
  /** [N, P, P] over layer4's P = D·H·W positions (row-major d, h, w); null without self-attention */
  attention: tf.Tensor3D | null;
  /** `layer4` averaged over its positions: the global representation [N, 8w] */
  global: tf.Tensor2D;
}

/** nn.Sequential of BasicBlocks, children named "0", "1", … */
export class ResLayer3d extends Module {
  readonly blocks: BasicBlock3d[] = [];

  add(block: BasicBlock3d): void {
    this.blocks.push(this.child(String(this.blocks.length), block));
  }

  apply(x: tf.Tensor5D, options: TrainingFlag): tf.Tensor5D {
    return tf.tidy(() => this.blocks.reduce((h, b) => b.apply(h, options), x));
  }
}

export class ResNet3dEncoder extends Module {
  readonly depth: ResNetDepth;
  readonly width: number;
  readonly shortcut: ShortcutType;
  readonly outputStride: OutputStride;
  /** whether the unstrided layers of output stride 16 or 8 are dilated */
  readonly dilate: boolean;
  readonly frozenBatchNorm: FrozenBatchNormMode;
  readonly conv1: Conv3d;
  readonly bn1: BatchNorm3d;
  readonly layer1: ResLayer3d;
  readonly layer2: ResLayer3d;
  readonly layer3: ResLayer3d;
  readonly layer4: ResLayer3d;
  readonly selfAttention: SelfAttention3d | null;
  /** after the maxpool, layer1, layer2, layer3 */
  readonly dropouts: Dropout[];
  private _trainableFrom: EncoderStage = 'conv1';

  constructor(depth: ResNetDepth, options: ResNet3dOptions = {}) {
    super();
    const blocks = RESNET_BLOCKS[depth];
    if (!blocks) throw new Error(`ResNet3d: depth must be 10, 18 or 34, got ${String(depth)}`);
    const width = options.width ?? 64;
    if (!Number.isInteger(width) || width < 1) throw new Error(`ResNet3d: width must be a positive integer, got ${width}`);
    const shortcut = options.shortcut ?? (depth === 10 ? 'B' : 'A');
    if (shortcut !== 'A' && shortcut !== 'B') throw new Error(`ResNet3d: shortcut must be 'A' or 'B', got ${String(shortcut)}`);
    this.depth = depth;
    this.width = width;
    this.shortcut = shortcut;
    const outputStride = options.outputStride ?? 32;
    this.dilate = options.dilate ?? true;
    const layout = dilatedLayout(outputStride, this.dilate);
    this.outputStride = outputStride;
    const frozenBatchNorm = options.frozenBatchNorm ?? 'train';
    if (frozenBatchNorm !== 'train' && frozenBatchNorm !== 'eval') throw new Error(`ResNet3d: frozenBatchNorm must be 'train' or 'eval', got ${String(frozenBatchNorm)}`);
    this.frozenBatchNorm = frozenBatchNorm;
    const seed = options.seed ?? 0;
    const init = options.init ?? 'kaiming';

    this.conv1 = this.child('conv1', new Conv3d(1, width, 7, { stride: 2, padding: 3, init, seed, name: 'conv1' }));
    this.bn1 = this.child('bn1', new BatchNorm3d(width));
    let inPlanes = width;
    const makeLayer = (name: string, planes: number, count: number, stride: number, dilation = 1): ResLayer3d => {
      const layer = new ResLayer3d();
      for (let i = 0; i < count; i++) {
        layer.add(
          new BasicBlock3d(inPlanes, planes, {
            stride: i === 0 ? stride : 1,
            dilation,
            shortcut,
            shortcutAGradient: options.shortcutAGradient,
            init,
            seed,
            name: `${name}.${i}`,
          }),
        );
        inPlanes = planes;
      }
      return this.child(name, layer);
    };
    this.layer1 = makeLayer('layer1', width, blocks[0], 1);
    this.layer2 = makeLayer('layer2', 2 * width, blocks[1], 2);
    this.layer3 = makeLayer('layer3', 4 * width, blocks[2], layout.layer3.stride, layout.layer3.dilation);
    this.layer4 = makeLayer('layer4', 8 * width, blocks[3], layout.layer4.stride, layout.layer4.dilation);
    const attentionDropout = options.attentionDropout ?? 0.2;
    this.selfAttention =
      options.selfAttention ?? true
        ? this.child(
            'self_attention',
            new SelfAttention3d(8 * width, { init: init === 'zeros' ? 'zeros' : 'torch', seed, name: 'self_attention', dropout: attentionDropout, gamma: options.attentionGamma, scale: options.attentionScale, residual: options.attentionResidual, registers: options.attentionRegisters }),
          )
        : null;
    // Dropouts hold no parameters (nothing in the state dict), but they are
    // in the module tree so a run's checkpoint can save their mask counters.
    const rate = options.dropout ?? 0.25;
    this.dropouts = [0, 1, 2, 3].map((i) => this.child(`dropout${i}`, new Dropout(rate, hashSeed(seed, `dropout${i}`))));
    for (const bn of batchNormsOf(this)) bn.frozenMode = frozenBatchNorm;
    this.setTrainableFrom(options.trainableFrom ?? 'layer3');
  }

  get trainableFrom(): EncoderStage {
    return this._trainableFrom;
  }

  /**
   * Freezes every stage before `stage` (parameters; BN statistics too when
   * frozenBatchNorm is 'eval'); self-attention stays trainable.
   */
  setTrainableFrom(stage: EncoderStage): void {
    const first = ENCODER_STAGES.indexOf(stage);
    if (first < 0) throw new Error(`ResNet3d: trainableFrom must be one of ${ENCODER_STAGES.join(', ')}, got ${String(stage)}`);
    const stages: Module[][] = [[this.conv1, this.bn1], [this.layer1], [this.layer2], [this.layer3], [this.layer4]];
    stages.forEach((mods, i) => mods.forEach((m) => m.setFrozen(i < first)));
    this.selfAttention?.setFrozen(false);
    this._trainableFrom = stage;
  }

  /** Channels of the local (layer3) and global (layer4) features. */
  get featureChannels(): { local: number; global: number } {
    return { local: 4 * this.width, global: 8 * this.width };
  }

  apply(x: tf.Tensor, options: TrainingFlag = {}): ImageEncoderOutput {
    checkNDHWC(x, 1, 'ResNet3d input');
    if (x.dtype !== 'float32') throw new Error(`ResNet3d input: expected float32, got ${x.dtype}`);
    const [stem, drop1, drop2, drop3] = this.dropouts;
    // conv1 (+ maxpool), layer1, layer2: each with the dropout after it
    const stages: Array<(h: tf.Tensor5D) => tf.Tensor5D> = [
      (h) => drop(stem, maxPool3d(this.bn1.applyRelu(this.conv1.apply(h), options) as tf.Tensor5D, { kernel: 3, stride: 2, padding: 1 }), options),
      (h) => drop(drop1, this.layer1.apply(h, options), options),
      (h) => drop(drop2, this.layer2.apply(h, options), options),
    ];
    // In training, the frozen stages (before trainableFrom) run untaped, each
    // in its own tidy: their parameters take no gradient and the image none,
    // so nothing differentiates them, and each one's activations are freed
    // as soon as the next stage has its input, not kept until the backward
    // pass ends (as PyTorch builds no graph there). The same ops run, so the
    // values are unchanged.
    const frozen = options.training ? Math.min(ENCODER_STAGES.indexOf(this._trainableFrom), stages.length) : 0;
    const [layer3, layer4, attention] = tf.tidy(() => {
      let h = x as tf.Tensor5D;
      if (frozen > 0) {
        h = untaped(() =>
          stages.slice(0, frozen).reduce((a, stage) => {
            const out = tf.tidy(() => stage(a));
            if (a !== x) a.dispose();
            return out;
          }, h),
        );
      }
      for (const stage of stages.slice(frozen)) h = stage(h);
      const l3 = drop(drop3, this.layer3.apply(h, options), options);
      const l4 = this.layer4.apply(l3, options);
      if (!this.selfAttention) return [l3, l4];
      const { out, attention: a } = this.selfAttention.apply(l4, options);
      return [l3, out, a];
    }) as [tf.Tensor5D, tf.Tensor5D, tf.Tensor3D?];
    // follows: METHOD.md §2 (global image representation = average-pooled self-attention output)
    const global = tf.tidy(() => layer4.mean([1, 2, 3]) as tf.Tensor2D);
    return { layer3, layer4, attention: attention ?? null, global };
  }
}

function drop(d: Dropout, x: tf.Tensor5D, options: TrainingFlag): tf.Tensor5D {
  return d.apply(x, options) as tf.Tensor5D;
}

function batchNormsOf(m: Module): BatchNorm3d[] {
  const out: BatchNorm3d[] = m instanceof BatchNorm3d ? [m] : [];
  for (const [, c] of m.children()) out.push(...batchNormsOf(c));
  return out;
}


export function resnet3d(depth: ResNetDepth, options: ResNet3dOptions = {}): ResNet3dEncoder {
  return new ResNet3dEncoder(depth, options);
}

export const resnet3d10 = (options: ResNet3dOptions = {}): ResNet3dEncoder => new ResNet3dEncoder(10, options);
export const resnet3d18 = (options: ResNet3dOptions = {}): ResNet3dEncoder => new ResNet3dEncoder(18, options);
export const resnet3d34 = (options: ResNet3dOptions = {}): ResNet3dEncoder => new ResNet3dEncoder(34, options);

/** The encoder an experiment's `image` section describes. */
export function resnet3dFromConfig(image: ImageConfig, seed = 0, init: ResNet3dOptions['init'] = 'kaiming'): ResNet3dEncoder {
  return new ResNet3dEncoder(image.depth, {
    shortcut: image.shortcut,
    selfAttention: image.selfAttention,
    width: image.width,
    dropout: image.dropout,
    trainableFrom: image.trainableFrom,
    outputStride: image.outputStride,
    dilate: image.dilate,
    attentionDropout: image.attentionDropout,
    attentionGamma: image.attentionGamma,
    attentionScale: image.attentionScale,
    attentionResidual: image.attentionResidual,
    attentionRegisters: image.attentionRegisters,
    frozenBatchNorm: image.frozenBatchNorm,
    seed,
    init,
  });
}

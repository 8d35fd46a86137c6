// The ResNet BasicBlock of MedicalNet (expansion 1):
// conv3×3×3(stride, dilation) → BN → ReLU → conv3×3×3(dilation) → BN, plus
// the shortcut, → ReLU. Both 3×3×3 convs pad by their dilation, so a
// stride-1 block keeps its grid (MedicalNet's dilated layer3/4).
// Names as PyTorch: conv1, bn1, conv2, bn2, downsample.0 (conv), downsample.1 (BN).
import { tf } from '../../backend';
import { Module } from '../module';
import { BatchNorm3d, type TrainingFlag } from './batchnorm3d';
import { Conv3d, type ConvInit } from './conv3d';
import { shortcutA } from './shortcut-a';

export type ShortcutType = 'A' | 'B';

export interface BasicBlockOptions {
  stride?: number;
  /** dilation of both 3×3×3 convs (padding = dilation), as MedicalNet's conv3x3x3 (default 1) */
  dilation?: number;
  /** used only when the block changes shape (stride ≠ 1 or channels change) */
  shortcut?: ShortcutType;
  /** let gradients through shortcut A (PyTorch detaches it) */
  shortcutAGradient?: boolean;
  init?: ConvInit;
  seed?: number;
  name?: string;
}

/** shortcut B: nn.Sequential(conv1x1x1(stride), BatchNorm3d) with PyTorch names "0" and "1" */
export class DownsampleB extends Module {
  readonly conv: Conv3d;
  readonly bn: BatchNorm3d;

  constructor(inPlanes: number, planes: number, stride: number, init: ConvInit, seed: number | undefined, name: string) {
    super();
    this.conv = this.child('0', new Conv3d(inPlanes, planes, 1, { stride, init, seed, name: `${name}.0` }));
    this.bn = this.child('1', new BatchNorm3d(planes));
  }

  apply(x: tf.Tensor5D, options: TrainingFlag): tf.Tensor {
    return this.bn.apply(this.conv.apply(x), options);
  }
}

export class BasicBlock3d extends Module {
  readonly conv1: Conv3d;
  readonly bn1: BatchNorm3d;
  readonly conv2: Conv3d;
  readonly bn2: BatchNorm3d;
  readonly downsample: DownsampleB | null;
  readonly stride: number;
  readonly dilation: number;
  readonly shortcut: ShortcutType;
  private readonly shortcutAGradient: boolean;

  constructor(
    readonly inPlanes: number,
    readonly planes: number,
    options: BasicBlockOptions = {},
  ) {
    super();
    this.stride = options.stride ?? 1;
    this.dilation = options.dilation ?? 1;
    this.shortcut = options.shortcut ?? 'B';
    this.shortcutAGradient = options.shortcutAGradient ?? false;
    const name = options.name ?? 'block';
    const { init, seed } = options;
    const dilation = this.dilation;
    this.conv1 = this.child('conv1', new Conv3d(inPlanes, planes, 3, { stride: this.stride, padding: dilation, dilation, init, seed, name: `${name}.conv1` }));
    this.bn1 = this.child('bn1', new BatchNorm3d(planes));
    this.conv2 = this.child('conv2', new Conv3d(planes, planes, 3, { padding: dilation, dilation, init, seed, name: `${name}.conv2` }));
    this.bn2 = this.child('bn2', new BatchNorm3d(planes));
    const reshapes = this.stride !== 1 || inPlanes !== planes;
    this.downsample =
      reshapes && this.shortcut === 'B'
        ? this.child('downsample', new DownsampleB(inPlanes, planes, this.stride, init ?? 'kaiming', seed, `${name}.downsample`))
        : null;
  }

  apply(x: tf.Tensor5D, options: TrainingFlag = {}): tf.Tensor5D {
    return tf.tidy(() => {
      let out = this.bn1.applyRelu(this.conv1.apply(x), options) as tf.Tensor5D;
      const reshapes = this.stride !== 1 || this.inPlanes !== this.planes;
      const residual = !reshapes
        ? x
        : this.downsample
          ? this.downsample.apply(x, options)
          : shortcutA(x, this.planes, this.stride, { gradient: this.shortcutAGradient });
      // relu(bn2(conv2(out)) + residual), the addition and ReLU fused into the batch norm where it can be
      return this.bn2.applyAddRelu(this.conv2.apply(out), residual, options) as tf.Tensor5D;
    });
  }
}

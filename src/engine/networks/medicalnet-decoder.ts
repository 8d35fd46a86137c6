// MedicalNet's segmentation head `conv_seg` (Chen et al. 2019, Med3D,
// models/resnet.py), under its PyTorch names:
//   0 ConvTranspose3d(8w → 32, kernel 2, stride 2)   2× up-sampling, with bias
//   1 BatchNorm3d(32), ReLU
//   3 Conv3d(32 → 32, 3³, padding 1, no bias)
//   4 BatchNorm3d(32), ReLU
//   6 Conv3d(32 → classes, 1³, no bias)
// on layer4's output, so the logits lie on a grid twice layer4's (a quarter
// of the input at output stride 8, MedicalNet's own). Convolutions start as
// MedicalNet's (kaiming normal, fan_out); the transposed one as PyTorch's
// default. Used only to train the MedicalNet stand-in; released MedicalNet
// checkpoints carry these tensors and the encoder loader ignores them.
import { tf } from '../backend';
import { Module } from './module';
import { BatchNorm3d, type TrainingFlag } from './layers/batchnorm3d';
import { Conv3d } from './layers/conv3d';
import { ConvTranspose3d2x } from './layers/conv-transpose3d';

export interface SegHeadOptions {
  /** hidden channels (MedicalNet: 32) */
  hidden?: number;
  seed?: number;
}

export class MedicalNetSegHead extends Module {
  readonly up: ConvTranspose3d2x;
  readonly bnUp: BatchNorm3d;
  readonly conv: Conv3d;
  readonly bnConv: BatchNorm3d;
  readonly classifier: Conv3d;

  constructor(
    readonly inChannels: number,
    readonly classes: number,
    options: SegHeadOptions = {},
  ) {
    super();
    const hidden = options.hidden ?? 32;
    if (!Number.isInteger(classes) || classes < 2) throw new Error(`MedicalNetSegHead: classes must be an integer ≥ 2, got ${classes}`);
    const seed = options.seed ?? 0;
    this.up = this.child('0', new ConvTranspose3d2x(inChannels, hidden, { seed, name: 'conv_seg.0' }));
    this.bnUp = this.child('1', new BatchNorm3d(hidden));
    this.conv = this.child('3', new Conv3d(hidden, hidden, 3, { padding: 1, seed, name: 'conv_seg.3' }));
    this.bnConv = this.child('4', new BatchNorm3d(hidden));
    this.classifier = this.child('6', new Conv3d(hidden, classes, 1, { seed, name: 'conv_seg.6' }));
  }

  /** Logits [N, 2D, 2H, 2W, classes] from layer4's output [N, D, H, W, inChannels]. */
  apply(x: tf.Tensor5D, options: TrainingFlag = {}): tf.Tensor5D {
    return tf.tidy(() => {
      let h = this.bnUp.applyRelu(this.up.apply(x), options) as tf.Tensor5D;
      h = this.bnConv.applyRelu(this.conv.apply(h), options) as tf.Tensor5D;
      return this.classifier.apply(h);
    });
  }
}

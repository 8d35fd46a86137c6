// The downstream model: the same image encoder, global average pool of the
// self-attention output, then Linear(8w→hidden) → ReLU → dropout →
// Linear(hidden→1) (131,585 head parameters for w = 64, hidden 256).
// Names follow a PyTorch nn.Sequential head ("classifier.0", "classifier.3").
// follows: METHOD.md §6
import { tf } from '../backend';
import type { ExperimentConfig } from '../../shared/config';
import { Module } from '../networks/module';
import { resnet3dFromConfig, type ImageEncoderOutput, type ResNet3dEncoder } from '../networks/resnet3d';
import { Linear } from '../networks/torch-layers';
import { Dropout } from '../networks/layers/dropout';
import { hashSeed } from '../util/rng';

class ClassifierHead extends Module {
  readonly fc1: Linear;
  readonly drop: Dropout;
  readonly fc2: Linear;
  constructor(inDim: number, hidden: number, dropout: number, seed: number) {
    super();
    this.fc1 = this.child('0', new Linear(inDim, hidden, { seed: hashSeed(seed, 'fc1'), name: 'classifier.0' }));
    this.drop = this.child('2', new Dropout(dropout, hashSeed(seed, 'dropout')));
    this.fc2 = this.child('3', new Linear(hidden, 1, { seed: hashSeed(seed, 'fc2'), name: 'classifier.3' }));
  }
  apply(x: tf.Tensor2D, training: boolean): tf.Tensor1D {
    return tf.tidy(() => {
      const h = this.drop.apply(tf.relu(this.fc1.apply(x)), { training });
      return this.fc2.apply(h).reshape([-1]) as tf.Tensor1D;
    });
  }
}

export interface ClassifierOutput extends ImageEncoderOutput {
  /** [N] logits (V600E positive) */
  logits: tf.Tensor1D;
}

export class MarkerClassifier extends Module {
  readonly image: ResNet3dEncoder;
  readonly head: ClassifierHead;

  constructor(config: ExperimentConfig, seed: number) {
    super();
    this.image = this.child('image_encoder', resnet3dFromConfig(config.image, hashSeed(seed, 'image')));
    this.head = this.child(
      'classifier',
      new ClassifierHead(this.image.featureChannels.global, config.finetune.hidden, config.finetune.dropout, hashSeed(seed, 'head')),
    );
  }

  apply(images: tf.Tensor5D, training: boolean): ClassifierOutput {
    const enc = this.image.apply(images, { training });
    const logits = this.head.apply(enc.global, training);
    return { ...enc, logits };
  }
}

/** Mean binary cross-entropy on logits (numerically stable form). */
export function bceWithLogits(logits: tf.Tensor1D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    // max(x, 0) − x·y + log(1 + exp(−|x|))
    const x = logits;
    return tf.relu(x).sub(x.mul(labels)).add(tf.log1p(tf.exp(tf.neg(tf.abs(x))))).mean() as tf.Scalar;
  });
}

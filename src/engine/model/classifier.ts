// The downstream model: the same image encoder, global average pool of the
// self-attention output, then a classification head (finetune.head):
//   'paper': Dropout(p) → Linear(8w→hidden) → Linear(hidden→1), no
//            activation between the two (the authors' cnn.fc → cnn.fc1; the
//            paper's Table 7 counts 131,585 head parameters for w = 64,
//            hidden 256; Table 9's dropout 0.25, placed on the pooled
//            features). PyTorch names: nn.Sequential(Dropout, Linear, Linear)
//            → "classifier.1", "classifier.2".
//   'relu':  Linear(8w→hidden) → ReLU → Dropout(p) → Linear(hidden→1), the
//            same parameter count. PyTorch names: nn.Sequential(Linear, ReLU,
//            Dropout, Linear) → "classifier.0", "classifier.3".
// follows: METHOD.md §6
import { tf } from '../backend';
import type { ExperimentConfig } from '../../shared/config';
import { Module } from '../networks/module';
import { resnet3dFromConfig, type ImageEncoderOutput, type ResNet3dEncoder } from '../networks/resnet3d';
import { Linear } from '../networks/torch-layers';
import { Dropout } from '../networks/layers/dropout';
import { hashSeed } from '../util/rng';

export type HeadKind = ExperimentConfig['finetune']['head'];

export class ClassifierHead extends Module {
  readonly fc1: Linear;
  readonly drop: Dropout;
  readonly fc2: Linear;
  constructor(
    readonly kind: HeadKind,
    inDim: number,
    hidden: number,
    dropout: number,
    seed: number,
  ) {
    super();
    if (kind !== 'paper' && kind !== 'relu') throw new Error(`classifier head: unknown kind ${JSON.stringify(kind)} (expected "paper" or "relu")`);
    // children in nn.Sequential order, so parameter names and the dropout's
    // place among the model's dropouts follow the PyTorch module
    if (kind === 'paper') {
      this.drop = this.child('0', new Dropout(dropout, hashSeed(seed, 'dropout')));
      this.fc1 = this.child('1', new Linear(inDim, hidden, { seed: hashSeed(seed, 'fc1'), name: 'classifier.1' }));
      this.fc2 = this.child('2', new Linear(hidden, 1, { seed: hashSeed(seed, 'fc2'), name: 'classifier.2' }));
    } else {
      this.fc1 = this.child('0', new Linear(inDim, hidden, { seed: hashSeed(seed, 'fc1'), name: 'classifier.0' }));
      this.drop = this.child('2', new Dropout(dropout, hashSeed(seed, 'dropout')));
      this.fc2 = this.child('3', new Linear(hidden, 1, { seed: hashSeed(seed, 'fc2'), name: 'classifier.3' }));
    }
  }
  apply(x: tf.Tensor2D, training: boolean): tf.Tensor1D {
    return tf.tidy(() => {
      const h =
        this.kind === 'paper'
          ? this.fc1.apply(this.drop.apply(x, { training }))
          : this.drop.apply(tf.relu(this.fc1.apply(x)), { training });
      return this.fc2.apply(h).reshape([-1]) as tf.Tensor1D;
    });
  }
}

/**
 * Makes a 'paper' head (two linear layers, no activation between them)
 * compute the linear function logit(x) = v·x + c exactly, in training mode's
 * expectation too (its dropout is inverted). fc2 keeps its weights and fc1
 * gets the smallest change that does it, a rank-one update along fc2's
 * weights: W1 ← W1 + W2ᵀ(v − W2·W1)/‖W2‖², and fc2's bias c − W2·b1. Returns
 * the largest |W2·W1 − v| after the update (rounding only).
 */
export function writeLinearIntoHead(head: ClassifierHead, v: readonly number[], c: number): number {
  if (head.kind !== 'paper') throw new Error(`classifier head '${head.kind}': only a 'paper' head (no activation) can hold a linear function`);
  const [hidden, inDim] = head.fc1.weight.shape as [number, number];
  if (v.length !== inDim) throw new Error(`classifier head: ${v.length} weights for ${inDim} features`);
  if (!v.every(Number.isFinite) || !Number.isFinite(c)) throw new Error('classifier head: non-finite weights');
  const W1 = Float64Array.from(head.fc1.weight.dataSync());
  const b1 = Float64Array.from(head.fc1.bias!.dataSync());
  const W2 = Float64Array.from(head.fc2.weight.dataSync());
  let norm = 0;
  for (let h = 0; h < hidden; h++) norm += W2[h]! * W2[h]!;
  if (!(norm > 0)) throw new Error('classifier head: fc2 has zero weights');
  // W2·W for an fc1 weight matrix W (hidden × inDim, row-major)
  const through = (W: ArrayLike<number>): number[] =>
    Array.from({ length: inDim }, (_, j) => {
      let s = 0;
      for (let h = 0; h < hidden; h++) s += W2[h]! * W[h * inDim + j]!;
      return s;
    });
  const now = through(W1);
  const r = v.map((vj, j) => vj - now[j]!);
  for (let h = 0; h < hidden; h++) for (let j = 0; j < inDim; j++) W1[h * inDim + j]! += (W2[h]! * r[j]!) / norm;
  let shift = 0;
  for (let h = 0; h < hidden; h++) shift += W2[h]! * b1[h]!;
  const w1 = tf.tensor2d(Float32Array.from(W1), [hidden, inDim]);
  const b2 = tf.tensor1d([c - shift]);
  head.fc1.weight.assign(w1);
  head.fc2.bias!.assign(b2);
  tf.dispose([w1, b2]);
  return Math.max(...through(head.fc1.weight.dataSync()).map((u, j) => Math.abs(u - v[j]!)));
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
      new ClassifierHead(config.finetune.head, this.image.featureChannels.global, config.finetune.hidden, config.finetune.dropout, hashSeed(seed, 'head')),
    );
  }

  apply(images: tf.Tensor5D, training: boolean): ClassifierOutput {
    const enc = this.image.apply(images, { training });
    const logits = this.head.apply(enc.global, training);
    return { ...enc, logits };
  }
}

/**
 * Mean binary cross-entropy on logits (numerically stable form), with
 * torch.nn.BCEWithLogitsLoss(pos_weight=w) semantics: each positive's term
 * is weighted by w,
 *   ℓ = −[w·y·log σ(x) + (1 − y)·log(1 − σ(x))]
 *     = (1 − y)·x + (1 + (w − 1)·y)·softplus(−x).
 * follows: METHOD.md §6 (class weighting)
 */
export function bceWithLogits(logits: tf.Tensor1D, labels: tf.Tensor1D, posWeight = 1): tf.Scalar {
  if (!(Number.isFinite(posWeight) && posWeight > 0)) throw new Error(`bceWithLogits: posWeight must be a finite number > 0, got ${posWeight}`);
  return tf.tidy(() => {
    const x = logits;
    const y = labels;
    if (posWeight === 1) {
      // max(x, 0) − x·y + log(1 + exp(−|x|))
      return tf.relu(x).sub(x.mul(y)).add(tf.log1p(tf.exp(tf.neg(tf.abs(x))))).mean() as tf.Scalar;
    }
    // softplus(−x) = −log σ(x), whose gradient −σ(−x) is exact at x = 0 too
    const weight = y.mul(posWeight - 1).add(1);
    return tf.sub(1, y).mul(x).add(weight.mul(tf.softplus(tf.neg(x)))).mean() as tf.Scalar;
  });
}

/**
 * The pos_weight of finetune.positiveWeight for the labels trained on: the
 * number itself, or n_neg / n_pos for 'balanced' (1 when a class is absent,
 * where the ratio is undefined).
 */
export function positiveWeightFor(setting: ExperimentConfig['finetune']['positiveWeight'], labels: readonly number[]): number {
  if (setting !== 'balanced') return setting;
  const pos = labels.filter((l) => l === 1).length;
  const neg = labels.length - pos;
  return pos === 0 || neg === 0 ? 1 : neg / pos;
}

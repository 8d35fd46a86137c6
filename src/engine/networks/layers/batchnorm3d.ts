// torch.nn.BatchNorm3d over channels-last tensors, with plain ops so that
// gradients work on 5D input (tf.batchNorm's gradient throws there).
//
// Training: normalise with the batch mean and the biased batch variance;
// update running_mean/running_var with momentum 0.1 using the UNBIASED
// variance; num_batches_tracked += 1. Eval: running statistics.
// A frozen BatchNorm (weight and bias not trained) has two behaviours in
// training (`frozenMode`, config image.frozenBatchNorm; follows: METHOD.md §2):
//   'train': as PyTorch with requires_grad = False only (the authors' code):
//            batch statistics, running statistics updated;
//   'eval':  as a module put in eval mode: running statistics, never updated
//            (frozen layers keep their MedicalNet statistics).
// Evaluation (training false) always uses the running statistics.
import { tf } from '../../backend';
import { Module } from '../module';
import { scaleShift } from '../../native/scale-shift';
import { TORCH_BN_EPS } from '../../../shared/config';
import { batchNormTrain, nativeBatchNormTrain, nativeBatchNormTrainResidual } from '../../native/batch-norm-train';

export interface BatchNormOptions {
  eps?: number;
  momentum?: number;
}

export interface TrainingFlag {
  training?: boolean;
}

/** How a frozen BatchNorm behaves in training (see the header). */
export type FrozenBatchNormMode = 'train' | 'eval';

export class BatchNorm3d extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  readonly runningMean: tf.Variable;
  readonly runningVar: tf.Variable;
  readonly numBatchesTracked: tf.Variable;
  readonly eps: number;
  /**
   * Weight of a batch's statistics in the running ones; null: their
   * cumulative average (running = mean of every batch's statistics since the
   * last reset), as torch's momentum=None (used by recalibrateBatchNorm).
   */
  momentum: number | null;
  /** what this layer does in training while frozen (default 'train', as the authors' PyTorch code) */
  frozenMode: FrozenBatchNormMode = 'train';

  constructor(
    readonly channels: number,
    options: BatchNormOptions = {},
  ) {
    super();
    if (!Number.isInteger(channels) || channels < 1) throw new Error(`BatchNorm3d: channels must be a positive integer, got ${channels}`);
    this.eps = options.eps ?? TORCH_BN_EPS;
    this.momentum = options.momentum ?? 0.1;
    this.weight = this.param('weight', tf.ones([channels]));
    this.bias = this.param('bias', tf.zeros([channels]));
    this.runningMean = this.buffer('running_mean', tf.zeros([channels]));
    this.runningVar = this.buffer('running_var', tf.ones([channels]));
    // int64 in PyTorch; int32 here (2³¹ batches is plenty)
    this.numBatchesTracked = this.buffer('num_batches_tracked', tf.scalar(0, 'int32'));
  }

  /** Whether a call with `training` uses (and updates) batch statistics. */
  usesBatchStats(options: TrainingFlag): boolean {
    return (options.training ?? false) && (!this.frozen || this.frozenMode === 'train');
  }

  /** relu(bn(x)); a single kernel with the native kernels. */
  applyRelu(x: tf.Tensor, options: TrainingFlag = {}): tf.Tensor {
    return this.apply(x, options, true);
  }

  /**
   * relu(bn(x) + residual): a residual block's end. With the batch's
   * statistics and the native kernels one kernel (and one for its gradient);
   * otherwise the ops one by one, with the same values.
   */
  applyAddRelu(x: tf.Tensor, residual: tf.Tensor, options: TrainingFlag = {}): tf.Tensor {
    if (this.usesBatchStats(options) && nativeBatchNormTrainResidual(x, this.weight, this.bias, residual)) return this.apply(x, options, true, residual);
    return tf.tidy(() => tf.relu(this.apply(x, options).add(residual)));
  }

  apply(x: tf.Tensor, options: TrainingFlag = {}, relu = false, residual?: tf.Tensor): tf.Tensor {
    if (x.rank < 2 || x.shape[x.rank - 1] !== this.channels) {
      throw new Error(`BatchNorm3d: expected ${this.channels} channels on the last axis, got shape [${x.shape.join(',')}]`);
    }
    const axes = [...Array(x.rank - 1).keys()];
    const count = x.size / this.channels;
    if (!this.usesBatchStats(options)) {
      return tf.tidy(() => {
        // y = (x − μ_run)/√(σ²_run + ε)·γ + β, folded into one scale and shift
        const scale = tf.rsqrt(this.runningVar.add(this.eps)).mul(this.weight);
        const shift = this.bias.sub(this.runningMean.mul(scale));
        // one pass (native kernel) where available, else x·scale + shift
        return scaleShift(x, scale, shift, relu);
      });
    }
    if (count < 2) {
      throw new Error(`BatchNorm3d: expected more than 1 value per channel when training, got input shape [${x.shape.join(',')}]`);
    }
    return tf.tidy(() => {
      let y: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor;
      if (nativeBatchNormTrain(x, this.weight, this.bias)) {
        // the steps below in one kernel (and its gradient in one more)
        [y, mean, variance] = batchNormTrain(x, this.weight, this.bias, this.eps, relu, residual);
      } else {
        if (residual) throw new Error('BatchNorm3d: a residual is added in the native kernel only (applyAddRelu)');
        mean = x.mean(axes);
        const centred = x.sub(mean);
        variance = centred.square().mean(axes);
        y = centred.mul(tf.rsqrt(variance.add(this.eps)).mul(this.weight)).add(this.bias);
        if (relu) y = tf.relu(y);
      }
      const m = this.momentum ?? 1 / (this.numBatchesTracked.dataSync()[0]! + 1);
      this.runningMean.assign(this.runningMean.mul(1 - m).add(mean.mul(m)));
      this.runningVar.assign(this.runningVar.mul(1 - m).add(variance.mul((m * count) / (count - 1))));
      this.numBatchesTracked.assign(this.numBatchesTracked.add(tf.scalar(1, 'int32')));
      return y;
    });
  }
}

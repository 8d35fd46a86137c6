// Batch-norm statistics recomputed for the final weights (pretrain /
// finetune `recalibrateNorm`), as torch.optim.swa_utils.update_bn: every
// BatchNorm that uses batch statistics in training has its running
// statistics reset and replaced by the cumulative average of the batch
// statistics over the training cases, one forward pass in training mode per
// batch, no gradient, no optimizer step. Unlike update_bn, dropout is off
// during the pass: the running variance then describes the activations
// evaluation sees (dropout in front of a BatchNorm inflates the training
// variance and shifts ReLU means: the "variance shift" of Li et al., CVPR
// 2019), and the running statistics describe the final weights instead of an
// exponential average over the last steps' moving weights.
// follows: docs/METHOD.md §6 (recalibrateNorm)
import { tf } from '../backend';
import { BatchNorm3d } from '../networks/layers/batchnorm3d';
import { Dropout } from '../networks/layers/dropout';
import type { Module } from '../networks/module';

function collect(m: Module, bns: BatchNorm3d[], drops: Dropout[]): void {
  if (m instanceof BatchNorm3d) bns.push(m);
  if (m instanceof Dropout) drops.push(m);
  for (const [, c] of m.children()) collect(c, bns, drops);
}

/**
 * Items split into batches of `batchSize` in order; a last batch smaller
 * than `minBatch` joins the one before (a batch norm needs ≥ 2 values per
 * channel).
 */
export function recalibrationBatches<T>(items: readonly T[], batchSize: number, minBatch = 2): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += batchSize) out.push(items.slice(i, i + batchSize));
  if (out.length > 1 && out[out.length - 1]!.length < minBatch) out[out.length - 2]!.push(...out.pop()!);
  return out;
}

/**
 * Recomputes the running statistics of `model`'s batch norms that use batch
 * statistics in training (a frozen one in 'eval' mode keeps its own).
 * `forward(batch)` runs the model in training mode on one batch (its
 * tensors are disposed here). Returns how many batch norms were updated.
 */
export function recalibrateBatchNorm<T>(model: Module, batches: readonly T[], forward: (batch: T) => unknown): number {
  const bns: BatchNorm3d[] = [];
  const drops: Dropout[] = [];
  collect(model, bns, drops);
  const live = bns.filter((b) => b.usesBatchStats({ training: true }));
  if (live.length === 0 || batches.length === 0) return 0;
  const momenta = live.map((b) => b.momentum);
  const suspended = drops.map((d) => d.suspended);
  try {
    for (const b of live) {
      tf.tidy(() => {
        b.runningMean.assign(tf.zerosLike(b.runningMean));
        b.runningVar.assign(tf.onesLike(b.runningVar));
        b.numBatchesTracked.assign(tf.scalar(0, 'int32'));
      });
      b.momentum = null;
    }
    for (const d of drops) d.suspended = true;
    for (const batch of batches) tf.tidy(() => void forward(batch));
  } finally {
    live.forEach((b, i) => (b.momentum = momenta[i]!));
    drops.forEach((d, i) => (d.suspended = suspended[i]!));
  }
  return live.length;
}

// Learning-rate schedule per epoch (0-based), as used by pretraining
// (StepLR(20, 0.8)) and fine-tuning (×0.5 every 10 epochs after a 10-epoch
// warm-up):
//
//   lr(e) = lr                                            e < W
//   lr(e) = lr · γ^floor((e − W) / stepSize)              e ≥ W
//
// W = warmupEpochs. So the first decay happens at epoch W + stepSize. With
// W = 0 this is torch.optim.lr_scheduler.StepLR: the lr in effect during
// epoch e after e calls of scheduler.step(). lr(e) is computed in closed
// form (torch multiplies by γ once per boundary; the two agree to rounding).
// follows: METHOD.md §6 (schedule column)

export interface StepLROptions {
  /** base learning rate */
  lr: number;
  /** epochs between decays (≥ 1) */
  stepSize: number;
  /** decay factor, in (0, 1] */
  gamma: number;
  /** epochs at the base rate before the steps start counting (default 0) */
  warmupEpochs?: number;
}

export function stepLR(epoch: number, options: StepLROptions): number {
  const { lr, stepSize, gamma } = options;
  const warmup = options.warmupEpochs ?? 0;
  if (!Number.isInteger(epoch) || epoch < 0) throw new Error(`stepLR: epoch must be an integer ≥ 0, got ${epoch}`);
  if (!Number.isFinite(lr) || lr < 0) throw new Error(`stepLR: lr must be a finite number ≥ 0, got ${lr}`);
  if (!Number.isInteger(stepSize) || stepSize < 1) throw new Error(`stepLR: stepSize must be an integer ≥ 1, got ${stepSize}`);
  if (!(gamma > 0 && gamma <= 1)) throw new Error(`stepLR: gamma must be in (0, 1], got ${gamma}`);
  if (!Number.isInteger(warmup) || warmup < 0) throw new Error(`stepLR: warmupEpochs must be an integer ≥ 0, got ${warmup}`);
  if (epoch < warmup) return lr;
  return lr * gamma ** Math.floor((epoch - warmup) / stepSize);
}

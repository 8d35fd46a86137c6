// Learning-rate schedule per epoch (0-based), as used by pretraining
// (StepLR(20, 0.8)) and fine-tuning (×0.5 every 10 epochs, the first 10 at
// the base rate). W = warmupEpochs, s = stepSize, and the steps are counted
// either from epoch 0 ('start', the default) or from the warm-up's end
// ('warmupEnd'):
//
//   lr(e) = lr                                            e < W
//   lr(e) = lr · γ^floor(e / s)                           e ≥ W, 'start'
//   lr(e) = lr · γ^floor((e − W) / s)                     e ≥ W, 'warmupEnd'
//
// 'start' with W ≤ s, and either with W = 0, is
// torch.optim.lr_scheduler.StepLR(s, γ): the lr in effect during epoch e
// after e calls of scheduler.step(). So the fine-tuning default (W = 10,
// s = 10, 'start') is the authors' StepLR(10, 0.5): 1e-4 for epochs 0–9,
// 5e-5 for 10–19. 'warmupEnd' is torch's SequentialLR(ConstantLR(1, W),
// StepLR(s, γ), milestones=[W]): first decay at epoch W + s. lr(e) is
// computed in closed form (torch multiplies by γ once per boundary; the two
// agree to rounding).
// follows: METHOD.md §6 (schedule column)

export type StepsFrom = 'start' | 'warmupEnd';

export interface StepLROptions {
  /** base learning rate */
  lr: number;
  /** epochs between decays (≥ 1) */
  stepSize: number;
  /** decay factor, in (0, 1] */
  gamma: number;
  /** epochs held at the base rate (default 0) */
  warmupEpochs?: number;
  /** where the decay periods are counted from (default 'start') */
  stepsFrom?: StepsFrom;
}

export function stepLR(epoch: number, options: StepLROptions): number {
  const { lr, stepSize, gamma } = options;
  const warmup = options.warmupEpochs ?? 0;
  const from = options.stepsFrom ?? 'start';
  if (!Number.isInteger(epoch) || epoch < 0) throw new Error(`stepLR: epoch must be an integer ≥ 0, got ${epoch}`);
  if (!Number.isFinite(lr) || lr < 0) throw new Error(`stepLR: lr must be a finite number ≥ 0, got ${lr}`);
  if (!Number.isInteger(stepSize) || stepSize < 1) throw new Error(`stepLR: stepSize must be an integer ≥ 1, got ${stepSize}`);
  if (!(gamma > 0 && gamma <= 1)) throw new Error(`stepLR: gamma must be in (0, 1], got ${gamma}`);
  if (!Number.isInteger(warmup) || warmup < 0) throw new Error(`stepLR: warmupEpochs must be an integer ≥ 0, got ${warmup}`);
  if (from !== 'start' && from !== 'warmupEnd') throw new Error(`stepLR: stepsFrom must be 'start' or 'warmupEnd', got ${String(from)}`);
  if (epoch < warmup) return lr;
  return lr * gamma ** Math.floor((from === 'start' ? epoch : epoch - warmup) / stepSize);
}

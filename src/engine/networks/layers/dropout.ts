// torch.nn.Dropout: in training, zero each element with probability `rate`
// and scale the rest by 1/(1 − rate); identity in eval. Seeded: call k of a
// Dropout built with seed s uses a mask derived from (s, k), so a run
// repeats exactly while every call still draws a fresh mask. On the cpu
// backend the mask is native/dropout.ts's counter-based one (the same with
// and without the native kernels); elsewhere tf.dropout's.
import type { tf } from '../../backend';
import { dropout } from '../../native/dropout';
import { hashSeed } from '../../util/rng';
import { Module } from '../module';
import type { TrainingFlag } from './batchnorm3d';

export class Dropout extends Module {
  private calls = 0;
  /** identity while true, also in training (recalibrateBatchNorm sets it) */
  suspended = false;

  constructor(
    readonly rate: number,
    readonly seed = 0,
  ) {
    super();
    if (!(rate >= 0 && rate < 1)) throw new Error(`Dropout: rate must be in [0, 1), got ${rate}`);
  }

  /** How many masks have been drawn (saved with a run to resume it exactly). */
  get callCount(): number {
    return this.calls;
  }

  set callCount(n: number) {
    this.calls = n;
  }

  /** In eval (or with rate 0) this returns `x` itself, not a copy. */
  apply(x: tf.Tensor, options: TrainingFlag = {}): tf.Tensor {
    if (!options.training || this.rate === 0 || this.suspended) return x;
    const seed = hashSeed(this.seed, `dropout:${this.calls++}`) % 2147483647;
    return dropout(x, this.rate, seed);
  }
}

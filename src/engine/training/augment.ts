// Image augmentation of pretraining batches (pretrain.augment) (ours: the
// paper names data augmentation as its next step, "to increase the number
// of datapoints used in the CL architecture"). Per volume: a translation by
// a whole number of voxels on each axis (zeros shifted in), then an
// intensity change x·a + b. No flips: reports name the side of the lesion,
// and a mirrored image would contradict its report. Masks are never read.
// follows: docs/METHOD.md §6 (pretrain.augment)
import { tf } from '../backend';
import type { Rng } from '../util/rng';

export interface AugmentOptions {
  /** largest translation in voxels, per axis (0: none) */
  shift: number;
  /** a ~ U(1 − intensity, 1 + intensity), b ~ U(−intensity, intensity) (0: none) */
  intensity: number;
}

export interface VolumeAugmentation {
  /** voxels moved along each spatial axis (positive: towards higher indices) */
  shift: [number, number, number];
  scale: number;
  offset: number;
}

export function augmentationEnabled(o: AugmentOptions | undefined): o is AugmentOptions {
  return !!o && (o.shift > 0 || o.intensity > 0);
}

/** One volume's draw, in a fixed order (3 shifts, then scale and offset) so a run repeats. */
export function drawAugmentation(o: AugmentOptions, rng: Rng): VolumeAugmentation {
  const s = Math.floor(o.shift);
  const shift = [0, 1, 2].map(() => (s > 0 ? rng.int(2 * s + 1) - s : 0)) as [number, number, number];
  const scale = o.intensity > 0 ? rng.uniform(1 - o.intensity, 1 + o.intensity) : 1;
  const offset = o.intensity > 0 ? rng.uniform(-o.intensity, o.intensity) : 0;
  return { shift, scale, offset };
}

/** y[i] = x[i − shift] (zeros where i − shift falls outside), then y·scale + offset; x is [X, Y, Z, C]. */
export function applyAugmentation(x: tf.Tensor4D, a: VolumeAugmentation): tf.Tensor4D {
  return tf.tidy(() => {
    let y: tf.Tensor4D = x;
    a.shift.forEach((s, axis) => {
      if (s === 0) return;
      const n = y.shape[axis]!;
      if (Math.abs(s) >= n) {
        y = tf.zerosLike(y);
        return;
      }
      // s > 0: |s| zeros in front, the first n values kept; s < 0: |s| zeros
      // behind, the last n values kept
      const pad: [number, number][] = [[0, 0], [0, 0], [0, 0], [0, 0]];
      const begin = [0, 0, 0, 0];
      pad[axis] = s > 0 ? [s, 0] : [0, -s];
      begin[axis] = s > 0 ? 0 : -s;
      y = y.pad(pad).slice(begin, y.shape) as tf.Tensor4D;
    });
    return (a.scale === 1 && a.offset === 0 ? y.clone() : y.mul(a.scale).add(a.offset)) as tf.Tensor4D;
  });
}

/** A batch [N, X, Y, Z, C] with one draw per volume (in batch order). */
export function augmentBatch(x: tf.Tensor5D, o: AugmentOptions, rng: Rng): tf.Tensor5D {
  const draws = Array.from({ length: x.shape[0] }, () => drawAugmentation(o, rng));
  return tf.tidy(() => tf.stack(tf.unstack(x).map((v, i) => applyAugmentation(v as tf.Tensor4D, draws[i]!))) as tf.Tensor5D);
}

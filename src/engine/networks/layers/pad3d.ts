// PyTorch pads convolutions and pools symmetrically; TF's 'same' puts the
// odd extra cell at the end, which shifts strided outputs. So every conv and
// pool here pads explicitly and then runs 'valid'.
import { tf } from '../../backend';

/** Pads the three spatial axes of an NDHWC tensor by `p` on both sides. */
export function padSpatial3d(x: tf.Tensor5D, p: number, value = 0): tf.Tensor5D {
  if (p === 0) return x;
  return tf.pad(
    x,
    [
      [0, 0],
      [p, p],
      [p, p],
      [p, p],
      [0, 0],
    ],
    value,
  );
}

/** PyTorch's output length for one axis: floor((n + 2p − k) / s) + 1. */
export function convOutputSize(n: number, kernel: number, stride: number, padding: number): number {
  return Math.floor((n + 2 * padding - kernel) / stride) + 1;
}

/** Throws a clear error unless `x` is a rank-5 NDHWC tensor with `channels` channels. */
export function checkNDHWC(x: tf.Tensor, channels: number, what: string): asserts x is tf.Tensor5D {
  if (x.rank !== 5) throw new Error(`${what}: expected an NDHWC tensor of rank 5, got shape [${x.shape.join(',')}]`);
  if (x.shape[4] !== channels) {
    throw new Error(`${what}: expected ${channels} input channels (last axis), got shape [${x.shape.join(',')}]`);
  }
}

// Which layer3 patches lie inside the head, from the input volume alone
// (never a mask): a patch's cell of the input — the block of voxels its
// place on the grid stands for, s voxels a side, s the power of two that maps
// the input's n voxels onto the grid's ⌈n/s⌉ cells (8 at output stride 8, 16
// otherwise) — counts as inside when the block's mean intensity is at least
// `threshold` (inputs are min–max normalised to [0, 1]; the last cells' blocks
// are padded with zeros, background, to a whole s). Used by
// heads.crossAttentionForeground (cross-attention.ts).
// follows: METHOD.md §4 (foreground patches, ours)
import { tf } from '../backend';

/** The block side s that maps n voxels onto g cells (g = ⌈n/s⌉, s a power of two). */
export function blockSide(n: number, g: number): number {
  for (let s = 1; s <= 2 * n; s *= 2) if (Math.ceil(n / s) === g) return s;
  throw new Error(`foregroundPatches: no power-of-two block maps ${n} voxels onto ${g} cells`);
}

/** images [N, X, Y, Z, 1] → [N, gx·gy·gz]: each cell's block mean (the last blocks padded with zeros), patch order (x·gy + y)·gz + z. */
export function blockMeans(images: tf.Tensor, grid: readonly [number, number, number], what = 'foregroundPatches'): tf.Tensor2D {
  if (images.rank !== 5 || images.shape[4] !== 1) throw new Error(`${what}: expected images [N, X, Y, Z, 1], got [${images.shape.join(', ')}]`);
  const [N, X, Y, Z] = images.shape as [number, number, number, number, number];
  const [gx, gy, gz] = grid;
  const [sx, sy, sz] = [blockSide(X, gx), blockSide(Y, gy), blockSide(Z, gz)];
  return tf.tidy(() => {
    const padded = tf.pad(images.reshape([N, X, Y, Z]), [
      [0, 0],
      [0, gx * sx - X],
      [0, gy * sy - Y],
      [0, gz * sz - Z],
    ]);
    return padded.reshape([N, gx, sx, gy, sy, gz, sz]).mean([2, 4, 6]).reshape([N, gx * gy * gz]) as tf.Tensor2D;
  });
}

/** images [N, X, Y, Z, 1] → [N, X3·Y3·Z3] with 1 for patches inside the head, patch order (x·Y3 + y)·Z3 + z. */
export function foregroundPatches(images: tf.Tensor, grid: readonly [number, number, number], threshold: number): tf.Tensor2D {
  if (!(threshold >= 0 && threshold <= 1)) throw new Error(`foregroundPatches: threshold must be in [0, 1], got ${threshold}`);
  return tf.tidy(() => blockMeans(images, grid).greaterEqual(threshold).cast('float32') as tf.Tensor2D);
}

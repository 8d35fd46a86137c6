// Cosine distance d(x, y) = 1 − cos(x, y) on rows of 2-D tensors, shared
// by the triplet losses, InfoNCE and negative sampling.
// follows: METHOD.md §5 (d(x, y) = 1 − cos(x, y))
import { tf } from '../backend';

/** Norms below this are treated as this (as torch.nn.functional.normalize). */
export const COSINE_EPS = 1e-8;

/**
 * Rows scaled to unit length: x / max(‖x‖, eps). A zero row stays zero, so
 * its cosine with anything is 0 and its distance 1. The norm is taken as
 * sqrt(max(Σx², eps²)) so the gradient at a zero row is 0, not NaN.
 */
export function l2NormalizeRows(x: tf.Tensor2D, eps = COSINE_EPS): tf.Tensor2D {
  return tf.tidy(() => {
    const sq = tf.sum(tf.square(x), 1, true);
    return tf.div(x, tf.sqrt(tf.maximum(sq, tf.scalar(eps * eps))));
  });
}

/** cos(a_i, b_i) for each row i of two raw (not yet normalised) tensors of the same shape → [N]. */
export function rowCosine(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.sum(tf.mul(l2NormalizeRows(a), l2NormalizeRows(b)), 1));
}

/** d(a_i, b_i) for each row i of two unit-row tensors of the same shape → [N]. */
export function rowDistance(aUnit: tf.Tensor2D, bUnit: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.sub(tf.scalar(1), tf.sum(tf.mul(aUnit, bUnit), 1)));
}

/** d(a_i, b_j) for all pairs of raw (not yet normalised) rows → [Na, Nb] as numbers. */
export function distanceMatrix(a: tf.Tensor2D, b: tf.Tensor2D): number[][] {
  const m = tf.tidy(() => tf.sub(tf.scalar(1), tf.matMul(l2NormalizeRows(a), l2NormalizeRows(b), false, true)));
  try {
    return m.arraySync() as number[][];
  } finally {
    m.dispose();
  }
}

/** Each case's embeddings (any rank ≥ 2, batch first) as one row: [N, …] → [N, prod(…)]. */
export function flattenCases(x: tf.Tensor, where: string, name: string): tf.Tensor2D {
  if (x.rank < 2) throw new Error(`${where}: ${name} must have a batch axis and at least one feature axis, got shape [${x.shape.join(', ')}]`);
  if (x.dtype !== 'float32') throw new Error(`${where}: ${name} must be float32, got ${x.dtype}`);
  const n = x.shape[0];
  return tf.reshape(x, [n, x.size / Math.max(n, 1)]) as tf.Tensor2D;
}

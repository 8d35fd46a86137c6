// Negative sampling for the triplet losses: for anchor i, draw k distinct
// other indices of the batch uniformly and keep the one whose
// representation is closest to the anchor. The choice is an index
// selection made on values, outside the gradient.
// follows: METHOD.md §5 (negative sampling)
import { tf } from '../backend';
import { Rng } from '../util/rng';
import { distanceMatrix } from './cosine';

/** k as a number, or by name: 'random' (1), 'semihard' (2, the paper's), 'hard' (N − 1). */
export type NegativeK = number | 'random' | 'semihard' | 'hard';

export interface SampleOptions {
  /** candidates per anchor; default 2 ('semihard') */
  k?: NegativeK;
  /** the generator to draw from (training passes one that advances) */
  rng?: Rng;
  /** seed of a fresh generator when `rng` is not given; default 0 */
  seed?: number;
}

/** Negative indices of the global loss, one per anchor, by anchor modality. */
export interface GlobalNegatives {
  /** for image anchor i, the index of its negative report */
  imageAnchor: number[];
  /** for report anchor i, the index of its negative image */
  textAnchor: number[];
}

/** k as a count of candidates for a batch of n; a clear error when the batch is too small. */
export function resolveNegativeK(k: NegativeK | undefined, n: number, where: string): number {
  if (n < 2) throw new Error(`${where}: a triplet loss needs a batch of at least 2 to have negatives, got N = ${n}`);
  const v = k ?? 'semihard';
  let count: number;
  if (v === 'random') count = 1;
  else if (v === 'semihard') count = 2;
  else if (v === 'hard') count = n - 1;
  else if (typeof v === 'number' && Number.isInteger(v) && v >= 1) count = v;
  else throw new Error(`${where}: k must be a positive integer, 'random', 'semihard' or 'hard', got ${String(v)}`);
  if (count > n - 1) {
    const label = count === 2 ? ' (semi-hard)' : '';
    throw new Error(`${where}: k = ${count}${label} needs a batch of at least ${count + 1}, got N = ${n}`);
  }
  return count;
}

/**
 * The negative for each anchor row of `distance` ([N][N], anchor × candidate):
 * the closest of k distinct candidates ≠ i drawn uniformly from `rng`. Ties go
 * to the smaller index. With k = N − 1 every other index is a candidate, so
 * no numbers are drawn.
 */
export function chooseNegatives(distance: readonly (readonly number[])[], k: number, rng: Rng, where = 'chooseNegatives'): number[] {
  const n = distance.length;
  const count = resolveNegativeK(k, n, where);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = distance[i];
    if (row.length !== n) throw new Error(`${where}: distance matrix must be square, row ${i} has ${row.length} entries for N = ${n}`);
    const others: number[] = [];
    for (let j = 0; j < n; j++) if (j !== i) others.push(j);
    const candidates = count === n - 1 ? others : rng.sample(others, count);
    let best = -1;
    for (const j of candidates) {
      if (Number.isNaN(row[j])) throw new Error(`${where}: distance from anchor ${i} to candidate ${j} is NaN (non-finite embeddings?)`);
      if (best < 0 || row[j] < row[best] || (row[j] === row[best] && j < best)) best = j;
    }
    out.push(best);
  }
  return out;
}

function rngOf(options: SampleOptions): Rng {
  return options.rng ?? new Rng(options.seed ?? 0);
}

/**
 * For each row of `anchors` ([N, D]), the index of a negative among the rows
 * of `candidates` ([N, D], the other modality): see `chooseNegatives`.
 */
export function sampleNegatives(anchors: tf.Tensor2D, candidates: tf.Tensor2D, options: SampleOptions = {}): number[] {
  const where = 'sampleNegatives';
  if (anchors.rank !== 2 || candidates.rank !== 2) throw new Error(`${where}: anchors and candidates must be 2-D [N, D]`);
  if (anchors.shape[0] !== candidates.shape[0] || anchors.shape[1] !== candidates.shape[1]) {
    throw new Error(`${where}: anchors [${anchors.shape.join(', ')}] and candidates [${candidates.shape.join(', ')}] must have the same shape`);
  }
  const n = anchors.shape[0];
  const k = resolveNegativeK(options.k, n, where);
  return chooseNegatives(distanceMatrix(anchors, candidates), k, rngOf(options), where);
}

/** Negatives of both directions of the global loss: image anchors first, then report anchors. */
export function sampleGlobalNegatives(image: tf.Tensor2D, text: tf.Tensor2D, options: SampleOptions = {}): GlobalNegatives {
  const rng = rngOf(options);
  return {
    imageAnchor: sampleNegatives(image, text, { k: options.k, rng }),
    textAnchor: sampleNegatives(text, image, { k: options.k, rng }),
  };
}

/** Checks precomputed negatives: N integers in [0, N), none equal to its anchor. */
export function checkNegativeIndices(indices: readonly number[] | undefined, n: number, where: string, name: string): number[] {
  if (!Array.isArray(indices)) throw new Error(`${where}: negatives.${name} must be an array of ${n} indices`);
  if (indices.length !== n) throw new Error(`${where}: negatives.${name} has ${indices.length} indices for a batch of ${n}`);
  indices.forEach((j, i) => {
    if (!Number.isInteger(j) || j < 0 || j >= n) throw new Error(`${where}: negatives.${name}[${i}] = ${String(j)} is not an index of the batch (0..${n - 1})`);
    if (j === i) throw new Error(`${where}: negatives.${name}[${i}] is the anchor itself`);
  });
  return indices.slice();
}

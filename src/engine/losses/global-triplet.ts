// Location-weighted global triplet loss over global image and report
// embeddings, both anchor directions:
//
//   L_G = 1/(2N) Σ_M Σ_i max(0, d(a_i, p_i) − (1 − δ_i)·d(a_i, n_i) − δ_i·λ·d(a_i, n_i) + m_G)
//
// M ∈ {image anchor → reports, report anchor → images}; a_i the anchor, p_i
// its pair in the other modality, n_i the sampled negative of the other
// modality; δ_i = 1 when the negative's location equals the anchor's (0 for
// every i without `locations`); λ = locationWeight (0.5), m_G = margin (0.25).
// d(x, y) = 1 − cos(x, y); a zero vector has cosine 0 with anything.
// follows: METHOD.md §5 Eq. 1
import { tf } from '../backend';
import type { Rng } from '../util/rng';
import { l2NormalizeRows, rowDistance } from './cosine';
import { checkNegativeIndices, resolveNegativeK, sampleGlobalNegatives, type GlobalNegatives, type NegativeK } from './negatives';

export interface GlobalTripletOptions {
  /** tumour location per case (labels or ints); without it δ = 0 everywhere */
  locations?: ReadonlyArray<string | number>;
  /** m_G, default 0.25 */
  margin?: number;
  /** λ, default 0.5; 0 removes same-location negatives, 1 is plain triplet */
  locationWeight?: number;
  /**
   * 'scale' (Eq. 1, default): λ·d for a same-location negative; 'margin'
   * (the authors' commented-out form): margin `sameMargin` for a
   * same-location negative, `differentMargin` otherwise, negatives unweighted
   * (`margin` and λ unused)
   */
  locationMode?: 'scale' | 'margin';
  /** for 'margin': default 0.2 */
  sameMargin?: number;
  /** for 'margin': default 0.4 */
  differentMargin?: number;
  /** candidates per anchor, default 2 ('semihard') */
  k?: NegativeK;
  /** precomputed negatives (reproduce a recorded step); k, seed and rng are then unused */
  negatives?: GlobalNegatives;
  /** seed of the sampling generator when neither `negatives` nor `rng` is given (default 0) */
  seed?: number;
  /** sampling generator (training passes one that advances between steps) */
  rng?: Rng;
}

const WHERE = 'globalTripletLoss';

export function checkPair(image: tf.Tensor, text: tf.Tensor, where: string): number {
  if (image.rank !== 2 || text.rank !== 2) {
    throw new Error(`${where}: image and text embeddings must be 2-D [N, d], got [${image.shape.join(', ')}] and [${text.shape.join(', ')}]`);
  }
  if (image.shape[0] !== text.shape[0] || image.shape[1] !== text.shape[1]) {
    throw new Error(`${where}: image [${image.shape.join(', ')}] and text [${text.shape.join(', ')}] embeddings must have the same shape`);
  }
  if (image.dtype !== 'float32' || text.dtype !== 'float32') throw new Error(`${where}: embeddings must be float32`);
  return image.shape[0];
}

export function checkMargin(margin: number, where: string): number {
  if (!Number.isFinite(margin) || margin < 0) throw new Error(`${where}: margin must be a finite number ≥ 0, got ${margin}`);
  return margin;
}

/** Weight of each negative distance: 1 for a different location, λ for the same. */
function negativeWeights(anchorNeg: readonly number[], locations: ReadonlyArray<string | number> | undefined, lambda: number): number[] {
  return anchorNeg.map((j, i) => (locations !== undefined && locations[i] === locations[j] ? lambda : 1));
}

/** Same-location flags δ_i of each anchor's negative. */
function sameLocation(anchorNeg: readonly number[], locations: ReadonlyArray<string | number>): boolean[] {
  return anchorNeg.map((j, i) => locations[i] === locations[j]);
}

/** Σ_i max(0, dPos_i − w_i·dNeg_i + m_i) from the distances [N]; `margin` one value or one per row. */
export function hingeOfDistances(dPos: tf.Tensor, dNeg: tf.Tensor, weights: number[] | null, margin: number | number[]): tf.Scalar {
  return tf.tidy(() => {
    const neg = weights ? tf.mul(dNeg, tf.tensor1d(weights, 'float32')) : dNeg;
    const m = typeof margin === 'number' ? tf.scalar(margin) : tf.tensor1d(margin, 'float32');
    return tf.sum(tf.relu(tf.add(tf.sub(dPos, neg), m)));
  });
}

/** Σ_i max(0, d(a_i, p_i) − w_i·d(a_i, n_i) + m_i) for unit rows; `margin` one value or one per row. */
export function hingeSum(
  anchorUnit: tf.Tensor2D,
  positiveUnit: tf.Tensor2D,
  negativeUnit: tf.Tensor2D,
  weights: number[] | null,
  margin: number | number[],
): tf.Scalar {
  return tf.tidy(() => hingeOfDistances(rowDistance(anchorUnit, positiveUnit), rowDistance(anchorUnit, negativeUnit), weights, margin));
}

export function globalTripletLoss(image: tf.Tensor2D, text: tf.Tensor2D, options: GlobalTripletOptions = {}): tf.Scalar {
  const n = checkPair(image, text, WHERE);
  const margin = checkMargin(options.margin ?? 0.25, WHERE);
  const lambda = options.locationWeight ?? 0.5;
  if (!Number.isFinite(lambda) || lambda < 0 || lambda > 1) throw new Error(`${WHERE}: locationWeight must be in [0, 1], got ${lambda}`);
  const locations = options.locations;
  if (locations !== undefined && locations.length !== n) {
    throw new Error(`${WHERE}: ${locations.length} locations for a batch of ${n}`);
  }
  let negatives: GlobalNegatives;
  if (options.negatives) {
    negatives = {
      imageAnchor: checkNegativeIndices(options.negatives.imageAnchor, n, WHERE, 'imageAnchor'),
      textAnchor: checkNegativeIndices(options.negatives.textAnchor, n, WHERE, 'textAnchor'),
    };
  } else {
    resolveNegativeK(options.k, n, WHERE);
    negatives = sampleGlobalNegatives(image, text, { k: options.k, rng: options.rng, seed: options.seed });
  }
  const mode = options.locationMode ?? 'scale';
  if (mode !== 'scale' && mode !== 'margin') throw new Error(`${WHERE}: locationMode must be 'scale' or 'margin', got ${String(mode)}`);
  let wImage: number[] | null = null;
  let wText: number[] | null = null;
  let mImage: number | number[] = margin;
  let mText: number | number[] = margin;
  if (locations && mode === 'scale') {
    wImage = negativeWeights(negatives.imageAnchor, locations, lambda);
    wText = negativeWeights(negatives.textAnchor, locations, lambda);
  } else if (locations) {
    // follows: METHOD.md §5 (the authors' two-margin form)
    const same = checkMargin(options.sameMargin ?? 0.2, WHERE);
    const different = checkMargin(options.differentMargin ?? 0.4, WHERE);
    mImage = sameLocation(negatives.imageAnchor, locations).map((s) => (s ? same : different));
    mText = sameLocation(negatives.textAnchor, locations).map((s) => (s ? same : different));
  }
  return tf.tidy(() => {
    const img = l2NormalizeRows(image);
    const txt = l2NormalizeRows(text);
    const imageTerm = hingeSum(img, txt, tf.gather(txt, negatives.imageAnchor), wImage, mImage);
    const textTerm = hingeSum(txt, img, tf.gather(img, negatives.textAnchor), wText, mText);
    return tf.div(tf.add(imageTerm, textTerm), tf.scalar(2 * n));
  });
}

// Local triplet loss between each case's local embeddings and their
// cross-attention counterparts. Every case's embeddings are flattened to one
// vector (patches × dims, words × dims); with v_i, v̂_i, w_i, ŵ_i those
// vectors for case i:
//
//   T(x, y) = 1/(2N) Σ_i [ max(0, d(x_i, y_i) − d(x_i, y_{n(i)}) + m_L)
//                        + max(0, d(y_i, x_i) − d(y_i, x_{n'(i)}) + m_L) ]
//   L_L = T(v, v̂) + T(w, ŵ)
//
// n(i) is the sampled negative for anchor x_i among the y_j, n'(i) the one
// for anchor y_i among the x_j (same sampling as the global loss, no
// location weighting), m_L = margin (0.4), d = 1 − cos on the flattened
// vectors. With `wordMask` ([N, W], 1 real word, 0 padding) the padded word
// slots of w and ŵ are zeroed, which removes them from every dot product and
// norm, so padding length does not change the loss.
// follows: METHOD.md §5 Eq. 2
import { tf } from '../backend';
import { Rng } from '../util/rng';
import { flattenCases, l2NormalizeRows } from './cosine';
import { checkMargin, hingeSum } from './global-triplet';
import { checkNegativeIndices, resolveNegativeK, sampleNegatives, type NegativeK } from './negatives';

/** Negative indices of the local loss, keyed by the anchor's representation. */
export interface LocalNegatives {
  /** anchor v_i (local image) → index j of the negative v̂_j */
  imageLocal: number[];
  /** anchor v̂_i (report-weighted image) → index j of the negative v_j */
  imageWeighted: number[];
  /** anchor w_i (local words) → index j of the negative ŵ_j */
  textLocal: number[];
  /** anchor ŵ_i (image-weighted words) → index j of the negative w_j */
  textWeighted: number[];
}

export interface LocalTripletOptions {
  /** m_L, default 0.4 */
  margin?: number;
  /** candidates per anchor, default 2 ('semihard') */
  k?: NegativeK;
  /** precomputed negatives; k, seed and rng are then unused */
  negatives?: LocalNegatives;
  /** seed of the sampling generator when neither `negatives` nor `rng` is given (default 0) */
  seed?: number;
  rng?: Rng;
  /** [N, W]: 1 for a real word slot, 0 for padding */
  wordMask?: tf.Tensor2D | number[][];
}

const WHERE = 'localTripletLoss';

interface Flat {
  v: tf.Tensor2D;
  vHat: tf.Tensor2D;
  w: tf.Tensor2D;
  wHat: tf.Tensor2D;
}

function sameShape(a: tf.Tensor, b: tf.Tensor, names: string): void {
  if (a.shape.length !== b.shape.length || a.shape.some((s, i) => s !== b.shape[i])) {
    throw new Error(`${WHERE}: ${names} must have the same shape, got [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`);
  }
}

function maskTensor(mask: tf.Tensor2D | number[][], textShape: number[]): tf.Tensor {
  const [n, words] = textShape;
  if (textShape.length !== 3) throw new Error(`${WHERE}: wordMask needs word embeddings of shape [N, W, d], got [${textShape.join(', ')}]`);
  if (!(mask instanceof tf.Tensor) && mask.some((row) => row.length !== words)) {
    throw new Error(`${WHERE}: every wordMask row must have ${words} entries to match the word embeddings`);
  }
  const m = mask instanceof tf.Tensor ? mask : tf.tensor2d(mask.flat(), [mask.length, words]);
  if (m.rank !== 2 || m.shape[0] !== n || m.shape[1] !== words) {
    throw new Error(`${WHERE}: wordMask must be [${n}, ${words}] to match the word embeddings, got [${m.shape.join(', ')}]`);
  }
  return tf.expandDims(tf.cast(tf.notEqual(m, 0), 'float32'), 2);
}

/** The four flattened [N, ·] views, padded word slots zeroed; caller disposes (use inside tidy). */
function flatten(imageLocal: tf.Tensor, imageWeighted: tf.Tensor, textLocal: tf.Tensor, textWeighted: tf.Tensor, wordMask: LocalTripletOptions['wordMask']): Flat {
  let w: tf.Tensor = textLocal;
  let wHat: tf.Tensor = textWeighted;
  if (wordMask !== undefined) {
    const m = maskTensor(wordMask, textLocal.shape);
    w = tf.mul(textLocal, m);
    wHat = tf.mul(textWeighted, m);
  }
  return {
    v: flattenCases(imageLocal, WHERE, 'imageLocal'),
    vHat: flattenCases(imageWeighted, WHERE, 'imageWeighted'),
    w: flattenCases(w, WHERE, 'textLocal'),
    wHat: flattenCases(wHat, WHERE, 'textWeighted'),
  };
}

function checkInputs(imageLocal: tf.Tensor, imageWeighted: tf.Tensor, textLocal: tf.Tensor, textWeighted: tf.Tensor): number {
  sameShape(imageLocal, imageWeighted, 'imageLocal and imageWeighted');
  sameShape(textLocal, textWeighted, 'textLocal and textWeighted');
  if (imageLocal.rank < 2 || textLocal.rank < 2) throw new Error(`${WHERE}: local embeddings must be [N, positions, d]`);
  const n = imageLocal.shape[0];
  if (textLocal.shape[0] !== n) throw new Error(`${WHERE}: ${n} image cases but ${textLocal.shape[0]} report cases`);
  return n;
}

/** Negatives for the four anchor kinds, drawn in the order of `LocalNegatives`' fields. */
export function sampleLocalNegatives(
  imageLocal: tf.Tensor,
  imageWeighted: tf.Tensor,
  textLocal: tf.Tensor,
  textWeighted: tf.Tensor,
  options: Pick<LocalTripletOptions, 'k' | 'rng' | 'seed' | 'wordMask'> = {},
): LocalNegatives {
  const n = checkInputs(imageLocal, imageWeighted, textLocal, textWeighted);
  resolveNegativeK(options.k, n, WHERE);
  const rng = options.rng ?? new Rng(options.seed ?? 0);
  const [v, vHat, w, wHat] = tf.tidy(() => {
    const f = flatten(imageLocal, imageWeighted, textLocal, textWeighted, options.wordMask);
    return [f.v, f.vHat, f.w, f.wHat];
  });
  try {
    const k = options.k;
    return {
      imageLocal: sampleNegatives(v, vHat, { k, rng }),
      imageWeighted: sampleNegatives(vHat, v, { k, rng }),
      textLocal: sampleNegatives(w, wHat, { k, rng }),
      textWeighted: sampleNegatives(wHat, w, { k, rng }),
    };
  } finally {
    // reshapes share the inputs' data; disposing them leaves the inputs intact
    for (const t of [v, vHat, w, wHat]) t.dispose();
  }
}

export function localTripletLoss(
  imageLocal: tf.Tensor,
  imageWeighted: tf.Tensor,
  textLocal: tf.Tensor,
  textWeighted: tf.Tensor,
  options: LocalTripletOptions = {},
): tf.Scalar {
  const n = checkInputs(imageLocal, imageWeighted, textLocal, textWeighted);
  const margin = checkMargin(options.margin ?? 0.4, WHERE);
  let neg: LocalNegatives;
  if (options.negatives) {
    const g = options.negatives;
    neg = {
      imageLocal: checkNegativeIndices(g.imageLocal, n, WHERE, 'imageLocal'),
      imageWeighted: checkNegativeIndices(g.imageWeighted, n, WHERE, 'imageWeighted'),
      textLocal: checkNegativeIndices(g.textLocal, n, WHERE, 'textLocal'),
      textWeighted: checkNegativeIndices(g.textWeighted, n, WHERE, 'textWeighted'),
    };
  } else {
    neg = sampleLocalNegatives(imageLocal, imageWeighted, textLocal, textWeighted, options);
  }
  return tf.tidy(() => {
    const f = flatten(imageLocal, imageWeighted, textLocal, textWeighted, options.wordMask);
    const v = l2NormalizeRows(f.v);
    const vHat = l2NormalizeRows(f.vHat);
    const w = l2NormalizeRows(f.w);
    const wHat = l2NormalizeRows(f.wHat);
    const image = tf.add(hingeSum(v, vHat, tf.gather(vHat, neg.imageLocal), null, margin), hingeSum(vHat, v, tf.gather(v, neg.imageWeighted), null, margin));
    const text = tf.add(hingeSum(w, wHat, tf.gather(wHat, neg.textLocal), null, margin), hingeSum(wHat, w, tf.gather(w, neg.textWeighted), null, margin));
    return tf.div(tf.add(image, text), tf.scalar(2 * n));
  });
}

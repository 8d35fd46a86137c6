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
//
// Every cosine the loss and the negative sampling need is an entry of two
// N × N matrices, C_img[i, j] = cos(v_i, v̂_j) and C_txt[i, j] = cos(w_i, ŵ_j):
// positives on the diagonal, the negative of anchor v_i at C_img[i, n(i)], of
// anchor v̂_i at C_img[n'(i), i]. They are computed once, as one product of the
// normalised rows each, and the terms gathered from them (the same values as
// a row-wise dot product per term, in a fraction of the passes over the
// patches × dims vectors).
// follows: METHOD.md §5 Eq. 2
import { tf } from '../backend';
import { Rng } from '../util/rng';
import { flattenCases, l2NormalizeRows, rowCosine } from './cosine';
import { checkMargin, hingeOfDistances } from './global-triplet';
import { checkNegativeIndices, chooseNegatives, resolveNegativeK, type NegativeK } from './negatives';
import { checkTemperature, symmetricInfoNce } from './infonce';

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
  /**
   * loss.localNegatives "crossed" (ours): the cosine matrices from
   * `crossedLocalCosines` in place of the pairs' (imageWeighted and
   * textWeighted then unused beyond their shapes)
   */
  crossed?: { image: tf.Tensor2D; text: tf.Tensor2D };
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

/** 1 for a real word slot, 0 for padding, as float32 (a word mask's nonzero entries are its words). */
export function realWordMask(mask: tf.Tensor): tf.Tensor2D {
  return tf.cast(tf.notEqual(mask, 0), 'float32') as tf.Tensor2D;
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
  return tf.expandDims(realWordMask(m), 2);
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

/** C_img = cos(v_i, v̂_j) and C_txt = cos(w_i, ŵ_j), [N, N] each; caller disposes (use inside tidy). */
function cosineMatrices(f: Flat): { image: tf.Tensor2D; text: tf.Tensor2D } {
  return {
    image: tf.matMul(l2NormalizeRows(f.v), l2NormalizeRows(f.vHat), false, true),
    text: tf.matMul(l2NormalizeRows(f.w), l2NormalizeRows(f.wHat), false, true),
  };
}

/** Anchor × candidate distances 1 − cos from a cosine matrix, rows as anchors or (transposed) columns. */
function distances(c: number[][], anchorsAreColumns: boolean): number[][] {
  return c.map((row, i) => row.map((_, j) => Math.fround(1 - (anchorsAreColumns ? c[j][i] : c[i][j]))));
}

/** Negatives of the four anchor kinds from the cosine matrices, drawn in the order of `LocalNegatives`' fields. */
function negativesFromCosines(image: tf.Tensor2D, text: tf.Tensor2D, k: NegativeK | undefined, rng: Rng): LocalNegatives {
  const count = resolveNegativeK(k, image.shape[0], WHERE);
  const ci = image.arraySync();
  const ct = text.arraySync();
  const choose = (d: number[][]) => chooseNegatives(d, count, rng, 'sampleNegatives');
  return {
    imageLocal: choose(distances(ci, false)),
    imageWeighted: choose(distances(ci, true)),
    textLocal: choose(distances(ct, false)),
    textWeighted: choose(distances(ct, true)),
  };
}

/**
 * Σ_i max(0, d(anchor_i, positive_i) − d(anchor_i, negative_i) + m) from a cosine
 * matrix whose rows (or, with anchorsAreColumns, columns) are the anchors.
 */
function hingeFromCosines(c: tf.Tensor2D, negatives: number[], anchorsAreColumns: boolean, margin: number): tf.Scalar {
  return tf.tidy(() => {
    const n = c.shape[0];
    const flat = tf.reshape(c, [n * n]);
    const pos = tf.gather(flat, tf.tensor1d(negatives.map((_, i) => i * n + i), 'int32'));
    const neg = tf.gather(flat, tf.tensor1d(negatives.map((j, i) => (anchorsAreColumns ? j * n + i : i * n + j)), 'int32'));
    const one = tf.scalar(1);
    return hingeOfDistances(tf.sub(one, pos), tf.sub(one, neg), null, margin);
  });
}

/** Negatives for the four anchor kinds, drawn in the order of `LocalNegatives`' fields. */
export function sampleLocalNegatives(
  imageLocal: tf.Tensor,
  imageWeighted: tf.Tensor,
  textLocal: tf.Tensor,
  textWeighted: tf.Tensor,
  options: Pick<LocalTripletOptions, 'k' | 'rng' | 'seed' | 'wordMask'> = {},
): LocalNegatives {
  checkInputs(imageLocal, imageWeighted, textLocal, textWeighted);
  const rng = options.rng ?? new Rng(options.seed ?? 0);
  const c = tf.tidy(() => cosineMatrices(flatten(imageLocal, imageWeighted, textLocal, textWeighted, options.wordMask)));
  try {
    return negativesFromCosines(c.image, c.text, options.k, rng);
  } finally {
    tf.dispose([c.image, c.text]);
  }
}

/** The model's cross-attention run on the crossed combinations (row k: image `imageIndex[k]`'s patches, a report's words and word mask), returning T. */
type CrossedRun<T> = (patches: tf.Tensor3D, words: tf.Tensor3D, mask: tf.Tensor2D, imageIndex: tf.Tensor1D) => T;

/** The model's cross-attention on image a with report b, both sides (see `crossedLocalCosines`). */
export type CrossedAttend = CrossedRun<{ imageWeighted: tf.Tensor3D; textWeighted: tf.Tensor3D }>;

/** The words' side of the model's cross-attention on image a with report b: ŵ [N·N, W, d] (see `crossedWordScores`). */
export type CrossedAttendWords = CrossedRun<tf.Tensor3D>;

/** Every image of the batch with every report: row k = a·N + b holds image a's patches and report b's words; caller disposes (use inside tidy). */
function crossedCombinations<T>(imageLocal: tf.Tensor3D, textLocal: tf.Tensor3D, wordMask: tf.Tensor2D, attend: CrossedRun<T>) {
  const n = imageLocal.shape[0];
  if (textLocal.shape[0] !== n) throw new Error(`${WHERE}: ${n} image cases but ${textLocal.shape[0]} report cases`);
  const k = [...Array(n * n).keys()];
  const imageIndex = tf.tensor1d(k.map((i) => Math.floor(i / n)), 'int32');
  const reportIndex = tf.tensor1d(k.map((i) => i % n), 'int32');
  const patches = tf.gather(imageLocal, imageIndex); // row k: image a
  const words = tf.gather(textLocal, reportIndex); // row k: report b
  const mask = tf.gather(wordMask, reportIndex);
  const out = attend(patches, words, mask, imageIndex);
  const realWords = realWordMask(mask); // [N·N, W]
  return { n, patches, words, realWords, out };
}

/**
 * The crossed cosine matrices of `loss.localNegatives: "crossed"` (ours):
 * C_img[a, b] = cos(v_a, v̂_{a←b}), image a's patches asking report b's
 * words, and C_txt[a, b] = cos(w_a, ŵ_{a←b}), report a's words asking image
 * b's patches; the diagonals are the pairs' own (C_img[i, i] = cos(v_i, v̂_i)).
 * `attend` runs the model's cross-attention (normalised as before the local
 * loss) on N·N combinations k = a·N + b of image a and report b, returning
 * v̂ [N·N, P, d] (image a asking report b) and ŵ [N·N, W, d] (report b asking
 * image a). Caller disposes (use inside tidy).
 */
export function crossedLocalCosines(
  imageLocal: tf.Tensor3D,
  textLocal: tf.Tensor3D,
  wordMask: tf.Tensor2D,
  attend: CrossedAttend,
): { image: tf.Tensor2D; text: tf.Tensor2D } {
  const { n, patches, words, realWords, out } = crossedCombinations(imageLocal, textLocal, wordMask, attend);
  const m = tf.expandDims(realWords, 2);
  const rowCos = (x: tf.Tensor, y: tf.Tensor) => rowCosine(tf.reshape(x, [n * n, -1]) as tf.Tensor2D, tf.reshape(y, [n * n, -1]) as tf.Tensor2D);
  // row k = (image a, report b): cos(v_a, v̂_{a←b}) → C_img[a, b]; cos(w_b, ŵ_{b←a}) → C_txt[b, a]
  const image = tf.reshape(rowCos(patches, out.imageWeighted), [n, n]) as tf.Tensor2D;
  const text = tf.transpose(tf.reshape(rowCos(tf.mul(words, m), tf.mul(out.textWeighted, m)), [n, n])) as tf.Tensor2D;
  return { image, text };
}

/**
 * The word-level scores of `loss.localKind: "word"` (ours; GLoRIA's
 * word-level similarity, Huang et al., ICCV 2021, §3.2–3.3):
 *
 *   Z[a, b] = (1/γ) ln Σ_{j ∈ real words of report b} exp(γ · cos(w_{b,j}, ŵ_{b←a,j}))
 *
 * each word j of report b against what it attends to in image a (ŵ: the
 * words' side of the model's cross-attention, run on every image with every
 * report as in `crossedLocalCosines`; `attend` runs only that side and
 * returns ŵ [N·N, W, d]), aggregated over the report's words
 * with sharpness γ (GLoRIA's γ2 = 5): a log-sum-exp, so the words that find
 * their match decide, and a word every image answers alike (one asking the
 * background) adds the same to every image's score. A report without real
 * words scores 0. [N, N], rows images, columns reports; caller disposes
 * (use inside tidy).
 */
export function crossedWordScores(
  imageLocal: tf.Tensor3D,
  textLocal: tf.Tensor3D,
  wordMask: tf.Tensor2D,
  attend: CrossedAttendWords,
  sharpness: number,
): tf.Tensor2D {
  const { n, words, realWords, out } = crossedCombinations(imageLocal, textLocal, wordMask, attend);
  return tf.reshape(wordScores(words, out, realWords, sharpness), [n, n]) as tf.Tensor2D;
}

/**
 * (1/γ) ln Σ_{j real} exp(γ · cos(words_{m,j}, attended_{m,j})) for each row m
 * of words and what they attend to ([M, W, d] each; realWords [M, W], 1 for
 * a real word): the word-level score of `crossedWordScores`, 0 for a row
 * without real words → [M]. Caller disposes (use inside tidy).
 */
export function wordScores(words: tf.Tensor3D, attended: tf.Tensor3D, realWords: tf.Tensor2D, sharpness: number): tf.Tensor1D {
  if (!Number.isFinite(sharpness) || sharpness <= 0) throw new Error(`${WHERE}: the word scores' sharpness γ must be a finite number > 0, got ${sharpness}`);
  const [m, w] = words.shape;
  const perWord = tf.reshape(rowCosine(tf.reshape(words, [m * w, -1]) as tf.Tensor2D, tf.reshape(attended, [m * w, -1]) as tf.Tensor2D), [m, w]);
  // padded slots get −1e9 (weight exactly 0 after the exp); a report with none left scores 0
  const logits = tf.add(tf.mul(perWord, tf.scalar(sharpness)), tf.mul(tf.sub(realWords, tf.scalar(1)), tf.scalar(1e9)));
  const lse = tf.div(tf.logSumExp(logits, 1), tf.scalar(sharpness));
  const hasWords = tf.greater(tf.sum(realWords, 1), tf.scalar(0));
  return tf.where(hasWords, lse, tf.zerosLike(lse)) as tf.Tensor1D;
}

/**
 * loss.localKind "word" (ours, GLoRIA's local loss): a symmetric InfoNCE on
 * the word-level scores Z of `crossedWordScores` at temperature τ (GLoRIA's
 * γ3 = 10 is τ = 0.1): L_L = ½ [CE over the rows (an image finds its
 * report) + CE over the columns (a report finds its image)].
 * follows: METHOD.md §5 (localKind)
 */
export function wordLocalLoss(scores: tf.Tensor2D, temperature: number): tf.Scalar {
  if (scores.rank !== 2 || scores.shape[0] !== scores.shape[1]) throw new Error(`wordLocalLoss: scores must be [N, N], got [${scores.shape.join(', ')}]`);
  return symmetricInfoNce(scores, checkTemperature(temperature, 'wordLocalLoss'));
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
  let given: LocalNegatives | undefined;
  if (options.negatives) {
    const g = options.negatives;
    given = {
      imageLocal: checkNegativeIndices(g.imageLocal, n, WHERE, 'imageLocal'),
      imageWeighted: checkNegativeIndices(g.imageWeighted, n, WHERE, 'imageWeighted'),
      textLocal: checkNegativeIndices(g.textLocal, n, WHERE, 'textLocal'),
      textWeighted: checkNegativeIndices(g.textWeighted, n, WHERE, 'textWeighted'),
    };
  } else {
    resolveNegativeK(options.k, n, WHERE);
  }
  return tf.tidy(() => {
    const c = options.crossed ?? cosineMatrices(flatten(imageLocal, imageWeighted, textLocal, textWeighted, options.wordMask));
    // sampled on the same cosines the loss uses (values only: the choice is outside the gradient)
    const neg = given ?? negativesFromCosines(c.image, c.text, options.k, options.rng ?? new Rng(options.seed ?? 0));
    const image = tf.add(hingeFromCosines(c.image, neg.imageLocal, false, margin), hingeFromCosines(c.image, neg.imageWeighted, true, margin));
    const text = tf.add(hingeFromCosines(c.text, neg.textLocal, false, margin), hingeFromCosines(c.text, neg.textWeighted, true, margin));
    return tf.div(tf.add(image, text), tf.scalar(2 * n));
  });
}

/**
 * loss.localKind "infonce" (ours): the local loss as a symmetric InfoNCE on
 * the same cosine matrices as the triplet form (the pairs' or, with
 * `crossed`, every image with every report), image and text terms summed:
 * L_L = InfoNCE(C_img / τ) + InfoNCE(C_txt / τ), the positives on the
 * diagonals. follows: METHOD.md §5 (localKind)
 */
export function localInfoNceLoss(
  imageLocal: tf.Tensor,
  imageWeighted: tf.Tensor,
  textLocal: tf.Tensor,
  textWeighted: tf.Tensor,
  options: { temperature?: number; wordMask?: LocalTripletOptions['wordMask']; crossed?: LocalTripletOptions['crossed'] } = {},
): tf.Scalar {
  checkInputs(imageLocal, imageWeighted, textLocal, textWeighted);
  const tau = checkTemperature(options.temperature ?? 0.07, 'localInfoNceLoss');
  return tf.tidy(() => {
    const c = options.crossed ?? cosineMatrices(flatten(imageLocal, imageWeighted, textLocal, textWeighted, options.wordMask));
    return tf.add(symmetricInfoNce(c.image, tau), symmetricInfoNce(c.text, tau));
  });
}

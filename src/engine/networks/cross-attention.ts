// The two cross-attention modules between image patches and report words.
// Inputs are the L2-normalised local embeddings (the local heads' outputs),
// patches [N, P, d] and words [N, W, d]. Masked word slots (padding,
// special, newline) take no part: A's softmax runs over real words only (a
// report without words gives zero rows, not NaN); B's rows for masked words
// are zero.
//
// 'learned' (the paper's, default): the authors' `CrossAttention` class,
// instantiated twice, as in their model: A (mode img_txt, image queries) and
// B (mode txt_img, word queries). Each module holds six 1×1 projections
// d → d with bias (query/key/value of the image and of the text) and a gate
// γ; a mode uses three of them:
//   A: q = Q_img(patches), k = K_txt(words), v = V_txt(words)
//      S_A = softmax_words(q·kᵀ / τ), out_A = γ_A·(S_A v) + patches
//   B: q = Q_txt(words), k = K_img(patches), v = V_img(patches)
//      S_B = softmax_patches(q·kᵀ / τ), out_B = γ_B·(S_B v) + q
// The idle three of each module are registered and trainable, as in the
// authors' module (Table 7 counts them: 2 × 6 × (d² + d) = 789,504 at
// d = 256); they receive no gradient, so the optimizer skips them as
// PyTorch's AdamW skips parameters whose grad is None. The authors' γ
// (`nn.Parameter(...).cuda()`) is not registered, so it was a constant that
// never trained and Table 7 does not count it: here γ is a constant too
// (a buffer, saved with the weights) unless `gammaTrainable`.
//
// 'dot' (parameter-free, kept as an option):
//   S_A = softmax_words(patches·wordsᵀ / τ), v̂ = S_A·words
//   S_B = softmax_patches(words·patchesᵀ / τ), ŵ = S_B·patches
//
// Scores are divided by τ (heads.crossAttentionTemperature, default 1: the
// authors' unscaled dot product) and, with `scale`, by √d as well.
//
// An optional patch mask [N, P] (1 = a patch inside the head; ours,
// heads.crossAttentionForeground, see foregroundPatches) restricts S_B, the
// words' softmax over the patches, to the masked-in patches: the others get
// exactly 0 weight, and a case with no patch in the mask attends to all of
// them as without it. S_A (the patches' attention over the words) is
// unchanged.
// follows: METHOD.md §4
import { tf } from '../backend';
import { softmaxLast } from '../native/transformer';
import { Module } from './module';
import { Linear } from './torch-layers';
import { hashSeed } from '../util/rng';
import type { ExperimentConfig } from '../../shared/config';

export interface CrossAttentionOutput {
  /** S_A [N, P, W]: for each patch, the weights of its report's words (sum 1 over real words) */
  scoresA: tf.Tensor3D;
  /** A's output [N, P, d]: the report-weighted image representation v̂ */
  reportWeightedImage: tf.Tensor3D;
  /** S_B [N, W, P]: for each word, the weights of the image patches (zero rows for masked words) */
  scoresB: tf.Tensor3D;
  /** B's output [N, W, d]: the image-weighted text representation ŵ (zero rows for masked words) */
  imageWeightedText: tf.Tensor3D;
}

/** The words' side alone (`attendWords`): what the word-level local loss reads. */
export type WordsAttention = Pick<CrossAttentionOutput, 'scoresB' | 'imageWeightedText'>;

export type CrossAttentionKind = 'learned' | 'dot';

export interface CrossAttentionOptions {
  /** 'learned' (the paper's projections and gate) or 'dot' (parameter-free); default 'dot' for direct construction */
  kind?: CrossAttentionKind;
  /** divide scores by √d (config `heads.crossAttentionScale`; the authors do not) */
  scale?: boolean;
  /** divide scores by τ (config `heads.crossAttentionTemperature`, default 1) */
  temperature?: number;
  /** embedding size d of patches and words (required for 'learned') */
  dim?: number;
  /** initial γ of both gates ('learned'; default 1) */
  gammaInit?: number;
  /** train γ ('learned'; default false: a constant, as the authors' unregistered γ) */
  gammaTrainable?: boolean;
  /** add the γ-gated residual ('learned'; default true, the authors') */
  residual?: boolean;
  seed?: number;
}

const BIG = 1e9;

function checkInputs(patches: tf.Tensor, words: tf.Tensor, wordMask: tf.Tensor, dim?: number): [number, number, number] {
  if (patches.rank !== 3 || words.rank !== 3) {
    throw new Error(`CrossAttention: expected patches [N, P, d] and words [N, W, d], got [${patches.shape.join(', ')}] and [${words.shape.join(', ')}]`);
  }
  const [N, , d] = patches.shape as [number, number, number];
  const [Nw, W, dw] = words.shape as [number, number, number];
  if (Nw !== N || dw !== d) {
    throw new Error(`CrossAttention: patches [${patches.shape.join(', ')}] and words [${words.shape.join(', ')}] differ in batch size or dimension`);
  }
  if (dim !== undefined && d !== dim) throw new Error(`CrossAttention: expected ${dim} features, got patches [${patches.shape.join(', ')}]`);
  if (wordMask.rank !== 2 || wordMask.shape[0] !== N || wordMask.shape[1] !== W) {
    throw new Error(`CrossAttention: wordMask has shape [${wordMask.shape.join(', ')}], expected [${N}, ${W}]`);
  }
  return [N, W, d];
}

/**
 * softmax over the last axis of `scores` restricted to the entries where
 * `mask` (broadcast to it; e.g. real words [N, 1, W]) is 1: the others get
 * exactly 0, and a row with none is all zeros.
 */
function maskedSoftmax(scores: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  return softmaxLast(scores.add(mask.sub(1).mul(BIG))).mul(mask);
}

/** softmax over the last axis of `scores` [N, W, P] restricted to the patches of pRow [N, 1, P]; without a mask the plain softmax. */
function softmaxOverPatches(scores: tf.Tensor, pRow: tf.Tensor | undefined): tf.Tensor {
  if (!pRow) return tf.softmax(scores, -1);
  // a case whose mask is empty keeps every patch (its row of the mask taken as all ones)
  return maskedSoftmax(scores, pRow.add(pRow.max(-1, true).sub(1).neg()));
}

function checkPatchMask(patchMask: tf.Tensor | undefined, N: number, P: number): tf.Tensor | undefined {
  if (!patchMask) return undefined;
  if (patchMask.rank !== 2 || patchMask.shape[0] !== N || patchMask.shape[1] !== P) {
    throw new Error(`CrossAttention: patchMask has shape [${patchMask.shape.join(', ')}], expected [${N}, ${P}]`);
  }
  return patchMask.cast('float32').expandDims(1); // [N, 1, P]
}

/** The parameter-free form. */
export class CrossAttention extends Module {
  readonly scale: boolean;
  readonly temperature: number;

  constructor(options: CrossAttentionOptions = {}) {
    super();
    this.scale = options.scale ?? false;
    this.temperature = checkTemperature(options.temperature ?? 1);
  }

  /** patches [N, P, d], words [N, W, d], wordMask [N, W] (1 = real word), patchMask [N, P] (1 = a patch the words may attend to; default all). */
  apply(patches: tf.Tensor, words: tf.Tensor, wordMask: tf.Tensor, patchMask?: tf.Tensor): CrossAttentionOutput {
    return this.run(patches, words, wordMask, patchMask, true) as CrossAttentionOutput;
  }

  /** The words' side alone (S_B and ŵ), the same operations as in `apply`: the patches' side is not computed. */
  attendWords(patches: tf.Tensor, words: tf.Tensor, wordMask: tf.Tensor, patchMask?: tf.Tensor): WordsAttention {
    return this.run(patches, words, wordMask, patchMask, false);
  }

  private run(patches: tf.Tensor, words: tf.Tensor, wordMask: tf.Tensor, patchMask: tf.Tensor | undefined, bothSides: boolean): WordsAttention | CrossAttentionOutput {
    const [, , d] = checkInputs(patches, words, wordMask);
    return tf.tidy(() => {
      const pRow = checkPatchMask(patchMask, patches.shape[0]!, patches.shape[1]!);
      const m = wordMask.cast('float32');
      const sim = tf.matMul(patches, words, false, true).mul(scoreFactor(d, this.scale, this.temperature)); // [N, P, W]
      // the patches' side first, as it always ran (the gradients accumulate in the same order)
      let sideA: Pick<CrossAttentionOutput, 'scoresA' | 'reportWeightedImage'> | undefined;
      if (bothSides) {
        // masked words get −BIG: exactly 0 weight; an all-masked row is zeroed by ·mask
        const scoresA = maskedSoftmax(sim, m.expandDims(1)); // mask [N, 1, W]
        sideA = { scoresA: scoresA as tf.Tensor3D, reportWeightedImage: tf.matMul(scoresA, words) as tf.Tensor3D };
      }
      const scoresB = softmaxOverPatches(sim.transpose([0, 2, 1]), pRow).mul(m.expandDims(2)); // [N, W, P]
      const imageWeightedText = tf.matMul(scoresB, patches);
      const wordsSide = { scoresB: scoresB as tf.Tensor3D, imageWeightedText: imageWeightedText as tf.Tensor3D };
      return sideA ? { ...sideA, ...wordsSide } : wordsSide;
    });
  }
}

function checkTemperature(t: number): number {
  if (!(Number.isFinite(t) && t > 0)) throw new Error(`CrossAttention: temperature must be a finite number > 0, got ${t}`);
  return t;
}

function scoreFactor(d: number, scale: boolean, temperature: number): number {
  return (scale ? 1 / Math.sqrt(d) : 1) / temperature;
}

export type CrossAttentionMode = 'img_txt' | 'txt_img';

/** One of the authors' modules: six projections d → d and a gate γ (names as theirs). */
export class CrossAttentionBlock extends Module {
  readonly keyImg: Linear;
  readonly queryImg: Linear;
  readonly valueImg: Linear;
  readonly keyTxt: Linear;
  readonly queryTxt: Linear;
  readonly valueTxt: Linear;
  readonly gamma: tf.Variable;

  constructor(
    readonly mode: CrossAttentionMode,
    readonly dim: number,
    options: { seed?: number; gammaInit?: number; gammaTrainable?: boolean } = {},
  ) {
    super();
    if (!Number.isInteger(dim) || dim < 1) throw new Error(`CrossAttention: dim must be a positive integer, got ${dim}`);
    const seed = hashSeed(options.seed ?? 0, mode);
    const lin = (name: string) => this.child(name, new Linear(dim, dim, { seed, name: `cross_attention.${mode}.${name}` }));
    this.keyImg = lin('key_img');
    this.queryImg = lin('query_img');
    this.valueImg = lin('value_img');
    this.keyTxt = lin('key_txt');
    this.queryTxt = lin('query_txt');
    this.valueTxt = lin('value_txt');
    const g = options.gammaInit ?? 1;
    if (!Number.isFinite(g)) throw new Error(`CrossAttention: gammaInit must be a finite number, got ${g}`);
    this.gamma = options.gammaTrainable ? this.param('gamma', tf.tensor1d([g])) : this.buffer('gamma', tf.tensor1d([g]));
  }
}

/** The paper's form: modules A (image queries) and B (word queries), named as the authors'. */
export class LearnedCrossAttention extends Module {
  readonly patchAttention: CrossAttentionBlock;
  readonly wordAttention: CrossAttentionBlock;
  readonly scale: boolean;
  readonly temperature: number;
  readonly residual: boolean;

  constructor(
    readonly dim: number,
    options: CrossAttentionOptions = {},
  ) {
    super();
    this.scale = options.scale ?? false;
    this.temperature = checkTemperature(options.temperature ?? 1);
    this.residual = options.residual ?? true;
    const o = { seed: options.seed, gammaInit: options.gammaInit, gammaTrainable: options.gammaTrainable };
    this.patchAttention = this.child('patch_local_atten_layer', new CrossAttentionBlock('img_txt', dim, o));
    this.wordAttention = this.child('word_local_atten_layer', new CrossAttentionBlock('txt_img', dim, o));
  }

  apply(patches: tf.Tensor, words: tf.Tensor, wordMask: tf.Tensor, patchMask?: tf.Tensor): CrossAttentionOutput {
    return this.run(patches, words, wordMask, patchMask, true) as CrossAttentionOutput;
  }

  /** Module B alone (S_B and ŵ), the same operations as in `apply`: module A is not run. */
  attendWords(patches: tf.Tensor, words: tf.Tensor, wordMask: tf.Tensor, patchMask?: tf.Tensor): WordsAttention {
    return this.run(patches, words, wordMask, patchMask, false);
  }

  private run(patches: tf.Tensor, words: tf.Tensor, wordMask: tf.Tensor, patchMask: tf.Tensor | undefined, bothSides: boolean): WordsAttention | CrossAttentionOutput {
    const [, , d] = checkInputs(patches, words, wordMask, this.dim);
    const f = scoreFactor(d, this.scale, this.temperature);
    return tf.tidy(() => {
      const pRow = checkPatchMask(patchMask, patches.shape[0]!, patches.shape[1]!);
      const m = wordMask.cast('float32');
      const mCol = m.expandDims(2); // [N, W, 1]
      // A: patches ask the words (first, as it always ran: the gradients accumulate in the same order)
      let sideA: Pick<CrossAttentionOutput, 'scoresA' | 'reportWeightedImage'> | undefined;
      if (bothSides) {
        const a = this.patchAttention;
        const qA = a.queryImg.apply(patches);
        const kA = a.keyTxt.apply(words);
        const vA = a.valueTxt.apply(words);
        const scoresA = maskedSoftmax(tf.matMul(qA, kA, false, true).mul(f), m.expandDims(1)); // [N, P, W]; mask [N, 1, W]
        let outA = tf.matMul(scoresA, vA);
        if (this.residual) outA = outA.mul(a.gamma).add(patches);
        sideA = { scoresA: scoresA as tf.Tensor3D, reportWeightedImage: outA as tf.Tensor3D };
      }
      // B: words ask the patches
      const b = this.wordAttention;
      const qB = b.queryTxt.apply(words);
      const kB = b.keyImg.apply(patches);
      const vB = b.valueImg.apply(patches);
      const scoresB = softmaxOverPatches(tf.matMul(qB, kB, false, true).mul(f), pRow).mul(mCol); // [N, W, P]
      let outB = tf.matMul(scoresB, vB);
      if (this.residual) outB = outB.mul(b.gamma).add(qB);
      const wordsSide = { scoresB: scoresB as tf.Tensor3D, imageWeightedText: outB.mul(mCol) as tf.Tensor3D };
      return sideA ? { ...sideA, ...wordsSide } : wordsSide;
    });
  }
}

export type CrossAttentionConfig = Pick<
  ExperimentConfig['heads'],
  'crossAttention' | 'crossAttentionScale' | 'crossAttentionTemperature' | 'crossAttentionGamma' | 'crossAttentionGammaTrainable' | 'crossAttentionResidual' | 'localDim'
>;

/** The module `heads` describes. */
export function createCrossAttention(heads: CrossAttentionConfig, seed = 0): CrossAttention | LearnedCrossAttention {
  const common = { scale: heads.crossAttentionScale, temperature: heads.crossAttentionTemperature };
  if (heads.crossAttention === 'dot') return new CrossAttention(common);
  return new LearnedCrossAttention(heads.localDim, { ...common, gammaInit: heads.crossAttentionGamma, gammaTrainable: heads.crossAttentionGammaTrainable, residual: heads.crossAttentionResidual, seed });
}

// The two parameter-free cross-attention modules between image patches and
// report words (dot product, no scaling unless asked):
//   A (image queries): S_A = softmax_words(patches·wordsᵀ), v̂ = S_A·words
//   B (word queries):  S_B = softmax_patches(words·patchesᵀ), ŵ = S_B·patches
// Inputs are the L2-normalised local embeddings (the local heads' outputs),
// as the authors describe "all embeddings L2-normalised"; so scores are
// cosines in [−1, 1]. Masked word slots (padding, special, newline) take no
// part: A's softmax runs over real words only (a report without words gives
// zero rows, not NaN); B's rows for masked words are zero.
// follows: METHOD.md §4
import { tf } from '../backend';
import { Module } from './module';

export interface CrossAttentionOutput {
  /** S_A [N, P, W]: for each patch, the weights of its report's words (sum 1 over real words) */
  scoresA: tf.Tensor3D;
  /** v̂ = S_A·words [N, P, d]: the report-weighted image representation */
  reportWeightedImage: tf.Tensor3D;
  /** S_B [N, W, P]: for each word, the weights of the image patches (zero rows for masked words) */
  scoresB: tf.Tensor3D;
  /** ŵ = S_B·patches [N, W, d]: the image-weighted text representation */
  imageWeightedText: tf.Tensor3D;
}

export interface CrossAttentionOptions {
  /** divide scores by √d (config `heads.crossAttentionScale`; the authors do not) */
  scale?: boolean;
}

const BIG = 1e9;

export class CrossAttention extends Module {
  readonly scale: boolean;

  constructor(options: CrossAttentionOptions = {}) {
    super();
    this.scale = options.scale ?? false;
  }

  /** patches [N, P, d], words [N, W, d], wordMask [N, W] (1 = real word). */
  apply(patches: tf.Tensor, words: tf.Tensor, wordMask: tf.Tensor): CrossAttentionOutput {
    if (patches.rank !== 3 || words.rank !== 3) {
      throw new Error(`CrossAttention: expected patches [N, P, d] and words [N, W, d], got [${patches.shape.join(', ')}] and [${words.shape.join(', ')}]`);
    }
    const [N, , d] = patches.shape as [number, number, number];
    const [Nw, W, dw] = words.shape as [number, number, number];
    if (Nw !== N || dw !== d) {
      throw new Error(`CrossAttention: patches [${patches.shape.join(', ')}] and words [${words.shape.join(', ')}] differ in batch size or dimension`);
    }
    if (wordMask.rank !== 2 || wordMask.shape[0] !== N || wordMask.shape[1] !== W) {
      throw new Error(`CrossAttention: wordMask has shape [${wordMask.shape.join(', ')}], expected [${N}, ${W}]`);
    }
    return tf.tidy(() => {
      const m = wordMask.cast('float32');
      let sim = tf.matMul(patches, words, false, true); // [N, P, W]
      if (this.scale) sim = sim.mul(1 / Math.sqrt(d));
      const mRow = m.expandDims(1); // [N, 1, W]
      // masked words get −BIG: exactly 0 weight; an all-masked row is zeroed by ·mask
      const scoresA = tf.softmax(sim.add(mRow.sub(1).mul(BIG)), -1).mul(mRow);
      const reportWeightedImage = tf.matMul(scoresA, words);
      const scoresB = tf.softmax(sim.transpose([0, 2, 1]), -1).mul(m.expandDims(2)); // [N, W, P]
      const imageWeightedText = tf.matMul(scoresB, patches);
      return {
        scoresA: scoresA as tf.Tensor3D,
        reportWeightedImage: reportWeightedImage as tf.Tensor3D,
        scoresB: scoresB as tf.Tensor3D,
        imageWeightedText: imageWeightedText as tf.Tensor3D,
      };
    });
  }
}

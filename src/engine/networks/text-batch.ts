// Turns tokenizer encodings into the padded tensors the text encoder reads:
// token ids, attention mask, global-attention mask and, per token, the word
// slot its vector is summed into (METHOD.md §3: sub-word tokens summed per
// word; special and newline tokens, whose word id is null, dropped).
import { tf } from '../backend';

/** What the batcher needs from a tokenizer's Encoding (structurally compatible with it). */
export interface EncodingLike {
  ids: readonly number[];
  /** word index of each token; null for special and newline tokens */
  wordIds: readonly (number | null)[];
  words?: readonly string[];
}

export interface TextBatchOptions {
  /** id written into padded positions (RoBERTa `<pad>` = 1) */
  padId: number;
  /** word slots per report; words beyond are dropped */
  maxWords: number;
  /** longest token sequence; longer ones are cut, keeping a final special token (`</s>`) */
  maxTokens?: number;
  /** give the first token (`<s>`) global attention (default true) */
  globalCls?: boolean;
  /** when given, every id must be below it */
  vocabSize?: number;
  /** names the input in error messages */
  source?: string;
}

export interface TextBatch {
  /** int32 [N, T] */
  inputIds: tf.Tensor2D;
  /** float32 [N, T]: 1 real token, 0 padding */
  attentionMask: tf.Tensor2D;
  /** float32 [N, T]: 1 for tokens with global attention */
  globalAttentionMask: tf.Tensor2D;
  /** int32 [N, T]: word slot of each token in [0, maxWords), −1 for none */
  wordIndex: tf.Tensor2D;
  maxWords: number;
  /** tokens kept per sample */
  lengths: number[];
  /** the words of each sample's slots (for display), up to maxWords */
  words: string[][];
}

/** Reports with more words than the local representation's slots, and the longest one's word count. */
export interface WordOverflow {
  /** encodings whose words do not all fit in maxWords slots */
  over: number;
  /** the most words of any encoding */
  longest: number;
}

/**
 * How many encodings have words that `maxWords` slots leave out of the local
 * representation (the global `<s>` still reads every token). A word is
 * counted from the tokens that carry it, so a report cut by maxTokens counts
 * only what the encoder sees.
 */
export function wordOverflow(encodings: readonly EncodingLike[], maxWords: number): WordOverflow {
  let over = 0;
  let longest = 0;
  for (const e of encodings) {
    let words = 0;
    for (const w of e.wordIds) if (w !== null && w + 1 > words) words = w + 1;
    if (words > maxWords) over++;
    if (words > longest) longest = words;
  }
  return { over, longest };
}

export function disposeTextBatch(b: TextBatch): void {
  b.inputIds.dispose();
  b.attentionMask.dispose();
  b.globalAttentionMask.dispose();
  b.wordIndex.dispose();
}

function truncate(e: EncodingLike, maxTokens: number): { ids: number[]; wordIds: (number | null)[] } {
  const ids = [...e.ids];
  const wordIds = [...e.wordIds];
  if (ids.length <= maxTokens) return { ids, wordIds };
  const lastSpecial = wordIds[wordIds.length - 1] === null;
  if (lastSpecial && maxTokens >= 2) {
    return { ids: [...ids.slice(0, maxTokens - 1), ids[ids.length - 1]!], wordIds: [...wordIds.slice(0, maxTokens - 1), null] };
  }
  return { ids: ids.slice(0, maxTokens), wordIds: wordIds.slice(0, maxTokens) };
}

/** Pads a list of encodings to the longest one. Bad input throws naming `source` and the sample. */
export function batchEncodings(encodings: readonly EncodingLike[], options: TextBatchOptions): TextBatch {
  const source = options.source ?? 'text batch';
  const { padId, maxWords } = options;
  const maxTokens = options.maxTokens ?? Number.POSITIVE_INFINITY;
  if (encodings.length === 0) throw new Error(`${source}: no encodings to batch`);
  if (!Number.isInteger(maxWords) || maxWords < 1) throw new Error(`${source}: maxWords must be a positive integer, got ${maxWords}`);
  if (!(maxTokens >= 1)) throw new Error(`${source}: maxTokens must be ≥ 1, got ${maxTokens}`);
  const rows = encodings.map((e, n) => {
    if (!e || !Array.isArray(e.ids) || !Array.isArray(e.wordIds)) throw new Error(`${source}: sample ${n} is not an encoding (ids and wordIds arrays)`);
    if (e.ids.length === 0) throw new Error(`${source}: sample ${n} has no tokens`);
    if (e.ids.length !== e.wordIds.length) throw new Error(`${source}: sample ${n} has ${e.ids.length} ids but ${e.wordIds.length} word ids`);
    e.ids.forEach((id, t) => {
      if (!Number.isInteger(id) || id < 0 || (options.vocabSize !== undefined && id >= options.vocabSize)) {
        throw new Error(`${source}: sample ${n}, token ${t}: id ${id} is not in the vocabulary [0, ${options.vocabSize ?? '∞'})`);
      }
    });
    e.wordIds.forEach((w, t) => {
      if (w !== null && (!Number.isInteger(w) || w < 0)) throw new Error(`${source}: sample ${n}, token ${t}: word id ${w} must be null or an integer ≥ 0`);
    });
    return truncate(e, maxTokens);
  });
  const N = rows.length;
  const T = Math.max(...rows.map((r) => r.ids.length));
  const ids = new Int32Array(N * T).fill(padId);
  const mask = new Float32Array(N * T);
  const global = new Float32Array(N * T);
  const word = new Int32Array(N * T).fill(-1);
  const globalCls = options.globalCls ?? true;
  rows.forEach((r, n) => {
    r.ids.forEach((id, t) => {
      ids[n * T + t] = id;
      mask[n * T + t] = 1;
      const w = r.wordIds[t];
      if (w !== null && w !== undefined && w < maxWords) word[n * T + t] = w;
    });
    if (globalCls) global[n * T] = 1;
  });
  const words = encodings.map((e) => (e.words ?? []).slice(0, maxWords).map(String));
  return {
    inputIds: tf.tensor2d(ids, [N, T], 'int32'),
    attentionMask: tf.tensor2d(mask, [N, T]),
    globalAttentionMask: tf.tensor2d(global, [N, T]),
    wordIndex: tf.tensor2d(word, [N, T], 'int32'),
    maxWords,
    lengths: rows.map((r) => r.ids.length),
    words,
  };
}

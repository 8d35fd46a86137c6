// The text encoder: HuggingFace LongformerModel (RoBERTa embeddings +
// sliding-window/global self-attention layers), with parameter names equal
// to HF's state dict, plus the per-word local representation.
// follows: METHOD.md §3
import { tf } from '../backend';
import type { TextConfig } from '../../shared/config';
import { Module } from './module';
import type { AttentionContext, AttentionPath } from './longformer-attention';
import { longformerConfigFromHf, longformerConfigFromText, validateLongformerConfig, type LongformerConfig, type VocabInfo } from './longformer-config';
import { LongformerLayer, ModuleList, namedDropout } from './longformer-layer';
import type { Dropout } from './layers/dropout';
import { batchEncodings, type EncodingLike, type TextBatch, type TextBatchOptions } from './text-batch';
import { Embedding, LayerNorm, type InitKind } from './torch-layers';

export interface TextEncoderOptions {
  /** `<s>` (the first token) gets global attention (config `text.globalCls`) */
  globalCls?: boolean;
  /** last layers trained; embeddings and earlier layers frozen; > layers also trains the embeddings */
  trainableLayers?: number;
  /** word slots of the local representation (config `text.maxWords`) */
  maxWords?: number;
  init?: InitKind;
  /** HF initializer_range for 'normal' init */
  initStd?: number;
  seed?: number;
}

export interface TextEncoderInputs {
  /** int32 [N, T] */
  inputIds: tf.Tensor;
  /** [N, T] 1 real, 0 padding (default all 1) */
  attentionMask?: tf.Tensor;
  /** [N, T] 1 for global attention (default none) */
  globalAttentionMask?: tf.Tensor;
  /** int32 [N, T] word slot per token, −1 none (default: no words) */
  wordIndex?: tf.Tensor;
  maxWords?: number;
}

export interface TextEncoderOutput {
  /** [N, hidden]: the `<s>` vector of the last layer (global text representation) */
  cls: tf.Tensor2D;
  /** [N, T, hidden]: last hidden state */
  tokens: tf.Tensor3D;
  /** [N, maxWords, hidden]: sub-word vectors summed per word (zeros in empty slots) */
  words: tf.Tensor3D;
  /** [N, maxWords]: 1 for slots holding a word */
  wordMask: tf.Tensor2D;
}

export interface ForwardOptions {
  training?: boolean;
  /** 'auto' (default): full masked attention for T ≤ 2w, banded beyond */
  attention?: AttentionPath;
}

export class LongformerEmbeddings extends Module {
  readonly wordEmbeddings: Embedding;
  readonly positionEmbeddings: Embedding;
  readonly tokenTypeEmbeddings: Embedding;
  readonly norm: LayerNorm;
  readonly dropout: Dropout;

  constructor(readonly config: LongformerConfig, init: { init?: InitKind; std?: number; seed?: number }) {
    super();
    const c = config;
    const opt = (name: string) => ({ init: init.init ?? 'normal', std: init.std, seed: init.seed, name: `embeddings.${name}`, paddingIdx: c.padTokenId });
    this.wordEmbeddings = this.child('word_embeddings', new Embedding(c.vocabSize, c.hidden, opt('word_embeddings')));
    this.positionEmbeddings = this.child('position_embeddings', new Embedding(c.maxPositions, c.hidden, opt('position_embeddings')));
    this.tokenTypeEmbeddings = this.child('token_type_embeddings', new Embedding(c.typeVocabSize, c.hidden, { ...opt('token_type_embeddings'), paddingIdx: undefined }));
    this.norm = this.child('LayerNorm', new LayerNorm(c.hidden, c.layerNormEps));
    this.dropout = this.child('dropout', namedDropout(c.hiddenDropout, { seed: init.seed, name: 'embeddings.' }));
  }

  /** HF create_position_ids_from_input_ids: pads get padding_idx, others count from padding_idx + 1. */
  positionIds(ids: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const notPad = tf.notEqual(ids, this.config.padTokenId).cast('int32');
      return tf.cumsum(notPad, 1).mul(notPad).add(this.config.padTokenId);
    });
  }

  apply(ids: tf.Tensor, training: boolean): tf.Tensor {
    return tf.tidy(() => {
      const e = this.wordEmbeddings
        .apply(ids)
        .add(this.positionEmbeddings.apply(this.positionIds(ids)))
        .add(this.tokenTypeEmbeddings.apply(tf.zerosLike(ids)));
      return this.dropout.apply(this.norm.apply(e), { training });
    });
  }
}

class LayerStack extends Module {
  readonly layer: ModuleList<LongformerLayer>;
  constructor() {
    super();
    this.layer = this.child('layer', new ModuleList<LongformerLayer>());
  }
}

export class LongformerEncoder extends Module {
  readonly embeddings: LongformerEmbeddings;
  readonly layers: LongformerLayer[];
  readonly globalCls: boolean;
  readonly maxWords: number;
  private _trainableLayers = 0;

  constructor(readonly config: LongformerConfig, options: TextEncoderOptions = {}) {
    super();
    validateLongformerConfig(config, 'text encoder');
    const init = { init: options.init ?? 'normal', std: options.initStd ?? 0.02, seed: options.seed ?? 0 };
    this.embeddings = this.child('embeddings', new LongformerEmbeddings(config, init));
    const stack = this.child('encoder', new LayerStack());
    this.layers = config.attentionWindow.map((w, i) =>
      stack.layer.push(
        new LongformerLayer(
          {
            hidden: config.hidden,
            heads: config.heads,
            intermediate: config.intermediate,
            window: w,
            layerNormEps: config.layerNormEps,
            hiddenDropout: config.hiddenDropout,
            attentionDropout: config.attentionDropout,
          },
          { ...init, name: `encoder.layer.${i}.` },
        ),
      ),
    );
    this.globalCls = options.globalCls ?? true;
    this.maxWords = options.maxWords ?? 128;
    if (!Number.isInteger(this.maxWords) || this.maxWords < 1) throw new Error(`text encoder: maxWords must be a positive integer, got ${this.maxWords}`);
    this.setTrainableLayers(options.trainableLayers ?? 2);
  }

  get hidden(): number {
    return this.config.hidden;
  }

  /** Longest token sequence the position table allows (positions start at pad + 1). */
  get maxTokens(): number {
    return this.config.maxPositions - this.config.padTokenId - 1;
  }

  get trainableLayers(): number {
    return this._trainableLayers;
  }

  /** Trains the last `n` layers; embeddings and earlier layers frozen (n > layers also trains the embeddings). */
  setTrainableLayers(n: number): void {
    if (!Number.isInteger(n) || n < 0) throw new Error(`text encoder: trainableLayers must be an integer ≥ 0, got ${n}`);
    const L = this.layers.length;
    this._trainableLayers = n;
    this.embeddings.setFrozen(n <= L);
    this.layers.forEach((layer, i) => layer.setFrozen(i < L - n));
  }

  /** Pads encodings for this encoder (its pad id, maxWords, maxTokens, globalCls). */
  batch(encodings: readonly EncodingLike[], options: Partial<TextBatchOptions> = {}): TextBatch {
    return batchEncodings(encodings, {
      padId: this.config.padTokenId,
      maxWords: this.maxWords,
      maxTokens: this.maxTokens,
      globalCls: this.globalCls,
      vocabSize: this.config.vocabSize,
      ...options,
    });
  }

  forward(inputs: TextEncoderInputs, options: ForwardOptions = {}): TextEncoderOutput {
    const { inputIds } = inputs;
    if (inputIds.rank !== 2) throw new Error(`text encoder: inputIds must be [N, T], got shape [${inputIds.shape.join(', ')}]`);
    const [N, T] = inputIds.shape as [number, number];
    for (const [name, t] of [['attentionMask', inputs.attentionMask], ['globalAttentionMask', inputs.globalAttentionMask], ['wordIndex', inputs.wordIndex]] as const) {
      if (t && (t.rank !== 2 || t.shape[0] !== N || t.shape[1] !== T)) {
        throw new Error(`text encoder: ${name} has shape [${t.shape.join(', ')}], expected [${N}, ${T}] like inputIds`);
      }
    }
    if (T < 1) throw new Error('text encoder: empty token sequence');
    if (T > this.maxTokens) {
      throw new Error(`text encoder: ${T} tokens exceed the ${this.maxTokens} the position table allows (max_position_embeddings ${this.config.maxPositions}); truncate the reports`);
    }
    const ids = inputIds.dataSync();
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!Number.isInteger(id) || id < 0 || id >= this.config.vocabSize) {
        throw new Error(`text encoder: token id ${id} at [${Math.floor(i / T)}, ${i % T}] is outside the vocabulary of ${this.config.vocabSize}`);
      }
    }
    const maxWords = inputs.maxWords ?? this.maxWords;
    const training = options.training ?? false;
    return tf.tidy(() => {
      const valid = inputs.attentionMask ? inputs.attentionMask.cast('float32') : tf.ones([N, T]);
      // HF merges the masks as attention_mask · (global + 1): padding never becomes global
      const global = inputs.globalAttentionMask ? inputs.globalAttentionMask.cast('float32').greater(0).cast('float32').mul(valid) : tf.zeros([N, T]);
      const { select, slotValid } = globalSelection(global);
      const ctx: AttentionContext = { valid, global, select, slotValid, training, path: options.attention ?? 'auto' };
      let h = this.embeddings.apply(inputIds.cast('int32'), training);
      for (const layer of this.layers) h = layer.apply(h, ctx);
      const cls = h.slice([0, 0, 0], [N, 1, this.hidden]).reshape([N, this.hidden]);
      let words: tf.Tensor;
      let wordMask: tf.Tensor;
      if (inputs.wordIndex) {
        const assign = tf.oneHot(inputs.wordIndex.cast('int32'), maxWords).cast('float32'); // [N, T, W]; −1 → zero row
        words = tf.matMul(assign, h, true, false);
        wordMask = assign.sum(1).greater(0).cast('float32');
      } else {
        words = tf.zeros([N, maxWords, this.hidden]);
        wordMask = tf.zeros([N, maxWords]);
      }
      return { cls: cls as tf.Tensor2D, tokens: h as tf.Tensor3D, words: words as tf.Tensor3D, wordMask: wordMask as tf.Tensor2D };
    });
  }

  /** The small encoder of the experiment config (`text` section), vocabulary from the tokenizer. */
  static fromTextConfig(text: TextConfig, vocab: VocabInfo, options: Pick<TextEncoderOptions, 'seed' | 'init'> = {}): LongformerEncoder {
    return new LongformerEncoder(longformerConfigFromText(text, vocab), { ...textEncoderOptions(text), ...options });
  }

  /** An encoder shaped by a HuggingFace `config.json` object (weights not loaded). */
  static fromHfConfig(obj: unknown, source: string, options: TextEncoderOptions = {}): LongformerEncoder {
    const raw = obj as Record<string, unknown>;
    const std = typeof raw?.initializer_range === 'number' ? raw.initializer_range : undefined;
    return new LongformerEncoder(longformerConfigFromHf(obj, source), { initStd: std, ...options });
  }
}

/** [N, T] global mask → one-hot rows [N, G, T] of each sample's global tokens and [N, G] slot validity. */
function globalSelection(global: tf.Tensor): { select: tf.Tensor | null; slotValid: tf.Tensor | null } {
  const [N, T] = global.shape as [number, number];
  const g = global.dataSync();
  const positions: number[][] = [];
  for (let n = 0; n < N; n++) {
    const p: number[] = [];
    for (let t = 0; t < T; t++) if (g[n * T + t]! > 0) p.push(t);
    positions.push(p);
  }
  const G = Math.max(0, ...positions.map((p) => p.length));
  if (G === 0) return { select: null, slotValid: null };
  const sel = new Float32Array(N * G * T);
  const slot = new Float32Array(N * G);
  positions.forEach((p, n) =>
    p.forEach((t, s) => {
      sel[(n * G + s) * T + t] = 1;
      slot[n * G + s] = 1;
    }),
  );
  return { select: tf.tensor3d(sel, [N, G, T]), slotValid: tf.tensor2d(slot, [N, G]) };
}

/** The encoder options the `text` config section sets (also for loadHfTextEncoder). */
export function textEncoderOptions(text: TextConfig): Pick<TextEncoderOptions, 'globalCls' | 'trainableLayers' | 'maxWords'> {
  return { globalCls: text.globalCls, trainableLayers: text.trainableLayers, maxWords: text.maxWords };
}

/** The small default text encoder from the experiment config. */
export function createTextEncoder(text: TextConfig, vocab: VocabInfo, options: Pick<TextEncoderOptions, 'seed' | 'init'> = {}): LongformerEncoder {
  return LongformerEncoder.fromTextConfig(text, vocab, options);
}

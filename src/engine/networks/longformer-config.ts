// The Longformer's architecture numbers, from this project's `text` config
// section or from a HuggingFace `config.json`.
// follows: METHOD.md §3
import type { TextConfig } from '../../shared/config';

export interface LongformerConfig {
  vocabSize: number;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  /** sliding-window size w per layer (even); a token sees w/2 neighbours each side */
  attentionWindow: number[];
  maxPositions: number;
  typeVocabSize: number;
  /** RoBERTa's padding_idx: pad tokens' position id, positions start at pad + 1 */
  padTokenId: number;
  layerNormEps: number;
  hiddenDropout: number;
  attentionDropout: number;
}

/** The vocabulary facts the encoder needs from a tokenizer. */
export interface VocabInfo {
  size: number;
  padId: number;
}

/** Checks the numbers fit together; throws naming `source`. */
export function validateLongformerConfig(c: LongformerConfig, source: string): LongformerConfig {
  const problems: string[] = [];
  const posInt = (name: string, v: number, min = 1) => {
    if (!Number.isInteger(v) || v < min) problems.push(`${name} must be an integer ≥ ${min}, got ${v}`);
  };
  posInt('vocabulary size', c.vocabSize);
  posInt('hidden size', c.hidden);
  posInt('layers', c.layers);
  posInt('heads', c.heads);
  posInt('intermediate size', c.intermediate);
  posInt('max positions', c.maxPositions);
  posInt('token types', c.typeVocabSize);
  posInt('pad token id', c.padTokenId, 0);
  if (Number.isInteger(c.hidden) && Number.isInteger(c.heads) && c.heads > 0 && c.hidden % c.heads !== 0) {
    problems.push(`hidden size ${c.hidden} is not a multiple of the ${c.heads} heads`);
  }
  if (c.attentionWindow.length !== c.layers) {
    problems.push(`attention window lists ${c.attentionWindow.length} values for ${c.layers} layers`);
  }
  c.attentionWindow.forEach((w, i) => {
    if (!Number.isInteger(w) || w < 2 || w % 2 !== 0) problems.push(`attention window of layer ${i} must be an even integer ≥ 2, got ${w}`);
  });
  if (c.padTokenId >= c.vocabSize) problems.push(`pad token id ${c.padTokenId} is outside the vocabulary of ${c.vocabSize}`);
  if (c.maxPositions <= c.padTokenId + 1) problems.push(`max positions ${c.maxPositions} leaves no room after the padding offset ${c.padTokenId + 1}`);
  if (!(c.layerNormEps > 0)) problems.push(`layer-norm eps must be positive, got ${c.layerNormEps}`);
  for (const [name, p] of [['hidden dropout', c.hiddenDropout], ['attention dropout', c.attentionDropout]] as const) {
    if (!(p >= 0 && p < 1)) problems.push(`${name} must be in [0, 1), got ${p}`);
  }
  if (problems.length) throw new Error(`${source}: invalid Longformer configuration: ${problems.join('; ')}`);
  return c;
}

/** The small encoder of the experiment config (trained from scratch). */
export function longformerConfigFromText(text: TextConfig, vocab: VocabInfo): LongformerConfig {
  return validateLongformerConfig(
    {
      vocabSize: vocab.size,
      hidden: text.hidden,
      layers: text.layers,
      heads: text.heads,
      intermediate: text.intermediate,
      attentionWindow: new Array<number>(text.layers).fill(text.attentionWindow),
      maxPositions: text.maxPositions,
      typeVocabSize: 1,
      padTokenId: vocab.padId,
      layerNormEps: 1e-5,
      hiddenDropout: text.dropout,
      attentionDropout: text.dropout,
    },
    'text config',
  );
}

type Json = Record<string, unknown>;

function num(obj: Json, key: string, source: string, def?: number): number {
  const v = obj[key];
  if (v === undefined || v === null) {
    if (def !== undefined) return def;
    throw new Error(`${source}: "${key}" is missing`);
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${source}: "${key}" must be a number, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Reads a HuggingFace LongformerModel `config.json` object. Anything this
 * engine does not implement (another model type, another activation,
 * relative positions) is an error naming `source`.
 */
export function longformerConfigFromHf(obj: unknown, source: string): LongformerConfig {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new Error(`${source}: expected a JSON object`);
  const o = obj as Json;
  const type = o.model_type;
  if (type !== 'longformer') {
    throw new Error(
      `${source}: model_type ${JSON.stringify(type)} is not supported; only "longformer" (HF LongformerModel, e.g. Clinical-Longformer) can be loaded`,
    );
  }
  const act = o.hidden_act ?? 'gelu';
  if (act !== 'gelu') throw new Error(`${source}: hidden_act ${JSON.stringify(act)} is not supported (only "gelu", the exact erf GELU)`);
  const pet = o.position_embedding_type ?? 'absolute';
  if (pet !== 'absolute') throw new Error(`${source}: position_embedding_type ${JSON.stringify(pet)} is not supported (only "absolute")`);
  const layers = num(o, 'num_hidden_layers', source);
  const aw = o.attention_window;
  let windows: number[];
  if (typeof aw === 'number') windows = new Array<number>(Math.max(0, layers)).fill(aw);
  else if (Array.isArray(aw) && aw.every((v) => typeof v === 'number')) windows = aw as number[];
  else throw new Error(`${source}: "attention_window" must be a number or a list of numbers, got ${JSON.stringify(aw)}`);
  return validateLongformerConfig(
    {
      vocabSize: num(o, 'vocab_size', source),
      hidden: num(o, 'hidden_size', source),
      layers,
      heads: num(o, 'num_attention_heads', source),
      intermediate: num(o, 'intermediate_size', source),
      attentionWindow: windows,
      maxPositions: num(o, 'max_position_embeddings', source),
      typeVocabSize: num(o, 'type_vocab_size', source, 2),
      padTokenId: num(o, 'pad_token_id', source, 1),
      layerNormEps: num(o, 'layer_norm_eps', source, 1e-12),
      hiddenDropout: num(o, 'hidden_dropout_prob', source, 0.1),
      attentionDropout: num(o, 'attention_probs_dropout_prob', source, 0.1),
    },
    source,
  );
}

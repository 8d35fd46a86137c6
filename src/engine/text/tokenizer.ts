// Report tokenizers: byte-level BPE (RoBERTa / Longformer layout) run by
// @huggingface/tokenizers, loaded from a HuggingFace tokenizer.json or from
// vocab.json + merges.txt, with the word map the local text representation
// needs. One on-disk format: tokenizer.json (the corpus tokenizer too).
import { existsSync, statSync } from 'node:fs';
import { BoundedReadError, READ_LIMITS, readTextBounded } from '../io/bounded-read';
import { basename, dirname, join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { writeFileAtomic } from '../io/atomic';
import { buildWordMap, decodeTokens } from './words';

export interface Encoding {
  ids: number[];
  /** Byte-level token strings ("Ġtumour"); use `words` for display. */
  tokens: string[];
  /** Per token: the index of the word it belongs to, null for special and newline tokens. */
  wordIds: (number | null)[];
  /** The word strings, without their leading space. */
  words: string[];
}

export interface EncodeOptions {
  /** Longest encoding, `<s>` and `</s>` included (≥ 2). Longer texts are cut before `</s>`. */
  maxTokens?: number;
}

export interface ReportTokenizer {
  /** `<s>` text `</s>`, with the word map (METHOD.md §3). */
  encode(text: string, options?: EncodeOptions): Encoding;
  /** Ids → text, special tokens skipped; exact inverse of `encode` for byte-level BPE. */
  decode(ids: readonly number[]): string;
  /** Largest id + 1 (the embedding table size). */
  readonly vocabSize: number;
  readonly padId: number;
  readonly bosId: number;
  readonly eosId: number;
  /** The HuggingFace tokenizer.json object (treat as read-only). */
  toJSON(): object;
}

export interface AddedTokenJson {
  id: number;
  content: string;
  single_word: boolean;
  lstrip: boolean;
  rstrip: boolean;
  normalized: boolean;
  special: boolean;
}

/** The parts of a HuggingFace tokenizer.json this project reads. */
export interface TokenizerJson {
  version: string;
  truncation: unknown;
  padding: unknown;
  added_tokens: AddedTokenJson[];
  normalizer: unknown;
  pre_tokenizer: unknown;
  post_processor: unknown;
  decoder: unknown;
  model: { type: 'BPE'; vocab: Record<string, number>; merges: (string | [string, string])[] } & Record<string, unknown>;
}

export type Merge = readonly [string, string];

const ROBERTA_SPECIALS = ['<s>', '<pad>', '</s>', '<unk>', '<mask>'];

/** A tokenizer.json in the layout of RoBERTa / Clinical-Longformer. */
export function robertaTokenizerJson(vocab: Record<string, number>, merges: readonly Merge[]): TokenizerJson {
  const added_tokens = ROBERTA_SPECIALS.filter((t) => Object.hasOwn(vocab, t)).map((content) => ({
    id: vocab[content]!,
    content,
    single_word: false,
    lstrip: content === '<mask>',
    rstrip: false,
    normalized: false,
    special: true,
  }));
  const id = (t: string) => vocab[t] ?? -1;
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens,
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { type: 'RobertaProcessing', sep: ['</s>', id('</s>')], cls: ['<s>', id('<s>')], trim_offsets: true, add_prefix_space: false },
    decoder: { ...byteLevel, add_prefix_space: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function isByteLevel(pre: unknown): boolean {
  if (!isObject(pre)) return false;
  if (pre.type === 'ByteLevel') return true;
  return pre.type === 'Sequence' && Array.isArray(pre.pretokenizers) && pre.pretokenizers.some(isByteLevel);
}

/** Checks a parsed tokenizer.json and fills the keys the runtime requires. */
function checkTokenizerJson(obj: unknown, source: string): TokenizerJson {
  const fail = (problem: string): never => {
    throw new Error(`${source}: ${problem}`);
  };
  if (!isObject(obj)) return fail('not a tokenizer.json object');
  const model = obj.model;
  if (!isObject(model)) return fail('no "model" object (a vocab.json? give its folder with merges.txt instead)');
  if (model.type !== 'BPE') return fail(`model type ${JSON.stringify(model.type)} is not supported; a byte-level BPE is expected`);
  if (!isByteLevel(obj.pre_tokenizer)) return fail('pre_tokenizer is not ByteLevel; a byte-level BPE is expected');
  checkVocab(model.vocab, source);
  if (!Array.isArray(model.merges)) return fail('model.merges is not an array');
  model.merges.forEach((m, i) => {
    const ok = typeof m === 'string' ? m.split(' ').length === 2 : Array.isArray(m) && m.length === 2 && m.every((p) => typeof p === 'string');
    if (!ok) fail(`model.merges[${i}] is not a pair of tokens: ${JSON.stringify(m)}`);
  });
  const added = obj.added_tokens ?? [];
  if (!Array.isArray(added)) return fail('added_tokens is not an array');
  added.forEach((t, i) => {
    if (!isObject(t) || typeof t.content !== 'string' || !Number.isInteger(t.id) || (t.id as number) < 0) fail(`added_tokens[${i}] needs a string "content" and an integer "id"`);
  });
  return {
    ...obj,
    truncation: obj.truncation ?? null,
    padding: obj.padding ?? null,
    added_tokens: added as AddedTokenJson[],
    normalizer: obj.normalizer ?? null,
    pre_tokenizer: obj.pre_tokenizer,
    post_processor: obj.post_processor ?? null,
    decoder: obj.decoder ?? null,
    version: typeof obj.version === 'string' ? obj.version : '1.0',
    model: model as TokenizerJson['model'],
  };
}

function checkVocab(vocab: unknown, source: string): asserts vocab is Record<string, number> {
  if (!isObject(vocab)) throw new Error(`${source}: the vocabulary is not an object of token → id`);
  const seen = new Map<number, string>();
  for (const [tok, id] of Object.entries(vocab)) {
    if (!Number.isInteger(id) || (id as number) < 0) throw new Error(`${source}: token ${JSON.stringify(tok)} has id ${JSON.stringify(id)}, not a non-negative integer`);
    const other = seen.get(id as number);
    if (other !== undefined) throw new Error(`${source}: tokens ${JSON.stringify(other)} and ${JSON.stringify(tok)} share id ${id}`);
    seen.set(id as number, tok);
  }
}

/** Special token ids: `<s>`/`</s>` from a RobertaProcessing post-processor, else by name. */
function specialId(json: TokenizerJson, name: '<s>' | '</s>' | '<pad>', source: string): number {
  const post = json.post_processor;
  if (isObject(post) && post.type === 'RobertaProcessing' && name !== '<pad>') {
    const pair = name === '<s>' ? post.cls : post.sep;
    if (Array.isArray(pair) && Number.isInteger(pair[1]) && pair[1] >= 0) return pair[1] as number;
  }
  const added = json.added_tokens.find((t) => t.content === name);
  const id = added?.id ?? json.model.vocab[name];
  if (id === undefined) throw new Error(`${source}: no ${name} token; a RoBERTa-style vocabulary (<s>, <pad>, </s>) is expected`);
  return id;
}

class BpeReportTokenizer implements ReportTokenizer {
  readonly vocabSize: number;
  readonly padId: number;
  readonly bosId: number;
  readonly eosId: number;
  private readonly tk: Tokenizer;
  private readonly idToToken: Map<number, string>;
  private readonly specialIds: Set<number>;

  constructor(
    private readonly json: TokenizerJson,
    private readonly source: string,
  ) {
    try {
      this.tk = new Tokenizer(json, {});
    } catch (e) {
      throw new Error(`${source}: cannot build the tokenizer: ${(e as Error).message}`);
    }
    this.bosId = specialId(json, '<s>', source);
    this.eosId = specialId(json, '</s>', source);
    this.padId = specialId(json, '<pad>', source);
    this.idToToken = new Map(Object.entries(json.model.vocab).map(([t, id]) => [id, t]));
    for (const t of json.added_tokens) this.idToToken.set(t.id, t.content);
    for (const id of [this.bosId, this.eosId, this.padId]) {
      if (!this.idToToken.has(id)) throw new Error(`${source}: special token id ${id} is not in the vocabulary`);
    }
    this.specialIds = new Set([this.bosId, this.eosId, this.padId, ...json.added_tokens.filter((t) => t.special).map((t) => t.id)]);
    let maxId = -1;
    for (const id of this.idToToken.keys()) maxId = Math.max(maxId, id);
    this.vocabSize = maxId + 1;
  }

  encode(text: string, options: EncodeOptions = {}): Encoding {
    if (typeof text !== 'string') throw new Error(`${this.source}: encode expects a string, got ${typeof text}`);
    const max = options.maxTokens;
    if (max !== undefined && (!Number.isInteger(max) || max < 2)) {
      throw new Error(`${this.source}: maxTokens must be an integer ≥ 2 (room for <s> and </s>), got ${max}`);
    }
    const raw = this.tk.encode(text, { add_special_tokens: false });
    // Truncation keeps `</s>`: the Longformer's inputs always end with it.
    const n = max === undefined ? raw.ids.length : Math.min(raw.ids.length, max - 2);
    const body = raw.ids.slice(0, n);
    body.forEach((id, i) => {
      if (typeof id !== 'number') throw new Error(`${this.source}: token ${JSON.stringify(raw.tokens[i])} is not in the vocabulary and there is no unknown token`);
    });
    const ids = [this.bosId, ...body, this.eosId];
    const tokens = ids.map((id) => this.idToToken.get(id)!);
    const { wordIds, words } = buildWordMap(tokens, (i) => this.specialIds.has(ids[i]!));
    return { ids, tokens, wordIds, words };
  }

  decode(ids: readonly number[]): string {
    const tokens: string[] = [];
    for (const id of ids) {
      const tok = this.idToToken.get(id);
      if (tok === undefined) throw new Error(`${this.source}: id ${id} is not in the vocabulary`);
      if (!this.specialIds.has(id)) tokens.push(tok);
    }
    return decodeTokens(tokens);
  }

  toJSON(): TokenizerJson {
    return this.json;
  }
}

/** A tokenizer from a parsed tokenizer.json object; `source` names it in errors. */
export function tokenizerFromJson(json: unknown, source = 'tokenizer.json'): ReportTokenizer {
  return new BpeReportTokenizer(checkTokenizerJson(json, source), source);
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readTextBounded(path, { maxBytes: READ_LIMITS.tokenizer, what: 'tokenizer file' });
  } catch (e) {
    if (e instanceof BoundedReadError) throw e;
    throw new Error(`${path}: cannot read: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: invalid JSON: ${(e as Error).message}`);
  }
}

/** Parses merges.txt: an optional "#version" line, then "left right" per line. */
export function parseMerges(text: string, source: string): Merge[] {
  const merges: Merge[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line === '' || (i === 0 && line.startsWith('#version'))) return;
    const parts = line.split(' ');
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') {
      throw new Error(`${source}:${i + 1}: expected two tokens separated by one space, got ${JSON.stringify(line)}`);
    }
    merges.push([parts[0]!, parts[1]!]);
  });
  return merges;
}

function loadVocabMerges(vocabPath: string, mergesPath: string): ReportTokenizer {
  const vocab = readJson(vocabPath);
  checkVocab(vocab, vocabPath);
  let text: string;
  try {
    text = readTextBounded(mergesPath, { maxBytes: READ_LIMITS.tokenizer, what: 'tokenizer file' });
  } catch (e) {
    if (e instanceof BoundedReadError) throw e;
    throw new Error(`${mergesPath}: cannot read: ${(e as Error).message}`);
  }
  const merges = parseMerges(text, mergesPath);
  for (const [i, [a, b]] of merges.entries()) {
    for (const t of [a, b, a + b]) {
      if (!Object.hasOwn(vocab, t)) throw new Error(`${mergesPath}:${i + 1}: token ${JSON.stringify(t)} is not in ${basename(vocabPath)}`);
    }
  }
  return tokenizerFromJson(robertaTokenizerJson(vocab, merges), vocabPath);
}

/**
 * Loads a byte-level BPE tokenizer: a tokenizer.json file, a vocab.json or
 * merges.txt file (its partner read from the same folder), or a folder
 * holding tokenizer.json or vocab.json + merges.txt.
 */
export function loadTokenizer(pathOrDir: string): ReportTokenizer {
  if (!existsSync(pathOrDir)) throw new Error(`${pathOrDir}: no such file or folder`);
  if (statSync(pathOrDir).isDirectory()) {
    const tj = join(pathOrDir, 'tokenizer.json');
    if (existsSync(tj)) return tokenizerFromJson(readJson(tj), tj);
    const vj = join(pathOrDir, 'vocab.json');
    const mt = join(pathOrDir, 'merges.txt');
    if (existsSync(vj) && existsSync(mt)) return loadVocabMerges(vj, mt);
    throw new Error(`${pathOrDir}: holds neither tokenizer.json nor vocab.json + merges.txt`);
  }
  const name = basename(pathOrDir);
  if (name === 'vocab.json' || name === 'merges.txt') {
    const dir = dirname(pathOrDir);
    const [vj, mt] = [join(dir, 'vocab.json'), join(dir, 'merges.txt')];
    const partner = name === 'vocab.json' ? mt : vj;
    if (!existsSync(partner)) throw new Error(`${pathOrDir}: ${basename(partner)} is missing beside it`);
    return loadVocabMerges(vj, mt);
  }
  return tokenizerFromJson(readJson(pathOrDir), pathOrDir);
}

/** Writes the tokenizer as tokenizer.json (into `path`, or `path/tokenizer.json` for a folder), atomically. */
export function saveTokenizer(tokenizer: ReportTokenizer, path: string): string {
  const target = existsSync(path) && statSync(path).isDirectory() ? join(path, 'tokenizer.json') : path;
  const dir = dirname(target);
  if (!existsSync(dir)) throw new Error(`${target}: folder ${dir} does not exist`);
  writeFileAtomic(target, [new TextEncoder().encode(JSON.stringify(tokenizer.toJSON(), null, 2) + '\n')]);
  return target;
}

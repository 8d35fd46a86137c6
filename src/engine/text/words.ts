// Byte-level symbols (GPT-2 / RoBERTa) and the token → word map.
//
// Byte-level BPE writes every byte as one printable character, so a token
// string such as "Ġtum" stands for the bytes " tum". The word map groups
// tokens into the words the local text representation is built from.
// follows: METHOD.md §3 (sub-word tokens summed per word; a token starting
// with `Ġ` begins a new word; newline and special tokens dropped)

/** GPT-2's printable stand-in for each byte: printable Latin-1 bytes map to
 * themselves, the rest to U+0100 onwards in byte order. */
export const BYTE_TO_CHAR: readonly string[] = (() => {
  const keep: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) keep.push(b);
  for (let b = 0xa1; b <= 0xac; b++) keep.push(b);
  for (let b = 0xae; b <= 0xff; b++) keep.push(b);
  const kept = new Set(keep);
  const out: string[] = new Array<string>(256);
  let n = 0;
  for (let b = 0; b < 256; b++) out[b] = kept.has(b) ? String.fromCharCode(b) : String.fromCharCode(256 + n++);
  return out;
})();

export const CHAR_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

/** The 256 byte symbols sorted by code point: the order HF's BPE trainer
 * gives the initial alphabet, so ids (and tie-breaks) agree with it. */
export const BYTE_ALPHABET: readonly string[] = [...BYTE_TO_CHAR].sort((a, b) => a.charCodeAt(0) - b.charCodeAt(0));

/** GPT-2's pre-tokenizer pattern (byte-level BPE, `use_regex: true`); global, so use it with match/matchAll only. */
export const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: false });

/** Text → its byte-level symbol string ("a b" → "aĠb"). */
export function toByteSymbols(text: string): string {
  let s = '';
  for (const b of utf8.encode(text)) s += BYTE_TO_CHAR[b];
  return s;
}

/** Byte-level token string → its bytes. A token that is not made of byte
 * symbols (e.g. an added token "<mask>") stands for its own UTF-8 text. */
export function tokenBytes(token: string): Uint8Array {
  const out = new Uint8Array(token.length);
  let i = 0;
  for (const ch of token) {
    const b = CHAR_TO_BYTE.get(ch);
    if (b === undefined) return utf8.encode(token);
    out[i++] = b;
  }
  return out.subarray(0, i);
}

/** Decodes concatenated byte-level token strings to text (invalid UTF-8,
 * e.g. a word cut inside a multi-byte character, becomes U+FFFD). */
export function decodeTokens(tokens: readonly string[]): string {
  const parts = tokens.map(tokenBytes);
  const total = parts.reduce((n, p) => n + p.length, 0);
  const all = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.length;
  }
  return utf8Decoder.decode(all);
}

export interface WordMap {
  /** Per token: index into `words`, or null for special and whitespace-only tokens. */
  wordIds: (number | null)[];
  /** Word strings without their leading space. */
  words: string[];
}

const ONLY_SPACE = /^\s*$/u;
const LEADING_SPACE = /^\s+/u;

/**
 * Groups tokens into words. A token begins a new word when it starts with
 * `Ġ` (a space byte), when it is the first word token, or when it follows a
 * dropped token (special, newline or other whitespace-only token): text
 * after a newline has no `Ġ` yet is a new word. Every other token continues
 * the current word, so "tumour." groups "Ġtumour" and ".".
 */
export function buildWordMap(tokens: readonly string[], isSpecial: (index: number) => boolean): WordMap {
  const wordIds: (number | null)[] = [];
  const wordTokens: string[][] = [];
  let current: string[] | null = null;
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    if (isSpecial(i) || ONLY_SPACE.test(decodeTokens([tok]))) {
      wordIds.push(null);
      current = null;
      continue;
    }
    if (current === null || tok.startsWith('Ġ')) {
      current = [];
      wordTokens.push(current);
    }
    current.push(tok);
    wordIds.push(wordTokens.length - 1);
  }
  const words = wordTokens.map((t) => decodeTokens(t).replace(LEADING_SPACE, ''));
  return { wordIds, words };
}

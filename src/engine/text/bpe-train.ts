// The corpus tokenizer: a small byte-level BPE learnt from the training
// reports, for the small text encoder trained from scratch (METHOD.md §3).
//
// Same algorithm and tie-break as HuggingFace's BpeTrainer, so its merges
// can be checked against it: repeatedly merge the most frequent adjacent
// pair (counted over pre-tokenized words, weighted by word frequency);
// ties go to the pair with the smaller (left id, right id). Ids: <s>=0,
// <pad>=1, </s>=2, <unk>=3, then the 256 byte symbols in code-point order,
// then merged tokens in the order they were learnt.
//
// Privacy rule (minDocuments): a pair is merged only when it occurs in at
// least minDocuments distinct texts (counted over the words that hold it at
// that point), so no learnt token comes from a single report; a pair that
// fails is skipped, not a stop. The 256 byte symbols are always there, so
// any text still encodes. `effectiveMinDocuments` lowers the threshold for a
// tiny corpus (fewer than 2·minDocuments reports) to half the reports, never
// below 2 while the rule is on.
import { BYTE_ALPHABET, GPT2_SPLIT, toByteSymbols } from './words';
import { robertaTokenizerJson, tokenizerFromJson, type Merge, type ReportTokenizer, type TokenizerJson } from './tokenizer';

export interface CorpusTokenizerOptions {
  /** Target vocabulary size, special tokens and the 256 byte symbols included (≥ 260). */
  vocabSize: number;
  /** A pair seen fewer times than this is never merged (≥ 1). */
  minFrequency: number;
  /** A pair found in fewer distinct texts than this is never merged (≥ 1; default 1: no rule). */
  minDocuments?: number;
}

/**
 * The minDocuments actually applied to a corpus of `reports` texts: the
 * configured value when there are at least twice as many reports, else half
 * the reports (rounded down), never below 2; 1 (rule off) stays 1.
 */
export function effectiveMinDocuments(minDocuments: number, reports: number): number {
  if (minDocuments <= 1 || reports >= 2 * minDocuments) return minDocuments;
  return Math.max(2, Math.min(minDocuments, Math.floor(reports / 2)));
}

export const CORPUS_SPECIALS = ['<s>', '<pad>', '</s>', '<unk>'] as const;
const SPECIAL_SPLIT = /<s>|<\/s>|<pad>|<unk>/;

// Pair keys pack (left, right) into one safe integer.
const SHIFT = 2 ** 24;
const key = (a: number, b: number) => a * SHIFT + b;

/** Max-heap of (count, pair), smaller pair first among equal counts. */
class PairHeap {
  private readonly items: { count: number; a: number; b: number }[] = [];
  get size(): number {
    return this.items.length;
  }
  private before(i: number, j: number): boolean {
    const x = this.items[i]!;
    const y = this.items[j]!;
    if (x.count !== y.count) return x.count > y.count;
    return x.a !== y.a ? x.a < y.a : x.b < y.b;
  }
  private swap(i: number, j: number): void {
    const t = this.items[i]!;
    this.items[i] = this.items[j]!;
    this.items[j] = t;
  }
  push(count: number, a: number, b: number): void {
    this.items.push({ count, a, b });
    for (let i = this.items.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!this.before(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }
  pop(): { count: number; a: number; b: number } {
    const top = this.items[0]!;
    const last = this.items.pop()!;
    if (this.items.length > 0) {
      this.items[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.items.length && this.before(l, m)) m = l;
        if (r < this.items.length && this.before(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top;
  }
}

function checkOptions(texts: unknown, options: CorpusTokenizerOptions): void {
  if (!Array.isArray(texts) || texts.some((t) => typeof t !== 'string')) {
    throw new Error('trainCorpusTokenizer: texts must be an array of strings');
  }
  const { vocabSize, minFrequency } = options;
  const min = CORPUS_SPECIALS.length + 256;
  if (!Number.isInteger(vocabSize) || vocabSize < min) {
    throw new Error(`trainCorpusTokenizer: vocabSize must be an integer ≥ ${min} (special tokens + 256 bytes), got ${vocabSize}`);
  }
  if (!Number.isInteger(minFrequency) || minFrequency < 1) {
    throw new Error(`trainCorpusTokenizer: minFrequency must be an integer ≥ 1, got ${minFrequency}`);
  }
  const { minDocuments = 1 } = options;
  if (!Number.isInteger(minDocuments) || minDocuments < 1) {
    throw new Error(`trainCorpusTokenizer: minDocuments must be an integer ≥ 1, got ${minDocuments}`);
  }
}

/** Pre-tokenized words (byte symbols) of the corpus with their counts, special-token strings left out. */
export function corpusWordCounts(texts: readonly string[]): Map<string, number> {
  return new Map([...corpusWords(texts)].map(([w, { count }]) => [w, count]));
}

/** Pre-tokenized words with their counts and the indices of the texts holding them. */
function corpusWords(texts: readonly string[]): Map<string, { count: number; docs: Set<number> }> {
  const words = new Map<string, { count: number; docs: Set<number> }>();
  texts.forEach((text, d) => {
    for (const part of text.split(SPECIAL_SPLIT)) {
      for (const piece of part.match(GPT2_SPLIT) ?? []) {
        const w = toByteSymbols(piece);
        let e = words.get(w);
        if (!e) words.set(w, (e = { count: 0, docs: new Set() }));
        e.count++;
        e.docs.add(d);
      }
    }
  });
  return words;
}

/** Learns the vocabulary and merges (the trainer behind `trainCorpusTokenizer`). */
export function learnBpe(texts: readonly string[], options: CorpusTokenizerOptions): { vocab: Record<string, number>; merges: Merge[] } {
  checkOptions(texts, options);
  const idToTok: string[] = [...CORPUS_SPECIALS, ...BYTE_ALPHABET];
  const tokToId = new Map(idToTok.map((t, i) => [t, i]));

  // Words as symbol-id arrays; sorted so the work order is fixed too.
  const wc = [...corpusWords(texts)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const words = wc.map(([w]) => Array.from(w, (ch) => tokToId.get(ch)!));
  const freq = wc.map(([, e]) => e.count);
  const docsOf = wc.map(([, e]) => e.docs);
  const minDocuments = options.minDocuments ?? 1;
  /** Distinct texts in which the pair (a, b) occurs now. */
  const pairDocs = (a: number, b: number): number => {
    const docs = new Set<number>();
    for (const w of where.get(key(a, b)) ?? []) {
      const sym = words[w]!;
      if (sym.some((s, i) => s === a && sym[i + 1] === b)) for (const d of docsOf[w]!) docs.add(d);
      if (docs.size >= minDocuments) break;
    }
    return docs.size;
  };

  const pairCount = new Map<number, number>();
  const where = new Map<number, Set<number>>();
  const add = (a: number, b: number, n: number, w: number) => {
    const k = key(a, b);
    pairCount.set(k, (pairCount.get(k) ?? 0) + n);
    if (n > 0) {
      let s = where.get(k);
      if (!s) where.set(k, (s = new Set()));
      s.add(w);
    }
  };
  words.forEach((sym, w) => {
    for (let i = 0; i + 1 < sym.length; i++) add(sym[i]!, sym[i + 1]!, freq[w]!, w);
  });
  const heap = new PairHeap();
  for (const [k, c] of pairCount) heap.push(c, Math.floor(k / SHIFT), k % SHIFT);

  const merges: Merge[] = [];
  const merged = new Set<number>();
  while (idToTok.length < options.vocabSize && heap.size > 0) {
    const top = heap.pop();
    const k = key(top.a, top.b);
    const current = pairCount.get(k) ?? 0;
    if (current !== top.count) {
      // Stale entry: counts only fall for old pairs, so re-queue at the true count.
      if (current > 0) heap.push(current, top.a, top.b);
      continue;
    }
    if (current < options.minFrequency) break;
    // Too few reports hold this pair: drop the entry (a later merge that adds
    // occurrences of it pushes it again).
    if (minDocuments > 1 && pairDocs(top.a, top.b) < minDocuments) continue;
    const text = idToTok[top.a]! + idToTok[top.b]!;
    let id = tokToId.get(text);
    if (id === undefined) {
      id = idToTok.length;
      idToTok.push(text);
      tokToId.set(text, id);
    }
    // A pair can come back only when another merge re-creates a token; it
    // keeps its first rank (a second entry would be dead in the merge table).
    if (!merged.has(k)) {
      merged.add(k);
      merges.push([idToTok[top.a]!, idToTok[top.b]!]);
    }
    const touched = new Set<number>();
    for (const w of [...(where.get(k) ?? [])].sort((x, y) => x - y)) {
      const sym = words[w]!;
      if (!sym.some((s, i) => s === top.a && sym[i + 1] === top.b)) continue;
      const n = freq[w]!;
      for (let i = 0; i + 1 < sym.length; i++) add(sym[i]!, sym[i + 1]!, -n, w);
      const out: number[] = [];
      for (let i = 0; i < sym.length; i++) {
        if (sym[i] === top.a && sym[i + 1] === top.b) {
          out.push(id);
          i++;
        } else out.push(sym[i]!);
      }
      words[w] = out;
      for (let i = 0; i + 1 < out.length; i++) {
        add(out[i]!, out[i + 1]!, n, w);
        // Only pairs with the merged token can gain occurrences.
        if (out[i] === id || out[i + 1] === id) touched.add(key(out[i]!, out[i + 1]!));
      }
    }
    // Pairs that gained occurrences get a fresh heap entry; lost ones are fixed lazily.
    for (const t of touched) {
      const c = pairCount.get(t) ?? 0;
      if (c > 0 && t !== k) heap.push(c, Math.floor(t / SHIFT), t % SHIFT);
    }
  }
  return { vocab: Object.fromEntries(idToTok.map((t, i) => [t, i])), merges };
}

/** The corpus tokenizer as a tokenizer.json object (RoBERTa layout). */
export function trainCorpusTokenizerJson(texts: readonly string[], options: CorpusTokenizerOptions): TokenizerJson {
  const { vocab, merges } = learnBpe(texts, options);
  return robertaTokenizerJson(vocab, merges);
}

/** Learns a byte-level BPE from the reports and loads it through the same path as a saved tokenizer.json. */
export function trainCorpusTokenizer(texts: readonly string[], options: CorpusTokenizerOptions): ReportTokenizer {
  return tokenizerFromJson(trainCorpusTokenizerJson(texts, options), 'corpus tokenizer');
}

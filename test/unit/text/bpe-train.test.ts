// The corpus tokenizer: merges against HuggingFace's Rust BpeTrainer
// (test/fixtures/text/hf-trainer-merges.json, made by make-bpe-fixtures.mjs)
// and a corpus small enough to derive by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { learnBpe, trainCorpusTokenizer, trainCorpusTokenizerJson } from '../../../src/engine/text/bpe-train';
import { loadTokenizer, saveTokenizer } from '../../../src/engine/text/tokenizer';
import { GPT2_SPLIT, toByteSymbols } from '../../../src/engine/text/words';

const FIX = join(__dirname, '..', '..', 'fixtures', 'text');
const corpus = (JSON.parse(readFileSync(join(FIX, 'corpus.json'), 'utf8')) as { texts: string[] }).texts;
const rustMerges = (JSON.parse(readFileSync(join(FIX, 'hf-trainer-merges.json'), 'utf8')) as { merges: [string, string][] }).merges;

// By hand: "the cat sat" + "the cat" pre-tokenize to the ×2, Ġcat ×2,
// Ġsat ×1. Pair counts: (a,t) 3; (t,h) (h,e) (Ġ,c) (c,a) 2; (Ġ,s) (s,a) 1.
// 1. (a,t)=3 → at. Now (c,at) (Ġ,c) (t,h) (h,e) are 2: the tie goes to the
// smallest (left id, right id); ids follow code points (c=103 < h=108 <
// t=120 < Ġ=224, at=260), so 2. (c,at) → cat, 3. (h,e) → he, 4. (t,he) →
// the, 5. (Ġ,cat) → Ġcat; then the count-1 pairs (s,at) (Ġ,s): 6. (s,at)
// (s=119 < Ġ) → sat, 7. (Ġ,sat).
const HAND: [string, string][] = [
  ['a', 't'],
  ['c', 'at'],
  ['h', 'e'],
  ['t', 'he'],
  ['Ġ', 'cat'],
  ['s', 'at'],
  ['Ġ', 'sat'],
];

test('hand-derived merges, tie-break, minFrequency and vocabSize', () => {
  const texts = ['the cat sat', 'the cat'];
  assert.deepEqual(learnBpe(texts, { vocabSize: 1000, minFrequency: 1 }).merges, HAND);
  assert.deepEqual(learnBpe(texts, { vocabSize: 1000, minFrequency: 2 }).merges, HAND.slice(0, 5));
  assert.deepEqual(learnBpe(texts, { vocabSize: 1000, minFrequency: 3 }).merges, HAND.slice(0, 1));
  const small = learnBpe(texts, { vocabSize: 262, minFrequency: 1 });
  assert.deepEqual(small.merges, HAND.slice(0, 2));
  assert.equal(Object.keys(small.vocab).length, 262);
  assert.equal(small.vocab['at'], 260);
  assert.equal(small.vocab['cat'], 261);
});

test('ids: specials, then the 256 byte symbols in code-point order', () => {
  const { vocab } = learnBpe([], { vocabSize: 300, minFrequency: 1 });
  assert.equal(Object.keys(vocab).length, 260);
  const want: [string, number][] = [
    ['<s>', 0], ['<pad>', 1], ['</s>', 2], ['<unk>', 3],
    ['!', 4], ['a', 68], ['~', 97], ['¡', 98], ['ÿ', 191],
    ['Ā', 192], ['Ġ', 224], ['Ń', 259],
  ];
  for (const [t, id] of want) assert.equal(vocab[t], id, t);
});

test('merges equal the Rust BpeTrainer on the fixture corpus', () => {
  assert.equal(rustMerges.length, 519);
  const full = learnBpe(corpus, { vocabSize: 260 + 519 + 10, minFrequency: 1 });
  assert.deepEqual(full.merges, rustMerges);
  const cut = learnBpe(corpus, { vocabSize: 260 + 50, minFrequency: 1 });
  assert.deepEqual(cut.merges, rustMerges.slice(0, 50));
  assert.equal(Object.keys(cut.vocab).length, 310);
});

test('deterministic: same corpus in any order gives the same tokenizer.json', () => {
  const opts = { vocabSize: 400, minFrequency: 2 };
  const a = JSON.stringify(trainCorpusTokenizerJson(corpus, opts));
  assert.equal(JSON.stringify(trainCorpusTokenizerJson(corpus, opts)), a);
  assert.equal(JSON.stringify(trainCorpusTokenizerJson([...corpus].reverse(), opts)), a);
});

test('byte-level round trip: decode(encode(x)) == x, also for unseen characters', () => {
  const tk = trainCorpusTokenizer(corpus, { vocabSize: 400, minFrequency: 2 });
  assert.deepEqual([tk.bosId, tk.padId, tk.eosId, tk.vocabSize], [0, 1, 2, 400]);
  const samples = [
    ...corpus,
    '',
    ' ',
    'Résumé: µ-opioid, naïve café',
    'emoji 🧠 and 脑肿瘤',
    'Findings:\n\n  stable\tcyst  ',
    'a\r\nb\u0000c',
  ];
  for (const s of samples) {
    const enc = tk.encode(s);
    assert.equal(enc.ids[0], 0);
    assert.equal(enc.ids.at(-1), 2);
    assert.equal(tk.decode(enc.ids), s, JSON.stringify(s));
  }
  assert.deepEqual(tk.encode('The fourth ventricle').words, ['The', 'fourth', 'ventricle']);
});

test('with every merge learnt, each corpus word is one token', () => {
  const tk = trainCorpusTokenizer(corpus, { vocabSize: 2000, minFrequency: 1 });
  assert.equal(tk.vocabSize, 260 + 519);
  assert.deepEqual(tk.encode('The fourth ventricle').tokens, ['<s>', 'The', 'Ġfourth', 'Ġventricle', '</s>']);
  for (const text of corpus) {
    const enc = tk.encode(text);
    // One token per pre-token ("T1" is two: letters and digits split).
    assert.deepEqual(enc.tokens.slice(1, -1), text.match(GPT2_SPLIT)!.map(toByteSymbols), text);
    assert.deepEqual(enc.words, text.split(' '));
  }
});

test('special-token strings in the corpus are not learnt', () => {
  assert.deepEqual(learnBpe(['<pad><pad><pad> <s></s><s>'], { vocabSize: 300, minFrequency: 1 }).merges, []);
});

test('saved tokenizer.json loads back to identical encodings', () => {
  const tk = trainCorpusTokenizer(corpus, { vocabSize: 350, minFrequency: 2 });
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-bpe-'));
  try {
    const back = loadTokenizer(saveTokenizer(tk, join(dir, 'tokenizer.json')));
    assert.deepEqual(back.toJSON(), tk.toJSON());
    for (const s of [...corpus, 'Résumé 🧠\nnew line']) assert.deepEqual(back.encode(s), tk.encode(s));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad options give clear errors', () => {
  assert.throws(() => trainCorpusTokenizer(corpus, { vocabSize: 259, minFrequency: 1 }), /vocabSize must be an integer ≥ 260/);
  assert.throws(() => trainCorpusTokenizer(corpus, { vocabSize: 300.5, minFrequency: 1 }), /vocabSize must be an integer/);
  assert.throws(() => trainCorpusTokenizer(corpus, { vocabSize: 300, minFrequency: 0 }), /minFrequency must be an integer ≥ 1/);
  assert.throws(() => trainCorpusTokenizer('text' as unknown as string[], { vocabSize: 300, minFrequency: 1 }), /texts must be an array of strings/);
  assert.throws(() => trainCorpusTokenizer(['a', 3 as unknown as string], { vocabSize: 300, minFrequency: 1 }), /texts must be an array of strings/);
});

// The byte-level BPE tokenizer against HuggingFace's Rust tokenizers.
// Fixtures (test/fixtures/text/mini-roberta, made by make-bpe-fixtures.mjs):
// a RoBERTa-layout tokenizer (<s>=0 <pad>=1 </s>=2 <unk>=3, 256 byte
// symbols, 150 merges, <mask>=410) saved by the Rust library, the same
// vocabulary as vocab.json + merges.txt, and the ids, tokens, truncations and
// decodings Rust produced for a table of sentences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTokenizer, saveTokenizer, tokenizerFromJson } from '../../../src/engine/text/tokenizer';

const DIR = join(__dirname, '..', '..', 'fixtures', 'text', 'mini-roberta');
interface Expected {
  vocabSize: number;
  encodings: { text: string; ids: number[]; tokens: string[]; decoded: string }[];
  truncations: { text: string; maxTokens: number; ids: number[]; tokens: string[] }[];
}
const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as Expected;

function withTmp(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-tok-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const N = null;
const rep = <T>(v: T, n: number): T[] => new Array<T>(n).fill(v);

// Word maps derived by hand from Rust's token lists with the rule of
// METHOD.md §3: `Ġ` starts a word; whitespace-only tokens (Ġ, Ċ, ĉ) and
// <s>/</s> map to null; the token after a dropped one starts a word too.
const WORD_MAPS: Record<string, { wordIds: (number | null)[]; words: string[] }> = {
  // <s> S upr at entorial Ġtumour Ġin Ġthe Ġle ft Ġth al am us </s>
  'Supratentorial tumour in the left thalamus': {
    wordIds: [N, 0, 0, 0, 0, 1, 2, 3, 4, 4, 5, 5, 5, 5, N],
    words: ['Supratentorial', 'tumour', 'in', 'the', 'left', 'thalamus'],
  },
  // <s> W el l - c i r c um s c ri b ed | Ġcystic | Ġlesion | Ġin | Ġthe | Ġp o st er i or | Ġf oss a . </s>
  'Well-circumscribed cystic lesion in the posterior fossa.': {
    wordIds: [N, ...rep(0, 14), 1, 2, 3, 4, ...rep(5, 6), ...rep(6, 4), N],
    words: ['Well-circumscribed', 'cystic', 'lesion', 'in', 'the', 'posterior', 'fossa.'],
  },
  // <s> The Ġmass Ġis Ġ T 2 Ġhyp er inten se Ċ with Ġm il d Ġenhanc ement . </s>
  'The mass is T2 hyperintense\nwith mild enhancement.': {
    wordIds: [N, 0, 1, 2, N, 3, 3, 4, 4, 4, 4, N, 5, 6, 6, 6, 7, 7, 7, N],
    words: ['The', 'mass', 'is', 'T2', 'hyperintense', 'with', 'mild', 'enhancement.'],
  },
  // <s> F in ding s : Ċ Ċ st a b le Ġc yst </s>
  'Findings:\n\nstable cyst': {
    wordIds: [N, 0, 0, 0, 0, 0, N, N, 1, 1, 1, 1, 2, 2, N],
    words: ['Findings:', 'stable', 'cyst'],
  },
  // <s> Ġ Ġle a ding Ġs p a c es Ġand Ġ Ġd ou b le Ġ Ġs p a c es Ġ Ġ </s>
  '  leading spaces and  double  spaces  ': {
    wordIds: [N, N, 0, 0, 0, 1, 1, 1, 1, 1, 2, N, 3, 3, 3, 3, N, 4, 4, 4, 4, 4, N, N, N],
    words: ['leading', 'spaces', 'and', 'double', 'spaces'],
  },
  // <s> t a b ĉ se p ar at ed ĉ w or d s </s>
  'tab\tseparated\twords': {
    wordIds: [N, 0, 0, 0, N, 1, 1, 1, 1, 1, N, 2, 2, 2, 2, N],
    words: ['tab', 'separated', 'words'],
  },
  // <s> R Ã © s um Ã © : | Ġ | Â µ - o p i o id | Ġc a f Ã © | Ġn a Ã ¯ v e </s>   (é = Ã©, µ = Âµ, ï = Ã¯)
  'Résumé: µ-opioid café naïve': {
    wordIds: [N, ...rep(0, 8), N, ...rep(1, 8), ...rep(2, 5), ...rep(3, 6), N],
    words: ['Résumé:', 'µ-opioid', 'café', 'naïve'],
  },
  // <s> em o j i Ġ ð Ł § ł Ġb ra in </s>   (🧠 = four bytes)
  'emoji 🧠 brain': {
    wordIds: [N, 0, 0, 0, 0, N, 1, 1, 1, 1, 2, 2, 2, N],
    words: ['emoji', '🧠', 'brain'],
  },
  // <s> 4 th Ġventricle , Ġ 3 . 2 Ġc m Ġ Ã Ĺ Ġ 2 Ġc m </s>   (× = Ã Ĺ)
  '4th ventricle, 3.2 cm × 2 cm': {
    wordIds: [N, 0, 0, 1, 1, N, 2, 2, 2, 3, 3, N, 4, 4, N, 5, 6, 6, N],
    words: ['4th', 'ventricle,', '3.2', 'cm', '×', '2', 'cm'],
  },
  // <s> th e Ġp at i ent ' s Ġ gli oma </s>
  "the patient's glioma": {
    wordIds: [N, 0, 0, 1, 1, 1, 1, 1, 1, N, 2, 2, N],
    words: ['the', "patient's", 'glioma'],
  },
  // <s> H y droc ep hal us ! ! ! Ġ ( m il d ) </s>
  'Hydrocephalus!!! (mild)': {
    wordIds: [N, ...rep(0, 9), N, ...rep(1, 5), N],
    words: ['Hydrocephalus!!!', '(mild)'],
  },
  '': { wordIds: [N, N], words: [] },
};

test('tokenizer.json: ids and tokens equal those of the Rust tokenizers library', () => {
  const tk = loadTokenizer(join(DIR, 'tokenizer.json'));
  assert.equal(expected.encodings.length, 12);
  for (const e of expected.encodings) {
    const enc = tk.encode(e.text);
    assert.deepEqual(enc.ids, e.ids, JSON.stringify(e.text));
    assert.deepEqual(enc.tokens, e.tokens, JSON.stringify(e.text));
  }
});

test('vocab.json + merges.txt give the same ids as tokenizer.json', () => {
  withTmp((dir) => {
    copyFileSync(join(DIR, 'vocab.json'), join(dir, 'vocab.json'));
    copyFileSync(join(DIR, 'merges.txt'), join(dir, 'merges.txt'));
    for (const src of [dir, join(dir, 'vocab.json'), join(dir, 'merges.txt')]) {
      const tk = loadTokenizer(src);
      assert.equal(tk.vocabSize, expected.vocabSize);
      for (const e of expected.encodings) assert.deepEqual(tk.encode(e.text).ids, e.ids, `${src}: ${JSON.stringify(e.text)}`);
    }
  });
});

test('a folder with tokenizer.json loads it; special ids and vocabulary size', () => {
  const tk = loadTokenizer(DIR);
  assert.deepEqual([tk.bosId, tk.padId, tk.eosId, tk.vocabSize], [0, 1, 2, 411]);
  assert.deepEqual(tk.encode('Supratentorial').ids, expected.encodings[0]!.ids.slice(0, 5).concat([2]));
});

test('word map: Ġ starts a word; newline, whitespace and special tokens are dropped (hand-derived)', () => {
  const tk = loadTokenizer(join(DIR, 'tokenizer.json'));
  for (const e of expected.encodings) {
    const want = WORD_MAPS[e.text];
    assert.ok(want, `no hand-derived word map for ${JSON.stringify(e.text)}`);
    const enc = tk.encode(e.text);
    assert.deepEqual(enc.wordIds, want.wordIds, JSON.stringify(e.text));
    assert.deepEqual(enc.words, want.words, JSON.stringify(e.text));
  }
});

test('decode inverts encode and equals the Rust decoding (unicode included)', () => {
  const tk = loadTokenizer(join(DIR, 'tokenizer.json'));
  for (const e of expected.encodings) {
    assert.equal(tk.decode(e.ids), e.decoded);
    assert.equal(tk.decode(tk.encode(e.text).ids), e.text);
  }
  assert.throws(() => tk.decode([0, 9999]), /tokenizer\.json: id 9999 is not in the vocabulary/);
});

test('truncation keeps </s> and equals Rust truncation', () => {
  const tk = loadTokenizer(join(DIR, 'tokenizer.json'));
  for (const t of expected.truncations) {
    const enc = tk.encode(t.text, { maxTokens: t.maxTokens });
    assert.deepEqual(enc.ids, t.ids, `maxTokens ${t.maxTokens}`);
    assert.deepEqual(enc.tokens, t.tokens);
  }
  // Cut inside "Supratentorial": the partial word keeps its tokens.
  const cut = tk.encode('Supratentorial tumour', { maxTokens: 4 });
  assert.deepEqual(cut.tokens, ['<s>', 'S', 'upr', '</s>']);
  assert.deepEqual(cut.wordIds, [null, 0, 0, null]);
  assert.deepEqual(cut.words, ['Supr']);
  const full = tk.encode('Supratentorial tumour');
  assert.deepEqual(tk.encode('Supratentorial tumour', { maxTokens: full.ids.length }), full);
  assert.deepEqual(tk.encode('Supratentorial tumour', { maxTokens: 1000 }), full);
  assert.throws(() => tk.encode('x', { maxTokens: 1 }), /maxTokens must be an integer ≥ 2/);
  assert.throws(() => tk.encode('x', { maxTokens: 2.5 }), /maxTokens must be an integer ≥ 2/);
});

test('special-token text in a report maps to the special id with a null word', () => {
  const tk = loadTokenizer(join(DIR, 'tokenizer.json'));
  const enc = tk.encode('cyst</s>cyst');
  assert.deepEqual(enc.ids.filter((id) => id === 2).length, 2);
  assert.deepEqual(enc.words, ['cyst', 'cyst']);
});

test('save → load round trip: same JSON, same encodings, no temp file left', () => {
  const tk = loadTokenizer(join(DIR, 'vocab.json'));
  const before = JSON.stringify(tk.toJSON());
  const encs = expected.encodings.map((e) => tk.encode(e.text));
  assert.equal(JSON.stringify(tk.toJSON()), before, 'encoding must not change the JSON');
  withTmp((dir) => {
    const path = saveTokenizer(tk, dir);
    assert.equal(path, join(dir, 'tokenizer.json'));
    assert.deepEqual(readdirSync(dir), ['tokenizer.json']);
    const back = loadTokenizer(path);
    assert.equal(JSON.stringify(back.toJSON()), before);
    assert.deepEqual(expected.encodings.map((e) => back.encode(e.text)), encs);
    const named = saveTokenizer(tk, join(dir, 'other.json'));
    assert.deepEqual(loadTokenizer(named).encode('cystic lesion'), tk.encode('cystic lesion'));
    assert.throws(() => saveTokenizer(tk, join(dir, 'missing', 'tokenizer.json')), /missing\/tokenizer\.json: folder .*missing does not exist/);
  });
});

test('bad files give errors that name the file and the problem', () => {
  withTmp((dir) => {
    assert.throws(() => loadTokenizer(join(dir, 'nope')), /nope: no such file or folder/);
    assert.throws(() => loadTokenizer(dir), /holds neither tokenizer\.json nor vocab\.json \+ merges\.txt/);

    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"model": ');
    assert.throws(() => loadTokenizer(bad), /bad\.json: invalid JSON/);

    const wp = join(dir, 'wp.json');
    writeFileSync(wp, JSON.stringify({ model: { type: 'WordPiece', vocab: {} }, pre_tokenizer: { type: 'BertPreTokenizer' } }));
    assert.throws(() => loadTokenizer(wp), /wp\.json: model type "WordPiece" is not supported/);

    const tj = JSON.parse(readFileSync(join(DIR, 'tokenizer.json'), 'utf8')) as { pre_tokenizer: unknown; added_tokens: { content: string }[]; model: { vocab: Record<string, number> } };
    assert.throws(() => tokenizerFromJson({ ...tj, pre_tokenizer: { type: 'Whitespace' } }, 'x.json'), /x\.json: pre_tokenizer is not ByteLevel/);
    const noPad = structuredClone(tj);
    delete noPad.model.vocab['<pad>'];
    noPad.added_tokens = noPad.added_tokens.filter((t) => t.content !== '<pad>');
    assert.throws(() => tokenizerFromJson(noPad, 'nopad.json'), /nopad\.json: no <pad> token/);
    const dup = structuredClone(tj);
    dup.model.vocab['Ġdup'] = 5;
    assert.throws(() => tokenizerFromJson(dup, 'dup.json'), /dup\.json: tokens .* share id 5/);
    assert.throws(() => loadTokenizer(join(dir, 'vocab.json')), /no such file/);

    copyFileSync(join(DIR, 'vocab.json'), join(dir, 'vocab.json'));
    assert.throws(() => loadTokenizer(join(dir, 'vocab.json')), /vocab\.json: merges\.txt is missing beside it/);
    writeFileSync(join(dir, 'merges.txt'), '#version: 0.2\nt h\nthree parts here\n');
    assert.throws(() => loadTokenizer(dir), /merges\.txt:3: expected two tokens separated by one space/);
    writeFileSync(join(dir, 'merges.txt'), 't h\nq z\n');
    assert.throws(() => loadTokenizer(dir), /merges\.txt:2: token "qz" is not in vocab\.json/);
  });
  const tk = loadTokenizer(DIR);
  assert.throws(() => tk.encode(undefined as unknown as string), /encode expects a string, got undefined/);
});

// The corpus tokenizer's privacy rule: a merge (and so a token) is learnt
// only from a pair found in at least minDocuments distinct reports, so a
// word of one report (a rare surname) cannot enter the vocabulary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { effectiveMinDocuments, learnBpe, trainCorpusTokenizer } from '../../../src/engine/text/bpe-train';

// "qqq" six times in report 0 only; " blip" once in each of five reports.
const corpus = (blipReports: number) => [
  'qqq qqq qqq qqq qqq qqq blip',
  ...Array.from({ length: blipReports - 1 }, () => 'x blip'),
];

test('a pair in 1 report is never merged; one in 5 reports is', () => {
  const options = { vocabSize: 1000, minFrequency: 1, minDocuments: 5 };
  const { merges, vocab } = learnBpe(corpus(5), options);
  // Hand-derived: Ġblip's pairs all count 5 in 5 reports; ties go to the
  // smaller left id (b < i < l < p < Ġ < merged tokens):
  // b+l, then i+p, then Ġ+bl, then Ġbl+ip. "qq" (12 times, 1 report) and
  // "Ġx"/"xĠ" (4 reports) are skipped.
  assert.deepEqual(merges, [
    ['b', 'l'],
    ['i', 'p'],
    ['Ġ', 'bl'],
    ['Ġbl', 'ip'],
  ]);
  assert.ok(!Object.keys(vocab).some((t) => t.length > 1 && t.includes('q')));
  // without the rule the frequent pair of report 0 is the first merge
  assert.deepEqual(learnBpe(corpus(5), { ...options, minDocuments: 1 }).merges[0], ['q', 'q']);
  // default: no rule
  assert.deepEqual(learnBpe(corpus(5), { vocabSize: 1000, minFrequency: 1 }).merges[0], ['q', 'q']);
});

test('a word in 4 of 5 required reports is not learnt, and the tokenizer still encodes everything', () => {
  const options = { vocabSize: 1000, minFrequency: 1, minDocuments: 5 };
  assert.deepEqual(learnBpe(corpus(4), options).merges, []);
  const tok = trainCorpusTokenizer(corpus(4), options);
  const ids = tok.encode('qqq blip', { maxTokens: 64 }).ids;
  assert.equal(tok.decode(ids), 'qqq blip');
});

test('effectiveMinDocuments: the configured value from 2·minDocuments reports, else half the reports, never below 2', () => {
  const cases: [number, number, number][] = [
    [5, 100, 5],
    [5, 10, 5],
    [5, 9, 4],
    [5, 6, 3],
    [5, 4, 2],
    [5, 1, 2],
    [1, 3, 1],
    [3, 5, 2],
  ];
  for (const [m, n, want] of cases) assert.equal(effectiveMinDocuments(m, n), want, `${m}, ${n}`);
});

test('a bad minDocuments is an error', () => {
  assert.throws(() => learnBpe(['a'], { vocabSize: 300, minFrequency: 1, minDocuments: 0 }), /minDocuments must be an integer ≥ 1, got 0/);
});

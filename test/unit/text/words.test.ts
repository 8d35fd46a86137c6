import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BYTE_TO_CHAR, buildWordMap, decodeTokens, toByteSymbols } from '../../../src/engine/text/words';

test('byte symbols: GPT-2 table (printable bytes kept, the rest from U+0100 in byte order)', () => {
  const table: [number, string][] = [
    [0x00, 'Ā'], [0x09, 'ĉ'], [0x0a, 'Ċ'], [0x20, 'Ġ'], [0x21, '!'], [0x61, 'a'], [0x7e, '~'],
    [0x7f, 'ġ'], [0xa0, 'ł'], [0xa1, '¡'], [0xac, '¬'], [0xad, 'Ń'], [0xae, '®'], [0xff, 'ÿ'],
  ];
  for (const [b, c] of table) assert.equal(BYTE_TO_CHAR[b], c, `byte ${b}`);
  assert.equal(new Set(BYTE_TO_CHAR).size, 256);
  assert.equal(toByteSymbols('a b\né'), 'aĠbĊÃ©');
  assert.equal(decodeTokens(['a', 'Ġb', 'Ċ', 'Ã', '©']), 'a b\né');
  assert.equal(decodeTokens(['<mask>']), '<mask>');
});

test('word map: rules of METHOD.md §3 on hand-made token lists', () => {
  const special = (ids: number[]) => (i: number) => ids.includes(i);
  // First token starts a word; Ġ starts a word; pieces without Ġ continue it.
  assert.deepEqual(buildWordMap(['<s>', 'Tum', 'our', 'Ġgro', 'wth', '</s>'], special([0, 5])), {
    wordIds: [null, 0, 0, 1, 1, null],
    words: ['Tumour', 'growth'],
  });
  // Newline and whitespace-only tokens are dropped; the token after them starts a word.
  assert.deepEqual(buildWordMap(['a', 'Ċ', 'b', 'ĊĊ', 'Ġ', 'c', 'ĠĠ', 'Ġd'], () => false), {
    wordIds: [0, null, 1, null, null, 2, null, 3],
    words: ['a', 'b', 'c', 'd'],
  });
  // Special tokens in the middle split words even without Ġ.
  assert.deepEqual(buildWordMap(['Ġa', '<mask>', 'b'], special([1])), { wordIds: [0, null, 1], words: ['a', 'b'] });
  // A multi-byte character split over tokens is decoded per word.
  assert.deepEqual(buildWordMap(['Ġcaf', 'Ã', '©', 'Ġ', 'ð', 'Ł', '§', 'ł'], () => false), {
    wordIds: [0, 0, 0, null, 1, 1, 1, 1],
    words: ['café', '🧠'],
  });
  assert.deepEqual(buildWordMap([], () => false), { wordIds: [], words: [] });
  assert.deepEqual(buildWordMap(['<s>', '</s>'], () => true), { wordIds: [null, null], words: [] });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alignWords } from '../../../webview/common/align-words';

test('words are found in order, case-insensitively; missing words are skipped', () => {
  const text = 'Mass in the PONS.\nThe mass enhances.';
  assert.deepEqual(alignWords(text, ['mass', 'in', 'the', 'pons', 'xyz', 'the', 'mass']), [
    { index: 0, start: 0, end: 4 },
    { index: 1, start: 5, end: 7 },
    { index: 2, start: 8, end: 11 },
    { index: 3, start: 12, end: 16 },
    { index: 5, start: 18, end: 21 },
    { index: 6, start: 22, end: 26 },
  ]);
  assert.deepEqual(alignWords('', ['a']), []);
  assert.deepEqual(alignWords('a b', ['', 'b']), [{ index: 1, start: 2, end: 3 }]);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { locatePointer, pointerSegments } from '../../../src/extension/config/json-location';

const TEXT = `{
  "name": "exp",
  "data": { "manifest": "cohort/manifest.json", "shape": [24, 24, 16] },
  "image": {
    "depth": 11
  },
  "a/b": { "c~d": 1 }
}
`;

/** The text a span covers. */
function at(pointer: string): [string, boolean] {
  const s = locatePointer(TEXT, pointer);
  return [TEXT.slice(s.offset, s.offset + s.length), s.exact];
}

test('pointerSegments unescapes ~1 and ~0 and reads array indices', () => {
  assert.deepEqual(pointerSegments(''), []);
  assert.deepEqual(pointerSegments('/data/shape/2'), ['data', 'shape', 2]);
  assert.deepEqual(pointerSegments('/a~1b/c~0d'), ['a/b', 'c~d']);
  assert.deepEqual(pointerSegments('/x/01'), ['x', '01'], 'a leading zero is a key, not an index');
});

test('a written scalar is located on its value', () => {
  const table: [string, string][] = [
    ['/name', '"exp"'],
    ['/image/depth', '11'],
    ['/data/manifest', '"cohort/manifest.json"'],
    ['/data/shape/1', '24'],
    ['/a~1b/c~0d', '1'],
  ];
  for (const [p, want] of table) assert.deepEqual(at(p), [want, true], p);
});

test('an object or array is located on its key, not the whole section', () => {
  assert.deepEqual(at('/image'), ['"image"', true]);
  assert.deepEqual(at('/data/shape'), ['"shape"', true]);
});

test('a field left to its default falls back to the nearest written ancestor key', () => {
  assert.deepEqual(at('/image/width'), ['"image"', false]);
  assert.deepEqual(at('/finetune/folds'), ['{', false], 'no ancestor written: the opening brace');
  assert.deepEqual(at(''), ['{', true]);
});

test('broken or empty text still gives a span inside the text', () => {
  const s = locatePointer('', '/name');
  assert.deepEqual(s, { offset: 0, length: 0, exact: false });
  const t = locatePointer('{ "name": ', '/name');
  assert.ok(t.offset >= 0 && t.offset + t.length <= 10);
});

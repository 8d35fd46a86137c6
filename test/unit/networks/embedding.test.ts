import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../../src/engine/backend';
import { embeddingLookup } from '../../../src/engine/networks/torch-layers';

test('embeddingLookup: same values as gather, scatter-add gradient, no gradient for the padding row', () => {
  const table = tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8]]);
  const ids = tf.tensor1d([2, 0, 2, 1, 3], 'int32');
  const before = tf.memory().numTensors;
  const out = embeddingLookup(table, ids, 1);
  assert.deepEqual(out.arraySync(), [[5, 6], [1, 2], [5, 6], [3, 4], [7, 8]]);
  out.dispose();
  const dy = tf.tensor2d([[1, 10], [2, 20], [3, 30], [4, 40], [5, 50]]);
  const g = tf.grad((t: tf.Tensor) => embeddingLookup(t, ids, 1).mul(dy).sum())(table);
  // row 2 gets rows 0 and 2 of dy; row 1 is the padding row: no gradient
  assert.deepEqual(g.arraySync(), [[2, 20], [0, 0], [4, 40], [5, 50]]);
  const plain = tf.grad((t: tf.Tensor) => tf.gather(t, ids).mul(dy).sum())(table);
  const noPad = tf.grad((t: tf.Tensor) => embeddingLookup(t, ids).mul(dy).sum())(table);
  assert.deepEqual(noPad.arraySync(), plain.arraySync());
  g.dispose();
  plain.dispose();
  noPad.dispose();
  dy.dispose();
  assert.equal(tf.memory().numTensors, before);
});

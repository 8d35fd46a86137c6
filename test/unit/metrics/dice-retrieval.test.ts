import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dice, recallAtK } from '../../../src/engine/metrics';

test('dice by hand', () => {
  // |A| = 3, |B| = 2, |A∩B| = 1 → 2/5; smoothed (2 + 1) / (5 + 1) = 0.5
  const a = [1, 1, 1, 0, 0];
  const b = [0, 0, 1, 1, 0];
  assert.equal(dice(a, b), 0.4);
  assert.equal(dice(a, b, { smooth: true }), 0.5);
  assert.equal(dice(a, a), 1);
  assert.equal(dice([1, 0], [0, 1]), 0);
  assert.equal(dice([1, 0], [0, 1], { smooth: true }), 1 / 3);
  // both empty: defined as 1 (agreement), smoothed 1/1
  assert.equal(dice([0, 0, 0], [0, 0, 0]), 1);
  assert.equal(dice([0, 0, 0], [0, 0, 0], { smooth: true }), 1);
  // non-zero labels and typed arrays count as foreground
  assert.equal(dice(Uint8Array.from([2, 4, 0]), Float32Array.from([1, 0, 0])), 2 / 3);
  assert.equal(dice([true, false], [true, true]), 2 / 3);
  assert.throws(() => dice([1, 0], [1]), /dice: masks differ in size \(2 vs 1 voxels\)/);
  assert.throws(() => dice([1, NaN], [1, 0]), /voxel 1 is NaN/);
});

test('recallAtK by hand, both directions, ties against the query', () => {
  // rows: images, columns: reports
  const s = [
    [0.9, 0.1, 0.3],
    [0.8, 0.5, 0.2], // image 1's report ranks 2nd (0.8 above)
    [0.1, 0.6, 0.4], // image 2's report ranks 2nd (0.6 above)
  ];
  // image→report ranks 1, 2, 2; report→image (columns): report 0: 0.9 best → 1;
  // report 1: 0.5 vs 0.1, 0.6 → rank 2; report 2: 0.4 vs 0.3, 0.2 → 1
  assert.deepEqual(recallAtK(s, 1), { imageToReport: 1 / 3, reportToImage: 2 / 3 });
  assert.deepEqual(recallAtK(s, 2), { imageToReport: 1, reportToImage: 1 });
  assert.deepEqual(recallAtK(s, 10), { imageToReport: 1, reportToImage: 1 });
  const flat = [[1, 1], [1, 1]];
  assert.deepEqual(recallAtK(flat, 1), { imageToReport: 0, reportToImage: 0 });
  assert.throws(() => recallAtK([[1, 2]], 1), /square/);
  assert.throws(() => recallAtK(s, 0), /positive integer/);
  assert.throws(() => recallAtK([], 1), /empty/);
});

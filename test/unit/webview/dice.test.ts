import { test } from 'node:test';
import assert from 'node:assert/strict';
import { binarize, classifyDice, diceScores, largestMaskSlice, topPercentThreshold, DICE_LABEL } from '../../../webview/common/dice';
import { topPercentBinary } from '../../../src/engine/explain/coverage';

test('binarize is strict: value > threshold; NaN is never above', () => {
  assert.deepEqual([...binarize([0, 0.01, 0.0100001, 1, NaN, -1], 0.01)], [0, 0, 1, 1, 0, 0]);
  assert.throws(() => binarize([1], NaN), /threshold must be a finite number/);
});

test('classifyDice labels TP, FP, FN and background', () => {
  const b = [1, 1, 0, 0];
  const m = [1, 0, 1, 0];
  assert.deepEqual([...classifyDice(b, m)], [DICE_LABEL.truePositive, DICE_LABEL.falsePositive, DICE_LABEL.falseNegative, DICE_LABEL.none]);
  assert.throws(() => classifyDice([1], [1, 0]), /share one grid/);
});

// 2×2×3 grid, slice k holds voxels 4k..4k+3.
//   mask:   k0: 1 voxel, k1: 3 voxels, k2: 3 voxels (tie → k1)
//   binary: k0: 0, k1: 2 of the 3 mask voxels + 1 extra, k2: 1 outside
const dims = [2, 2, 3] as const;
const mask = [1, 0, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0];
const bin = [0, 0, 0, 0, 1, 1, 0, 1, 0, 0, 0, 1];

test('largest mask slice: the most mask voxels, lowest k on ties', () => {
  assert.equal(largestMaskSlice(mask, dims), 1);
  assert.equal(largestMaskSlice(new Array(12).fill(0), dims), undefined);
  assert.throws(() => largestMaskSlice([1, 0], dims), /do not match/);
});

test('Dice: 3D over the volume, 2D on the largest mask slice (hand-derived)', () => {
  // 3D: I = 2, P = 4, T = 7 → 4/11; 2D on k1: I = 2, P = 3, T = 3 → 4/6
  const d = diceScores(bin, mask, dims);
  assert.equal(d.slice, 1);
  assert.ok(Math.abs(d.dice3d! - 4 / 11) < 1e-12);
  assert.ok(Math.abs(d.dice2d! - 2 / 3) < 1e-12);
});

test('Dice degenerate cases: empty mask gives none; empty map gives 0; perfect gives 1', () => {
  assert.deepEqual(diceScores(bin, new Array(12).fill(0), dims), { dice3d: null, dice2d: null, slice: undefined });
  const zero = diceScores(new Array(12).fill(0), mask, dims);
  assert.equal(zero.dice3d, 0);
  assert.equal(zero.dice2d, 0);
  const same = diceScores(mask, mask, dims);
  assert.equal(same.dice3d, 1);
  assert.equal(same.dice2d, 1);
});

test("topPercentThreshold: the viewer's slider keeps the voxels the engine's top-k % rule keeps, ties included", () => {
  // 40 % of 5 voxels = 2: 0.9 and 0.5, and the other 0.5 tied with it
  const v = Float32Array.from([0.1, 0.5, 0.5, 0.9, 0.2]);
  const t = topPercentThreshold(v, 40);
  assert.deepEqual([...binarize(v, t)], [0, 1, 1, 1, 0]);
  assert.ok(t < 0.5 && t > 0.2);
  // against the engine's rule on a map with many ties and a zero floor
  const map = Float32Array.from({ length: 997 }, (_, i) => Math.fround(((i * 37) % 101) / 100));
  for (const p of [0.5, 5, 12.5, 50, 100]) assert.deepEqual([...binarize(map, topPercentThreshold(map, p))], [...topPercentBinary(map, p)], `${p}%`);
  assert.throws(() => topPercentThreshold(v, 0), /percent must be in \(0, 100\]/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { minmaxScale, normalize } from '../../../src/engine/data/normalize';

const f32 = (a: number[]): Float32Array => Float32Array.from(a);
const approx = (got: Float32Array, want: number[]): void => {
  assert.equal(got.length, want.length);
  want.forEach((w, n) => assert.ok(Math.abs(got[n]! - w) < 1e-6, `[${n}] ${got[n]} vs ${w}`));
};

test('minmax: hand-derived table', () => {
  // min 2, max 10, range 8
  approx(normalize(f32([2, 4, 10, 6]), 'minmax'), [0, 0.25, 1, 0.5]);
  // negatives: min −4, max 4
  approx(normalize(f32([-4, 0, 4, 2]), 'minmax'), [0, 0.5, 1, 0.75]);
  // constant volume → zeros (documented)
  approx(normalize(f32([3, 3, 3]), 'minmax'), [0, 0, 0]);
  approx(normalize(f32([]), 'minmax'), []);
});

test('minmaxScale by another volume\'s range: a second volume on the first one\'s scale', () => {
  // the range of [10, 20, 30] is 10..30: 15 → 0.25, 40 → 1.5 (outside [0, 1]: not clipped), 10 → 0
  assert.deepEqual([...minmaxScale(Float32Array.from([15, 40, 10]), Float32Array.from([10, 20, 30]))], [0.25, 1.5, 0]);
  assert.deepEqual([...minmaxScale(Float32Array.from([1, 2, 3]))], [...normalize(Float32Array.from([1, 2, 3]), 'minmax')], 'by itself: the minmax normalisation');
  assert.deepEqual([...minmaxScale(Float32Array.from([1, 2]), Float32Array.from([5, 5]))], [0, 0], 'a constant range: zeros');
  assert.throws(() => minmaxScale(Float32Array.from([1]), Float32Array.from([1, NaN])), /voxel 1 is NaN/);
});

test('zscore over non-zero voxels: hand-derived table', () => {
  // non-zero {2, 4, 6}: mean 4, population std sqrt(8/3)
  const s = Math.sqrt(8 / 3);
  approx(normalize(f32([0, 2, 4, 0, 6]), 'zscore'), [0, -2 / s, 0, 0, 2 / s]);
  // negatives count as non-zero: {−1, 1}: mean 0, std 1
  approx(normalize(f32([-1, 0, 1]), 'zscore'), [-1, 0, 1]);
  // one distinct non-zero value: σ = 0 → zeros; all-zero → zeros
  approx(normalize(f32([0, 5, 5]), 'zscore'), [0, 0, 0]);
  approx(normalize(f32([0, 0]), 'zscore'), [0, 0]);
});

test('input is not modified; NaN and bad modes are refused', () => {
  const a = f32([1, 2, 3]);
  normalize(a, 'minmax');
  normalize(a, 'zscore');
  assert.deepEqual(Array.from(a), [1, 2, 3]);
  assert.throws(() => normalize(f32([1, NaN, 3]), 'minmax'), /voxel 1 is NaN/);
  assert.throws(() => normalize(f32([1, Infinity]), 'zscore'), /NaN or infinite/);
  assert.throws(() => normalize(a, 'l2' as 'minmax'), /mode must be 'minmax' or 'zscore'/);
});

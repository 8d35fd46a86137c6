// Foreground fraction, whole-map floor, grid-cell bound and the top-k % rule,
// all against values derived by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foregroundFraction, gridCellBounds, gridTooCoarse, topPercentBinary, wholeMapDice } from '../../../src/engine/explain';
import type { Grid3 } from '../../../src/engine/explain';

test('foregroundFraction: voxels above threshold over all voxels', () => {
  assert.equal(foregroundFraction([1, 0, 1, 1, 0, 0, 0, 0]), 3 / 8);
  assert.equal(foregroundFraction(new Uint8Array(10)), 0);
  assert.equal(foregroundFraction(new Uint8Array(10).fill(1)), 1);
  assert.equal(foregroundFraction([]), 0);
});

test('wholeMapDice: 2|M|/(|M|+|V|), smoothed (2|M|+1)/(|M|+|V|+1)', () => {
  // 64×64×40 = 163,840 voxels, a tumour of 500: 1000/164,340
  assert.equal(wholeMapDice(500, 64 * 64 * 40), 1000 / 164340);
  assert.equal(wholeMapDice(5, 16), 10 / 21);
  assert.equal(wholeMapDice(5, 16, true), 11 / 22);
  // a mask filling the volume: the whole map is perfect
  assert.equal(wholeMapDice(16, 16), 1);
});

// A 4×2×2 image (16 voxels) on a 2×1×1 grid: cell 0 = x ∈ {0, 1}, cell 1 = x ∈ {2, 3}, 8 voxels each.
// Mask: x = 0 for every (y, z) (4 voxels), and (2, 0, 1): |M| = 5.
const DIMS: Grid3 = [4, 2, 2];
function mask(): number[] {
  const m = new Array(16).fill(0);
  for (let z = 0; z < 2; z++) for (let y = 0; y < 2; y++) m[0 + 4 * (y + 2 * z)] = 1;
  m[2 + 4 * (0 + 2 * 1)] = 1;
  return m;
}

test('gridCellBounds by hand: the best union of whole cells, 3D and on the slice', () => {
  // 3D: cell 0 has m = 4 of s = 8, cell 1 m = 1 of 8.
  //   {cell 0}: 2·4/(8 + 5) = 8/13; both: 2·5/(16 + 5) = 10/21 < 8/13 → 8/13
  // slice z = 1 (areas 2 and 3): cell 0 m = 2 of s = 4, cell 1 m = 1 of 4, |M_1| = 3.
  //   {cell 0}: 2·2/(4 + 3) = 4/7; both: 6/11 < 4/7 → 4/7
  const b = gridCellBounds(mask(), DIMS, [2, 1, 1], 1);
  assert.equal(b.bound3d, 8 / 13);
  assert.equal(b.bound2d, 4 / 7);
  // smoothed: {cell 0}: 9/14, both 11/22 → 9/14; slice: 5/8 vs 7/12 → 5/8
  const s = gridCellBounds(mask(), DIMS, [2, 1, 1], 1, true);
  assert.equal(s.bound3d, 9 / 14);
  assert.equal(s.bound2d, 5 / 8);
  // a 1×1×1 grid: the only non-empty map is the whole volume, so the bound is the floor
  const one = gridCellBounds(mask(), DIMS, [1, 1, 1], 1);
  assert.equal(one.bound3d, wholeMapDice(5, 16));
  assert.equal(one.bound2d, wholeMapDice(3, 8));
  // a grid as fine as the image: a perfect map exists
  const fine = gridCellBounds(mask(), DIMS, [4, 2, 2], 1);
  assert.equal(fine.bound3d, 1);
  assert.equal(fine.bound2d, 1);
  assert.throws(() => gridCellBounds(mask(), DIMS, [2, 1, 1], 2), /slice 2 is not in 0\.\.1/);
  assert.throws(() => gridCellBounds([1, 0], DIMS, [2, 1, 1], 0), /mask has 2 voxels/);
});

test('gridCellBounds: cells are the blocks floor(i·g/N) of uneven sizes', () => {
  // 5 voxels along x on a grid of 2: cells x ∈ {0, 1, 2} (floor(2i/5) = 0 for i < 3) and {3, 4}
  // mask x = 3, 4 → the second cell alone is perfect
  const dims: Grid3 = [5, 1, 1];
  assert.equal(gridCellBounds([0, 0, 0, 1, 1], dims, [2, 1, 1], 0).bound3d, 1);
  // mask x = 2, 3: each cell holds one; both cells 2·2/(5 + 2) = 4/7 beat {cell 1} 2/(2 + 2) = 1/2 and {cell 0} 2/(3 + 2)
  assert.equal(gridCellBounds([0, 0, 1, 1, 0], dims, [2, 1, 1], 0).bound3d, 4 / 7);
});

test('topPercentBinary: the k % highest voxels, every tie at the cut included', () => {
  const v = [0.1, 0.5, 0.5, 0.3, 0.5, 0.2, 0.0, 0.4];
  // 25 % of 8 = 2 voxels; the 2nd highest is 0.5, tied three times → all three
  assert.deepEqual(Array.from(topPercentBinary(v, 25)), [0, 1, 1, 0, 1, 0, 0, 0]);
  // 12.5 % = 1 voxel: still the three tied 0.5
  assert.deepEqual(Array.from(topPercentBinary(v, 12.5)), [0, 1, 1, 0, 1, 0, 0, 0]);
  // 50 % = 4: 0.5 ×3 and 0.4
  assert.deepEqual(Array.from(topPercentBinary(v, 50)), [0, 1, 1, 0, 1, 0, 0, 1]);
  // 60 % = ⌈4.8⌉ = 5: down to 0.3
  assert.deepEqual(Array.from(topPercentBinary(v, 60)), [0, 1, 1, 1, 1, 0, 0, 1]);
  assert.deepEqual(Array.from(topPercentBinary(v, 100)), [1, 1, 1, 1, 1, 1, 1, 1]);
  // no ties: exactly n; the answer does not depend on voxel order
  const w = [0.9, 0.1, 0.8, 0.2, 0.7, 0.3, 0.6, 0.4, 0.5, 0.0];
  assert.deepEqual(Array.from(topPercentBinary(w, 30)), [1, 0, 1, 0, 1, 0, 0, 0, 0, 0]); // 30 % of 10 = 3, not 4
  assert.deepEqual(Array.from(topPercentBinary([...w].reverse(), 30)), [1, 0, 1, 0, 1, 0, 0, 0, 0, 0].reverse());
  // a constant map has no top: all tied, all foreground
  assert.deepEqual(Array.from(topPercentBinary([0, 0, 0, 0], 25)), [1, 1, 1, 1]);
  assert.throws(() => topPercentBinary(v, 0), /percent must be in \(0, 100\]/);
  assert.throws(() => topPercentBinary(v, 101), /percent must be in \(0, 100\]/);
});

test('gridTooCoarse: any axis below 4×4×3', () => {
  assert.equal(gridTooCoarse([2, 2, 2]), true);
  assert.equal(gridTooCoarse([8, 8, 2]), true);
  assert.equal(gridTooCoarse([3, 8, 5]), true);
  assert.equal(gridTooCoarse([4, 4, 3]), false);
  assert.equal(gridTooCoarse([8, 8, 5]), false);
});

// Patch names: grid coordinates and where the cell lies in the RAS+ image,
// against hand-derived cases (corners, centre, odd and even grid sizes, 1-wide
// axes), the engine's patch order and its reorientation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PATCH_AXES, patchCell, patchName, patchSide, patchVoxel } from '../../../webview/common/patch-name';
import { patchUnderVoxel } from '../../../webview/common/attention';
import { patchIndex } from '../../../src/engine/explain/cross-attention-io';
import { toCanonical } from '../../../src/engine/data/orient';
import type { Volume } from '../../../src/engine/io/volume';

test('corners and centre of a 3×3×3 grid', () => {
  const g = [3, 3, 3] as const;
  assert.equal(patchName([0, 0, 0], g), '(0, 0, 0) left posterior inferior');
  assert.equal(patchName([2, 2, 2], g), '(2, 2, 2) right anterior superior');
  assert.equal(patchName([2, 0, 2], g), '(2, 0, 2) right posterior superior');
  assert.equal(patchName([1, 1, 1], g), '(1, 1, 1) central');
  // a middle-third axis is left out: right, central front-to-back, inferior
  assert.equal(patchName([2, 1, 0], g), '(2, 1, 0) right inferior');
  assert.equal(patchName([1, 2, 1], g), '(1, 2, 1) anterior');
});

test('even sizes: 2 has no middle; 4 puts its two inner cells in the middle third', () => {
  assert.equal(patchName([0, 1, 0], [2, 2, 2]), '(0, 1, 0) left anterior inferior');
  assert.equal(patchName([1, 0, 1], [2, 2, 2]), '(1, 0, 1) right posterior superior');
  // G = 4: centres at 1/8, 3/8, 5/8, 7/8 → low, middle, middle, high
  assert.deepEqual([0, 1, 2, 3].map((x) => patchSide([x, 0, 0], [4, 1, 1])), ['left', 'central', 'central', 'right']);
  // G = 6: centres 1/12 … 11/12 → two low, two middle, two high
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((y) => patchSide([0, y, 0], [1, 6, 1])), ['posterior', 'posterior', 'central', 'central', 'anterior', 'anterior']);
});

test("the paper's 8×8×5 grid: names by index", () => {
  const g = [8, 8, 5] as const;
  // x: 6x + 3 < 16 → left for x ≤ 2, > 32 → right for x ≥ 5; z: 6z + 3 < 10 → inferior for z ≤ 1, > 20 → superior for z ≥ 3
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map((x) => patchSide([x, 3, 2], g)), ['left', 'left', 'left', 'central', 'central', 'right', 'right', 'right']);
  assert.deepEqual([0, 1, 2, 3, 4].map((z) => patchSide([3, 3, z], g)), ['inferior', 'inferior', 'central', 'superior', 'superior']);
  // p = (x·8 + y)·5 + z: (3, 5, 1) is (3·8 + 5)·5 + 1 = 146
  assert.deepEqual(patchCell(146, g), [3, 5, 1]);
  assert.equal(patchName(146, g), '(3, 5, 1) anterior inferior');
  assert.equal(patchName(0, g), '(0, 0, 0) left posterior inferior');
  assert.equal(patchName(319, g), '(7, 7, 4) right anterior superior');
});

test('a 1-wide axis says nothing; a 1×1×1 grid is central', () => {
  assert.equal(patchName([0, 3, 0], [4, 4, 1]), '(0, 3, 0) left anterior');
  assert.equal(patchName([0, 0, 0], [1, 1, 1]), '(0, 0, 0) central');
  assert.equal(patchName(1, [1, 1, 2]), '(0, 0, 1) superior');
});

test("patchCell inverts the engine's patch order (x·Y + y)·Z + z", () => {
  const g = [3, 4, 5] as const;
  const seen = new Set<number>();
  for (let x = 0; x < 3; x++) {
    for (let y = 0; y < 4; y++) {
      for (let z = 0; z < 5; z++) {
        const p = patchIndex([3, 4, 5], x, y, z);
        seen.add(p);
        assert.deepEqual(patchCell(p, g), [x, y, z]);
        assert.equal(patchName(p, g), patchName([x, y, z], g));
      }
    }
  }
  assert.equal(seen.size, 60);
  assert.throws(() => patchCell(60, g), /patch 60 is outside the 3×4×5 grid \(0\.\.59\)/);
  assert.throws(() => patchCell(-1, g), /outside/);
  assert.throws(() => patchSide([3, 0, 0], g), /cell \(3, 0, 0\) is outside the 3×4×5 grid/);
  assert.throws(() => patchName([0, 0], [0, 1, 1] as unknown as [number, number, number]), /three positive integers/);
});

test('names follow RAS+: a voxel at the patient\'s right front top of an LPS image lands in a "right anterior superior" cell', () => {
  // LPS storage: voxel i grows to the patient's left, j to posterior, k to superior
  const dims: [number, number, number] = [4, 4, 4];
  const data = new Float32Array(64);
  data[0 + 4 * (0 + 4 * 3)] = 1; // i = 0 (rightmost), j = 0 (most anterior), k = 3 (top)
  const lps: Volume = { data, dims, pixdim: [1, 1, 1], affine: [[-1, 0, 0, 0], [0, -1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]] };
  const ras = toCanonical(lps);
  const at = ras.data.indexOf(1);
  const voxel: [number, number, number] = [at % 4, Math.floor(at / 4) % 4, Math.floor(at / 16)];
  assert.deepEqual(voxel, [3, 3, 3]);
  const { cell } = patchUnderVoxel(voxel, dims, [2, 2, 2]);
  assert.equal(patchName(cell, [2, 2, 2]), '(1, 1, 1) right anterior superior');
  assert.match(PATCH_AXES, /x left→right, y posterior→anterior, z inferior→superior/);
});

test("patchVoxel: a cell's centre on the image, the inverse of the patch under a voxel", () => {
  // align corners on 8×8×5 → 64×64×40: 3·63/7 = 27, 5·63/7 = 45, 1·39/4 = 9.75 → 10
  assert.deepEqual(patchVoxel([3, 5, 1], [8, 8, 5], [64, 64, 40]), [27, 45, 10]);
  assert.deepEqual(patchVoxel([0, 0, 0], [2, 3, 1], [9, 10, 7]), [0, 0, 3], 'a 1-wide axis: the middle voxel');
  for (const [grid, dims] of [
    [[3, 4, 2], [11, 13, 7]],
    [[8, 8, 5], [64, 64, 40]],
    [[2, 2, 1], [2, 5, 3]],
  ] as [[number, number, number], [number, number, number]][]) {
    for (let x = 0; x < grid[0]; x++) for (let y = 0; y < grid[1]; y++) for (let z = 0; z < grid[2]; z++) {
      assert.deepEqual(patchUnderVoxel(patchVoxel([x, y, z], grid, dims), dims, grid).cell, [x, y, z], `${grid} ${dims} (${x}, ${y}, ${z})`);
    }
  }
  assert.throws(() => patchVoxel([0, 4, 0], [3, 4, 2], [11, 13, 7]), /outside the 3×4×2 grid/);
});

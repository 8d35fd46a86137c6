import { test } from 'node:test';
import assert from 'node:assert/strict';
import { componentSizes } from '../../../src/engine/synth/components';

// Hand-made 3×3×2 masks (i fastest, then j, then k) and their 6-connected component sizes.
const CASES: [string, number[], number[]][] = [
  ['empty', [0, 0, 0, 0, 0, 0, 0, 0, 0, /**/ 0, 0, 0, 0, 0, 0, 0, 0, 0], []],
  ['one voxel', [0, 0, 0, 0, 1, 0, 0, 0, 0, /**/ 0, 0, 0, 0, 0, 0, 0, 0, 0], [1]],
  ['row of three', [1, 1, 1, 0, 0, 0, 0, 0, 0, /**/ 0, 0, 0, 0, 0, 0, 0, 0, 0], [3]],
  ['diagonal in-plane is two components', [1, 0, 0, 0, 1, 0, 0, 0, 0, /**/ 0, 0, 0, 0, 0, 0, 0, 0, 0], [1, 1]],
  ['joined through the slice below', [1, 0, 1, 0, 0, 0, 0, 0, 0, /**/ 1, 1, 1, 0, 0, 0, 0, 0, 0], [5]],
  ['no wrap across rows', [0, 0, 1, 1, 0, 0, 0, 0, 0, /**/ 0, 0, 0, 0, 0, 0, 0, 0, 0], [1, 1]],
  ['two blobs', [1, 1, 0, 1, 0, 0, 0, 0, 1, /**/ 0, 0, 0, 0, 0, 0, 0, 1, 1], [3, 3]],
  ['full', Array(18).fill(1), [18]],
];

for (const [name, mask, sizes] of CASES) {
  test(`componentSizes: ${name}`, () => {
    assert.deepEqual(componentSizes(mask, [3, 3, 2]), sizes);
  });
}

test('componentSizes rejects a mask of the wrong length', () => {
  assert.throws(() => componentSizes([1, 0], [3, 3, 2]), /2 voxels, dims 3×3×2 need 18/);
});

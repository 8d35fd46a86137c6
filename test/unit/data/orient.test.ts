import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ioOrientation, toCanonical } from '../../../src/engine/data/orient';
import type { Affine, Volume } from '../../../src/engine/io/volume';

interface OrientFixture {
  dims: [number, number, number];
  data: number[];
  cases: Record<string, { affine: Affine; ornt: [number, number][]; canonical: { dims: number[]; affine: number[][]; data: number[] } }>;
}
const fx = JSON.parse(readFileSync(join(__dirname, '../../fixtures/nifti/orient.json'), 'utf8')) as OrientFixture;

function input(affine: Affine): Volume {
  const z = [0, 1, 2].map((j) => Math.hypot(affine[0][j]!, affine[1][j]!, affine[2][j]!)) as [number, number, number];
  return { data: Float32Array.from(fx.data), dims: [...fx.dims], pixdim: z, affine };
}

for (const [name, c] of Object.entries(fx.cases)) {
  test(`toCanonical matches nibabel as_closest_canonical: ${name}`, () => {
    assert.deepEqual(ioOrientation(c.affine), c.ornt);
    const out = toCanonical(input(c.affine));
    assert.deepEqual(out.dims, c.canonical.dims);
    assert.deepEqual(Array.from(out.data), c.canonical.data);
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) assert.ok(Math.abs(out.affine[i]![j]! - c.canonical.affine[i]![j]!) < 1e-9, `affine[${i}][${j}]`);
    }
  });
}

test('pixdim follows its axis; every voxel keeps its world position', () => {
  const c = fx.cases['PSR']!;
  const v = input(c.affine);
  const out = toCanonical(v);
  assert.deepEqual(out.pixdim, [1, 2, 3]); // input pixdim [2, 3, 1] along P, S, R
  // voxel (i, j, k) of the input and its image in the output share world coordinates
  const world = (a: Affine, p: number[]): number[] => [0, 1, 2].map((r) => a[r]![0]! * p[0]! + a[r]![1]! * p[1]! + a[r]![2]! * p[2]! + a[r]![3]!);
  const [nx, ny] = v.dims;
  const [ox, oy] = out.dims;
  for (const [i, j, k] of [[0, 0, 0], [3, 4, 5], [1, 2, 3]] as const) {
    const value = v.data[i + nx * (j + ny * k)]!;
    const w = world(v.affine, [i, j, k]);
    // find the output voxel at that world point
    const inv = [0, 1, 2].map((r) => w[r]! - out.affine[r]![3]!);
    const p = [inv[0]! / out.affine[0]![0]!, inv[1]! / out.affine[1]![1]!, inv[2]! / out.affine[2]![2]!].map(Math.round);
    assert.equal(out.data[p[0]! + ox * (p[1]! + oy * p[2]!)], value);
  }
});

test('a singular affine is refused clearly', () => {
  const bad: Affine = [[1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]];
  assert.throws(() => toCanonical(input(bad)), /singular/);
});

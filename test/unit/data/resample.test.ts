import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resampleTo } from '../../../src/engine/data/resample';
import type { Affine, Volume } from '../../../src/engine/io/volume';

interface ResampleFixture {
  dims: [number, number, number];
  data: number[];
  cases: { shape: [number, number, number]; trilinear: number[]; nearest: number[] }[];
}
const fx = JSON.parse(readFileSync(join(__dirname, '../../fixtures/nifti/resample.json'), 'utf8')) as ResampleFixture;

const AFFINE: Affine = [
  [0, -2, 0, 10],
  [1.5, 0, 0, -4],
  [0, 0, 3, 7],
  [0, 0, 0, 1],
];
const input = (): Volume => ({ data: Float32Array.from(fx.data), dims: [...fx.dims], pixdim: [1.5, 2, 3], affine: AFFINE });

for (const c of fx.cases) {
  test(`trilinear to ${c.shape.join('×')} matches torch (align_corners=False)`, () => {
    const out = resampleTo(input(), c.shape, 'trilinear');
    assert.deepEqual(out.dims, c.shape);
    c.trilinear.forEach((want, n) => assert.ok(Math.abs(out.data[n]! - want) <= 1e-5 * Math.max(1, Math.abs(want)), `[${n}] ${out.data[n]} vs ${want}`));
  });
  test(`nearest to ${c.shape.join('×')} matches torch nearest-exact`, () => {
    const out = resampleTo(input(), c.shape, 'nearest');
    assert.deepEqual(Array.from(out.data), c.nearest);
  });
}

test('hand-derived 1D table: 2 → 4 and 4 → 2 along x', () => {
  const v: Volume = { data: Float32Array.from([0, 8]), dims: [2, 1, 1], pixdim: [2, 1, 1], affine: [[2, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]] };
  // s = 0.5: x(o) = (o + 0.5)/2 − 0.5 = −0.25, 0.25, 0.75, 1.25 → clamp → 0, 0.25, 0.75, 1
  assert.deepEqual(Array.from(resampleTo(v, [4, 1, 1], 'trilinear').data), [0, 2, 6, 8]);
  // nearest: floor((o + 0.5)/2) = 0, 0, 1, 1
  assert.deepEqual(Array.from(resampleTo(v, [4, 1, 1], 'nearest').data), [0, 0, 8, 8]);
  const w: Volume = { ...v, data: Float32Array.from([1, 3, 5, 7]), dims: [4, 1, 1] };
  // s = 2: x = 0.5, 2.5 → means of pairs
  assert.deepEqual(Array.from(resampleTo(w, [2, 1, 1], 'trilinear').data), [2, 6]);
  // nearest: floor((o + 0.5)·2) = 1, 3
  assert.deepEqual(Array.from(resampleTo(w, [2, 1, 1], 'nearest').data), [3, 7]);
});

test('affine and pixdim keep the world extent', () => {
  const v = input();
  const out = resampleTo(v, [10, 3, 8], 'trilinear');
  assert.deepEqual(out.pixdim, [0.75, 4, 1.5]);
  const world = (a: Affine, p: number[]): number[] => [0, 1, 2].map((r) => a[r]![0]! * p[0]! + a[r]![1]! * p[1]! + a[r]![2]! * p[2]! + a[r]![3]!);
  // the outer corner faces: input voxel −0.5 / n − 0.5 equal output −0.5 / m − 0.5
  const near = (a: number[], b: number[]) => a.forEach((x, i) => assert.ok(Math.abs(x - b[i]!) < 1e-12, `${a} vs ${b}`));
  near(world(out.affine, [-0.5, -0.5, -0.5]), world(v.affine, [-0.5, -0.5, -0.5]));
  near(world(out.affine, [9.5, 2.5, 7.5]), world(v.affine, [4.5, 5.5, 3.5]));
  // the centre of the grid stays put
  near(world(out.affine, [4.5, 1, 3.5]), world(v.affine, [2, 2.5, 1.5]));
});

test('same shape is the identity; bad shapes are refused', () => {
  const v = input();
  const same = resampleTo(v, v.dims, 'trilinear');
  assert.deepEqual(Array.from(same.data), Array.from(v.data));
  assert.deepEqual(same.affine, v.affine);
  assert.throws(() => resampleTo(v, [0, 2, 2], 'nearest'), /shape must be three positive integers/);
  assert.throws(() => resampleTo(v, [2.5, 2, 2], 'nearest'), /shape must be three positive integers/);
  assert.throws(() => resampleTo(v, [2, 2, 2], 'cubic' as 'nearest'), /mode must be/);
});

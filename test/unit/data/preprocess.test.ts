import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { preprocessVolume } from '../../../src/engine/data/preprocess';
import { writeNifti } from '../../../src/engine/io/nifti';
import type { Affine } from '../../../src/engine/io/volume';

const FIX = join(__dirname, '../../fixtures/nifti');
interface Case { file: string; shape: [number, number, number]; isMask: boolean; normalization: 'minmax' | 'zscore'; data: number[] }
const cases = JSON.parse(readFileSync(join(FIX, 'preprocess.json'), 'utf8')) as Case[];

for (const c of cases) {
  test(`preprocessVolume ${c.file} → ${c.shape.join('×')} ${c.isMask ? 'mask' : c.normalization} matches nibabel + torch`, () => {
    const v = preprocessVolume(join(FIX, c.file), { shape: c.shape, normalization: c.normalization, isMask: c.isMask });
    assert.deepEqual(v.dims, c.shape);
    c.data.forEach((want, n) => assert.ok(Math.abs(v.data[n]! - want) <= 1e-5 * Math.max(1, Math.abs(want)), `[${n}] ${v.data[n]} vs ${want}`));
    // RAS+: the canonical affine has a positive diagonal for these axis-aligned inputs
    if (c.file !== 'f64_be_qform.nii') for (let i = 0; i < 3; i++) assert.ok(v.affine[i]![i]! > 0);
  });
}

test('hand-derived: LAS 2×1×1 image is flipped to RAS and min–max scaled; mask is binarised', () => {
  const dir = mkdtempSync(join(tmpdir(), 'prep-'));
  try {
    const las: Affine = [[-1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]];
    const p = join(dir, 'img.nii');
    writeNifti(p, { data: Float32Array.from([10, 30]), dims: [2, 1, 1], pixdim: [1, 1, 1], affine: las });
    // after the flip: [30, 10]; 2 → 4 trilinear: [30, 25, 15, 10]; min–max: [1, 0.75, 0.25, 0]
    const v = preprocessVolume(p, { shape: [4, 1, 1] });
    assert.deepEqual(Array.from(v.data), [1, 0.75, 0.25, 0]);
    assert.deepEqual(v.affine[0], [0.5, 0, 0, -1.25]);
    const m = join(dir, 'mask.nii.gz');
    writeNifti(m, { data: Float32Array.from([0, 2]), dims: [2, 1, 1], pixdim: [1, 1, 1], affine: las }, { datatype: 'uint8' });
    // flipped [2, 0]; nearest to 4: [2, 2, 0, 0]; binarised
    assert.deepEqual(Array.from(preprocessVolume(m, { shape: [4, 1, 1], isMask: true, normalization: 'zscore' }).data), [1, 1, 0, 0]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('errors name the file', () => {
  const p = join(FIX, 'f32_4d.nii');
  assert.throws(() => preprocessVolume(p, { shape: [4, 4, 4] }), (e: Error) => e.message.includes(p) && /4D/.test(e.message));
  const q = join(FIX, 'u32.nii');
  assert.throws(() => preprocessVolume(q, { shape: [0, 4, 4] }), (e: Error) => e.message.startsWith(`${q}: resampleTo: shape`));
  assert.throws(() => preprocessVolume(join(FIX, 'u16_scl.nii.gz'), { shape: [4, 4, 4], maxInflatedBytes: 100 }), /maxInflatedBytes/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNifti, readNiftiHeader } from '../../../src/engine/io/nifti';

const FIX = join(__dirname, '../../fixtures/nifti');

interface Expected {
  version: 1 | 2;
  littleEndian: boolean;
  datatype: string;
  dims: number[];
  pixdim: number[];
  affine: number[][];
  data: number[];
}
const expected = JSON.parse(readFileSync(join(FIX, 'expected.json'), 'utf8')) as Record<string, Expected> & {
  'f32_4d.nii': { dims: number[]; affine: number[][]; frames: number[][] };
};

function close(actual: readonly number[], want: readonly number[], tol: number, what: string): void {
  assert.equal(actual.length, want.length, `${what}: length`);
  for (let n = 0; n < want.length; n++) {
    const d = Math.abs(actual[n]! - want[n]!);
    assert.ok(d <= tol * Math.max(1, Math.abs(want[n]!)), `${what}[${n}]: ${actual[n]} vs ${want[n]}`);
  }
}

const SINGLE = Object.keys(expected).filter((k) => k !== 'f32_4d.nii');

for (const name of SINGLE) {
  test(`reads ${name} as nibabel does`, () => {
    const e = expected[name]!;
    const v = readNifti(join(FIX, name));
    assert.deepEqual(v.dims, e.dims);
    close(v.pixdim, e.pixdim, 1e-6, 'pixdim');
    // nibabel builds the qform affine in float32 arithmetic; sform is exact
    close(v.affine.flat(), e.affine.flat(), 2e-6, 'affine');
    // data are float32 both sides: equal to float32 rounding
    close(Array.from(v.data), e.data, 1e-6, 'data');
    assert.equal(v.header.version, e.version);
    assert.equal(v.header.littleEndian, e.littleEndian);
    assert.equal(v.header.datatype, e.datatype);
    assert.equal(v.header.description, 'fixture');
  });
}

test('affine source follows get_best_affine: sform over qform over base', () => {
  assert.equal(readNiftiHeader(join(FIX, 'u8_both.nii')).affineSource, 'sform');
  assert.equal(readNiftiHeader(join(FIX, 'f64_be_qform.nii')).affineSource, 'qform');
  assert.equal(readNiftiHeader(join(FIX, 'i8_noxform.nii')).affineSource, 'base');
  assert.equal(readNiftiHeader(join(FIX, 'n2_i16_be_qform.nii.gz')).affineSource, 'qform');
});

test('scl_slope 0 means no scaling, whatever scl_inter says', () => {
  const h = readNiftiHeader(join(FIX, 'slope0.nii'));
  assert.equal(h.sclSlope, 1);
  assert.equal(h.sclInter, 0);
  const s = readNiftiHeader(join(FIX, 'u16_scl.nii.gz'));
  assert.equal(s.sclSlope, 2);
  assert.equal(s.sclInter, -100);
});

test('readNiftiHeader reports shape, datatype and the same affine as readNifti', () => {
  for (const name of SINGLE) {
    const h = readNiftiHeader(join(FIX, name));
    const v = readNifti(join(FIX, name));
    assert.deepEqual(h.dims, v.dims);
    assert.deepEqual(h.affine, v.affine);
    assert.equal(h.datatype, expected[name]!.datatype);
  }
});

test('4D: refused by default, a frame can be picked, dim4 = 1 is plain 3D', () => {
  const p = join(FIX, 'f32_4d.nii');
  assert.throws(() => readNifti(p), (e: Error) => e.message.includes(p) && /4D image \(4×5×6×2\)/.test(e.message));
  const e = expected['f32_4d.nii'];
  for (const frame of [0, 1]) {
    const v = readNifti(p, { frame });
    assert.deepEqual(v.dims, e.dims);
    close(Array.from(v.data), e.frames[frame]!, 0, `frame ${frame}`);
  }
  assert.throws(() => readNifti(p, { frame: 2 }), /frame 2 is outside 0\.\.1/);
  const h = readNiftiHeader(p);
  assert.deepEqual(h.shape, [4, 5, 6, 2]);
  assert.equal(h.frames, 2);
  const one = readNifti(join(FIX, 'f32_4d1.nii'));
  assert.deepEqual(one.dims, [4, 5, 6]);
  close(Array.from(one.data), e.frames[0]!, 0, 'dim4 = 1');
});

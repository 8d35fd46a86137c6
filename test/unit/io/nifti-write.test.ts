import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { readNifti, readNiftiHeader, writeNifti } from '../../../src/engine/io/nifti';
import type { Affine, Volume } from '../../../src/engine/io/volume';

const dir = mkdtempSync(join(tmpdir(), 'nifti-write-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const c = Math.cos(0.4), s = Math.sin(0.4);
// oblique, right-handed
const OBLIQUE: Affine = [
  [2 * c, -2.5 * s, 0, -10.5],
  [2 * s, 2.5 * c, 0, 20.25],
  [0, 0, 3, -7],
  [0, 0, 0, 1],
];
// left-handed (LAS-like, x flipped): stored with qfac = -1
const LEFT: Affine = [
  [-1.2, 0, 0, 30],
  [0, 0.8, 0, -4],
  [0, 0, 1.5, 2],
  [0, 0, 0, 1],
];

function vol(values: (n: number) => number, affine: Affine): Volume {
  return { data: new Float32Array(4 * 5 * 6).map((_, n) => values(n)), dims: [4, 5, 6], pixdim: [1, 1, 1], affine };
}

const CASES = [
  { dt: 'float32', values: (n: number) => Math.fround(Math.sin(n) * 1000) },
  { dt: 'uint8', values: (n: number) => (n * 37) % 256 },
  { dt: 'int16', values: (n: number) => n * 271 - 16000 },
] as const;

for (const { dt, values } of CASES) {
  for (const ext of ['.nii', '.nii.gz']) {
    test(`round trip ${dt} ${ext}: data identical, affine to float32 precision`, () => {
      for (const affine of [OBLIQUE, LEFT]) {
        const p = join(dir, `rt-${dt}${ext}`);
        const v = vol(values, affine);
        writeNifti(p, v, { datatype: dt, description: 'round trip' });
        const r = readNifti(p);
        assert.deepEqual(r.dims, v.dims);
        assert.deepEqual(Array.from(r.data), Array.from(v.data));
        assert.equal(r.header.datatype, dt);
        assert.equal(r.header.description, 'round trip');
        for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) assert.ok(Math.abs(r.affine[i]![j]! - affine[i]![j]!) < 1e-5);
        // pixdim holds the affine's voxel sizes
        assert.deepEqual(r.pixdim.map((x) => Math.round(x * 1e5) / 1e5), affine === OBLIQUE ? [2, 2.5, 3] : [1.2, 0.8, 1.5]);
      }
    });
  }
}

test('the qform alone reproduces the affine (quaternion + qfac)', () => {
  for (const [name, affine] of [['oblique', OBLIQUE], ['left', LEFT]] as const) {
    const p = join(dir, `q-${name}.nii`);
    writeNifti(p, vol((n) => n, affine));
    const b = readFileSync(p);
    assert.equal(b.readInt16LE(252), 2);
    assert.equal(b.readInt16LE(254), 2);
    assert.equal(b.readFloatLE(76), name === 'left' ? -1 : 1); // qfac
    b.writeInt16LE(0, 254); // drop the sform
    writeFileSync(p, b);
    const h = readNiftiHeader(p);
    assert.equal(h.affineSource, 'qform');
    for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) assert.ok(Math.abs(h.affine[i]![j]! - affine[i]![j]!) < 1e-5, `${name} [${i}][${j}]`);
  }
});

test('.nii.gz is gzip, .nii is not', () => {
  writeNifti(join(dir, 'z.nii.gz'), vol((n) => n, LEFT));
  writeNifti(join(dir, 'z.nii'), vol((n) => n, LEFT));
  const gz = readFileSync(join(dir, 'z.nii.gz'));
  assert.deepEqual([gz[0], gz[1]], [0x1f, 0x8b]);
  assert.deepEqual(gunzipSync(gz), readFileSync(join(dir, 'z.nii')));
  assert.equal(readFileSync(join(dir, 'z.nii')).length, 352 + 120 * 4);
});

test('bad volumes are refused with the path, and nothing is written', () => {
  const p = join(dir, 'never.nii');
  const bad: [Volume, object, RegExp][] = [
    [{ ...vol((n) => n, LEFT), data: new Float32Array(7) }, {}, /data has 7 values but dims 4×5×6 need 120/],
    [vol((n) => n + 0.5, LEFT), { datatype: 'uint8' }, /voxel 0 has value 0\.5, not an integer in the uint8 range \[0, 255\]/],
    [vol((n) => n * 1000, LEFT), { datatype: 'int16' }, /voxel 33 has value 33000, not an integer in the int16 range/],
    [vol((n) => (n === 3 ? NaN : n), LEFT), {}, /voxel 3 is NaN/],
    [{ ...vol((n) => n, LEFT), dims: [4, 5, 0] }, {}, /dims must be three positive integers/],
    [vol((n) => n, [[1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]), {}, /affine is singular/],
    [vol((n) => n, [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 1, 1]]), {}, /last row must be \[0, 0, 0, 1\]/],
    [vol((n) => n, LEFT), { datatype: 'float64' }, /datatype must be float32, uint8 or int16/],
  ];
  for (const [v, opts, re] of bad) {
    assert.throws(() => writeNifti(p, v, opts), (e: unknown) => e instanceof Error && e.message.includes(p) && re.test(e.message));
  }
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('never')), []);
});

test('a failed write leaves an existing file untouched and no temp files', () => {
  const p = join(dir, 'keep.nii');
  writeNifti(p, vol((n) => n, LEFT));
  const before = readFileSync(p);
  assert.throws(() => writeNifti(p, vol(() => 1.5, LEFT), { datatype: 'int16' }));
  assert.deepEqual(readFileSync(p), before);
  assert.throws(() => writeNifti(join(dir, 'no-such-dir', 'x.nii'), vol((n) => n, LEFT)), /ENOENT/);
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
});

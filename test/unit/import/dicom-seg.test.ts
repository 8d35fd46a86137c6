// DICOM-SEG masks (dicom-seg.ts, seg-mask.ts) without dcm2niix: the SEGs of
// test/fixtures/dicom/seg (written by make_fixtures.py on the FLAIR's oblique,
// non-isotropic grid) are placed on that grid (expected.json's affine, RAS)
// and must give expected.json's "seg" mask voxel for voxel; the bad ones must
// fail naming the file and the problem.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { readNifti, readNiftiHeader, writeNifti } from '../../../src/engine/io/nifti';
import type { Affine } from '../../../src/engine/io/volume';
import { findSegFile, readSeg, type SegSegment } from '../../../src/engine/import/dicom-seg';
import { chooseSegments, segMaskForImage, segToGrid } from '../../../src/engine/import/seg-mask';

const FIXTURES = join(__dirname, '..', '..', 'fixtures', 'dicom');
const SEG = join(FIXTURES, 'seg');
interface Expected {
  dims: [number, number, number];
  affine: Affine;
  seg: { mask: number[]; segments: { number: number; label: string }[]; used: number[] };
}
const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as Expected;
const tumourVoxels = expected.seg.mask.reduce((a, b) => a + b, 0);

function workdir(t: { after: (f: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-seg-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a binary SEG (1 bit, two segments, frames only where pixels are) gives the tumour segment on the image grid exactly', () => {
  const seg = readSeg(join(SEG, 'case01.dcm'));
  assert.equal(seg.bitsAllocated, 1);
  assert.deepEqual(seg.segments.map((s) => ({ number: s.number, label: s.label })), expected.seg.segments);
  const m = segToGrid(seg, expected.dims, expected.affine);
  assert.deepEqual(Array.from(m.data), expected.seg.mask);
  assert.ok(tumourVoxels > 10 && tumourVoxels < expected.seg.mask.length / 2, 'the fixture mask is neither trivial nor full');
  assert.equal(m.voxels, tumourVoxels);
  assert.equal(m.pixels, tumourVoxels);
  assert.equal(m.outside, 0);
  assert.equal(m.rule, 'tumour-like labels');
  assert.deepEqual(m.segments, [{ number: 1, label: 'Tumor', used: true }, { number: 2, label: 'Ventricles', used: false }]);
  assert.deepEqual(m.warnings, []);
});

test('a FRACTIONAL SEG (8 bits, columns flipped, frames in reverse order) and a LABELMAP SEG give the same mask', () => {
  for (const name of ['fractional.dcm', 'labelmap.dcm']) {
    const seg = readSeg(join(SEG, name));
    assert.equal(seg.bitsAllocated, 8, name);
    const m = segToGrid(seg, expected.dims, expected.affine);
    assert.deepEqual(Array.from(m.data), expected.seg.mask, name);
    assert.equal(m.voxels, tumourVoxels, name);
  }
  // the label map's segment 2 ("Ventricles") is left out: its pixels are not in the mask
  const labelmap = segToGrid(readSeg(join(SEG, 'labelmap.dcm')), expected.dims, expected.affine);
  assert.deepEqual(labelmap.segments.map((s) => s.used), [true, false]);
});

test('the mask follows the grid: on a grid with its j axis reversed, voxel (i, j, k) is the source voxel (i, ny-1-j, k)', () => {
  const [nx, ny, nz] = expected.dims;
  const A = expected.affine;
  // world = A·[i, ny-1-j', k]: column 1 negated, origin moved to the last row
  const flipped = A.map((row) => [row[0]!, -row[1]!, row[2]!, row[3]! + row[1]! * (ny - 1)]) as Affine;
  const m = segToGrid(readSeg(join(SEG, 'case01.dcm')), expected.dims, flipped);
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) assert.equal(m.data[i + nx * (j + ny * k)], expected.seg.mask[i + nx * (ny - 1 - j + ny * k)], `${i},${j},${k}`);
    }
  }
});

test('segMaskForImage writes a uint8 NIfTI with the image geometry', (t) => {
  const dir = workdir(t);
  const image = join(dir, 'image.nii.gz');
  writeNifti(image, { data: new Float32Array(expected.dims[0] * expected.dims[1] * expected.dims[2]), dims: expected.dims, pixdim: [1, 1, 1], affine: expected.affine });
  const out = join(dir, 'mask.nii.gz');
  const r = segMaskForImage(join(SEG, 'case01.dcm'), image, out);
  assert.equal(r.file, join(SEG, 'case01.dcm'));
  const mask = readNifti(out);
  const img = readNiftiHeader(image);
  assert.equal(mask.header.datatype, 'uint8');
  assert.deepEqual(mask.dims, img.dims);
  assert.deepEqual(mask.affine, img.affine);
  assert.deepEqual(Array.from(mask.data), expected.seg.mask);
});

test('segments: the tumour-like ones united, else all of them', () => {
  const s = (number: number, label: string, extra: Partial<SegSegment> = {}): SegSegment => ({ number, label, ...extra });
  const cases: [SegSegment[], number[], string][] = [
    [[s(1, 'Tumor'), s(2, 'Ventricles')], [1], 'tumour-like labels'],
    [[s(1, 'Brain'), s(2, 'Whole tumour'), s(3, 'Peritumoral edema'), s(4, 'Skull')], [2, 3], 'tumour-like labels'],
    [[s(1, 'Segment_1', { type: 'Neoplasm' }), s(2, 'Segment_2', { type: 'Brain' })], [1], 'tumour-like labels'],
    [[s(1, 'ROI', { description: 'enhancing lesion' }), s(2, 'ROI 2')], [1], 'tumour-like labels'],
    [[s(1, 'Brain'), s(2, 'Ventricles')], [1, 2], 'all segments'],
    [[s(7, '')], [7], 'all segments'],
    // "mass" as a word only: "massa intermedia" is anatomy
    [[s(1, 'Massa intermedia'), s(2, 'Mass')], [2], 'tumour-like labels'],
  ];
  for (const [segments, used, rule] of cases) {
    const c = chooseSegments(segments);
    assert.deepEqual([...c.used].sort((a, b) => a - b), used, JSON.stringify(segments));
    assert.equal(c.rule, rule);
  }
});

test('a folder holding one SEG among other files is read; two SEGs or none are errors naming the folder', (t) => {
  const dir = workdir(t);
  const one = join(dir, 'one');
  mkdirSync(join(one, 'sub'), { recursive: true });
  copyFileSync(join(FIXTURES, 'study', 'case01', 'FLAIR', 'IM0001.dcm'), join(one, 'IM0001.dcm'));
  writeFileSync(join(one, 'notes.txt'), 'not DICOM\n');
  copyFileSync(join(SEG, 'case01.dcm'), join(one, 'sub', 'SEG0001'));
  assert.equal(findSegFile(one), join(one, 'sub', 'SEG0001'));
  assert.equal(findSegFile(join(SEG, 'case01.dcm')), join(SEG, 'case01.dcm'), 'a file is itself');

  copyFileSync(join(SEG, 'fractional.dcm'), join(one, 'second.dcm'));
  assert.throws(() => findSegFile(one), (e: Error) => e.message.startsWith(`${one}: more than one DICOM-SEG in the folder (second.dcm, sub/SEG0001)`));

  const none = join(dir, 'none');
  mkdirSync(none);
  copyFileSync(join(FIXTURES, 'study', 'case01', 'FLAIR', 'IM0001.dcm'), join(none, 'IM0001.dcm'));
  writeFileSync(join(none, 'notes.txt'), 'not DICOM\n');
  assert.throws(() => findSegFile(none), (e: Error) => e.message === `${none}: no DICOM-SEG in the folder (2 file(s): DICOM 1 MR, 1 not DICOM)`);
  assert.throws(() => findSegFile(join(dir, 'missing')), /missing: DICOM-SEG file or folder not found/);
});

test('bad SEG files: each error names the file and the problem', (t) => {
  const dir = workdir(t);
  const text = join(dir, 'notes.dcm');
  writeFileSync(text, 'a text file, not DICOM\n'.repeat(10));
  const cut = join(dir, 'cut.dcm');
  writeFileSync(cut, readFileSync(join(SEG, 'case01.dcm')).subarray(0, 1500));
  const read = (f: string) => () => segToGrid(readSeg(f), expected.dims, expected.affine);
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const bad = (name: string) => join(SEG, 'bad', name);
  const table: [string, RegExp][] = [
    [text, /not a DICOM file \(no "DICM" after the 128-byte preamble\)/],
    [cut, /cannot be read as DICOM, truncated or damaged/],
    [join(FIXTURES, 'study', 'case01', 'FLAIR', 'IM0001.dcm'), /not a DICOM-SEG \(Modality MR, SOP Class 1\.2\.840\.10008\.5\.1\.4\.1\.1\.4\)/],
    [bad('no_frames.dcm'), /no frames \(NumberOfFrames 0, 0 per-frame functional groups\)/],
    [bad('truncated.dcm'), /truncated pixel data: 2 bytes where 3 frame\(s\) of 5×7 at 1 bit\(s\) need 14/],
    [bad('rotated.dcm'), /frame 1's orientation is not parallel to the image's axes \(off by 30\.00°/],
    [bad('outside.dcm'), /the SEG lies outside the image: none of its \d+ segmented pixel\(s\) \(segments 1 "Tumor"\) falls inside the image's 7×5×4 grid/],
    [join(dir, 'absent.dcm'), /DICOM-SEG file not found/],
  ];
  for (const [file, problem] of table) {
    assert.throws(read(file), (e: Error) => new RegExp(`^${esc(file)}: `).test(e.message) && problem.test(e.message), `${file}: ${problem}`);
  }
});

test('an empty SEG warns and gives an empty mask; pixels partly outside the image warn and are dropped', () => {
  const empty = segToGrid(readSeg(join(SEG, 'bad', 'empty.dcm')), expected.dims, expected.affine);
  assert.equal(empty.voxels, 0);
  assert.ok(empty.data.every((v) => v === 0));
  assert.deepEqual(empty.warnings, [`${join(SEG, 'bad', 'empty.dcm')}: the mask is empty after resampling: segment(s) 1 "Tumor" hold no pixels`]);

  // the grid one slice shorter: the tumour pixels of the last slice fall outside
  const [nx, ny, nz] = expected.dims;
  const lastSlice = expected.seg.mask.slice(nx * ny * (nz - 1)).reduce((a, b) => a + b, 0);
  assert.ok(lastSlice > 0);
  const part = segToGrid(readSeg(join(SEG, 'case01.dcm')), [nx, ny, nz - 1], expected.affine);
  assert.equal(part.outside, lastSlice);
  assert.equal(part.voxels, tumourVoxels - lastSlice);
  assert.deepEqual(Array.from(part.data), expected.seg.mask.slice(0, nx * ny * (nz - 1)));
  assert.match(part.warnings[0]!, new RegExp(`${lastSlice} of ${tumourVoxels} segmented pixel\\(s\\) fall outside the image and were dropped`));
});

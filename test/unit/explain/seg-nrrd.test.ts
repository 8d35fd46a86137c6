// The attention segmentation read back by an independent NRRD reader (npm
// nrrd-js): labels, segment names and colours, and geometry against the NIfTI
// affine written beside it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as nrrd from 'nrrd-js';
import { itkSnapLabelText, labelExtent, segNrrdBytes, writeHeatmap } from '../../../src/engine/explain';
import { readNifti } from '../../../src/engine/io/nifti';
import type { Affine } from '../../../src/engine/io/volume';

const dir = mkdtempSync(join(tmpdir(), 'seg-nrrd-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

// oblique, non-isotropic, with a flipped axis
const c = Math.cos(0.3), s = Math.sin(0.3);
const AFFINE: Affine = [
  [1.5 * c, -1.5 * s, 0, -30.25],
  [1.5 * s, 1.5 * c, 0, 12.5],
  [0, 0, -2, 40],
  [0, 0, 0, 1],
];
const dims: [number, number, number] = [4, 3, 5];
const N = 60;
const at = (i: number, j: number, k: number) => i + 4 * (j + 3 * k);
// binary: a 2×2×2 block at i 1..2, j 0..1, k 1..2; mask: i 2..3, j 1, k 2..3
const binary = new Uint8Array(N);
const mask = new Uint8Array(N);
for (let k = 1; k <= 2; k++) for (let j = 0; j <= 1; j++) for (let i = 1; i <= 2; i++) binary[at(i, j, k)] = 1;
for (let k = 2; k <= 3; k++) for (let i = 2; i <= 3; i++) mask[at(i, 1, k)] = 1;
const heatmap = Float32Array.from(binary, (b) => (b ? 0.9 : 0.1));

function close(a: readonly number[], b: readonly number[], tol: number, what: string): void {
  assert.equal(a.length, b.length, what);
  a.forEach((x, i) => assert.ok(Math.abs(x - b[i]!) <= tol, `${what}[${i}]: ${x} vs ${b[i]}`));
}

test('attention segmentation with a mask: TP/FP/FN labels, names, colours and LPS geometry read back by nrrd-js', () => {
  const out = join(dir, 'mask');
  const names = writeHeatmap(out, 'case-01', { dims, affine: AFFINE }, { heatmap, binary }, out, { mask });
  assert.deepEqual(names, {
    heatmap: 'case-01.heatmap.nii.gz',
    binary: 'case-01.binary.nii.gz',
    segmentation: 'case-01.attention.seg.nrrd',
    labels: 'case-01.attention.label.txt',
  });
  assert.deepEqual(readdirSync(out).sort(), ['case-01.attention.label.txt', 'case-01.attention.seg.nrrd', 'case-01.binary.nii.gz', 'case-01.heatmap.nii.gz']);
  const seg = nrrd.parse(readFileSync(join(out, names.segmentation)));
  assert.equal(seg.type, 'uint8');
  assert.equal(seg.dimension, 3);
  assert.deepEqual(seg.sizes, [4, 3, 5]);
  assert.equal(seg.encoding, 'gzip');
  assert.equal(seg.space, 'left-posterior-superior');
  const labels = gunzipSync(new Uint8Array(seg.buffer!));
  // hand-derived classes: TP where both, FP binary only, FN mask only
  const tp = [at(2, 1, 2)];
  const fn = [at(3, 1, 2), at(2, 1, 3), at(3, 1, 3)];
  for (let n = 0; n < N; n++) {
    const want = tp.includes(n) ? 1 : fn.includes(n) ? 3 : binary[n] ? 2 : 0;
    assert.equal(labels[n], want, `voxel ${n}`);
  }
  // the binary map is the voxels labelled 1 or 2
  assert.deepEqual(Array.from(labels, (l) => (l === 1 || l === 2 ? 1 : 0)), Array.from(binary));
  const k = seg.keys;
  assert.deepEqual([k.Segment0_ID, k.Segment1_ID, k.Segment2_ID], ['true_positive', 'false_positive', 'false_negative']);
  assert.deepEqual([k.Segment0_Name, k.Segment1_Name, k.Segment2_Name], ['attention and tumour (TP)', 'attention outside the tumour (FP)', 'tumour without attention (FN)']);
  assert.deepEqual([k.Segment0_LabelValue, k.Segment1_LabelValue, k.Segment2_LabelValue], ['1', '2', '3']);
  assert.deepEqual([k.Segment0_Layer, k.Segment1_Layer, k.Segment2_Layer], ['0', '0', '0']);
  assert.deepEqual([k.Segment0_Color, k.Segment1_Color, k.Segment2_Color], ['0.1 0.8 0.1', '0.9 0.1 0.1', '0.1 0.3 1']);
  // extents (i0 i1 j0 j1 k0 k1), by hand: TP one voxel; FP the block; FN i 2..3, j 1, k 2..3
  assert.deepEqual([k.Segment0_Extent, k.Segment1_Extent, k.Segment2_Extent], ['2 2 1 1 2 2', '1 2 0 1 1 2', '2 3 1 1 2 3']);
  assert.equal(k.Segmentation_MasterRepresentation, 'Binary labelmap');

  // geometry: LPS = RAS with x and y negated, against the in-memory affine and the NIfTI written beside it
  const flip = [-1, -1, 1];
  const nifti = readNifti(join(out, names.binary));
  for (const [ref, tol] of [[AFFINE, 1e-12], [nifti.affine, 1e-6]] as const) {
    for (let a = 0; a < 3; a++) close(seg.spaceDirections![a]!, [0, 1, 2].map((r) => flip[r]! * ref[r]![a]!), tol, `space directions ${a}`);
    close(seg.spaceOrigin!, [0, 1, 2].map((r) => flip[r]! * ref[r]![3]!), tol, 'space origin');
  }
  // one voxel's world position, derived by hand: (i, j, k) = (3, 2, 4)
  const d = seg.spaceDirections!, o = seg.spaceOrigin!;
  const lps = [0, 1, 2].map((r) => o[r]! + 3 * d[0]![r]! + 2 * d[1]![r]! + 4 * d[2]![r]!);
  const ras = [-30.25 + 1.5 * c * 3 - 1.5 * s * 2, 12.5 + 1.5 * s * 3 + 1.5 * c * 2, 40 - 2 * 4];
  close(lps, [-ras[0]!, -ras[1]!, ras[2]!], 1e-12, 'world of voxel (3, 2, 4)');

  assert.equal(
    readFileSync(join(out, names.labels), 'utf8').split('\n').slice(5).join('\n'),
    [
      '    0     0    0    0        0  0  0    "Clear Label"',
      '    1    26   204    26        1  1  1    "attention and tumour (TP)"',
      '    2   230    26    26        1  1  1    "attention outside the tumour (FP)"',
      '    3    26    77   255        1  1  1    "tumour without attention (FN)"',
      '',
    ].join('\n'),
  );
});

test('attention segmentation without a mask: one "attention" segment; raw encoding decoded by nrrd-js; RAS space keeps the affine', () => {
  const out = join(dir, 'nomask');
  const names = writeHeatmap(out, 'c2', { dims, affine: AFFINE }, { heatmap, binary }, out, { encoding: 'raw' });
  const seg = nrrd.parse(readFileSync(join(out, names.segmentation)));
  assert.equal(seg.encoding, 'raw');
  assert.deepEqual(Array.from(seg.data!), Array.from(binary));
  assert.deepEqual([seg.keys.Segment0_ID, seg.keys.Segment0_Name, seg.keys.Segment0_LabelValue, seg.keys.Segment0_Color], ['attention', 'attention', '1', '1 0.8 0']);
  assert.equal(seg.keys.Segment1_ID, undefined);
  assert.match(itkSnapLabelText([{ id: 'a', name: 'attention', color: [1, 0.8, 0], label: 1 }]), /\n {4}1 {3}255 {3}204 {5}0 {8}1 {2}1 {2}1 {4}"attention"\n$/);

  const ras = nrrd.parse(segNrrdBytes({ dims, affine: AFFINE }, binary, [{ id: 'a', name: 'a', color: [1, 0, 0], label: 1 }], { space: 'RAS', encoding: 'raw' }));
  assert.equal(ras.space, 'right-anterior-superior');
  for (let a = 0; a < 3; a++) close(ras.spaceDirections![a]!, [AFFINE[0][a], AFFINE[1][a], AFFINE[2][a]], 0, `RAS direction ${a}`);
  close(ras.spaceOrigin!, [-30.25, 12.5, 40], 0, 'RAS origin');
});

test('segmentation: empty segments, bad labels and a mismatched mask are clear errors', () => {
  assert.deepEqual(labelExtent(new Uint8Array(N), dims, 1), [0, -1, 0, -1, 0, -1]);
  const seg = [{ id: 'a', name: 'a', color: [1, 0, 0] as [number, number, number], label: 1 }];
  assert.throws(() => segNrrdBytes({ dims, affine: AFFINE }, new Uint8Array(N).fill(2), seg), /voxel 0 holds label 2, which no segment names/);
  assert.throws(() => segNrrdBytes({ dims, affine: AFFINE }, new Uint8Array(59), seg), /labels have 59 values, the grid 4×3×5 needs 60/);
  assert.throws(() => segNrrdBytes({ dims, affine: AFFINE }, binary, [{ ...seg[0]!, id: 'a b' }]), /must not hold spaces/);
  assert.throws(() => segNrrdBytes({ dims, affine: AFFINE }, binary, [{ ...seg[0]!, name: 'a\nb' }]), /without control characters/);
  assert.throws(() => segNrrdBytes({ dims, affine: AFFINE }, binary, [seg[0]!, { ...seg[0]!, id: 'b' }]), /label must be a distinct integer/);
  const out = join(dir, 'bad');
  assert.throws(() => writeHeatmap(out, 'c3', { dims, affine: AFFINE }, { heatmap, binary }, out, { mask: new Uint8Array(59) }), /c3: mask has 59 voxels, the binary map 60/);
  assert.equal(existsSync(out) && readdirSync(out).length > 0, false);
});

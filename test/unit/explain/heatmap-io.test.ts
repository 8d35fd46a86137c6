import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { explainCase, writeHeatmap } from '../../../src/engine/explain';
import { readNifti, readNiftiHeader } from '../../../src/engine/io/nifti';
import type { Affine, Volume } from '../../../src/engine/io/volume';

const dir = mkdtempSync(join(tmpdir(), 'heatmap-io-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const c = Math.cos(0.3), s = Math.sin(0.3);
const AFFINE: Affine = [
  [1.5 * c, -1.5 * s, 0, -30.25],
  [1.5 * s, 1.5 * c, 0, 12.5],
  [0, 0, 2, -8],
  [0, 0, 0, 1],
];
const reference: Volume = { data: new Float32Array(4 * 3 * 5), dims: [4, 3, 5], pixdim: [1.5, 1.5, 2], affine: AFFINE };

test('writeHeatmap: float32 heatmap and uint8 binary with the reference affine, read back unchanged', () => {
  // a 2×2×2 attention grid with a peak at x = 1, y = 1, z = 0
  const P = 8;
  const att = new Float32Array(P * P);
  for (let q = 0; q < P; q++) for (let k = 0; k < P; k++) att[q * P + k] = k === 6 ? 0.5 : 0.5 / 7;
  const result = explainCase({ attention: att, grid: [2, 2, 2], imageDims: reference.dims, threshold: 0.3 });
  const names = writeHeatmap(join(dir, 'out'), 'case-01', reference, result);
  assert.deepEqual(names, {
    heatmap: 'case-01.heatmap.nii.gz',
    binary: 'case-01.binary.nii.gz',
    segmentation: 'case-01.attention.seg.nrrd',
    labels: 'case-01.attention.label.txt',
  });
  assert.deepEqual(readdirSync(join(dir, 'out')).sort(), ['case-01.attention.label.txt', 'case-01.attention.seg.nrrd', 'case-01.binary.nii.gz', 'case-01.heatmap.nii.gz']);

  const heat = readNifti(join(dir, 'out', names.heatmap));
  const bin = readNifti(join(dir, 'out', names.binary));
  assert.equal(heat.header.datatype, 'float32');
  assert.equal(bin.header.datatype, 'uint8');
  for (const v of [heat, bin]) {
    assert.deepEqual(v.dims, reference.dims);
    for (let r = 0; r < 4; r++) for (let q = 0; q < 4; q++) assert.ok(Math.abs(v.affine[r]![q]! - AFFINE[r]![q]!) < 1e-5, `affine[${r}][${q}]`);
  }
  assert.deepEqual(heat.data, result.heatmap);
  assert.deepEqual(Array.from(bin.data), Array.from(result.binary));
  assert.ok(result.binary.some((b) => b === 1) && result.binary.some((b) => b === 0));
  assert.equal(readNiftiHeader(join(dir, 'out', names.binary)).datatype, 'uint8');
});

test('writeHeatmap: bad input is a clear error and writes nothing', () => {
  const out = join(dir, 'bad');
  const ok = { heatmap: new Float32Array(60), binary: new Uint8Array(60) };
  assert.throws(() => writeHeatmap(out, '../x', reference, ok), /case id "..\/x" cannot be used as a file name/);
  assert.throws(() => writeHeatmap(out, 'c', reference, { ...ok, heatmap: new Float32Array(59) }), /writeHeatmap .*c: heatmap has 59 values, the reference grid 4×3×5 needs 60/);
  assert.throws(() => writeHeatmap(out, 'c', reference, { ...ok, binary: new Uint8Array(61) }), /binary has 61 values/);
  assert.throws(() => writeHeatmap(out, 'c', reference, { ...ok, binary: new Uint8Array(60).fill(2) }), /binary voxel 0 is 2, expected 0 or 1/);
  const nan = new Float32Array(60);
  nan[3] = NaN;
  assert.throws(() => writeHeatmap(out, 'c', reference, { ...ok, heatmap: nan }), /c\.heatmap\.nii\.gz: voxel 3 is NaN/);
  assert.ok(!existsSync(out) || readdirSync(out).length === 0);
});

test('writeHeatmap: hostile ids and a heatmaps folder linked out of its stage write nothing anywhere', () => {
  const stage = join(dir, 'stage');
  const elsewhere = join(dir, 'elsewhere');
  mkdirSync(stage);
  mkdirSync(elsewhere);
  const ok = { heatmap: new Float32Array(60), binary: new Uint8Array(60) };
  for (const id of ['../x', '../../../../x', 'a/b', 'a\\b', '..', 'a\0b', 'a\nb', 'a\x01b', 'x'.repeat(300)]) {
    assert.throws(() => writeHeatmap(join(stage, 'heatmaps'), id, reference, ok, stage), /cannot be used as a file name/, JSON.stringify(id));
  }
  symlinkSync(elsewhere, join(stage, 'heatmaps'));
  assert.throws(() => writeHeatmap(join(stage, 'heatmaps'), 'c', reference, ok, stage), /a symbolic link leads outside/);
  assert.deepEqual(readdirSync(elsewhere), []);
  assert.deepEqual(readdirSync(stage), ['heatmaps']);
  // where '../x' and '../../../../x' would have landed
  for (const d of [stage, dir, join(stage, '..', '..', '..')]) assert.ok(!existsSync(join(d, 'x.heatmap.nii.gz')), d);
});

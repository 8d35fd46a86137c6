// `mrcl validate` reads enough of every image and mask to catch what would
// otherwise fail in the middle of a run, or not at all: a truncated file
// (plain or gzipped), NaN/Inf voxels, an affine that maps the grid to no
// volume. The editor's quick check (checkImages: false) reads none of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNifti } from '../../../src/engine/io/nifti';
import { formatDatasetIssue, validateDataset, validateDatasetSync } from '../../../src/engine/data/validate';

const dir = mkdtempSync(join(tmpdir(), 'validate-data-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const at = (name: string) => join(dir, name);

const DIMS: [number, number, number] = [4, 4, 3];
const N = DIMS[0] * DIMS[1] * DIMS[2];
const AFFINE = [
  [1, 0, 0, 0],
  [0, 1, 0, 0],
  [0, 0, 1, 0],
  [0, 0, 0, 1],
] as const;

function volume(name: string, fill = (n: number) => n): void {
  writeNifti(at(name), { data: Float32Array.from({ length: N }, (_, n) => fill(n)), dims: DIMS, pixdim: [1, 1, 1], affine: AFFINE.map((r) => [...r]) as never });
}

volume('ok.nii');
volume('ok_mask.nii', () => 0);
volume('ok.nii.gz');
{
  // float32 voxels start at byte 352: 48 voxels = 192 bytes; cut the last 40
  const b = readFileSync(at('ok.nii'));
  assert.equal(b.length, 352 + 4 * N);
  writeFileSync(at('cut.nii'), b.subarray(0, b.length - 40));
  // a gzip stream of the whole file, cut in its middle: the header inflates, the voxels do not
  const gz = gzipSync(b);
  writeFileSync(at('cut.nii.gz'), gz.subarray(0, Math.floor(gz.length * 0.6)));
  // voxel 5 = [1, 1, 0] is NaN
  const nan = Buffer.from(b);
  nan.writeFloatLE(NaN, 352 + 4 * 5);
  writeFileSync(at('nan.nii'), nan);
  // srow_y := srow_x (sform, bytes 280..327): two voxel axes point the same way, the grid spans no volume
  const singular = Buffer.from(b);
  for (let c = 0; c < 4; c++) singular.writeFloatLE(singular.readFloatLE(280 + 4 * c), 296 + 4 * c);
  writeFileSync(at('singular.nii'), singular);
}

function manifest(cases: unknown[]): string {
  const p = at(`m-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(p, JSON.stringify({ version: 1, cases }));
  return p;
}

const kase = (id: string, image: string, mask?: string) => ({ id, image, ...(mask ? { mask } : {}), report: 'Lesion in the pons.', location: 'infratentorial', marker: 'fusion' });

test('truncated, NaN and singular images and masks are errors naming case, field and file', async () => {
  const p = manifest([
    kase('clean', 'ok.nii', 'ok_mask.nii'),
    kase('clean-gz', 'ok.nii.gz'),
    kase('cut', 'cut.nii'),
    kase('cut-gz', 'cut.nii.gz'),
    kase('nan', 'nan.nii'),
    kase('singular', 'singular.nii'),
    kase('bad-mask', 'ok.nii', 'cut.nii'),
  ]);
  const report = await validateDataset(p);
  const got = report.errors.map((e) => [e.caseId, e.field, e.file]);
  assert.deepEqual(got, [
    ['cut', 'image', at('cut.nii')],
    ['cut-gz', 'image', at('cut.nii.gz')],
    ['nan', 'image', at('nan.nii')],
    ['singular', 'image', at('singular.nii')],
    ['bad-mask', 'mask', at('cut.nii')],
  ]);
  const message = (id: string) => report.errors.find((e) => e.caseId === id)!.message;
  assert.equal(message('cut'), `truncated: 4×4×3 float32 at offset 352 needs ${352 + 4 * N} bytes, file has ${352 + 4 * N - 40}`);
  assert.match(message('cut-gz'), /truncated|unexpected end|incomplete/i);
  assert.match(message('nan'), /^1 voxel\(s\) are NaN or infinite \(first at \[1, 1, 0\]\)/);
  // the advice names no option that the product does not offer
  assert.doesNotMatch(message('nan'), /nonFinite|pass /);
  assert.match(message('nan'), /write it again with them replaced/);
  // rows x and y equal: voxel axis i points along (1, 1, 0), axis j nowhere
  assert.match(message('singular'), /^affine is singular \(voxel axes of lengths 1\.414, 0, 1 mm, determinant 0\): it maps the grid to no volume/);
  assert.equal(message('bad-mask'), message('cut'));
  assert.equal(formatDatasetIssue(report.errors[0]!, dir), `case "cut", image, cut.nii: ${message('cut')}`);
  // the same in one go (a run's preflight)
  assert.deepEqual(validateDatasetSync(p), report);
});

test('checkImages: false reads no voxel data (the editor quick check); checkData: false reads headers only', async () => {
  const p = manifest([kase('cut', 'cut.nii'), kase('nan', 'nan.nii'), kase('singular', 'singular.nii')]);
  assert.deepEqual((await validateDataset(p, { checkImages: false })).errors, []);
  const headers = await validateDataset(p, { checkData: false });
  assert.deepEqual(
    headers.errors.map((e) => e.caseId),
    ['singular'],
  );
});

// writeImportedDataset: the dataset layout, de-identified reports, the
// import record, atomic replacement and incremental re-runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { writeNifti, readNifti } from '../../../src/engine/io/nifti';
import { writeImportedDataset } from '../../../src/engine/import/write';
import type { ImportRecord } from '../../../src/engine/import/record';
import type { ImportCase } from '../../../src/engine/import/types';

const I: [[number, number, number, number], [number, number, number, number], [number, number, number, number], [number, number, number, number]] = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]];

function workdir(t: { after: (f: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-import-write-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function nifti(path: string, fill: number): string {
  writeNifti(path, { data: new Float32Array(4 * 3 * 2).fill(fill), dims: [4, 3, 2], pixdim: [1, 1, 1], affine: I });
  return path;
}

test('writes images, masks, de-identified reports, the manifest and import.json', async (t) => {
  const dir = workdir(t);
  const src = join(dir, 'src');
  mkdirSync(src);
  const cases: ImportCase[] = [
    { id: 'a', image: nifti(join(src, 'a.nii'), 1), mask: nifti(join(src, 'a_mask.nii'), 0), report: 'Mass in the pons. Call 555-123-4567.', location: 'infratentorial', marker: 'v600e', cohort: 'internal', fold: 2, metadata: { site: 'X' } },
    { id: 'b', image: nifti(join(src, 'b.nii'), 2), cohort: 'external' },
  ];
  const out = join(dir, 'ds');
  const r = await writeImportedDataset(cases, out, { importer: 'test', settings: { from: 'here' }, details: { a: { note: 1 } } });
  assert.deepEqual(r.written, ['a', 'b']);
  assert.deepEqual(r.unchanged, []);
  assert.deepEqual(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')), {
    version: 1,
    cases: [
      { id: 'a', image: 'images/a.nii.gz', mask: 'masks/a.nii.gz', report: 'reports/a.txt', location: 'infratentorial', marker: 'v600e', cohort: 'internal', fold: '2' },
      { id: 'b', image: 'images/b.nii.gz', cohort: 'external' },
    ],
  });
  // a plain .nii is stored gzipped, with the same voxels
  assert.equal(gunzipSync(readFileSync(join(out, 'images', 'a.nii.gz'))).length, statSync(join(src, 'a.nii')).size);
  assert.deepEqual([...readNifti(join(out, 'images', 'b.nii.gz')).data], new Array(24).fill(2));
  const report = readFileSync(join(out, 'reports', 'a.txt'), 'utf8');
  assert.match(report, /^Mass in the pons\. Call \[PHONE\]\.$/);
  const record = JSON.parse(readFileSync(join(out, 'import.json'), 'utf8')) as ImportRecord;
  assert.equal(record.importer, 'test');
  assert.deepEqual(record.settings, { from: 'here' });
  assert.deepEqual(record.cases.a!.fold, 2);
  assert.deepEqual(record.cases.a!.metadata, { site: 'X' });
  assert.deepEqual(record.cases.a!.details, { note: 1 });
  assert.deepEqual(record.cases.a!.deidentified, [{ type: 'PHONE', count: 1 }]);
  assert.equal(record.cases.b!.deidentified, undefined);
});

test('a re-run copies only changed cases and drops removed ones', async (t) => {
  const dir = workdir(t);
  const a = nifti(join(dir, 'a.nii.gz'), 1);
  const b = nifti(join(dir, 'b.nii.gz'), 2);
  const out = join(dir, 'ds');
  await writeImportedDataset([{ id: 'a', image: a }, { id: 'b', image: b }, { id: 'c', image: b }], out, { importer: 'test' });
  const inoA = statSync(join(out, 'images', 'a.nii.gz')).ino;
  nifti(b, 3);
  utimesSync(b, new Date(), new Date(Date.now() + 5000)); // a new modification time, whatever the clock's resolution
  const r = await writeImportedDataset([{ id: 'a', image: a }, { id: 'b', image: b }], out, { importer: 'test' });
  assert.deepEqual(r.unchanged, ['a']);
  assert.deepEqual(r.written, ['b']);
  assert.deepEqual(r.removed, ['c']);
  assert.equal(statSync(join(out, 'images', 'a.nii.gz')).ino, inoA);
  assert.equal(readNifti(join(out, 'images', 'b.nii.gz')).data[0], 3);
  assert.equal(existsSync(join(out, 'images', 'c.nii.gz')), false);
  // a changed label alone is a change too
  const again = await writeImportedDataset([{ id: 'a', image: a, marker: 'fusion' }, { id: 'b', image: b }], out, { importer: 'test' });
  assert.deepEqual(again.written, ['a']);
  assert.deepEqual(again.unchanged, ['b']);
});

test('a failure names the case and leaves the previous dataset as it was, with no temp folder', async (t) => {
  const dir = workdir(t);
  const a = nifti(join(dir, 'a.nii.gz'), 1);
  const out = join(dir, 'ds');
  await writeImportedDataset([{ id: 'a', image: a }], out, { importer: 'test' });
  const before = readFileSync(join(out, 'manifest.json'), 'utf8');
  await assert.rejects(writeImportedDataset([{ id: 'a', image: a }, { id: 'b', image: join(dir, 'missing.nii.gz') }], out, { importer: 'test' }), /case "b": image .*missing\.nii\.gz: file not found/);
  await assert.rejects(writeImportedDataset([{ id: '../x', image: a }], out, { importer: 'test' }), /case id "\.\.\/x" starts with "\."/);
  await assert.rejects(writeImportedDataset([{ id: 'a', image: a }, { id: 'A', image: a }], out, { importer: 'test' }), /case "A": its id differs from "a" only in letter case/);
  await assert.rejects(writeImportedDataset([{ id: 'a', image: join(dir, 'a.txt') }], out, { importer: 'test' }), /is not a NIfTI file/);
  assert.equal(readFileSync(join(out, 'manifest.json'), 'utf8'), before);
  assert.deepEqual(readdirSync(dir).sort(), ['a.nii.gz', 'ds']);

  // a failure once the new dataset is half built: the previous dataset's images folder leads outside it
  const elsewhere = join(dir, 'elsewhere');
  mkdirSync(elsewhere);
  renameSync(join(out, 'images'), join(elsewhere, 'images'));
  symlinkSync(join(elsewhere, 'images'), join(out, 'images'));
  await assert.rejects(writeImportedDataset([{ id: 'a', image: a }], out, { importer: 'test' }), /a symbolic link leads outside/);
  assert.equal(readFileSync(join(out, 'manifest.json'), 'utf8'), before);
  assert.deepEqual(readdirSync(dir).sort(), ['a.nii.gz', 'ds', 'elsewhere']);
});

test('a folder not written by an import is never replaced', async (t) => {
  const dir = workdir(t);
  const out = join(dir, 'mine');
  mkdirSync(out);
  writeFileSync(join(out, 'notes.txt'), 'keep me');
  await assert.rejects(writeImportedDataset([{ id: 'a', image: nifti(join(dir, 'a.nii'), 1) }], out, { importer: 'test' }), /was not written by an import \(no import\.json\)/);
  assert.deepEqual(readdirSync(out), ['notes.txt']);
});

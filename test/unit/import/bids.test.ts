import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { writeNifti } from '../../../src/engine/io/nifti-write';
import { identityAffine } from '../../../src/engine/io/volume';
import { scanBids } from '../../../src/engine/import/bids';
import { importBidsFolder } from '../../../src/engine/import/from-source';
import { loadManifest } from '../../../src/engine/data/manifest';

const root = mkdtempSync(join(tmpdir(), 'bids-import-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

function nifti(path: string, value: number): string {
  mkdirSync(dirname(path), { recursive: true });
  writeNifti(path, { data: new Float32Array(8).fill(value), dims: [2, 2, 2], pixdim: [1, 1, 1], affine: identityAffine() });
  return path;
}

test('two subjects, one with two sessions: three cases with safe ids; a subject without FLAIR is skipped and recorded', async () => {
  const bids = join(root, 'ds');
  mkdirSync(bids, { recursive: true });
  writeFileSync(join(bids, 'dataset_description.json'), '{"Name": "x", "BIDSVersion": "1.8.0"}');
  nifti(join(bids, 'sub-01', 'anat', 'sub-01_FLAIR.nii.gz'), 1);
  nifti(join(bids, 'sub-01', 'anat', 'sub-01_T1w.nii.gz'), 2);
  nifti(join(bids, 'sub-pat+2', 'ses-pre', 'anat', 'sub-pat+2_ses-pre_FLAIR.nii'), 3);
  nifti(join(bids, 'sub-pat+2', 'ses-post', 'anat', 'sub-pat+2_ses-post_acq-ax_FLAIR.nii.gz'), 4);
  nifti(join(bids, 'sub-03', 'anat', 'sub-03_T1w.nii.gz'), 5);
  writeFileSync(join(bids, 'sub-01.json'), '{}'); // a file, not a subject
  mkdirSync(join(bids, 'derivatives'));

  const scan = scanBids(bids);
  assert.deepEqual(
    scan.cases.map((c) => [c.id, c.image]),
    [
      ['sub-01', join(bids, 'sub-01', 'anat', 'sub-01_FLAIR.nii.gz')],
      ['sub-pat_2_ses-post', join(bids, 'sub-pat+2', 'ses-post', 'anat', 'sub-pat+2_ses-post_acq-ax_FLAIR.nii.gz')],
      ['sub-pat_2_ses-pre', join(bids, 'sub-pat+2', 'ses-pre', 'anat', 'sub-pat+2_ses-pre_FLAIR.nii')],
    ],
  );
  assert.deepEqual(scan.skipped, [{ source: 'sub-03', reason: 'no anat/*_FLAIR.nii or anat/*_FLAIR.nii.gz' }]);

  const out = join(root, 'ds-out');
  const r = await importBidsFolder(bids, out);
  assert.deepEqual(r.written, ['sub-01', 'sub-pat_2_ses-post', 'sub-pat_2_ses-pre']);
  const m = loadManifest(join(out, 'manifest.json'));
  assert.deepEqual(m.cases.map((c) => c.id), ['sub-01', 'sub-pat_2_ses-post', 'sub-pat_2_ses-pre']);
  // the .nii session was gzipped on the way: same bytes once unzipped
  assert.deepEqual(gunzipSync(readFileSync(m.cases[2]!.image)), readFileSync(join(bids, 'sub-pat+2', 'ses-pre', 'anat', 'sub-pat+2_ses-pre_FLAIR.nii')));
  const record = JSON.parse(readFileSync(join(out, 'import.json'), 'utf8'));
  assert.equal(record.importer, 'bids');
  assert.deepEqual(record.settings.skipped, [{ source: 'sub-03', reason: 'no anat/*_FLAIR.nii or anat/*_FLAIR.nii.gz' }]);
  assert.deepEqual(record.cases['sub-pat_2_ses-pre'].metadata, { bids: 'sub-pat+2/ses-pre' });
});

test('several FLAIRs in one session, and links leading outside the folder, are skipped with the reason', () => {
  const bids = join(root, 'ds2');
  nifti(join(bids, 'sub-a', 'anat', 'sub-a_run-1_FLAIR.nii.gz'), 1);
  nifti(join(bids, 'sub-a', 'anat', 'sub-a_run-2_FLAIR.nii.gz'), 1);
  nifti(join(root, 'elsewhere', 'anat', 'sub-b_FLAIR.nii.gz'), 1);
  symlinkSync(join(root, 'elsewhere'), join(bids, 'sub-b'));
  nifti(join(bids, 'sub-c', 'anat', 'ok_FLAIR.nii.gz'), 1);
  symlinkSync(join(root, 'elsewhere', 'anat', 'sub-b_FLAIR.nii.gz'), join(bids, 'sub-d-anat-link_FLAIR.nii.gz'));
  mkdirSync(join(bids, 'sub-d', 'anat'), { recursive: true });
  symlinkSync(join(root, 'elsewhere', 'anat', 'sub-b_FLAIR.nii.gz'), join(bids, 'sub-d', 'anat', 'sub-d_FLAIR.nii.gz'));
  const scan = scanBids(bids);
  assert.deepEqual(scan.cases.map((c) => c.id), ['sub-c']);
  assert.deepEqual(scan.skipped, [
    { source: 'sub-b', reason: 'leads outside the BIDS folder (a symbolic link)' },
    { source: 'sub-d-anat-link_FLAIR.nii.gz', reason: 'leads outside the BIDS folder (a symbolic link)' },
    { source: 'sub-a', reason: 'several FLAIR images (sub-a_run-1_FLAIR.nii.gz, sub-a_run-2_FLAIR.nii.gz); keep one' },
    { source: 'sub-d/anat/sub-d_FLAIR.nii.gz', reason: 'leads outside the BIDS folder (a symbolic link)' },
    { source: 'sub-d', reason: 'no anat/*_FLAIR.nii or anat/*_FLAIR.nii.gz' },
  ]);
});

test('a folder with no subject, or no folder, is refused', async () => {
  const empty = join(root, 'empty');
  mkdirSync(empty);
  assert.throws(() => scanBids(empty), new RegExp(`^Error: ${empty}: no sub-\\* folder`));
  assert.throws(() => scanBids(join(root, 'nope')), /nope: not a folder/);
  const only = join(root, 'only-t1');
  nifti(join(only, 'sub-1', 'anat', 'sub-1_T1w.nii.gz'), 1);
  await assert.rejects(importBidsFolder(only, join(root, 'only-out')), /only-t1: no case to import \(1 skipped: sub-1: no anat/);
});

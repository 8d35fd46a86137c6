// mrcl validate: a report that still looks identifying is a warning naming
// the case and what was found (counts by type, never the text itself).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNifti } from '../../../src/engine/io/nifti';
import type { Affine } from '../../../src/engine/io/volume';
import { validateDataset } from '../../../src/engine/data/validate';

const dir = mkdtempSync(join(tmpdir(), 'validate-deid-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const identity: Affine = [
  [1, 0, 0, 0],
  [0, 1, 0, 0],
  [0, 0, 1, 0],
  [0, 0, 0, 1],
];
for (const name of ['a.nii', 'b.nii', 'c.nii']) {
  writeNifti(join(dir, name), { data: new Float32Array(4 * 4 * 3), dims: [4, 4, 3], pixdim: [1, 1, 1], affine: identity });
}
writeFileSync(join(dir, 'id.txt'), 'Patient: John Smith\nMRN: 12345\nSeen 2021-03-04 and 2021-04-01. Lesion in the pons.\n');
writeFileSync(join(dir, 'names.txt'), 'Grimsby\n');
const image: Record<string, string> = { a1: 'a.nii', a2: 'b.nii', a3: 'c.nii' };
const c = (id: string, report: string) => ({ id, image: image[id], report, location: 'infratentorial', marker: 'fusion' });
const manifest = join(dir, 'm.json');
writeFileSync(manifest, JSON.stringify({ version: 1, cases: [c('a1', 'id.txt'), c('a2', 'Lesion in the pons, seen by Grimsby.'), c('a3', 'Lesion in the pons.')] }));

test('identifying reports warn with the case and the counts by type', async () => {
  const r = await validateDataset(manifest);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.warnings, [
    {
      caseId: 'a1',
      file: join(dir, 'id.txt'),
      field: 'report',
      message: 'report looks identifying (1 name, 1 ID, 2 dates); de-identification replaces them before training; check the rest by hand (docs/PRIVACY.md)',
    },
  ]);
});

test('known names (inline and from a file) are looked for; with de-identification off the warning says so', async () => {
  const r = await validateDataset(manifest, { checkImages: false, knownNamesFile: join(dir, 'names.txt'), deidentify: false });
  assert.deepEqual(
    r.warnings.map((w) => [w.caseId, w.message]),
    [
      ['a1', 'report looks identifying (1 name, 1 ID, 2 dates); report.deidentify is off, so they reach the tokenizer and the run folder'],
      ['a2', 'report looks identifying (1 name); report.deidentify is off, so they reach the tokenizer and the run folder'],
    ],
  );
  const inline = await validateDataset(manifest, { checkImages: false, knownNames: ['Grimsby'] });
  assert.deepEqual(inline.warnings.map((w) => w.caseId), ['a1', 'a2']);
});

test('an unreadable known-names file is an error naming it', async () => {
  const missing = join(dir, 'nope.txt');
  const r = await validateDataset(manifest, { checkImages: false, knownNamesFile: missing });
  assert.equal(r.errors.length, 1);
  assert.equal(r.errors[0]!.field, 'knownNamesFile');
  assert.equal(r.errors[0]!.file, missing);
  assert.match(r.errors[0]!.message, /nope\.txt/);
});

// `mrcl import --monai` and `--bids`: the dataset written, the summary and
// validation report printed, misuse refused with exit code 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runCli as run } from './run-cli';
import { writeNifti } from '../../../src/engine/io/nifti-write';
import { identityAffine } from '../../../src/engine/io/volume';

const root = mkdtempSync(join(tmpdir(), 'cli-import-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

function nifti(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeNifti(path, { data: new Float32Array(8).fill(1), dims: [2, 2, 2], pixdim: [1, 1, 1], affine: identityAffine() });
}


test('mrcl import --monai with --base: cases, skipped entries and folds', async () => {
  const data = join(root, 'data');
  nifti(join(data, 'A', 'A_flair.nii.gz'));
  nifti(join(data, 'A', 'A_t1.nii.gz'));
  nifti(join(data, 'B', 'B_t1.nii.gz'));
  const list = join(root, 'lists', 'datalist.json');
  mkdirSync(dirname(list), { recursive: true });
  writeFileSync(list, JSON.stringify({ training: [{ image: ['A/A_t1.nii.gz', 'A/A_flair.nii.gz'], text: 'Lesion in the pons.', fold: 2 }, { image: ['B/B_t1.nii.gz'], fold: 0 }] }));
  const out = join(root, 'monai-ds');
  const r = await run(['import', '--monai', list, '--base', data, '--out', out]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /skipped training\[1\]: no image is named as FLAIR/);
  assert.match(r.out, /^Imported 1 case\(s\) into .*monai-ds: 1 copied, 0 unchanged; 1 skipped \(listed above and in import\.json\)\./);
  assert.match(r.out, /0 errors/);
  const record = JSON.parse(readFileSync(join(out, 'import.json'), 'utf8'));
  assert.equal(record.cases.A.fold, 2);
  // and in the manifest, where finetune.foldsFrom 'manifest' reads it
  const written = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { cases: { id: string; fold?: string }[] };
  assert.equal(written.cases.find((c) => c.id === 'A')?.fold, '2');
  assert.deepEqual(record.settings, { source: list, base: data, skipped: [{ source: 'training[1]', reason: 'no image is named as FLAIR ("flair", "t2flair" or "t2f" in the file name): B_t1.nii.gz' }] });
});

test('mrcl import --bids --json', async () => {
  const bids = join(root, 'bids');
  nifti(join(bids, 'sub-1', 'anat', 'sub-1_FLAIR.nii.gz'));
  const r = await run(['import', '--bids', bids, '--out', join(root, 'bids-ds'), '--json']);
  assert.equal(r.code, 0, r.err);
  const doc = JSON.parse(r.out);
  assert.deepEqual(doc.import.written, ['sub-1']);
  assert.equal(doc.validation.errors.length, 0);
});

test('misuse: two sources, no --out, options of another source', async () => {
  const table: [string[], RegExp][] = [
    [['import', '--bids', 'b', '--monai', 'm.json', '--out', 'o'], /give one source/],
    [['import', '--bids', 'b'], /--out DATASET is required/],
    [['import', '--bids', 'b', '--base', 'x', '--out', 'o'], /--base goes with --monai/],
    [['import', '--monai', 'm.json', '--table', 't.csv', '--out', 'o'], /--table goes with --dicom/],
  ];
  for (const [argv, re] of table) {
    const r = await run(argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.err, re);
  }
});

test('mrcl import --known-names / --institutions: the listed names leave the imported reports too', async () => {
  const data = join(root, 'named');
  nifti(join(data, 'C', 'C_flair.nii.gz'));
  const list = join(data, 'datalist.json');
  const text = 'Discussed with Hortensia Grimsby of the Lakeside Neuro Unit. Lesion in the pons.';
  writeFileSync(list, JSON.stringify({ training: [{ image: 'C/C_flair.nii.gz', text }] }));
  writeFileSync(join(data, 'names.txt'), 'Hortensia Grimsby\n');
  writeFileSync(join(data, 'inst.txt'), '# units\nLakeside Neuro Unit\n');
  const plain = await run(['import', '--monai', list, '--out', join(root, 'named-plain')]);
  assert.equal(plain.code, 0, plain.err);
  // the patterns alone do not know this colleague or this unit
  assert.match(readFileSync(join(root, 'named-plain', 'reports', 'C.txt'), 'utf8'), /Grimsby.*Lakeside/);
  const listed = await run(['import', '--monai', list, '--out', join(root, 'named-ds'), '--known-names', join(data, 'names.txt'), '--institutions', join(data, 'inst.txt')]);
  assert.equal(listed.code, 0, listed.err);
  const report = readFileSync(join(root, 'named-ds', 'reports', 'C.txt'), 'utf8');
  assert.doesNotMatch(report, /Hortensia|Grimsby|Lakeside/);
  assert.match(report, /pons/);
});

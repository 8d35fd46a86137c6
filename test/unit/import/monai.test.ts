import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeNifti } from '../../../src/engine/io/nifti-write';
import { identityAffine } from '../../../src/engine/io/volume';
import { isFlairName, scanMonaiDatalist } from '../../../src/engine/import/monai';
import { importMonaiDatalist } from '../../../src/engine/import/from-source';
import { loadManifest } from '../../../src/engine/data/manifest';

const root = mkdtempSync(join(tmpdir(), 'monai-import-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

/** A 2×2×2 NIfTI whose voxels are all `value` (so each file's bytes differ). */
function nifti(path: string, value: number): string {
  mkdirSync(dirname(path), { recursive: true });
  writeNifti(path, { data: new Float32Array(8).fill(value), dims: [2, 2, 2], pixdim: [1, 1, 1], affine: identityAffine() });
  return path;
}

let n = 0;
/** A fresh folder holding `datalist.json` with `doc`. */
function datalist(doc: unknown, dir = join(root, `d${n++}`)): string {
  mkdirSync(dir, { recursive: true });
  const p = join(dir, 'datalist.json');
  writeFileSync(p, JSON.stringify(doc));
  return p;
}

test('isFlairName: "flair", "t2flair", "t2f" as a word of the file name', () => {
  for (const yes of ['BraTS2021_00000_flair.nii.gz', 'BraTS-GLI-00000-000-t2f.nii.gz', 'a/b/FLAIR.nii', 'x_T2FLAIR.nii.gz', 'x_t2_flair.nii.gz']) assert.equal(isFlairName(yes), true, yes);
  for (const no of ['BraTS2021_00000_t1ce.nii.gz', 'BraTS-GLI-00000-000-t2w.nii.gz', 'flairy.nii.gz', 'x_t2.nii.gz', 'flair/x_t1.nii.gz']) assert.equal(isFlairName(no), false, no);
});

test('a TextBraTS-style datalist becomes a dataset: FLAIR picked from the modality list, ids, reports, masks, folds in import.json', async () => {
  const dir = join(root, 'brats');
  const mods = ['t1', 't1ce', 't2', 'flair'];
  mods.forEach((m, k) => nifti(join(dir, 'BraTS2021_00000', `BraTS2021_00000_${m}.nii.gz`), k + 1));
  nifti(join(dir, 'BraTS2021_00000', 'BraTS2021_00000_seg.nii.gz'), 1);
  nifti(join(dir, 'other', 'case-b.nii'), 7);
  mkdirSync(join(dir, 'reports'));
  writeFileSync(join(dir, 'reports', 'b.txt'), '\ufeffNo enhancement after contrast.\n');
  nifti(join(dir, 'val', 'v1.nii.gz'), 8);
  nifti(join(dir, 'test', 'BraTS-GLI-00002-000-t2f.nii.gz'), 9);
  nifti(join(dir, 'test', 'BraTS-GLI-00002-000-t1n.nii.gz'), 10);
  const p = datalist(
    {
      training: [
        { image: mods.map((m) => `BraTS2021_00000/BraTS2021_00000_${m}.nii.gz`), label: 'BraTS2021_00000/BraTS2021_00000_seg.nii.gz', text: 'FLAIR hyperintense mass in the right frontal lobe.', fold: 0 },
        { image: 'other/case-b.nii', report: 'reports/b.txt', fold: 1 },
      ],
      validation: [{ image: 'val/v1.nii.gz', id: 'val one' }],
      testing: [{ image: ['test/BraTS-GLI-00002-000-t1n.nii.gz', 'test/BraTS-GLI-00002-000-t2f.nii.gz'] }],
    },
    dir,
  );
  const out = join(root, 'brats-out');
  const r = await importMonaiDatalist(p, out);
  assert.deepEqual(r.skipped, []);
  assert.deepEqual(r.written, ['BraTS2021_00000', 'case-b', 'val_one', 'BraTS-GLI-00002-000']);

  const m = loadManifest(join(out, 'manifest.json'));
  assert.deepEqual(m.cases.map((c) => c.id), ['BraTS2021_00000', 'case-b', 'val_one', 'BraTS-GLI-00002-000']);
  // the FLAIR's own bytes were copied (a .nii.gz is copied as it is), not another modality's
  assert.deepEqual(readFileSync(m.cases[0]!.image), readFileSync(join(dir, 'BraTS2021_00000', 'BraTS2021_00000_flair.nii.gz')));
  assert.deepEqual(readFileSync(m.cases[3]!.image), readFileSync(join(dir, 'test', 'BraTS-GLI-00002-000-t2f.nii.gz')));
  assert.deepEqual(readFileSync(m.cases[0]!.mask!), readFileSync(join(dir, 'BraTS2021_00000', 'BraTS2021_00000_seg.nii.gz')));
  assert.equal(m.cases[1]!.mask, undefined);
  // reports: inline text and a report file (its BOM dropped)
  assert.equal(readFileSync(join(out, 'reports', 'BraTS2021_00000.txt'), 'utf8'), 'FLAIR hyperintense mass in the right frontal lobe.');
  assert.equal(readFileSync(join(out, 'reports', 'case-b.txt'), 'utf8'), 'No enhancement after contrast.\n');
  assert.equal(m.cases[2]!.report, undefined);

  const record = JSON.parse(readFileSync(join(out, 'import.json'), 'utf8'));
  assert.equal(record.importer, 'monai');
  assert.equal(record.settings.source, p);
  assert.equal(record.cases.BraTS2021_00000.fold, 0);
  assert.equal(record.cases['case-b'].fold, 1);
  assert.equal(record.cases.val_one.fold, undefined);
  assert.deepEqual(
    Object.values(record.cases).map((c) => (c as { metadata: { section: string } }).metadata.section),
    ['training', 'training', 'validation', 'testing'],
  );

  // a re-run with nothing changed copies nothing
  const again = await importMonaiDatalist(p, out);
  assert.deepEqual(again.written, []);
  assert.equal(again.unchanged.length, 4);
});

test('a modality list with no FLAIR, or two, skips the entry and says why', () => {
  const dir = join(root, 'lists');
  for (const f of ['a_t1.nii.gz', 'a_t2.nii.gz', 'b_flair.nii.gz', 'b_t2flair.nii.gz', 'c_flair.nii.gz']) nifti(join(dir, f), 1);
  const p = datalist({ training: [{ image: ['a_t1.nii.gz', 'a_t2.nii.gz'] }, { image: ['b_flair.nii.gz', 'b_t2flair.nii.gz'] }, { image: ['c_flair.nii.gz', 'a_t1.nii.gz'] }] }, dir);
  const scan = scanMonaiDatalist(p);
  assert.deepEqual(scan.cases.map((c) => [c.id, c.image]), [['c', join(dir, 'c_flair.nii.gz')]]);
  assert.equal(scan.skipped.length, 2);
  assert.equal(scan.skipped[0]!.source, 'training[0]');
  assert.match(scan.skipped[0]!.reason, /no image is named as FLAIR .*a_t1\.nii\.gz, a_t2\.nii\.gz/);
  assert.equal(scan.skipped[1]!.source, 'training[1]');
  assert.match(scan.skipped[1]!.reason, /several images are named as FLAIR/);
});

test('a missing file skips the entry and is recorded; a folder per case named flair.nii.gz takes the folder name', () => {
  const dir = join(root, 'missing');
  nifti(join(dir, 'P07', 'flair.nii.gz'), 1);
  const p = datalist({ training: [{ image: 'P07/flair.nii.gz' }, { image: 'P08/flair.nii.gz' }] }, dir);
  const scan = scanMonaiDatalist(p);
  assert.deepEqual(scan.cases.map((c) => c.id), ['P07']);
  assert.deepEqual(scan.skipped, [{ source: 'training[1]', reason: `not found: ${join(dir, 'P08', 'flair.nii.gz')}` }]);
});

test('paths relative to --base when given', () => {
  const data = join(root, 'base-data');
  nifti(join(data, 'x_flair.nii.gz'), 1);
  const p = datalist({ training: [{ image: 'x_flair.nii.gz' }] }, join(root, 'base-lists'));
  const beside = scanMonaiDatalist(p);
  assert.deepEqual(beside.cases, []);
  assert.match(beside.skipped[0]!.reason, /not found: .*base-lists/);
  const scan = scanMonaiDatalist(p, { base: data });
  assert.deepEqual(scan.cases.map((c) => [c.id, c.image]), [['x', join(data, 'x_flair.nii.gz')]]);
});

test('paths leading outside the datalist folder are refused, naming the datalist and the entry', () => {
  const dir = join(root, 'escape');
  nifti(join(root, 'outside_flair.nii.gz'), 1);
  nifti(join(dir, 'in_flair.nii.gz'), 1);
  mkdirSync(join(dir, 'linked'), { recursive: true });
  symlinkSync(join(root, 'outside_flair.nii.gz'), join(dir, 'linked', 'l_flair.nii.gz'));
  const cases: [unknown, RegExp][] = [
    [{ image: '../outside_flair.nii.gz' }, /training\[0\]: image "\.\.\/outside_flair\.nii\.gz" lies outside .*escape/],
    [{ image: join(root, 'outside_flair.nii.gz') }, /training\[0\]: image ".*outside_flair\.nii\.gz" lies outside/],
    [{ image: ['in_flair.nii.gz', '../../etc/passwd'] }, /training\[0\]: image\[1\] "\.\.\/\.\.\/etc\/passwd" lies outside/],
    [{ image: 'linked/l_flair.nii.gz' }, /training\[0\]: image "linked\/l_flair\.nii\.gz" lies outside/],
    [{ image: 'in_flair.nii.gz', label: '../outside_flair.nii.gz' }, /training\[0\]: label .* lies outside/],
    [{ image: 'in_flair.nii.gz', report: '../secret.txt' }, /training\[0\]: report .* lies outside/],
  ];
  for (const [entry, re] of cases) {
    const p = datalist({ training: [entry] }, dir);
    assert.throws(() => scanMonaiDatalist(p), (e: Error) => e.message.startsWith(`${p}: `) && re.test(e.message), JSON.stringify(entry));
  }
});

test('datalists that cannot be used are refused with the file and the problem', () => {
  const dir = join(root, 'bad');
  nifti(join(dir, 'a_flair.nii.gz'), 1);
  nifti(join(dir, 'sub', 'a_flair.nii.gz'), 1);
  const refused: [unknown, RegExp][] = [
    [[{ image: 'a_flair.nii.gz' }], /a JSON object with "training"/],
    [{ train: [] }, /no "training", "validation" or "testing" list/],
    [{ training: { image: 'a_flair.nii.gz' } }, /"training" must be a list/],
    [{ training: [{ image: 'a_flair.nii.gz', fold: -1 }] }, /training\[0\]: fold must be a non-negative integer, got "-1"/],
    [{ training: [{ image: 'a_flair.nii.gz', fold: '2' }] }, /fold must be a non-negative integer/],
    [{ training: [{ image: 'a_flair.nii.gz' }], validation: [{ image: 'sub/a_flair.nii.gz' }] }, /validation\[0\]: case id "a" is also the id of training\[0\]/],
    [{ training: [{ image: 'a_flair.png' }] }, /training\[0\]: image "a_flair\.png" is not a NIfTI file/],
    [{ training: [{ image: 'a_flair.nii.gz', id: '' }] }, /training\[0\]: id "" has no character a case id can keep/],
    [{ training: [{ label: 'a_flair.nii.gz' }] }, /training\[0\]: image must be a path/],
  ];
  for (const [doc, re] of refused) {
    const p = datalist(doc, dir);
    assert.throws(() => scanMonaiDatalist(p), (e: Error) => e.message.startsWith(`${p}: `) && re.test(e.message), JSON.stringify(doc));
  }
  const p = join(dir, 'broken.json');
  writeFileSync(p, '{"training": [');
  assert.throws(() => scanMonaiDatalist(p), (e: Error) => e.message.startsWith(`${p}: not valid JSON`));
});

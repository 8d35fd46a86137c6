// `mrcl import --dicom`: the committed study (test/fixtures/dicom, written by
// make_fixtures.py: an oblique, non-isotropic volume as two series, FLAIR
// and T1) is converted with dcm2niix; the imported NIfTI must hold the same
// voxels at the same world coordinates as the source, the FLAIR must be
// chosen unless a series filter says otherwise, and failures must leave
// nothing behind. A DICOM-SEG mask (seg/, on the FLAIR's grid) must become
// a mask with the image's geometry holding the source mask's voxels. Skips
// (with the reason) where dcm2niix is not installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { main } from '../../../src/cli/main';
import { readNifti } from '../../../src/engine/io/nifti';
import { inv3, linearPart } from '../../../src/engine/io/affine-math';
import { converterAvailable } from '../../../src/engine/import/dcm2niix';
import { importDicom, readCasesTable } from '../../../src/engine/import/dicom';
import type { ImportRecord } from '../../../src/engine/import/record';

const FIXTURES = join(__dirname, '..', '..', 'fixtures', 'dicom');

interface Expected {
  dims: [number, number, number];
  affine: number[][];
  series: Record<string, { seriesNumber: number; seriesDescription: string; values: number[] }>;
  seg: { mask: number[]; segments: { number: number; label: string }[]; used: number[] };
}
const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as Expected;

let skip: string | false = false;
test.before(async () => {
  if (!(await converterAvailable())) skip = 'dcm2niix is not installed (apt-get install dcm2niix; scripts/setup.sh installs it)';
});

async function run(argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await main(argv, { stdout: (s) => (out += s), stderr: (s) => (out += s), tty: false, signal: new AbortController().signal });
  return { code, out };
}

/** A work folder with the fixture study under dicom/ and a case table. */
function setup(t: { after: (f: () => void) => void }, rows = 'case01,case01,"Right cerebellar mass; contact Dr. Smith on 555-123-4567.",infratentorial,v600e,internal,site A\n'): { dir: string; root: string; table: string; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-import-dicom-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, 'dicom');
  cpSync(join(FIXTURES, 'study'), root, { recursive: true });
  const table = join(dir, 'cases.csv');
  writeFileSync(table, `id,dicom,report,location,marker,cohort,scanner\n${rows}`);
  return { dir, root, table, out: join(dir, 'dataset') };
}

/** Every voxel of `file` lies (within 1e-3 mm) on a source voxel of `series` (or of the FLAIR grid's `values`) and holds its value. */
function assertSameVolume(file: string, series: string | number[]): void {
  const v = readNifti(file);
  const src = typeof series === 'string' ? expected.series[series]!.values : series;
  const [nx, ny, nz] = expected.dims;
  assert.equal(v.dims[0] * v.dims[1] * v.dims[2], nx * ny * nz, 'voxel count');
  const A = expected.affine;
  const Ainv = inv3(linearPart(A as never));
  const seen = new Set<number>();
  for (let k = 0; k < v.dims[2]; k++) {
    for (let j = 0; j < v.dims[1]; j++) {
      for (let i = 0; i < v.dims[0]; i++) {
        const w = [0, 1, 2].map((r) => v.affine[r]![0] * i + v.affine[r]![1] * j + v.affine[r]![2] * k + v.affine[r]![3]);
        const d = [0, 1, 2].map((r) => w[r]! - A[r]![3]!);
        const q = [0, 1, 2].map((r) => Math.round(Ainv[r]![0] * d[0]! + Ainv[r]![1] * d[1]! + Ainv[r]![2] * d[2]!));
        assert.ok(q[0]! >= 0 && q[0]! < nx && q[1]! >= 0 && q[1]! < ny && q[2]! >= 0 && q[2]! < nz, `voxel ${i},${j},${k} maps outside the source (${q})`);
        for (let r = 0; r < 3; r++) {
          const srcWorld = A[r]![0]! * q[0]! + A[r]![1]! * q[1]! + A[r]![2]! * q[2]! + A[r]![3]!;
          assert.ok(Math.abs(srcWorld - w[r]!) < 1e-3, `voxel ${i},${j},${k}: world ${w} vs source ${q} off by ${Math.abs(srcWorld - w[r]!)} mm`);
        }
        const n = q[0]! + nx * (q[1]! + ny * q[2]!);
        seen.add(n);
        assert.equal(v.data[i + v.dims[0] * (j + v.dims[1] * k)], src[n], `voxel ${i},${j},${k} = source ${q}`);
      }
    }
  }
  assert.equal(seen.size, nx * ny * nz, 'every source voxel appears once');
}

test('the FLAIR is chosen and converted with the same voxels and world coordinates; a re-run converts nothing', async (t) => {
  if (skip) return t.skip(skip);
  const { root, table, out } = setup(t);
  const r = await run(['import', '--dicom', root, '--table', table, '--out', out]);
  assert.match(r.out, /1 converted, 0 unchanged/);
  assertSameVolume(join(out, 'images', 'case01.nii.gz'), 'FLAIR');

  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  assert.deepEqual(manifest, { version: 1, cases: [{ id: 'case01', image: 'images/case01.nii.gz', report: 'reports/case01.txt', location: 'infratentorial', marker: 'v600e', cohort: 'internal' }] });
  const report = readFileSync(join(out, 'reports', 'case01.txt'), 'utf8');
  assert.match(report, /Right cerebellar mass/);
  assert.doesNotMatch(report, /555-123-4567/);

  const record = JSON.parse(readFileSync(join(out, 'import.json'), 'utf8')) as ImportRecord;
  const c = record.cases.case01!;
  assert.deepEqual(c.metadata, { scanner: 'site A' });
  const details = c.details as { series: string; skipped: { name: string; reason: string }[]; sidecar: Record<string, unknown> };
  assert.equal(details.series, '3_AX_FLAIR');
  assert.equal(details.skipped.length, 1);
  assert.equal(details.skipped[0]!.name, '5_T1_MPRAGE');
  assert.match(details.skipped[0]!.reason, /not a FLAIR .*T1 MPRAGE.*InversionTime 0\.9 s/);
  // the kept sidecar holds the acquisition, not the patient or the institution
  assert.equal(details.sidecar.SeriesDescription, 'AX FLAIR');
  assert.equal(details.sidecar.InversionTime, 2.5);
  for (const k of Object.keys(details.sidecar)) assert.doesNotMatch(k, /^(Patient|Institution|Referring|Accession|Study(Date|Time|ID))|UID$|Date$/, k);
  assert.doesNotMatch(JSON.stringify(record), /Fixture\^Jane|FIX-123456|Fixture General Hospital|Example Road|19700101/);

  // the report is the one validation error-free dataset: the CLI exits 0 only if validate passes
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /cases: 1/i);

  const before = statSync(join(out, 'images', 'case01.nii.gz'));
  const again = await importDicom({ dicomRoot: root, table, out });
  assert.deepEqual(again.converted, []);
  assert.deepEqual(again.unchanged, ['case01']);
  const after = statSync(join(out, 'images', 'case01.nii.gz'));
  assert.equal(after.ino, before.ino, 'the unchanged image is the previous file (linked), not a new copy');
  assert.equal((JSON.parse(readFileSync(join(out, 'import.json'), 'utf8')) as ImportRecord).cases.case01!.details?.series, '3_AX_FLAIR');

  // a changed label re-imports the case
  writeFileSync(table, 'id,dicom,location,marker,cohort\ncase01,case01,infratentorial,fusion,internal\n');
  const changed = await importDicom({ dicomRoot: root, table, out });
  assert.deepEqual(changed.converted, ['case01']);
  assert.equal(existsSync(join(out, 'reports', 'case01.txt')), false, 'the dropped report is gone');
});

test('--series-filter picks the other series and records the FLAIR as skipped', async (t) => {
  if (skip) return t.skip(skip);
  const { root, table, out } = setup(t);
  const r = await run(['import', '--dicom', root, '--table', table, '--out', out, '--series-filter', 'SeriesDescription~t1', '--series-filter', 'SeriesNumber=5']);
  assert.equal(r.code, 0, r.out);
  assertSameVolume(join(out, 'images', 'case01.nii.gz'), 'T1');
  const record = JSON.parse(readFileSync(join(out, 'import.json'), 'utf8')) as ImportRecord;
  assert.deepEqual(record.settings?.seriesFilters, ['SeriesDescription~t1', 'SeriesNumber=5']);
  const details = record.cases.case01!.details as { series: string; skipped: { name: string; reason: string }[] };
  assert.equal(details.series, '5_T1_MPRAGE');
  assert.deepEqual(details.skipped.map((s) => s.name), ['3_AX_FLAIR']);
  assert.match(details.skipped[0]!.reason, /does not match the series filter "SeriesDescription~t1"/);

  // a filter no series passes names the series there are
  const none = await run(['import', '--dicom', root, '--table', table, '--out', join(out, '..', 'other'), '--series-filter', 'SeriesNumber=9']);
  assert.equal(none.code, 1);
  assert.match(none.out, /case "case01".*no series matches the series filter "SeriesNumber=9".*3_AX_FLAIR.*5_T1_MPRAGE/s);
});

test('a case whose folder holds no DICOM fails naming the case and leaves no dataset', async (t) => {
  if (skip) return t.skip(skip);
  const { dir, root, table, out } = setup(t);
  mkdirSync(join(root, 'empty'));
  writeFileSync(join(root, 'empty', 'notes.txt'), 'not a DICOM file\n');
  writeFileSync(table, 'id,dicom\ncase01,case01\ncase02,empty\n');
  const r = await run(['import', '--dicom', root, '--table', table, '--out', out]);
  assert.equal(r.code, 1);
  assert.match(r.out, /row 3 \(case "case02"\).*no DICOM series found|row 3 \(case "case02"\).*dcm2niix failed/s);
  assert.equal(existsSync(out), false);
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('.')), [], 'no temp folder left beside the dataset');
});

test('a missing dcm2niix is an error saying how to install it', async (t) => {
  const { root, table, out } = setup(t);
  const r = await run(['import', '--dicom', root, '--table', table, '--out', out, '--dcm2niix', join(root, 'no-such-dcm2niix')]);
  assert.equal(r.code, 1);
  assert.match(r.out, /DICOM import needs dcm2niix.*apt-get install dcm2niix/s);
  assert.equal(existsSync(out), false);
});

test('the case table: required columns, paths kept inside their folders, cohorts, report files, metadata', (t) => {
  const { dir, root, table } = setup(t);
  const write = (text: string) => writeFileSync(table, text);
  write('id,report\na,x\n');
  assert.throws(() => readCasesTable(table, root), /cases\.csv: the header row has no "dicom" column/);
  write('id,dicom\na,../outside\n');
  assert.throws(() => readCasesTable(table, root), /row 2 \(case "a"\): dicom: .*leads outside this folder/);
  write('id,dicom\na,nope\n');
  assert.throws(() => readCasesTable(table, root), /row 2 \(case "a"\): dicom folder .*nope not found/);
  write('id,dicom,cohort\na,case01,train\n');
  assert.throws(() => readCasesTable(table, root), /row 2 \(case "a"\): cohort "train" is neither "internal" nor "external"/);
  write('id,dicom,report\na,case01,../secret.txt\n');
  assert.throws(() => readCasesTable(table, root), /row 2 \(case "a"\): report: .*leads outside this folder/);
  writeFileSync(join(dir, 'r1.txt'), 'Report from a file.');
  write('id,dicom,report,site,mask\na,case01,r1.txt,X,m.nii.gz\nb,case01,Inline report text.,,\n');
  const rows = readCasesTable(table, root);
  assert.deepEqual(rows.map((r) => r.case), [
    { id: 'a', image: '', report: 'Report from a file.', mask: join(dir, 'm.nii.gz'), metadata: { site: 'X' } },
    { id: 'b', image: '', report: 'Inline report text.' },
  ]);
  assert.equal(rows[0]!.study, join(root, 'case01'));
  assert.equal(rows[0]!.seg, undefined);
  // a mask that is no NIfTI file is a DICOM-SEG file or folder, read after conversion
  write('id,dicom,mask\na,case01,seg/SEG0001\nb,case01,segs\n');
  const segRows = readCasesTable(table, root);
  assert.deepEqual(segRows.map((r) => [r.seg, r.case.mask]), [[join(dir, 'seg', 'SEG0001'), undefined], [join(dir, 'segs'), undefined]]);
  write('id,dicom,mask\na,case01,../seg.dcm\n');
  assert.throws(() => readCasesTable(table, root), /row 2 \(case "a"\): mask: .*leads outside this folder/);
});

test('a DICOM-SEG mask (a file, or a folder holding one) becomes the case mask on the image grid; re-runs follow the SEG', async (t) => {
  if (skip) return t.skip(skip);
  const { dir, root, table, out } = setup(t);
  cpSync(join(FIXTURES, 'seg'), join(dir, 'seg'), { recursive: true });
  mkdirSync(join(dir, 'segdir'));
  copyFileSync(join(FIXTURES, 'seg', 'case01.dcm'), join(dir, 'segdir', 'SEG0001')); // no extension
  writeFileSync(join(dir, 'segdir', 'README.txt'), 'exported segmentation\n');
  writeFileSync(table, 'id,dicom,mask\ncase01,case01,seg/case01.dcm\ncase02,case01,segdir\ncase03,case01,seg/fractional.dcm\n');
  const r = await run(['import', '--dicom', root, '--table', table, '--out', out]);
  assert.equal(r.code, 0, r.out);
  for (const id of ['case01', 'case02', 'case03']) {
    const mask = readNifti(join(out, 'masks', `${id}.nii.gz`));
    const image = readNifti(join(out, 'images', `${id}.nii.gz`));
    assert.deepEqual(mask.dims, image.dims, id);
    assert.deepEqual(mask.affine, image.affine, id);
    assert.equal(mask.header.datatype, 'uint8');
    assertSameVolume(join(out, 'masks', `${id}.nii.gz`), expected.seg.mask);
  }
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { cases: { id: string; mask?: string }[] };
  assert.deepEqual(manifest.cases.map((c) => c.mask), ['masks/case01.nii.gz', 'masks/case02.nii.gz', 'masks/case03.nii.gz']);
  const recordText = readFileSync(join(out, 'import.json'), 'utf8');
  const record = JSON.parse(recordText) as ImportRecord;
  const voxels = expected.seg.mask.reduce((a, b) => a + b, 0);
  assert.deepEqual(record.cases.case01!.details!.mask, {
    format: 'DICOM-SEG',
    file: join(dir, 'seg', 'case01.dcm'),
    rule: 'tumour-like labels',
    segments: expected.seg.segments.map((s) => ({ ...s, used: expected.seg.used.includes(s.number) })),
    voxels,
  });
  assert.equal((record.cases.case02!.details!.mask as { file: string }).file, join(dir, 'segdir', 'SEG0001'));
  // nothing of the SEG's header but its segments reaches the dataset
  const mask = gunzipSync(readFileSync(join(out, 'masks', 'case01.nii.gz'))).toString('latin1');
  for (const text of [recordText, mask]) assert.doesNotMatch(text, /Fixture\^Jane|FIX-123456|Annotator|Alice|Fixture General Hospital|19700101/);

  const before = statSync(join(out, 'masks', 'case02.nii.gz'));
  const again = await importDicom({ dicomRoot: root, table, out });
  assert.deepEqual(again.converted, []);
  assert.equal(statSync(join(out, 'masks', 'case02.nii.gz')).ino, before.ino, 'the unchanged mask is the previous file');
  // a SEG in the folder touched: only that case is done again
  utimesSync(join(dir, 'segdir', 'SEG0001'), new Date(), new Date(Date.now() + 5000));
  const touched = await importDicom({ dicomRoot: root, table, out });
  assert.deepEqual(touched.converted, ['case02']);
  assert.deepEqual(touched.unchanged, ['case01', 'case03']);
  assertSameVolume(join(out, 'masks', 'case02.nii.gz'), expected.seg.mask);
});

test('a bad DICOM-SEG mask stops the import naming the case, the file and the problem; an empty one warns', async (t) => {
  if (skip) return t.skip(skip);
  const { dir, root, table, out } = setup(t);
  cpSync(join(FIXTURES, 'seg'), join(dir, 'seg'), { recursive: true });
  writeFileSync(table, 'id,dicom,mask\ncase01,case01,seg/bad/rotated.dcm\n');
  const r = await run(['import', '--dicom', root, '--table', table, '--out', out]);
  assert.equal(r.code, 1);
  assert.match(r.out, /row 2 \(case "case01"\): mask: .*seg\/bad\/rotated\.dcm: frame 1's orientation is not parallel to the image's axes/);
  assert.equal(existsSync(out), false);
  writeFileSync(table, 'id,dicom,mask\ncase01,case01,seg\n');
  const two = await run(['import', '--dicom', root, '--table', table, '--out', out]);
  assert.equal(two.code, 1);
  assert.match(two.out, /row 2 \(case "case01"\): mask: .*seg: more than one DICOM-SEG in the folder/);
  writeFileSync(table, 'id,dicom,mask\ncase01,case01,seg/bad/empty.dcm\n');
  const lines: string[] = [];
  await importDicom({ dicomRoot: root, table, out, log: (l) => lines.push(l) });
  assert.ok(lines.some((l) => /^case01: warning: .*empty\.dcm: the mask is empty after resampling/.test(l)), lines.join('\n'));
  assert.ok(readNifti(join(out, 'masks', 'case01.nii.gz')).data.every((v) => v === 0));
});

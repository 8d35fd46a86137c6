import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNiftiHeader, writeNifti } from '../../../src/engine/io/nifti';
import type { Affine } from '../../../src/engine/io/volume';
import { LEAK_VARIANTS, findLeakTerms } from '../../../src/engine/text/clean';
import { formatValidationReport, validateDataset, type DatasetIssue, type ValidationOptions } from '../../../src/engine/data/validate';

const dir = mkdtempSync(join(tmpdir(), 'validate-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const at = (name: string) => join(dir, name);

function volume(name: string, dims: [number, number, number], shift = 0): void {
  const affine: Affine = [
    [1, 0, 0, shift],
    [0, 1, 0, 0],
    [0, 0, 1, 0],
    [0, 0, 0, 1],
  ];
  writeNifti(at(name), { data: new Float32Array(dims[0] * dims[1] * dims[2]), dims, pixdim: [1, 1, 1], affine });
}

volume('a.nii', [4, 4, 3]);
volume('a_mask.nii', [4, 4, 3]);
volume('b.nii', [4, 4, 3]);
volume('c.nii.gz', [4, 4, 3]);
volume('d.nii', [4, 4, 3]);
volume('e.nii', [4, 4, 3]);
volume('mask_small.nii', [4, 4, 2]);
volume('mask_shifted.nii', [4, 4, 3], 2);
writeFileSync(at('corrupt.nii'), Buffer.from('this is not a NIfTI file at all, just some text padding it out'));
{
  // a 4D header: dim[0] = 4, dim[4] = 2 (NIfTI-1 dim[] is int16 at byte 40)
  const b = readFileSync(at('a.nii'));
  b.writeInt16LE(4, 40);
  b.writeInt16LE(2, 48);
  writeFileSync(at('four_d.nii'), Buffer.concat([b, Buffer.alloc(4 * 4 * 3 * 4)]));
}
writeFileSync(at('ok.txt'), 'FLAIR hyperintense lesion in the left cerebellar hemisphere.\n');
writeFileSync(at('blank.txt'), '  \n\t\n');
writeFileSync(at('leaky.txt'), 'Pilocytic astrocytoma, BRAF V600E mutation. Lesion in the pons.');
writeFileSync(at('only_leak.txt'), 'BRAF fusion, 12 mm.');
writeFileSync(at('survives.txt'), 'Lesion in the thalamus. Started on dabrafenib.');

let counter = 0;
function manifest(cases: unknown[]): string {
  const p = at(`m${counter++}.json`);
  writeFileSync(p, JSON.stringify({ version: 1, cases }));
  return p;
}

const good = (id: string, extra: Record<string, string> = {}) => ({
  id,
  image: 'a.nii',
  mask: 'a_mask.nii',
  report: 'Lesion in the pons.',
  location: 'infratentorial',
  marker: 'fusion',
  ...extra,
});

/** The description of a leak variant pattern, by name. */
function variant(pattern: string): string {
  const v = LEAK_VARIANTS.find((x) => x.pattern === pattern);
  if (!v) throw new Error(`no leak variant ${pattern}`);
  return v.description;
}

/** The message `f` throws (the reader's own wording, passed through unchanged). */
function thrown(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a throw');
}

function headerError(file: string): string {
  try {
    readNiftiHeader(file);
  } catch (e) {
    const m = (e as Error).message;
    return m.startsWith(`${file}: `) ? m.slice(file.length + 2) : m;
  }
  throw new Error(`${file} unexpectedly reads`);
}

interface Row {
  name: string;
  cases: unknown[];
  options?: ValidationOptions;
  errors: DatasetIssue[];
  warnings?: DatasetIssue[];
}

const TABLE: Row[] = [
  {
    name: 'missing image, mask and report files',
    cases: [good('x', { image: 'nope.nii', mask: 'nope_mask.nii', report: 'nope.txt' })],
    errors: [
      { caseId: 'x', field: 'image', file: at('nope.nii'), message: 'file not found' },
      { caseId: 'x', field: 'mask', file: at('nope_mask.nii'), message: 'file not found' },
      { caseId: 'x', field: 'report', file: at('nope.txt'), message: 'file not found' },
    ],
  },
  {
    name: 'a folder where an image should be',
    cases: [good('x', { image: '.', mask: '' })],
    errors: [{ caseId: 'x', field: 'image', file: dir, message: 'not a regular file' }],
  },
  {
    name: 'corrupt NIfTI header: the reader’s message',
    cases: [good('x', { image: 'corrupt.nii', mask: '' })],
    errors: [{ caseId: 'x', field: 'image', file: at('corrupt.nii'), message: headerError(at('corrupt.nii')) }],
  },
  {
    name: '4D image',
    cases: [good('x', { image: 'four_d.nii', mask: '' })],
    errors: [{ caseId: 'x', field: 'image', file: at('four_d.nii'), message: '4D image (4×4×3×2) where a 3D volume is expected' }],
  },
  {
    name: 'mask shape and affine mismatches',
    cases: [good('x', { mask: 'mask_small.nii' }), good('y', { image: 'b.nii', mask: 'mask_shifted.nii' })],
    errors: [
      { caseId: 'x', field: 'mask', file: at('mask_small.nii'), message: "mask shape 4×4×2 differs from the image's 4×4×3" },
      { caseId: 'y', field: 'mask', file: at('mask_shifted.nii'), message: "mask affine differs from the image's (by 2 at [0][3])" },
    ],
  },
  {
    name: 'duplicate ids (both cases still checked) and a shared image',
    cases: [good('x'), good('x', { image: 'nope.nii', mask: '' }), good('y', { image: 'a.nii' })],
    errors: [
      { caseId: 'x', field: 'id', file: 'MANIFEST', message: 'case 2: duplicate id (first at case 1)' },
      { caseId: 'x', field: 'image', file: at('nope.nii'), message: 'file not found' },
    ],
    warnings: [{ caseId: 'y', field: 'image', file: at('a.nii'), message: 'same image file as case "x"' }],
  },
  {
    name: 'unknown labels',
    cases: [good('x', { location: 'cerebral', marker: 'nras', cohort: 'training' })],
    errors: [
      { caseId: 'x', field: 'cohort', message: '"training" is not one of internal, external' },
      { caseId: 'x', field: 'location', message: '"cerebral" is not one of supratentorial, infratentorial, transtentorial' },
      { caseId: 'x', field: 'marker', message: '"nras" is not one of fusion, v600e, other' },
    ],
  },
  {
    name: 'labels checked against the lists given',
    cases: [good('x', { location: 'infratentorial', marker: 'fusion' })],
    options: { locations: ['left', 'right'], markers: ['fusion', 'v600e'] },
    errors: [{ caseId: 'x', field: 'location', message: '"infratentorial" is not one of left, right' }],
  },
  {
    name: 'reports: empty, leaking (cleaned), leak surviving cleaning, nothing left after cleaning',
    cases: [
      good('blank', { report: 'blank.txt' }),
      good('leaky', { image: 'b.nii', mask: '', report: 'leaky.txt' }),
      good('survives', { image: 'c.nii.gz', mask: '', report: 'survives.txt' }),
      good('only', { image: 'd.nii', mask: '', report: 'only_leak.txt' }),
      good('inline', { image: 'e.nii', mask: '', report: 'Known KIAA1549-BRAF fusion; lesion in the vermis.' }),
    ],
    errors: [
      { caseId: 'blank', field: 'report', file: at('blank.txt'), message: 'report is empty' },
      {
        caseId: 'survives',
        field: 'report',
        file: at('survives.txt'),
        message: `label-leaking text survives cleaning: "dabrafenib" (${variant('braf')}; ${variant('targeted-therapy')})`,
      },
      { caseId: 'only', field: 'report', file: at('only_leak.txt'), message: 'report is empty after cleaning' },
    ],
    warnings: [
      { caseId: 'leaky', field: 'report', file: at('leaky.txt'), message: 'contains label-leaking words (BRAF, V600E, mutation); cleaning removes them' },
      { caseId: 'only', field: 'report', file: at('only_leak.txt'), message: 'contains label-leaking words (BRAF, fusion); cleaning removes them' },
      { caseId: 'inline', field: 'report', message: 'contains label-leaking words (KIAA1549-BRAF, fusion); cleaning removes them' },
    ],
  },
  {
    name: 'internal cases without a report warn, external ones do not',
    cases: [good('int', { report: '' }), good('ext', { image: 'b.nii', mask: '', report: '', cohort: 'external' })],
    errors: [],
    warnings: [{ caseId: 'int', field: 'report', message: 'internal case without a report: unusable for pretraining' }],
  },
  {
    name: 'downstream classes smaller than the fold count (internal cases only)',
    cases: [
      good('f1'),
      good('f2', { image: 'b.nii', mask: '' }),
      good('f3', { image: 'c.nii.gz', mask: '' }),
      good('v1', { image: 'd.nii', mask: '', marker: 'v600e' }),
      good('v2', { image: 'e.nii', mask: '', marker: 'v600e', cohort: 'external' }),
    ],
    options: { folds: 3 },
    errors: [{ field: 'marker', file: 'MANIFEST', message: 'downstream class "v600e" has 1 internal case(s), fewer than 3 folds' }],
  },
  {
    name: 'bad options',
    cases: [good('x')],
    options: { positiveMarker: 'braf', negativeMarker: 'braf', folds: 1 },
    errors: [
      { field: 'positiveMarker', message: '"braf" is not one of the markers (fusion, v600e, other)' },
      { field: 'negativeMarker', message: '"braf" is not one of the markers (fusion, v600e, other)' },
      { field: 'negativeMarker', message: 'the positive and negative markers are both "braf"' },
      { field: 'folds', message: 'folds must be an integer ≥ 2, got 1' },
    ],
  },
  {
    name: 'an invalid leak-term list is reported once; emptiness is still checked',
    cases: [good('x', { report: 'blank.txt' }), good('y', { image: 'b.nii', mask: '' })],
    options: { leakTerms: ['BRAF', ' '] },
    errors: [
      { field: 'leakTerms', message: thrown(() => findLeakTerms('', ['BRAF', ' '])) },
      { caseId: 'x', field: 'report', file: at('blank.txt'), message: 'report is empty' },
    ],
  },
  {
    name: 'checkImages: false only checks that files exist',
    cases: [good('x', { image: 'corrupt.nii', mask: 'mask_small.nii' }), good('y', { image: 'nope.nii', mask: '' })],
    options: { checkImages: false },
    errors: [{ caseId: 'y', field: 'image', file: at('nope.nii'), message: 'file not found' }],
  },
];

for (const row of TABLE) {
  test(`validateDataset: ${row.name}`, async () => {
    const p = manifest(row.cases);
    const fill = (issues: DatasetIssue[]) => issues.map((i) => (i.file === 'MANIFEST' ? { ...i, file: p } : i));
    const report = await validateDataset(p, row.options);
    assert.deepEqual(report.errors, fill(row.errors));
    assert.deepEqual(report.warnings, fill(row.warnings ?? []));
  });
}

test('every problem of every case is listed in one run', async () => {
  // ids made unique per row; shared images only add warnings
  const rows = TABLE.filter((r) => !r.options && !r.name.startsWith('duplicate ids'));
  const rename = (r: number, id: string) => `${r}-${id}`;
  const p = manifest(rows.flatMap((row, r) => row.cases.map((c) => ({ ...(c as object), id: rename(r, (c as { id: string }).id) }))));
  const report = await validateDataset(p);
  const expected = rows.flatMap((row, r) =>
    row.errors.map((e) => ({ ...e, ...(e.caseId !== undefined ? { caseId: rename(r, e.caseId) } : {}) })),
  );
  const key = (e: DatasetIssue) => JSON.stringify([e.caseId, e.field, e.file, e.message]);
  assert.deepEqual(report.errors.map(key).sort(), expected.map(key).sort());
});

test('a clean dataset: no errors, no warnings, exact summary', async () => {
  const p = manifest([
    good('f1', { report: 'ok.txt' }),
    good('f2', { image: 'b.nii', mask: '', location: 'supratentorial' }),
    good('v1', { image: 'c.nii.gz', mask: '', marker: 'v600e' }),
    good('v2', { image: 'd.nii', mask: '', marker: 'v600e', location: 'transtentorial' }),
    { id: 'o1', image: 'e.nii', marker: 'other', cohort: 'external' },
  ]);
  const report = await validateDataset(p, { folds: 2 });
  assert.deepEqual(report, {
    manifest: p,
    errors: [],
    warnings: [],
    summary: {
      cases: 5,
      byCohort: { internal: 4, external: 1 },
      byLocation: { infratentorial: 2, supratentorial: 1, transtentorial: 1, '(none)': 1 },
      byMarker: { fusion: 2, v600e: 2, other: 1 },
      withReport: 4,
      withMask: 1,
      downstream: { positiveMarker: 'v600e', negativeMarker: 'fusion', positive: 2, negative: 2 },
    },
  });
});

test('an unreadable or malformed manifest is reported, not thrown', async () => {
  const missing = at('absent.json');
  assert.deepEqual((await validateDataset(missing)).errors, [{ file: missing, message: 'manifest not found' }]);
  const csv = at('bad.csv');
  writeFileSync(csv, 'id,image,marker\nx,a.nii,fusion\ny,b.nii\n');
  const r = await validateDataset(csv);
  assert.deepEqual(r.errors, [{ file: csv, message: 'row 3: has 2 field(s), the header has 3' }]);
  assert.equal(r.summary.cases, 1);
  const json = at('bad.json');
  writeFileSync(json, '{"version": 1, "cases": [');
  const j = await validateDataset(json);
  assert.equal(j.errors.length, 1);
  assert.match(j.errors[0]!.message, /^invalid JSON \(/);
  const empty = manifest([]);
  assert.deepEqual((await validateDataset(empty)).errors, [{ file: empty, message: 'no cases' }]);
});

test('formatValidationReport: errors, then warnings, then the summary; paths relative to the manifest', async () => {
  const p = manifest([good('x', { image: 'nope.nii', mask: '' }), good('y', { image: 'b.nii', mask: '', report: '' })]);
  const text = formatValidationReport(await validateDataset(p, { folds: 2 }), p);
  assert.equal(
    text,
    [
      `${p}: 2 errors, 1 warning`,
      '',
      'Errors:',
      '  case "x", image, nope.nii: file not found',
      `  marker, ${p.slice(dir.length + 1)}: downstream class "v600e" has 0 internal case(s), fewer than 2 folds`,
      '',
      'Warnings:',
      '  case "y", report: internal case without a report: unusable for pretraining',
      '',
      'Summary:',
      '  cases: 2 (internal 2)',
      '  locations: infratentorial 2',
      '  markers: fusion 2',
      '  with report: 1, with mask: 0',
      '  downstream (internal): v600e 0 (positive), fusion 2 (negative)',
      '',
    ].join('\n'),
  );
});

test('validateDataset: bad ids and paths outside the dataset folder are errors naming the case and field; opting in accepts the paths', async () => {
  const ds = join(dir, 'nested', 'ds');
  mkdirSync(ds, { recursive: true });
  writeFileSync(at('outside.txt'), 'FLAIR hyperintense lesion in the vermis.\n');
  const p = join(ds, 'manifest.json');
  const hostile = ['../../../../x', 'a/b', 'a\\b', '..', 'a\0b', 'a\nb', 'a\x01b', 'y'.repeat(300)];
  writeFileSync(
    p,
    JSON.stringify([
      ...hostile.map((id) => ({ id, image: '../../a.nii' })),
      { id: 'r', image: '../../a.nii', report: '../../outside.txt', location: 'infratentorial', marker: 'fusion' },
    ]),
  );
  const refused = await validateDataset(p);
  const idErrors = refused.errors.filter((e) => e.field === 'id');
  assert.equal(idErrors.length, hostile.length);
  idErrors.forEach((e, n) => {
    assert.equal(e.file, p);
    assert.equal(e.caseId, undefined);
    assert.match(e.message, new RegExp(`^case ${n + 1}: ".*" is not a valid case id: it `));
  });
  const hint = 'set data.allowOutsidePaths: true in the config (or pass --allow-outside-paths to mrcl validate) to allow it';
  assert.deepEqual(
    refused.errors.filter((e) => e.field !== 'id'),
    [
      { caseId: 'r', field: 'image', file: p, message: `case ${hostile.length + 1}: "../../a.nii" lies outside the dataset folder ${ds}; ${hint}` },
      { caseId: 'r', field: 'report', file: p, message: `case ${hostile.length + 1}: "../../outside.txt" lies outside the dataset folder ${ds}; ${hint}` },
    ],
  );
  // skipped cases are not counted, and their files were not read
  assert.equal(refused.summary.cases, 0);

  const allowed = await validateDataset(p, { allowOutsidePaths: true });
  assert.deepEqual(
    allowed.errors.map((e) => e.field),
    hostile.map(() => 'id'),
  );
  assert.equal(allowed.summary.cases, 1);
  assert.equal(allowed.summary.withReport, 1);
});

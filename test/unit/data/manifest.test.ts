import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadManifest, parseManifest, readReport, ManifestError } from '../../../src/engine/data/manifest';

const dir = mkdtempSync(join(tmpdir(), 'manifest-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'reports'));
writeFileSync(join(dir, 'reports', 'a.txt'), '\ufeffFLAIR hyperintense lesion.\n');
writeFileSync(join(dir, 'reports', 'plain'), 'Report without extension.');

let counter = 0;
function write(text: string, ext: string): string {
  const p = join(dir, `m${counter++}${ext}`);
  writeFileSync(p, text);
  return p;
}

/** Asserts loadManifest throws a ManifestError naming the file and matching every pattern. */
function refuses(p: string, ...patterns: RegExp[]): void {
  assert.throws(
    () => loadManifest(p),
    (e: unknown) => {
      assert.ok(e instanceof ManifestError, `expected a ManifestError, got ${String(e)}`);
      assert.ok(e.message.startsWith(`${p}: `), e.message);
      for (const re of patterns) assert.match(e.message, re);
      return true;
    },
  );
}

test('JSON object form: paths resolved against the manifest folder, raw strings kept, defaults filled', () => {
  const p = write(
    JSON.stringify({
      version: 1,
      cases: [
        { id: 'a', image: 'img/a.nii.gz', mask: 'img/a_mask.nii.gz', report: 'reports/a.txt', location: 'infratentorial', marker: 'v600e' },
        { id: 'b', image: '/abs/b.nii', report: 'reports/plain', cohort: 'external', mask: null },
        { id: 'c', image: 'c.nii', report: 'Lesion in the pons.' },
        { id: 'd', image: 'd.nii', report: 'missing/later.MD', location: '' },
      ],
    }),
    '.json',
  );
  // case b's absolute image lies outside the manifest's folder: allowed only when opted in
  assert.throws(() => loadManifest(p), /case 2, case "b": image: "\/abs\/b\.nii" lies outside the dataset folder/);
  const m = loadManifest(p, { allowOutsidePaths: true });
  assert.equal(m.format, 'json');
  assert.equal(m.path, p);
  assert.deepEqual(m.cases, [
    {
      id: 'a',
      image: join(dir, 'img/a.nii.gz'),
      mask: join(dir, 'img/a_mask.nii.gz'),
      report: { kind: 'file', path: join(dir, 'reports/a.txt') },
      location: 'infratentorial',
      marker: 'v600e',
      cohort: 'internal',
      where: 'case 1',
      raw: { id: 'a', image: 'img/a.nii.gz', mask: 'img/a_mask.nii.gz', report: 'reports/a.txt', location: 'infratentorial', marker: 'v600e' },
    },
    {
      id: 'b',
      image: '/abs/b.nii',
      // no extension, but it names an existing file: a path
      report: { kind: 'file', path: join(dir, 'reports/plain') },
      cohort: 'external',
      where: 'case 2',
      raw: { id: 'b', image: '/abs/b.nii', report: 'reports/plain', cohort: 'external' },
    },
    {
      id: 'c',
      image: join(dir, 'c.nii'),
      report: { kind: 'text', text: 'Lesion in the pons.' },
      cohort: 'internal',
      where: 'case 3',
      raw: { id: 'c', image: 'c.nii', report: 'Lesion in the pons.' },
    },
    {
      id: 'd',
      image: join(dir, 'd.nii'),
      // .md (any case) is a path even when the file does not exist (yet)
      report: { kind: 'file', path: join(dir, 'missing/later.MD') },
      cohort: 'internal',
      where: 'case 4',
      raw: { id: 'd', image: 'd.nii', report: 'missing/later.MD' },
    },
  ]);
});

test('JSON bare array form', () => {
  const m = loadManifest(write('[{"id":"x","image":"x.nii"}]', '.json'));
  assert.deepEqual(
    m.cases.map((c) => [c.id, c.image, c.cohort]),
    [['x', join(dir, 'x.nii'), 'internal']],
  );
});

test('CSV per RFC 4180: BOM, CRLF, quoted commas, doubled quotes and newlines; header names case-insensitive', () => {
  const csv =
    '\ufeffID,Image,report,marker,cohort\r\n' +
    'a,"dir, with comma/a.nii","He said ""no"", twice.\r\nSecond line.",fusion,\r\n' +
    '\r\n' +
    ' b , b.nii ,,other,external\r\n';
  const m = loadManifest(write(csv, '.csv'));
  assert.equal(m.format, 'csv');
  assert.deepEqual(m.cases, [
    {
      id: 'a',
      image: join(dir, 'dir, with comma/a.nii'),
      report: { kind: 'text', text: 'He said "no", twice.\r\nSecond line.' },
      marker: 'fusion',
      cohort: 'internal',
      where: 'row 2',
      raw: { id: 'a', image: 'dir, with comma/a.nii', report: 'He said "no", twice.\r\nSecond line.', marker: 'fusion' },
    },
    {
      id: 'b',
      image: join(dir, 'b.nii'),
      marker: 'other',
      cohort: 'external',
      where: 'row 3',
      raw: { id: 'b', image: 'b.nii', marker: 'other', cohort: 'external' },
    },
  ]);
});

test('format is sniffed when the extension says nothing', () => {
  assert.equal(loadManifest(write('[{"id":"x","image":"x.nii"}]', '.manifest')).format, 'json');
  assert.equal(loadManifest(write('id,image\nx,x.nii\n', '.manifest')).format, 'csv');
});

test('malformed manifests: clear errors naming the file and the row or case', () => {
  refuses(join(dir, 'nope.json'), /manifest not found/);
  refuses(write('{"version":1,"cases":[', '.json'), /invalid JSON/);
  refuses(write('{"version":2,"cases":[]}', '.json'), /unsupported manifest version 2/);
  refuses(write('{"version":1}', '.json'), /expected a "cases" array/);
  refuses(write('"text"', '.json'), /expected a JSON object/);
  refuses(write('[]', '.json'), /no cases/);
  refuses(write('', '.csv'), /empty CSV/);
  refuses(write('id,mask\na,b\n', '.csv'), /row 1 \(header\): missing column\(s\) image \(have: id, mask\)/);
  refuses(write('id,image,id\na,b,c\n', '.csv'), /column "id" appears twice/);
  refuses(write('id,image\na,"unterminated\n', '.csv'), /invalid CSV/);
  refuses(write('[{"id":"a","image":"a.nii","cohort":"training"}]', '.json'), /case 1, case "a": cohort: "training" is not one of internal, external/);
});

test('every per-case problem is listed at once', () => {
  const p = write(
    JSON.stringify([
      { id: 7, image: 'a.nii' },
      { id: 'b' },
      'not an object',
      { id: 'd', image: 'd.nii', marker: 3 },
      { id: 'e', image: 'e.nii' },
      { id: 'e', image: 'e2.nii' },
      { id: '  ', image: 'f.nii' },
    ]),
    '.json',
  );
  refuses(
    p,
    /6 problems:\n  case 1: id: must be a string, got number 7\n  case 2, case "b": image: missing\n  case 3:/,
    /case 1: id: must be a string, got number 7/,
    /case 2, case "b": image: missing/,
    /case 3: expected an object, got string "not an object"/,
    /case 4: marker: must be a string, got number 3/,
    /case 6, case "e": id: duplicate id \(first at case 5\)/,
    /case 7: id: missing/,
  );
  const csv = write('id,image,marker\na,a.nii,fusion\nb,b.nii\nc,c.nii,v600e,extra\nd,,other\n', '.csv');
  refuses(csv, /row 3: has 2 field\(s\), the header has 3/, /row 4: has 4 field\(s\), the header has 3/, /row 5, case "d": image: missing/);
});

test('parseManifest keeps what it can and lists problems, warnings for unknown fields', () => {
  const parsed = parseManifest(write('id,image,maks\na,a.nii,x\na,b.nii,y\n', '.csv'));
  assert.deepEqual(
    parsed.cases.map((c) => [c.id, c.where]),
    [
      ['a', 'row 2'],
      ['a', 'row 3'],
    ],
  );
  assert.deepEqual(parsed.issues, [
    { severity: 'warning', where: 'row 1', field: 'maks', message: 'unknown column (ignored)' },
    { severity: 'error', where: 'row 3', caseId: 'a', field: 'id', message: 'duplicate id (first at row 2)' },
  ]);
  // unknown fields alone do not make the manifest unusable
  assert.equal(loadManifest(write('[{"id":"a","image":"a.nii","notes":"x"}]', '.json')).cases.length, 1);
});

test('readReport: inline text, files (BOM stripped), no report, unreadable file', () => {
  const m = loadManifest(
    write(
      JSON.stringify([
        { id: 'a', image: 'a.nii', report: 'reports/a.txt' },
        { id: 'b', image: 'b.nii', report: 'Inline text.' },
        { id: 'c', image: 'c.nii' },
        { id: 'd', image: 'd.nii', report: 'reports/gone.txt' },
        { id: 'e', image: 'e.nii', report: 'reports' },
      ]),
      '.json',
    ),
  );
  const [a, b, c, d, e] = m.cases;
  assert.equal(readReport(a!), 'FLAIR hyperintense lesion.\n');
  assert.equal(readReport(b!), 'Inline text.');
  assert.equal(readReport(c!), undefined);
  assert.throws(
    () => readReport(d!),
    (err: unknown) => err instanceof Error && err.message === `${join(dir, 'reports/gone.txt')}: case "d": report file not found`,
  );
  // a folder is not a file: the string is inline text
  assert.deepEqual(e!.report, { kind: 'text', text: 'reports' });
});

test('ids: only letters, digits, ".", "_", "-" (not leading "." or "-"), at most 128 characters; each bad one an error naming the row', () => {
  const hostile = ['../x', '../../../../x', 'a/b', 'a\\b', '..', '.hidden', '-x', 'a\0b', 'a\nb', 'a\x01b', 'a\x7fb', 'x'.repeat(300)];
  const p = write(JSON.stringify([{ id: 'ok-1', image: 'a.nii' }, ...hostile.map((id, n) => ({ id, image: `i${n}.nii` }))]), '.json');
  const parsed = parseManifest(p);
  // the bad cases are skipped: nothing of theirs is read or used as a file name
  assert.deepEqual(
    parsed.cases.map((c) => c.id),
    ['ok-1'],
  );
  assert.equal(parsed.issues.length, hostile.length);
  parsed.issues.forEach((i, n) => {
    assert.equal(i.severity, 'error');
    assert.equal(i.where, `case ${n + 2}`);
    assert.equal(i.field, 'id');
    assert.equal(i.caseId, undefined);
    assert.match(i.message, / is not a valid case id: it /);
    // shown escaped: no raw control byte reaches a terminal
    assert.doesNotMatch(i.message, /[\x00-\x1f\x7f]/);
  });
  assert.match(parsed.issues[0]!.message, /^"\.\.\/x" is not a valid case id: it starts with "\."/);
  assert.match(parsed.issues[2]!.message, /^"a\/b" is not a valid case id: it holds "\/"/);
  assert.match(parsed.issues[7]!.message, /^"a\\x00b" is not a valid case id/);
  assert.match(parsed.issues[11]!.message, /it is 300 characters long, more than 128/);
  refuses(p, /case 2: id: "\.\.\/x" is not a valid case id/, /case 13: id: /);
  // the same rule for CSV rows
  refuses(write('id,image\n../../../../x,a.nii\n', '.csv'), /row 2: id: "\.\.\/\.\.\/\.\.\/\.\.\/x" is not a valid case id/);
});

test('ids differing only in letter case are an error (same files on case-insensitive file systems)', () => {
  refuses(write('[{"id":"Case-1","image":"a.nii"},{"id":"case-1","image":"b.nii"}]', '.json'), /case 2, case "case-1": id: differs from the id "Case-1" \(case 1\) only in letter case/);
});

test('paths outside the manifest folder: errors naming case and field unless opted in; never read', () => {
  // <dir>/outside.txt is two levels above the manifest in <dir>/lab/ds/
  const ds = join(dir, 'lab', 'ds');
  mkdirSync(join(ds, 'reports'), { recursive: true });
  writeFileSync(join(dir, 'outside.txt'), 'words from elsewhere');
  symlinkSync(join(dir, 'outside.txt'), join(ds, 'reports', 'link.txt'));
  writeFileSync(join(ds, 'reports', 'in.txt'), 'inside');
  const cases = [
    { id: 'a', image: 'a.nii', report: 'reports/in.txt' },
    { id: 'b', image: 'b.nii', report: '../../outside.txt' },
    { id: 'c', image: '../../c.nii', mask: '/abs/c_mask.nii' },
    { id: 'd', image: 'd.nii', report: 'reports/link.txt' },
    // inline text is not a path, whatever it looks like
    { id: 'e', image: 'e.nii', report: 'Lesion near ../ the fourth ventricle' },
  ];
  const p = join(ds, 'manifest.json');
  writeFileSync(p, JSON.stringify(cases));
  const parsed = parseManifest(p);
  assert.deepEqual(
    parsed.cases.map((c) => c.id),
    ['a', 'e'],
  );
  const hint = 'set data.allowOutsidePaths: true in the config (or pass --allow-outside-paths to mrcl validate) to allow it';
  assert.deepEqual(parsed.issues, [
    { severity: 'error', where: 'case 2', caseId: 'b', field: 'report', message: `"../../outside.txt" lies outside the dataset folder ${ds}; ${hint}` },
    { severity: 'error', where: 'case 3', caseId: 'c', field: 'image', message: `"../../c.nii" lies outside the dataset folder ${ds}; ${hint}` },
    { severity: 'error', where: 'case 3', caseId: 'c', field: 'mask', message: `"/abs/c_mask.nii" lies outside the dataset folder ${ds}; ${hint}` },
    { severity: 'error', where: 'case 4', caseId: 'd', field: 'report', message: `"reports/link.txt" lies outside the dataset folder ${ds}; ${hint}` },
  ]);
  refuses(p, /4 problems/, /case 2, case "b": report: "\.\.\/\.\.\/outside\.txt" lies outside the dataset folder/);
  // opted in: the paths are used as written
  const m = loadManifest(p, { allowOutsidePaths: true });
  assert.deepEqual(m.cases[1]!.report, { kind: 'file', path: join(dir, 'outside.txt') });
  assert.equal(readReport(m.cases[1]!), 'words from elsewhere');
  assert.equal(m.cases[2]!.mask, '/abs/c_mask.nii');
});

// Import Dataset's arguments → the engine request the worker runs; its label
// and tree context; the report it opens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IMPORT_KINDS, importRequest, isImportArg, validationReportPath } from '../../../src/extension/runs/import-request';
import { requestLabel, type Job } from '../../../src/extension/runs/job';
import { jobContextValue } from '../../../src/extension/views/context-values';

const root = '/w';

test('each kind builds its request: paths made absolute against the workspace, only the fields of that kind kept', () => {
  assert.deepEqual(importRequest({ kind: 'monai', source: 'lists/datalist.json', base: 'data', out: 'data/imported', table: 'ignored.csv', seriesFilter: 'x' }, root), {
    request: { command: 'import', out: '/w/data/imported', import: { kind: 'monai', source: '/w/lists/datalist.json', base: '/w/data' } },
  });
  assert.deepEqual(importRequest({ kind: 'bids', source: '/data/bids', out: ' ds ' }, root), {
    request: { command: 'import', out: '/w/ds', import: { kind: 'bids', source: '/data/bids' } },
  });
  assert.deepEqual(importRequest({ kind: 'dicom', source: 'dicom', table: 'cases.csv', seriesFilter: 'SeriesDescription~flair', out: '/tmp/ds' }, root), {
    request: { command: 'import', out: '/tmp/ds', import: { kind: 'dicom', source: '/w/dicom', table: '/w/cases.csv', seriesFilter: 'SeriesDescription~flair' } },
  });
});

test('an incomplete or contradictory request says what is missing', () => {
  const cases: [Parameters<typeof importRequest>[0], RegExp][] = [
    [{ source: 'x', out: 'o' }, /source kind must be dicom, monai or bids, got undefined/],
    [{ kind: 'nifti' as 'bids', source: 'x', out: 'o' }, /got "nifti"/],
    [{ kind: 'monai', out: 'o' }, /a datalist file is required/],
    [{ kind: 'bids', source: '  ', out: 'o' }, /a BIDS folder is required/],
    [{ kind: 'dicom', source: 'd', out: 'o' }, /a cases table \(CSV\) is required/],
    [{ kind: 'bids', source: 'b' }, /an output folder is required/],
    [{ kind: 'bids', source: 'b', out: '/w/b' }, /must not be the source folder/],
  ];
  for (const [arg, re] of cases) {
    const r = importRequest(arg, root);
    assert.ok('problem' in r, JSON.stringify(arg));
    assert.match(r.problem, re);
  }
});

test('isImportArg accepts only objects of the known string fields (not a Uri, a tree node or a path)', () => {
  assert.equal(isImportArg({ kind: 'bids', source: '/b', out: 'o' }), true);
  assert.equal(isImportArg({ kind: 'bids' }), true);
  for (const no of [undefined, null, '/b', ['x'], {}, { kind: 'bids', fsPath: '/b' }, { kind: 'bids', out: 3 }]) assert.equal(isImportArg(no), false, JSON.stringify(no));
});

test('the kinds offered, the label, the tree context and the report opened', () => {
  assert.deepEqual(IMPORT_KINDS.map((k) => k.kind), ['dicom', 'monai', 'bids']);
  const request = { command: 'import' as const, out: '/w/data/ds', import: { kind: 'bids' as const, source: '/b' } };
  assert.equal(requestLabel(request), 'Import dataset → ds');
  assert.equal(validationReportPath(request), '/w/data/ds/validation-report.txt');
  assert.equal(validationReportPath({ command: 'synth', out: '/w/x' }), undefined);
  const job: Job = { id: 'j', label: 'L', request, status: 'done', queuedAt: 0, runDir: '/w/data/ds' };
  assert.doesNotMatch(jobContextValue(job), /training/);
  assert.match(jobContextValue({ ...job, request: { command: 'experiment', config: '/w/e.mrcl.json' } }), /training/);
});

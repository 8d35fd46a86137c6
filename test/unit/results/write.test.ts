import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readResults, renderCsv, renderLatex, renderMarkdown, writeResults } from '../../../src/engine/results';
import { tinyDoc } from './tiny-doc';

function listAll(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listAll(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]))
    .sort();
}

test('writeResults writes results.json, results.md and tables/<id>.csv|.tex, matching the renderers', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-results-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const doc = tinyDoc();
  const out = join(dir, 'run', 'results');
  const written = writeResults(out, doc);
  assert.deepEqual(listAll(out), ['results.json', 'results.md', 'tables/table1.csv', 'tables/table1.tex']);
  assert.deepEqual(written.map((p) => p.slice(out.length + 1)).sort(), ['results.json', 'results.md', 'tables/table1.csv', 'tables/table1.tex']);
  assert.equal(readFileSync(join(out, 'results.md'), 'utf8'), renderMarkdown(doc));
  assert.equal(readFileSync(join(out, 'tables/table1.csv'), 'utf8'), renderCsv(doc.tables[0]));
  assert.equal(readFileSync(join(out, 'tables/table1.tex'), 'utf8'), renderLatex(doc.tables[0]));
  // ±Infinity survives the JSON round trip (stored as strings)
  const raw = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  assert.equal(raw.tests[0].t, 'Infinity');
  assert.equal(raw.tables[0].rows[2].cells[3].t, 'Infinity');
  assert.deepEqual(readResults(join(out, 'results.json')), doc);
  // writing again replaces the files in place
  doc.notes = ['second'];
  writeResults(out, doc);
  assert.equal(readFileSync(join(out, 'results.md'), 'utf8'), renderMarkdown(doc));
  assert.match(readFileSync(join(out, 'results.md'), 'utf8'), /\nsecond  \n/);
  assert.deepEqual(listAll(out), ['results.json', 'results.md', 'tables/table1.csv', 'tables/table1.tex']);
});

test('a failed write names the file, leaves no temp file and nothing half-written', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-results-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const doc = tinyDoc();
  // results.json is a folder: every other file is written whole, that one fails
  mkdirSync(join(dir, 'results.json'));
  assert.throws(() => writeResults(dir, doc), (e: Error) => e.message.startsWith(`${join(dir, 'results.json')}: cannot write:`));
  assert.deepEqual(listAll(dir), ['results.md', 'tables/table1.csv', 'tables/table1.tex']);
  assert.equal(readFileSync(join(dir, 'results.md'), 'utf8'), renderMarkdown(doc));

  // tables/ is a file: nothing can be written, nothing is
  const dir2 = join(dir, 'second');
  mkdirSync(dir2);
  writeFileSync(join(dir2, 'tables'), 'x');
  assert.throws(() => writeResults(dir2, doc), (e: Error) => e.message.startsWith(`${join(dir2, 'tables')}: cannot create the folder:`));
  assert.deepEqual(listAll(dir2), ['tables']);

  // an unsafe table id is refused before anything is written
  const dir3 = join(dir, 'third');
  const bad = tinyDoc();
  bad.tables[0].id = '../escape';
  assert.throws(() => writeResults(dir3, bad), /table id "\.\.\/escape" is not a safe file name/);
  assert.throws(() => readdirSync(dir3), /ENOENT/);
});

test('readResults: clear errors naming the file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-results-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const p = join(dir, 'results.json');
  assert.throws(() => readResults(p), new RegExp(`^Error: ${p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: cannot read: ENOENT$`));
  writeFileSync(p, '{"format": ');
  assert.throws(() => readResults(p), /results\.json: not valid JSON/);
  writeFileSync(p, '{"format": "other"}');
  assert.throws(() => readResults(p), /results\.json: not a results document/);
  const doc = tinyDoc();
  doc.tables[0].rows[0].cells.pop();
  writeFileSync(p, JSON.stringify(doc));
  assert.throws(() => readResults(p), /results\.json: tables\[0\] \(table1\) row 0 has 3 cells for 4 columns/);
});

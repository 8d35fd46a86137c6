// Reports with planted identifiers imported into a dataset (the writer every
// importer uses, with a known-names file as `mrcl import --known-names`
// passes it), then a whole tiny experiment on that dataset: no planted
// identifier is in any file of the dataset or of the run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadManifest } from '../../../src/engine/data/manifest';
import { writeImportedDataset } from '../../../src/engine/import/write';
import type { ImportCase } from '../../../src/engine/import/types';
import { readKnownNames } from '../../../src/engine/text/deid';
import { resolveConfig } from '../../../src/engine/config/resolve';
import { runStudy } from '../../../src/engine/experiment/study';
import { tinyWorkspace, TINY } from '../experiment/helpers';
import { FOOTER, HEADER, PLANTED, files, found } from '../experiment/planted';

test('imported reports are de-identified: a whole experiment on the dataset leaves no planted identifier in the dataset or the run', { timeout: 600_000 }, async () => {
  const ws = await tinyWorkspace({}, { internal: 12, external: 4 });
  const source = loadManifest(join(ws.dir, 'cohort', 'manifest.json'));
  const cases: ImportCase[] = source.cases.map((c) => {
    const report = c.report?.kind === 'file' ? readFileSync(c.report.path, 'utf8') : c.report?.kind === 'text' ? c.report.text : undefined;
    return {
      id: c.id,
      image: c.image,
      ...(c.mask ? { mask: c.mask } : {}),
      ...(report !== undefined ? { report: `${HEADER}\n${report}\n${FOOTER}\n` } : {}),
      ...(c.location ? { location: c.location } : {}),
      ...(c.marker ? { marker: c.marker } : {}),
      cohort: c.cohort,
    };
  });
  const withReports = cases.filter((c) => c.report !== undefined);
  assert.equal(withReports.length, 12);
  assert.deepEqual(found(withReports[0]!.report!), PLANTED, 'the search finds every planted identifier in a source report');
  writeFileSync(join(ws.dir, 'names.txt'), '# colleagues named in reports\nHortensia Grimsby\n');
  const dataset = join(ws.dir, 'dataset');
  await writeImportedDataset(cases, dataset, { importer: 'test', deid: { knownNames: readKnownNames(join(ws.dir, 'names.txt')) } });
  for (const f of files(dataset)) assert.deepEqual(found(readFileSync(f).toString('latin1')), [], f);

  const config = resolveConfig({ ...TINY, name: 'deid', data: { ...TINY.data, manifest: 'dataset/manifest.json' }, finetune: { ...TINY.finetune, initializations: ['random', 'pretrained'] } }, 'test');
  const outcome = await runStudy({ kind: 'experiment', config, baseDir: ws.dir, emit: () => {} });
  assert.equal(outcome.status, 'done', outcome.error);
  const all = files(outcome.runDir!);
  assert.ok(all.some((f) => f.endsWith(join('pretrain', 'tokenizer.json'))) && all.some((f) => f.endsWith('predictions.csv')));
  for (const f of all) assert.deepEqual(found(readFileSync(f).toString('latin1')), [], f);
});

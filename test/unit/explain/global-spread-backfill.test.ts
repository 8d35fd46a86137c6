// `mrcl evaluate RUN --global-spread` (addGlobalSpread) on a stage folder
// whose retrieval.json is missing or not a retrieval file: an error naming
// the file, before any model or image is read (the config and dataset given
// here would fail if they were touched). The measure itself is tested on real
// pretrainings in test/unit/training/global-collapse.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { addGlobalSpread } from '../../../src/engine/explain/export-cross-attention';
import type { ExperimentConfig } from '../../../src/shared/config';
import type { Dataset } from '../../../src/engine/training/dataset';

const untouched = new Proxy({}, { get: () => { throw new Error('touched'); } });

test('addGlobalSpread: a missing or malformed retrieval.json is refused naming it, and left as it was', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-spread-bad-'));
  const path = join(dir, 'retrieval.json');
  const run = () => addGlobalSpread(untouched as ExperimentConfig, untouched as Dataset, dir);
  await assert.rejects(run(), (e: Error) => e.message === `${path}: missing (the pretraining stage did not finish its export)`);
  for (const text of ['null', '[1, 2]', '7', '"retrieval"']) {
    writeFileSync(path, text);
    await assert.rejects(run(), (e: Error) => e.message === `${path}: not a retrieval file (a JSON object with "pairs", "cases" and recall@k)`, text);
    assert.equal(readFileSync(path, 'utf8'), text, 'nothing written');
  }
  writeFileSync(path, '{"pairs": ');
  await assert.rejects(run(), (e: Error) => e.message.startsWith(`${path}: not valid JSON`));
});

// `mrcl study report DIR`: renders an existing study folder's report again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { runCli as run } from '../cli/run-cli';
import { fakeRun, GOOD_CL, RANDOM } from './report-fixture';


test('mrcl study report DIR rewrites the report; a folder without study.json is an error naming it; no DIR is misuse', async () => {
  const experiment = fakeRun('experiment', [RANDOM, GOOD_CL]);
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-study-'));
  const missing = await run(['study', 'report', dir]);
  assert.equal(missing.code, 1);
  assert.match(missing.err, new RegExp(`${join(dir, 'study.json')}: missing`));
  writeFileSync(join(dir, 'study.json'), JSON.stringify({ steps: [{ name: 'experiment', runDir: experiment.dir }] }));
  const r = await run(['study', 'report', dir]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, new RegExp(`Report: ${join(dir, 'report.md')}`));
  assert.match(r.err, /^reproduced: CL beats random initialisation on external AUC/m);
  rmSync(join(dir, 'report.html'));
  assert.equal((await run(['study', 'report', dir])).code, 0);
  assert.ok(existsSync(join(dir, 'report.html')) && existsSync(join(dir, 'figures', 'roc-external.svg')));
  assert.equal((await run(['study', 'report'])).code, 2);
  // the study's own settings are not options of report
  for (const extra of [['--augment'], ['--seed', '3'], ['--scale', 'quick'], ['--width', '64'], ['--text-pretrained', 'models/clinical-longformer']]) {
    const misuse = await run(['study', 'report', dir, ...extra]);
    assert.equal(misuse.code, 2, extra.join(' '));
    assert.match(misuse.err, new RegExp(`${extra[0]} does not apply to report \\(the study folder has its own\\)`));
  }
});

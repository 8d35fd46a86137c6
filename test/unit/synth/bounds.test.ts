// `mrcl synth` refuses case counts whose bookkeeping alone would exhaust the
// heap, before it writes anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_SYNTH_CASES, resolveSynthOptions, synthesizeCohort } from '../../../src/engine/synth/cohort';

test('case counts are bounded: at most 10000 cases in all', async () => {
  assert.equal(MAX_SYNTH_CASES, 10_000);
  assert.equal(resolveSynthOptions({ out: 'x', internal: 9_000, external: 1_000 }).internal, 9_000);
  for (const [internal, external] of [
    [10_000, 1],
    [100_000_000, 0],
    [0, 2 ** 53 - 1],
    [1e20, 20],
  ]) {
    assert.throws(
      () => resolveSynthOptions({ out: 'x', internal, external }),
      new RegExp(`^Error: synthesizeCohort: internal \\+ external must be at most 10000, got ${internal + external}$`),
      `${internal} + ${external}`,
    );
  }
  const out = join(mkdtempSync(join(tmpdir(), 'mrcl-synth-bounds-')), 'cohort');
  await assert.rejects(synthesizeCohort({ out, internal: 100_000_000 }), /at most 10000/);
  assert.equal(existsSync(out), false, 'nothing is written');
});

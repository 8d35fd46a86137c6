// runEngineCommand (the worker's entry into the engine) for the data
// commands: synth honours the requested size; validate with a config uses
// the config's fold count and leak terms, as `mrcl validate --config` does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runEngineCommand } from '../../../src/engine/api/run';
import type { EngineEvent } from '../../../src/shared/events';

test('synth writes the requested cohort size; validate reads the config it is given', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-engine-cmd-'));
  try {
    const events: EngineEvent[] = [];
    const out = join(dir, 'cohort');
    const r = await runEngineCommand({ command: 'synth', out, synth: { internal: 6, external: 2, shape: [16, 16, 16], seed: 9 } }, { emit: (e) => events.push(e) });
    assert.equal(r.status, 'done');
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { cases: { cohort: string }[] };
    assert.equal(manifest.cases.filter((c) => c.cohort === 'internal').length, 6);
    assert.equal(manifest.cases.filter((c) => c.cohort === 'external').length, 2);
    assert.ok(events.some((e) => e.type === 'progress' && e.stage === 'synth' && e.done === 8 && e.total === 8));
    await assert.rejects(runEngineCommand({ command: 'synth', out: join(dir, 'bad'), synth: { shape: [8, 8, 8] } }, { emit: () => undefined }), /shape must be three integers from 16/);

    const plain = await runEngineCommand({ command: 'validate', manifest: join(out, 'manifest.json') }, { emit: () => undefined });
    assert.equal(plain.status, 'done', plain.error);
    // 6 internal cases cannot fill 5 folds per class: the config's fold count is what fails
    const config = join(dir, 'exp.mrcl.json');
    writeFileSync(config, JSON.stringify({ data: { manifest: join(out, 'manifest.json') }, finetune: { folds: 5 } }));
    const logs: string[] = [];
    const strict = await runEngineCommand({ command: 'validate', manifest: join(out, 'manifest.json'), config }, { emit: (e) => e.type === 'log' && logs.push(e.message) });
    assert.equal(strict.status, 'failed');
    assert.ok(logs.some((m) => /fold/.test(m)), logs.join('\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

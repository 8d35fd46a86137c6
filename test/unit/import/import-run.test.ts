// The `import` engine command (what the editor's Import Dataset runs in the
// worker): import, validate, write DATASET/validation-report.txt; Cancel
// leaves no dataset behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeNifti } from '../../../src/engine/io/nifti-write';
import { identityAffine } from '../../../src/engine/io/volume';
import { runEngineCommand } from '../../../src/engine/api/run';
import type { EngineEvent } from '../../../src/shared/events';

const root = mkdtempSync(join(tmpdir(), 'import-run-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

function nifti(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeNifti(path, { data: new Float32Array(8).fill(1), dims: [2, 2, 2], pixdim: [1, 1, 1], affine: identityAffine() });
}

const bids = join(root, 'bids');
for (const s of ['01', '02', '03']) nifti(join(bids, `sub-${s}`, 'anat', `sub-${s}_FLAIR.nii.gz`));

test('import from a BIDS folder through the engine command: progress, metrics, the validation report beside the manifest', async () => {
  const out = join(root, 'ds');
  const events: EngineEvent[] = [];
  const r = await runEngineCommand({ command: 'import', out, import: { kind: 'bids', source: bids } }, { emit: (e) => events.push(e) });
  assert.equal(r.status, 'done', r.error);
  assert.deepEqual(
    events.filter((e) => e.type === 'progress').map((e) => e.type === 'progress' && [e.done, e.total]),
    [[0, 3], [0, 3], [1, 3], [2, 3], [3, 3]],
  );
  // BIDS has no reports: each internal case gets a warning
  assert.deepEqual(events.find((e) => e.type === 'metrics'), { type: 'metrics', stage: 'validate', metrics: { cases: 3, errors: 0, warnings: 3 } });
  const report = readFileSync(join(out, 'validation-report.txt'), 'utf8');
  assert.ok(report.startsWith(`${join(out, 'manifest.json')}: 0 errors, 3 warnings\n`), report);
  assert.match(report, /cases: 3 \(internal 3\)/);
});

test('Cancel before or during the copy: cancelled, and no dataset (or temp folder) is left', async () => {
  const pre = new AbortController();
  pre.abort();
  const out1 = join(root, 'cancel-before');
  const r1 = await runEngineCommand({ command: 'import', out: out1, import: { kind: 'bids', source: bids } }, { emit: () => undefined, signal: pre.signal });
  assert.equal(r1.status, 'cancelled');
  assert.equal(existsSync(out1), false);

  const during = new AbortController();
  const out2 = join(root, 'cancel-during');
  const r2 = await runEngineCommand(
    { command: 'import', out: out2, import: { kind: 'bids', source: bids } },
    { emit: (e) => e.type === 'progress' && e.done === 1 && during.abort(), signal: during.signal },
  );
  assert.equal(r2.status, 'cancelled');
  assert.equal(existsSync(out2), false);
  assert.deepEqual(readdirSync(root).filter((n) => n.startsWith('.cancel-during')), []);
});

test('an import request without its source, or with a bad one, fails with the reason', async () => {
  await assert.rejects(runEngineCommand({ command: 'import', out: join(root, 'x') }, { emit: () => undefined }), /import: import \(the source\) is required/);
  await assert.rejects(runEngineCommand({ command: 'import', import: { kind: 'bids', source: bids } }, { emit: () => undefined }), /import: out is required/);
  await assert.rejects(runEngineCommand({ command: 'import', out: join(root, 'y'), import: { kind: 'monai', source: join(root, 'none.json') } }, { emit: () => undefined }), /none\.json/);
});

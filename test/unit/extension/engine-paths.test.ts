import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { workerSpawn } from '../../../src/extension/runs/engine-paths';
import { TRAINING_NODE_FLAGS } from '../../../src/shared/node-flags';

test("the extension's engine worker runs with the training node flags", () => {
  const ext = mkdtempSync(join(tmpdir(), 'mrcl-ext-'));
  try {
    mkdirSync(join(ext, 'dist'));
    writeFileSync(join(ext, 'dist', 'worker.js'), '');
    const spec = workerSpawn(ext, process.execPath);
    assert.equal(spec.command, process.execPath);
    assert.deepEqual(spec.args, [...TRAINING_NODE_FLAGS, join(ext, 'dist', 'worker.js')]);
    assert.ok(TRAINING_NODE_FLAGS.includes('--v8-pool-size=1'));
  } finally {
    rmSync(ext, { recursive: true, force: true });
  }
});

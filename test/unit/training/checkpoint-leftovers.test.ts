// Checkpoint leftovers (issue #14, class 8): a write that fails midway (a
// full disk) leaves no temp folder, and temp folders an earlier process
// left are cleaned on the next write and on resume.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { restoreCheckpoint, saveCheckpoint, type LoopState } from '../../../src/engine/training/checkpoint';
import { resolveConfig } from '../../../src/engine/config/resolve';
import type { Module } from '../../../src/engine/networks/module';
import type { AdamW } from '../../../src/engine/training/adamw';

const LOOP: LoopState = { epoch: 1, stepInEpoch: 0, globalStep: 4, rng: 1, dropoutCalls: [] };

/** A model whose weights cannot be written: saving fails midway, as on a full disk. */
const failing = {
  torchPermutations() {
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  },
} as unknown as Module;

test('a checkpoint write that fails midway leaves no temp folder; stale ones of earlier processes go on the next write', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-ck-'));
  // left by a process killed (or out of disk) mid-write
  mkdirSync(join(dir, '.step-0000002.tmp-99999'));
  writeFileSync(join(dir, '.step-0000002.tmp-99999', 'model.safetensors'), Buffer.alloc(64));
  writeFileSync(join(dir, '.latest.99999.0a1b2c3d.tmp'), 'step-0000002\n');
  assert.throws(() => saveCheckpoint(dir, 'step-0000004', failing, {} as AdamW, LOOP, resolveConfig({})));
  assert.deepEqual(readdirSync(dir), [], 'no temp folder or file is left');
});

test('resume cleans temp folders left behind, and says so', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-ck-'));
  mkdirSync(join(dir, '.step-0000008.tmp-4242'));
  const warnings: string[] = [];
  assert.equal(restoreCheckpoint(dir, {} as Module, {} as AdamW, (m) => warnings.push(m)), undefined);
  assert.deepEqual(readdirSync(dir), []);
  assert.deepEqual(warnings, [`${dir}: removed 1 unfinished checkpoint write(s): .step-0000008.tmp-4242`]);
});

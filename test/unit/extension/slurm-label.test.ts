import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stageDescription } from '../../../src/extension/slurm/slurm-label';

test('stage descriptions show the unit’s Slurm state when the run is on Slurm', () => {
  assert.equal(stageDescription('running', '', undefined), 'running');
  assert.equal(stageDescription('done', 'AUC 0.81', undefined), 'done · AUC 0.81');
  assert.equal(stageDescription('queued', '', 'pending'), 'queued · slurm: pending');
  assert.equal(stageDescription('failed', '', 'failed'), 'failed · slurm: failed');
  assert.equal(stageDescription('done', 'AUC 0.70', 'done'), 'done · AUC 0.70 · slurm: done');
});

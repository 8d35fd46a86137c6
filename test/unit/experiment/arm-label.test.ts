// The MedicalNet arm is named as the synthetic stand-in in the tables when
// its checkpoint carries the stand-in's record, and plainly otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { armLabel } from '../../../src/engine/experiment/study';
import { resolveConfig } from '../../../src/engine/config/resolve';
import { STANDIN_KIND } from '../../../src/engine/training/medicalnet-standin';

test('armLabel: "MedicalNet (synthetic stand-in)" only for a stand-in checkpoint; other arms unchanged', () => {
  const dir = mkdtempSync(join(tmpdir(), 'arm-label-'));
  const standin = join(dir, 'standin.pth');
  const med3d = join(dir, 'resnet_18.pth');
  writeFileSync(standin, '');
  writeFileSync(`${standin}.json`, JSON.stringify({ kind: STANDIN_KIND }));
  writeFileSync(med3d, '');
  const config = (medicalNet?: string) => resolveConfig(medicalNet ? { image: { medicalNet } } : {}, 'test');
  assert.equal(armLabel('medicalnet', config(standin)), 'MedicalNet (synthetic stand-in)');
  assert.equal(armLabel('medicalnet', config(med3d)), 'MedicalNet');
  assert.equal(armLabel('medicalnet', config()), 'MedicalNet');
  assert.equal(armLabel('pretrained', config(standin)), 'Proposed CL');
  assert.equal(armLabel('random', config(standin)), 'Random init');
  writeFileSync(`${med3d}.json`, '{"kind": "something else"}');
  assert.throws(() => armLabel('medicalnet', config(med3d)), /resnet_18\.pth\.json: not a MedicalNet stand-in record/);
});

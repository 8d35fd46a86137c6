// Pretraining starts from MedicalNet when image.medicalNet is set (the
// paper), keeps conv1–layer2 frozen at those weights, and a checkpoint that
// does not fit the configured encoder fails `config check` and a run before
// any training starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../../src/engine/config/resolve';
import { runStudy } from '../../../src/engine/experiment/study';
import { pretrainPlan } from '../../../src/engine/experiment/units';
import { readSafetensors } from '../../../src/engine/io/safetensors';
import { loadTorchCheckpoint } from '../../../src/engine/io/torch-checkpoint';
import { readJson } from '../../../src/engine/training/run-folder';
import { main } from '../../../src/cli/main';
import { tinyWorkspace } from './helpers';

// MedicalNet-format checkpoints of a width-2 ResNet-18-A and ResNet-10-B (test/fixtures/resnet/make_fixtures.py)
const R18A = resolve('test/fixtures/resnet/r18a_w2.pth');
const R10B = resolve('test/fixtures/resnet/r10b_w2.pth');

function values(data: ArrayLike<number | bigint>): number[] {
  return Array.from(data, Number);
}

async function pretrainWith(image: Record<string, unknown>) {
  const ws = await tinyWorkspace({ image: { width: 2, ...image } }, { internal: 8, external: 2 });
  const { config, baseDir } = loadConfig(ws.configPath);
  const outcome = await runStudy({ kind: 'pretrain', config, baseDir, plan: pretrainPlan(), emit: () => {} });
  return { ws, outcome };
}

test('pretraining loads MedicalNet into the image encoder; frozen layers keep its weights, and the run records it', { timeout: 300_000 }, async () => {
  const ckpt = loadTorchCheckpoint(R18A).tensors;
  const want = (k: string) => values(ckpt.get(`module.${k}`)?.data ?? ckpt.get(k)!.data);
  const { outcome } = await pretrainWith({ medicalNet: R18A });
  assert.equal(outcome.status, 'done', outcome.error);
  const saved = readSafetensors(join(outcome.runDir!, 'pretrain', 'model.safetensors')).tensors;
  for (const k of ['conv1.weight', 'layer1.0.conv1.weight', 'layer2.1.conv2.weight', 'bn1.weight']) {
    assert.deepEqual(values(saved.get(`image_encoder.${k}`)!.data), want(k), `${k} is MedicalNet's`);
  }
  const done = readJson<{ imageInit: unknown }>(join(outcome.runDir!, 'pretrain', 'done.json'));
  assert.deepEqual(done.imageInit, { medicalNet: R18A });

  const random = await pretrainWith({ medicalNet: R18A, pretrainFromMedicalNet: false });
  assert.equal(random.outcome.status, 'done', random.outcome.error);
  const other = readSafetensors(join(random.outcome.runDir!, 'pretrain', 'model.safetensors')).tensors;
  assert.notDeepEqual(values(other.get('image_encoder.conv1.weight')!.data), want('conv1.weight'));
  assert.equal(readJson<{ imageInit: unknown }>(join(random.outcome.runDir!, 'pretrain', 'done.json')).imageInit, 'random');
});

test('a MedicalNet checkpoint of another encoder fails config check and the run before any training', { timeout: 300_000 }, async () => {
  const ws = await tinyWorkspace({ image: { width: 2, medicalNet: R10B } }, { internal: 8, external: 2 });
  let err = '';
  const code = await main(['config', 'check', ws.configPath], { stdout: () => undefined, stderr: (s) => void (err += s), tty: false, signal: new AbortController().signal });
  assert.equal(code, 1);
  assert.match(err, /r10b_w2\.pth: does not match a ResNet-18-A of width 2/);
  const { config, baseDir } = loadConfig(ws.configPath);
  await assert.rejects(runStudy({ kind: 'pretrain', config, baseDir, plan: pretrainPlan(), emit: () => {} }), /r10b_w2\.pth: does not match a ResNet-18-A/);
  // nothing was started: no run folder
  const runs = join(ws.dir, 'runs');
  assert.ok(!existsSync(runs) || readdirSync(runs).length === 0);
  // the fitting checkpoint passes the same check
  const good = await tinyWorkspace({ image: { width: 2, medicalNet: R18A } }, { internal: 8, external: 2 });
  let out = '';
  assert.equal(await main(['config', 'check', good.configPath], { stdout: (s) => void (out += s), stderr: (s) => void (out += s), tty: false, signal: new AbortController().signal }), 0, out);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setBackend, probeBackends, currentBackend, tf } from '../../../src/engine/backend';

test('cpu can be forced and is reported', async () => {
  const info = await setBackend('cpu');
  assert.equal(info.name, 'cpu');
  assert.equal(info.provider, '@tensorflow/tfjs');
  assert.equal(tf.getBackend(), 'cpu');
  assert.deepEqual(currentBackend(), info);
});

test('auto picks tensorflow when its package loads, else cpu with the reasons', async () => {
  const probes = probeBackends();
  const tfNode = probes.find((p) => p.preference === 'tensorflow');
  const info = await setBackend('auto');
  if (tfNode?.available) {
    assert.equal(info.name, 'tensorflow');
  } else {
    assert.equal(info.name, 'cpu');
    assert.equal(info.skipped.length, 2);
    assert.match(info.skipped.join('\n'), /@tensorflow\/tfjs-node-gpu (is not installed|did not load|'s native addon)|not found/);
  }
  await setBackend('cpu');
});

test('wasm is refused for training', async () => {
  await assert.rejects(setBackend('wasm', { training: true }), /Conv3D input gradient is wrong/);
  assert.equal(tf.getBackend(), 'cpu');
});

test('an unknown backend name is an error, from arguments and from MRCL_BACKEND', async () => {
  await assert.rejects(setBackend('tpu'), /unknown backend "tpu"/);
  process.env.MRCL_BACKEND = 'gpu';
  try {
    await assert.rejects(setBackend(), /MRCL_BACKEND: unknown backend "gpu"/);
    process.env.MRCL_BACKEND = 'cpu';
    assert.equal((await setBackend()).name, 'cpu');
  } finally {
    delete process.env.MRCL_BACKEND;
  }
});

test('an explicit backend that cannot load is an error, not a silent fallback', async () => {
  const probes = probeBackends();
  if (probes.find((p) => p.preference === 'tensorflow')?.available) return;
  await assert.rejects(setBackend('tensorflow'), /backend "tensorflow" requested but (@tensorflow\/tfjs-node (is not installed|did not load|'s native addon)|libtensorflow not found)/);
});

test('config precision reaches the native kernels: bf16 where the CPU has it, refused with the reason where not; fp32 restores', async () => {
  const { loadAddon } = await import('../../../src/engine/native/addon');
  const addon = loadAddon().addon;
  if (!addon) {
    await assert.rejects(setBackend('cpu', { precision: 'bf16' }), /precision "bf16" needs the native oneDNN kernels/);
    return;
  }
  const v = addon.version();
  try {
    if (v.bf16) {
      const info = await setBackend('cpu', { precision: 'bf16' });
      assert.equal(info.native?.precision, 'bf16');
      assert.match(info.native!.detail, /bf16 convolutions and matrix products/);
      assert.equal(addon.version().precision, 'bf16');
    } else {
      await assert.rejects(setBackend('cpu', { precision: 'bf16' }), new RegExp(`AVX512-BF16 or AMX.*this CPU's is ${v.isa}`));
    }
    const back = await setBackend('cpu', { precision: 'fp32' });
    assert.equal(back.native?.precision, 'fp32');
    assert.equal(addon.version().precision, 'fp32');
  } finally {
    await setBackend('cpu');
  }
  // the wasm backend cannot run bf16 (it has no native kernels) and says so before training is refused
  await assert.rejects(setBackend('wasm', { precision: 'bf16' }), /backend "wasm" computes in fp32/);
});

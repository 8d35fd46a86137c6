import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describeBackend, setBackend, tf } from '../../../src/engine/backend';
import { loadAddon, nativeMode } from '../../../src/engine/native/addon';
import { defaultThreads, coreCount } from '../../../src/engine/native/threads';
import { disableNativeKernels, enableNativeKernels, nativeStatus } from '../../../src/engine/native/register';
import { nativeAvailable } from './helpers';

test('MRCL_NATIVE values', () => {
  assert.equal(nativeMode(undefined), 'auto');
  assert.equal(nativeMode(''), 'auto');
  assert.equal(nativeMode('auto'), 'auto');
  for (const v of ['0', 'off', 'false', 'no']) assert.equal(nativeMode(v), 'off');
  for (const v of ['1', 'on', 'true', 'required']) assert.equal(nativeMode(v), 'required');
  assert.throws(() => nativeMode('fast'), /MRCL_NATIVE: unknown value "fast"/);
});

test('threads: all cores for one worker, cores ÷ workers for several, MRCL_THREADS overrides', () => {
  const cores = coreCount();
  assert.equal(defaultThreads(1, undefined), cores);
  assert.equal(defaultThreads(cores, undefined), 1);
  assert.equal(defaultThreads(cores * 4, undefined), 1);
  assert.equal(defaultThreads(2, undefined), Math.max(1, Math.floor(cores / 2)));
  assert.equal(defaultThreads(3, '5'), 5);
  assert.throws(() => defaultThreads(1, '0'), /MRCL_THREADS: expected a positive integer, got "0"/);
  assert.throws(() => defaultThreads(1, 'x'), /MRCL_THREADS/);
  assert.throws(() => defaultThreads(0, undefined), /workers must be a positive integer/);
});

test('with MRCL_NATIVE=0 the cpu backend reports the pure-JS kernels', async () => {
  const info = await setBackend('cpu');
  const off = enableNativeKernels({ mode: 'off' });
  assert.equal(off.active, false);
  assert.match(off.detail, /^pure-JS kernels: disabled by MRCL_NATIVE=0/);
  assert.deepEqual(off.kernels, []);
  assert.match(describeBackend({ ...info, native: off }), /^cpu \(@tensorflow\/tfjs\), pure-JS kernels: disabled by MRCL_NATIVE=0/);
  // the cpu backend's own kernels are back in place
  assert.equal(tf.getKernel('Conv3D', 'cpu')?.kernelFunc.name, 'conv3D');
});

test('setBackend("cpu") enables the native kernels when the addon is built, and says so', async (t) => {
  if (!(await nativeAvailable(t))) return;
  const info = await setBackend('cpu');
  try {
    assert.equal(info.native?.active, true);
    assert.match(describeBackend(info), /^cpu \(@tensorflow\/tfjs\), native kernels: oneDNN \d+\.\d+\.\d+ \(\w+\), \d+ threads?/);
    for (const k of ['Conv3D', 'Conv3DBackpropInputV2', 'Conv3DBackpropFilterV2', 'MrclConv3DPadded', 'MrclAdamW', 'BatchMatMul', 'MaxPool3D', 'MaxPool3DGrad', 'PadV2', 'Slice', 'Add', 'Multiply', 'Sum', 'Mean']) {
      assert.ok(info.native.kernels.includes(k), `${k} is not native`);
    }
    assert.equal(enableNativeKernels({ threads: 1 }).threads, 1);
    assert.match(nativeStatus().detail, /, 1 thread$/);
    assert.throws(() => enableNativeKernels({ threads: 0 }), /threads must be a positive integer/);
  } finally {
    disableNativeKernels();
  }
});

test('the addon rejects malformed arguments with clear errors instead of crashing', async (t) => {
  if (!(await nativeAvailable(t))) return;
  const addon = loadAddon().addon!;
  const x = new Float32Array(2 * 4 * 4 * 4 * 3);
  const w = new Float32Array(3 * 3 * 3 * 3 * 5);
  const y = new Float32Array(2 * 2 * 2 * 2 * 5);
  const args: [number[], number[], number[], number[]] = [[1, 1, 1], [0, 0, 0], [0, 0, 0], [1, 1, 1]];
  assert.throws(() => addon.conv3dForward(x, [2, 4, 4, 4, 3], w, [3, 3, 3, 3, 5], new Float32Array(3), [2, 2, 2, 2, 5], ...args), /y has 3 elements, expected 80/);
  assert.throws(() => addon.conv3dForward(x, [2, 4, 4, 4, 3], w, [3, 3, 3, 4, 5], y, [2, 2, 2, 2, 5], ...args), /filter has 405 elements, expected 540/);
  assert.throws(() => addon.conv3dForward(x, [2, 4, 4, 4], w, [3, 3, 3, 3, 5], y, [2, 2, 2, 2, 5], ...args), /x shape must have 5 elements/);
  assert.throws(() => addon.conv3dForward(new Int32Array(4) as unknown as Float32Array, [1, 1, 1, 1, 4], w, [3, 3, 3, 3, 5], y, [2, 2, 2, 2, 5], ...args), /x must be a Float32Array/);
  assert.throws(() => addon.pad(x, [2, 4, 4, 4, 3], new Float32Array(10), [2, 4, 4, 4, 3], [0, 0, 0, 0, 0], 0), /y has 10 elements/);
  assert.throws(() => addon.slice(x, [2, 4, 4, 4, 3], new Float32Array(3), [1, 1, 1, 1, 3], [2, 0, 0, 0, 0]), /outside the input/);
  assert.throws(() => addon.batchMatMul(new Float32Array(6), new Float32Array(6), new Float32Array(5), 1, 1, 2, 3, 2, false, false), /y has 5 elements, expected 4/);
  assert.throws(() => addon.batchMatMul(new Float32Array(6), new Float32Array(6), new Float32Array(4), 2, 3, 1, 3, 2, false, false), /batch sizes must match or be 1/);
  assert.throws(() => addon.binary(99, x, [x.length], x, [x.length], new Float32Array(x.length), [x.length]), /unknown op 99/);
  assert.throws(() => addon.binary(0, x, [x.length], x, [3], new Float32Array(x.length), [x.length]), /a has|b has 384 elements, expected 3/);
});

test('wherever oneDNN is installed, the addon is built (so CI exercises the native path)', (t) => {
  if (nativeMode() === 'off') return t.skip('MRCL_NATIVE=0');
  if (!existsSync('/usr/include/oneapi/dnnl/dnnl.hpp')) return t.skip('oneDNN (libdnnl-dev) is not installed here');
  const load = loadAddon();
  assert.ok(load.addon, `oneDNN is installed but ${load.detail} (run npm run build:native)`);
});

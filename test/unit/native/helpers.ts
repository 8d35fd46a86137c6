// Shared helpers for the native-kernel tests: each case runs once on the
// cpu backend's own kernels and once on the native ones, in one process,
// and compares. Without the addon (not built, or MRCL_NATIVE=0) the tests
// skip and say why.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { tf } from '../../../src/engine/backend';
import { loadAddon, nativeMode } from '../../../src/engine/native/addon';
import { disableNativeKernels, enableNativeKernels, nativeKernelCalls, resetNativeKernelCalls } from '../../../src/engine/native/register';

export const TOLERANCE = 1e-5;

/** Four short reports and their tumour locations, for tiny pretraining steps. */
export const REPORTS = [
  'Large mass in the right temporal lobe with oedema.',
  'Cystic lesion in the cerebellar vermis compressing the fourth ventricle.',
  'Infiltrative lesion of the left thalamus extending into the midbrain.',
  'Small lesion in the pons with slight mass effect.',
];
export const LOCATIONS = ['supratentorial', 'infratentorial', 'transtentorial', 'infratentorial'];

let ready: Promise<void> | undefined;
function cpu(): Promise<void> {
  ready ??= tf.setBackend('cpu').then(() => tf.ready());
  return ready;
}

/** Why the native tests cannot run here, or null when they can. */
export function skipReason(): string | null {
  const mode = nativeMode();
  if (mode === 'off') return 'native kernels disabled by MRCL_NATIVE=0';
  const load = loadAddon(mode);
  return load.addon ? null : load.detail;
}

/** Sets up the cpu backend; returns false (and marks the test skipped) when the addon is unavailable. */
export async function nativeAvailable(t: TestContext): Promise<boolean> {
  await cpu();
  const why = skipReason();
  if (why) {
    t.skip(why);
    return false;
  }
  return true;
}

/** Deterministic pseudo-random values in [-1, 1) (shared with the network tests). */
import { values } from '../networks/helpers';
export { values };

export function randomTensor(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(values(shape.reduce((a, b) => a * b, 1), seed), shape);
}

/** max |a − b| / max |b|: the difference relative to the reference's scale. */
export function relativeDiff(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assert.equal(actual.length, expected.length, `length ${actual.length} ≠ ${expected.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    if (Number.isNaN(expected[i]) !== Number.isNaN(actual[i])) return Infinity;
    if (Number.isNaN(expected[i])) continue;
    if (expected[i] === actual[i]) {
      scale = Math.max(scale, Math.abs(expected[i]));
      continue;
    }
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff === 0 ? 0 : diff / Math.max(scale, 1e-30);
}

/**
 * Runs `f` with the cpu backend's own kernels, then with the native ones,
 * and asserts every output agrees within TOLERANCE (and has the same shape),
 * and that each kernel in `expectNative` really ran natively.
 */
export function compareNative(what: string, f: () => tf.Tensor | tf.Tensor[], expectNative: string[] = [], tolerance = TOLERANCE): void {
  disableNativeKernels();
  const reference = tf.tidy(() => [f()].flat());
  const refData = reference.map((t) => t.dataSync().slice());
  const refShapes = reference.map((t) => t.shape);
  tf.dispose(reference);
  const status = enableNativeKernels();
  assert.ok(status.active, `${what}: native kernels did not activate: ${status.detail}`);
  try {
    resetNativeKernelCalls();
    const actual = tf.tidy(() => [f()].flat());
    const ran = nativeKernelCalls();
    for (const k of expectNative) assert.ok((ran[k] ?? 0) > 0, `${what}: kernel ${k} did not run natively (ran: ${JSON.stringify(ran)})`);
    try {
      assert.equal(actual.length, refData.length, `${what}: output count`);
      actual.forEach((t, i) => {
        assert.deepEqual(t.shape, refShapes[i], `${what}: output ${i} shape`);
        const d = relativeDiff(t.dataSync(), refData[i]);
        assert.ok(d <= tolerance, `${what}: output ${i} differs by ${d.toExponential(2)} (relative) > ${tolerance}`);
      });
    } finally {
      tf.dispose(actual);
    }
  } finally {
    disableNativeKernels();
  }
}

/** Every kernel call during `f`, in order and with repeats (from tf.profile); whatever `f` creates is disposed. */
export async function kernelCalls(f: () => unknown): Promise<string[]> {
  const p = await tf.profile(() => void tf.tidy(() => void f()));
  return p.kernels.map((k) => k.name);
}

/** Kernel names that ran during `f` (from tf.profile). */
export async function kernelsUsed(f: () => tf.Tensor | tf.Tensor[]): Promise<string[]> {
  return [...new Set(await kernelCalls(f))];
}

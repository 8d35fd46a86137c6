// Shared test helpers for the network tests: naive reference ops written
// straight from PyTorch's definitions, leak checks, comparisons.
import assert from 'node:assert/strict';
import { tf } from '../../../src/engine/backend';

let ready: Promise<void> | undefined;
export function cpu(): Promise<void> {
  ready ??= tf.setBackend('cpu').then(() => tf.ready());
  return ready;
}

/** Runs `f` and asserts it leaves no new tensors behind. */
export async function noLeaks(what: string, f: () => void | Promise<void>): Promise<void> {
  const before = tf.memory().numTensors;
  await f();
  assert.equal(tf.memory().numTensors, before, `${what} leaked ${tf.memory().numTensors - before} tensors`);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, `length ${a.length} ≠ ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  const d = maxAbsDiff(actual, expected);
  assert.ok(d <= tol, `${what}: max abs diff ${d} > ${tol}`);
}

/** Deterministic pseudo-random values in [-1, 1). */
export function values(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/**
 * Naive PyTorch Conv3d on NDHWC data with weight in PyTorch layout
 * [out, in, k, k, k], zero padding p, stride s, dilation r.
 */
export function naiveConv3d(
  x: Float32Array,
  [n, d, h, w, cin]: number[],
  weight: Float32Array,
  cout: number,
  k: number,
  s: number,
  p: number,
  r = 1,
): { data: Float32Array; shape: number[] } {
  const ke = r * (k - 1) + 1;
  const od = Math.floor((d + 2 * p - ke) / s) + 1;
  const oh = Math.floor((h + 2 * p - ke) / s) + 1;
  const ow = Math.floor((w + 2 * p - ke) / s) + 1;
  const out = new Float32Array(n * od * oh * ow * cout);
  for (let b = 0; b < n; b++)
    for (let z = 0; z < od; z++)
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++)
          for (let o = 0; o < cout; o++) {
            let acc = 0;
            for (let i = 0; i < cin; i++)
              for (let a = 0; a < k; a++)
                for (let bb = 0; bb < k; bb++)
                  for (let c = 0; c < k; c++) {
                    const zi = z * s - p + r * a;
                    const yi = y * s - p + r * bb;
                    const xi = xx * s - p + r * c;
                    if (zi < 0 || zi >= d || yi < 0 || yi >= h || xi < 0 || xi >= w) continue;
                    acc += x[(((b * d + zi) * h + yi) * w + xi) * cin + i] * weight[(((o * cin + i) * k + a) * k + bb) * k + c];
                  }
            out[(((b * od + z) * oh + y) * ow + xx) * cout + o] = acc;
          }
  return { data: out, shape: [n, od, oh, ow, cout] };
}

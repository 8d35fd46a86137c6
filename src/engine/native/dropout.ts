// Dropout as one kernel with a counter-based mask. tf.dropout draws a
// uniform tensor in JavaScript and makes four more passes (add, floor,
// divide, multiply), and its gradient keeps that float mask alive until the
// backward pass. Here element i of a call with seed s is kept iff
//   murmur3_32(i, s) >>> 8  ≥  round(rate · 2^24)
// (a keep probability of exactly 1 − rate on the 2^24 grid), and a kept
// element is scaled by fround(1 / (1 − rate)), a dropped one multiplied by
// 0 (NaN and ±Inf still give NaN, as x·mask does). The mask is a function of
// (seed, i) alone: the gradient recomputes it by sending dy through the same
// kernel, nothing is saved for it, the thread count cannot change it, and
// the native kernel and the JavaScript one below draw the same masks, so a
// run repeats exactly with and without the native kernels.
// On a backend other than cpu (tfjs-node) it is tf.dropout.
import { tf } from '../backend';
import type { NativeAddon } from './addon';
import { f32, output, uninitialized, type KernelArgs, type NativeKernelFunc } from './kernels/cpu-data';

export const DROPOUT_KERNEL = 'MrclDropout';

export interface DropoutAttrs {
  /** uint32 */
  seed: number;
  /** round(rate · 2^24): an element is dropped when its 24-bit draw is below it */
  threshold: number;
  /** fround(1 / (1 − rate)) */
  scale: number;
}

export function dropoutAttrs(rate: number, seed: number): DropoutAttrs {
  if (!(rate >= 0 && rate < 1)) throw new Error(`dropout: rate must be in [0, 1), got ${rate}`);
  return { seed: seed >>> 0, threshold: Math.round(rate * 16777216), scale: Math.fround(1 / (1 - rate)) };
}

/** MurmurHash3 (x86, 32-bit) of the 4-byte little-endian key `key` with `seed`. */
export function murmur32(key: number, seed: number): number {
  let k = Math.imul(key >>> 0, 0xcc9e2d51);
  k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
  let h = (seed ^ k) >>> 0;
  h = (((h << 13) | (h >>> 19)) >>> 0) * 5 + 0xe6546b64;
  h = (h >>> 0) ^ 4;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The kernel's arithmetic in JavaScript (the cpu backend's kernel without the addon). */
export function dropoutValues(x: Float32Array, a: DropoutAttrs, y: Float32Array = new Float32Array(x.length)): Float32Array {
  for (let i = 0; i < x.length; i++) y[i] = x[i]! * (murmur32(i, a.seed) >>> 8 >= a.threshold ? a.scale : 0);
  return y;
}

function kernel(run: (x: Float32Array, y: Float32Array, a: DropoutAttrs) => void): NativeKernelFunc {
  return (args: KernelArgs) => {
    const { x } = args.inputs;
    const xv = f32(args.backend, x);
    if (!xv) throw new Error(`${DROPOUT_KERNEL}: expects a float32 input`);
    const y = uninitialized(xv.length);
    run(xv, y, args.attrs as unknown as DropoutAttrs);
    return output(args.backend, x!.shape, y);
  };
}

/** The native kernel (registered by enableNativeKernels over the JavaScript one). */
export function nativeDropoutKernel(addon: NativeAddon): NativeKernelFunc {
  return kernel((x, y, a) => addon.dropout(x, y, a.seed, a.threshold, a.scale));
}

let gradientRegistered = false;

/**
 * The JavaScript cpu kernel, unless a kernel (the native one) is registered,
 * and the gradient (idempotent).
 */
export function registerDropout(): void {
  if (!tf.getKernel(DROPOUT_KERNEL, 'cpu')) {
    tf.registerKernel({ kernelName: DROPOUT_KERNEL, backendName: 'cpu', kernelFunc: kernel((x, y, a) => dropoutValues(x, a, y)) as unknown as tf.KernelFunc });
  }
  if (gradientRegistered) return;
  gradientRegistered = true;
  tf.registerGradient({
    kernelName: DROPOUT_KERNEL,
    gradFunc: (dy, _saved, attrs) => ({
      // the same mask and scale applied to dy: d(x·m)/dx = m
      x: () => tf.engine().runKernel(DROPOUT_KERNEL, { x: dy as tf.Tensor }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor,
    }),
  });
}

/** x with each element dropped with probability `rate` and the rest scaled by 1/(1 − rate); the mask is determined by `seed`. */
export function dropout(x: tf.Tensor, rate: number, seed: number): tf.Tensor {
  const attrs = dropoutAttrs(rate, seed);
  if (tf.getBackend() !== 'cpu' || x.dtype !== 'float32') return tf.dropout(x, rate, undefined, seed);
  registerDropout();
  return tf.engine().runKernel(DROPOUT_KERNEL, { x }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}

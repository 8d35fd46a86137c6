// One AdamW update of a variable as a single kernel: reads p, g, m, v once
// and writes the new p, m, v, where the op-by-op form makes ~13 passes over
// memory (for the 32M trainable parameters of pretraining that was most of
// a step). Same formula and operation order as training/adamw.ts; without
// the native kernels it runs those ops.
// follows: AdamW (decoupled weight decay), as training/adamw.ts
import { tf } from '../backend';
import type { NativeAddon } from './addon';
import { f32, nativeKernelFor, output, uninitialized, type KernelArgs, type NativeKernelFunc } from './kernels/cpu-data';

export const ADAMW_KERNEL = 'MrclAdamW';

export interface AdamWHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1 − β1^t */
  biasCorrection1: number;
  /** √(1 − β2^t) */
  biasCorrection2Sqrt: number;
}

export interface AdamWUpdate {
  p: tf.Tensor;
  m: tf.Tensor;
  v: tf.Tensor;
}

/** Whether each tensor is the only one on its data, and the data are distinct (so writing them in place is invisible). */
function soleOwner(backend: unknown, ts: tf.TensorInfo[]): boolean {
  const b = backend as { refCount?: (dataId: object) => number };
  if (typeof b.refCount !== 'function') return false;
  return new Set(ts.map((t) => t.dataId)).size === ts.length && ts.every((t) => b.refCount!(t.dataId) === 1);
}

/** The native kernel (registered by enableNativeKernels). */
export function adamwKernel(addon: NativeAddon): NativeKernelFunc {
  return (args: KernelArgs) => {
    const { p, g, m, v } = args.inputs;
    const arrays = [p, g, m, v].map((t) => f32(args.backend, t));
    if (arrays.some((a) => !a)) throw new Error(`${ADAMW_KERNEL}: expects float32 inputs`);
    const [pv, gv, mv, vv] = arrays as Float32Array[];
    const n = pv.length;
    if (gv.length !== n || mv.length !== n || vv.length !== n) throw new Error(`${ADAMW_KERNEL}: p, g, m and v must have the same size`);
    const h = args.attrs as unknown as AdamWHyper;
    // In place when the caller replaces p, m and v by the outputs at once
    // (inPlace: AdamW.step assigns them to its variables) and each is the
    // only tensor on its data, so no other tensor can see the old values:
    // the new values overwrite the old, element by element after reading
    // them, and the outputs take over the same arrays. This saves allocating,
    // and faulting in, three parameter-sized buffers a step (≈ 380 MB at
    // width 64), as PyTorch's in-place update does. Otherwise fresh outputs.
    const inPlace = (args.attrs as { inPlace?: boolean } | undefined)?.inPlace === true && soleOwner(args.backend, [p!, m!, v!]);
    const out = inPlace ? [pv, mv, vv] : [uninitialized(n), uninitialized(n), uninitialized(n)];
    addon.adamw(pv, gv, mv, vv, out[0]!, out[1]!, out[2]!, h.lr, h.beta1, h.beta2, h.eps, h.weightDecay, h.biasCorrection1, h.biasCorrection2Sqrt);
    return out.map((o) => output(args.backend, p.shape, o));
  };
}

function adamwOps(p: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, h: AdamWHyper): AdamWUpdate {
  return tf.tidy(() => {
    const gf = tf.cast(g, 'float32');
    const mNew = tf.add(tf.mul(m, h.beta1), tf.mul(gf, 1 - h.beta1));
    const vNew = tf.add(tf.mul(v, h.beta2), tf.mul(tf.square(gf), 1 - h.beta2));
    const decayed = tf.mul(p, 1 - h.lr * h.weightDecay);
    const denom = tf.add(tf.div(tf.sqrt(vNew), h.biasCorrection2Sqrt), h.eps);
    const pNew = tf.sub(decayed, tf.mul(tf.div(mNew, denom), h.lr / h.biasCorrection1));
    return { p: pNew, m: mNew, v: vNew };
  });
}

/**
 * New values of a parameter and its two moments after one AdamW step
 * (tensors owned by the caller). Uses the fused native kernel on the cpu
 * backend when it is registered, else the equivalent TF.js ops. With
 * `inPlace` the caller promises to replace p, m and v by the results at
 * once and never read them again (AdamW.step assigns them to its
 * variables): the native kernel then writes into their arrays when no other
 * tensor shares them.
 */
export function adamwUpdate(p: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, hyper: AdamWHyper, options: { inPlace?: boolean } = {}): AdamWUpdate {
  const shapes = [g, m, v].map((t) => t.shape.join(','));
  if (shapes.some((s) => s !== p.shape.join(','))) {
    throw new Error(`adamwUpdate: gradient and moments must have the parameter's shape [${p.shape.join(', ')}], got ${shapes.map((s) => `[${s}]`).join(', ')}`);
  }
  if (!nativeKernelFor(ADAMW_KERNEL, p, g)) return adamwOps(p, g, m, v, hyper);
  const attrs = { ...hyper, inPlace: options.inPlace === true };
  const [pNew, mNew, vNew] = tf.engine().runKernel(ADAMW_KERNEL, { p, g, m, v }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
  return { p: pNew, m: mNew, v: vNew };
}

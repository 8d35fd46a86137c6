// BatchMatMul (every tf.matMul: self- and cross-attention, linear layers,
// the text encoder) on oneDNN's matmul, batch broadcasting as in TF.js.
import { tf } from '../../backend';
import type { NativeAddon } from '../addon';
import { f32, output, uninitialized, type KernelArgs, type NativeKernelFunc } from './cpu-data';

/** Below this many multiply-adds the JS kernel is as fast as the call. */
export const MIN_NATIVE_FLOPS = 4096;

export function matmulKernels(addon: NativeAddon, original: (name: string) => NativeKernelFunc): Record<string, NativeKernelFunc> {
  const batchMatMul: NativeKernelFunc = (args: KernelArgs) => {
    const { a, b } = args.inputs;
    const av = f32(args.backend, a);
    const bv = f32(args.backend, b);
    if (!av || !bv || a.shape.length < 2 || b.shape.length < 2) return original('BatchMatMul')(args);
    const ta = Boolean(args.attrs?.transposeA);
    const tb = Boolean(args.attrs?.transposeB);
    const ra = a.shape.length;
    const rb = b.shape.length;
    const m = ta ? a.shape[ra - 1] : a.shape[ra - 2];
    const k = ta ? a.shape[ra - 2] : a.shape[ra - 1];
    const kb = tb ? b.shape[rb - 1] : b.shape[rb - 2];
    const n = tb ? b.shape[rb - 2] : b.shape[rb - 1];
    const batchA = a.shape.slice(0, -2).reduce((x, y) => x * y, 1);
    const batchB = b.shape.slice(0, -2).reduce((x, y) => x * y, 1);
    const batch = Math.max(batchA, batchB);
    const fits = k === kb && (batchA === batchB || batchA === 1 || batchB === 1);
    if (!fits || m * n * k * batch < MIN_NATIVE_FLOPS || m * n * k === 0) return original('BatchMatMul')(args);
    const outer = tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const shape = [...outer, m, n];
    const y = uninitialized(batch * m * n);
    addon.batchMatMul(av, bv, y, batchA, batchB, m, k, n, ta, tb);
    return output(args.backend, shape, y);
  };
  return { BatchMatMul: batchMatMul };
}

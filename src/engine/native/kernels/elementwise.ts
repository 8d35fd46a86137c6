// Broadcasting binary ops, unary ops, sum/mean/max reductions and softmax on the
// addon (native/src/elementwise.cc, reduce.cc). Small tensors stay on the
// JS kernels: below MIN_NATIVE_SIZE the call overhead outweighs the work.
import { tf } from '../../backend';
import type { NativeAddon } from '../addon';
import { f32, output, uninitialized, type KernelArgs, type NativeKernelFunc } from './cpu-data';

export const MIN_NATIVE_SIZE = 1024;

/** Op codes of native/src/elementwise.cc */
const BINARY = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3, Maximum: 4, Minimum: 5, SquaredDifference: 6 } as const;
const UNARY = { Relu: 0, Square: 1, Neg: 2, Exp: 3, Log: 4, Sqrt: 5, Rsqrt: 6, Abs: 7, Step: 8, Sigmoid: 9, Tanh: 10, Reciprocal: 11, Floor: 12, Ceil: 13, Erf: 14 } as const;
const REDUCE = { Sum: 0, Mean: 1, Max: 2 } as const;

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

export function elementwiseKernels(addon: NativeAddon, original: (name: string) => NativeKernelFunc): Record<string, NativeKernelFunc> {
  const out: Record<string, NativeKernelFunc> = {};

  for (const [name, code] of Object.entries(BINARY)) {
    out[name] = (args: KernelArgs) => {
      const { a, b } = args.inputs;
      const av = f32(args.backend, a);
      const bv = f32(args.backend, b);
      if (!av || !bv) return original(name)(args);
      const shape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
      const n = size(shape);
      if (n < MIN_NATIVE_SIZE) return original(name)(args);
      const y = uninitialized(n);
      addon.binary(code, av, a.shape, bv, b.shape, y, shape);
      return output(args.backend, shape, y);
    };
  }

  // an addon built before Erf was added answers its code with an error: the JS kernel then serves it
  const hasErf = (() => {
    try {
      addon.unary(UNARY.Erf, new Float32Array(1), new Float32Array(1), 0);
      return true;
    } catch {
      return false;
    }
  })();
  for (const [name, code] of Object.entries(UNARY)) {
    if (name === 'Erf' && !hasErf) continue;
    out[name] = (args: KernelArgs) => {
      const { x } = args.inputs;
      const xv = f32(args.backend, x);
      if (!xv || xv.length < MIN_NATIVE_SIZE) return original(name)(args);
      const y = uninitialized(xv.length);
      addon.unary(code, xv, y, name === 'Step' ? Number(args.attrs?.alpha ?? 0) : 0);
      return output(args.backend, x.shape, y);
    };
  }

  for (const [name, code] of Object.entries(REDUCE)) {
    out[name] = (args: KernelArgs) => {
      const { x } = args.inputs;
      const xv = f32(args.backend, x);
      if (!xv || xv.length < MIN_NATIVE_SIZE) return original(name)(args);
      const axisAttr = (name === 'Max' ? args.attrs?.reductionIndices : args.attrs?.axis) as number | number[];
      const axes = tf.util.parseAxisParam(axisAttr, x.shape);
      const kept = x.shape.map((n, i) => (axes.includes(i) ? 1 : n));
      const y = uninitialized(size(kept));
      if (!addon.reduce(code, xv, x.shape, axes, y)) return original(name)(args);
      const shape = args.attrs?.keepDims ? kept : x.shape.filter((_, i) => !axes.includes(i));
      return output(args.backend, shape, y);
    };
  }
  out.Softmax = (args: KernelArgs) => {
    const { logits } = args.inputs;
    const xv = f32(args.backend, logits);
    const dim = Number(args.attrs?.dim ?? -1);
    const last = dim === -1 || dim === logits.shape.length - 1;
    if (!xv || xv.length < MIN_NATIVE_SIZE || !last || logits.shape.length === 0) return original('Softmax')(args);
    const y = uninitialized(xv.length);
    addon.softmax(xv, logits.shape[logits.shape.length - 1], y);
    return output(args.backend, logits.shape, y);
  };
  return out;
}

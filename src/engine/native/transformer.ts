// Layer norm, GELU and softmax as single native kernels with native
// gradients (native/src/transformer.cc, fused.cc). Op by op, a layer norm
// is about 9 kernels forward and 20 backward, a GELU 5 and 10, a softmax's
// gradient 4, each allocating a fresh array: in the text encoder at a real
// report length they took about as long as all its matrix products. The
// functions below take the native kernels where they are registered (cpu
// backend, addon built) and are exactly the op-by-op forms elsewhere, so
// values and gradients are the same up to float rounding either way.
import { tf } from '../backend';
import type { NativeAddon } from './addon';
import { MIN_NATIVE_SIZE } from './kernels/elementwise';
import { f32Inputs, nativeKernelFor, output, uninitialized, type NativeKernelFunc } from './kernels/cpu-data';

export const LAYER_NORM = 'MrclLayerNorm';
export const LAYER_NORM_GRAD = 'MrclLayerNormGrad';
export const GELU = 'MrclGelu';
export const GELU_GRAD = 'MrclGeluGrad';
export const SOFTMAX_LAST = 'MrclSoftmax';
export const SOFTMAX_GRAD = 'MrclSoftmaxGrad';

/** The addon functions these kernels need (an older build lacks them: the op-by-op forms run). */
export const TRANSFORMER_FUNCTIONS = ['layerNorm', 'layerNormGrad', 'gelu', 'geluGrad', 'softmax', 'softmaxGrad'] as const;

export function transformerKernels(addon: NativeAddon): Record<string, NativeKernelFunc> {
  const a = addon as Required<NativeAddon>;
  return {
    // outputs: y, mean [rows], rstd [rows]
    [LAYER_NORM]: (args) => {
      const [xv, gv, bv] = f32Inputs(args, ['x', 'gamma', 'beta'], LAYER_NORM);
      const x = args.inputs.x!;
      const rows = xv!.length / gv!.length;
      const y = uninitialized(xv!.length);
      const mean = uninitialized(rows);
      const rstd = uninitialized(rows);
      a.layerNorm(xv!, gv!, bv!, Number(args.attrs?.eps), y, mean, rstd);
      const lead = x.shape.slice(0, -1);
      return [output(args.backend, x.shape, y), output(args.backend, lead, mean), output(args.backend, lead, rstd)];
    },
    // outputs: dx, dgamma, dbeta
    [LAYER_NORM_GRAD]: (args) => {
      const [xv, dyv, mv, rv, gv] = f32Inputs(args, ['x', 'dy', 'mean', 'rstd', 'gamma'], LAYER_NORM_GRAD);
      const d = gv!.length;
      const dx = uninitialized(xv!.length);
      const dg = uninitialized(d);
      const db = uninitialized(d);
      a.layerNormGrad(xv!, dyv!, mv!, rv!, gv!, dx, dg, db);
      return [output(args.backend, args.inputs.x!.shape, dx), output(args.backend, [d], dg), output(args.backend, [d], db)];
    },
    [GELU]: (args) => {
      const [xv] = f32Inputs(args, ['x'], GELU);
      const y = uninitialized(xv!.length);
      a.gelu(xv!, y);
      return output(args.backend, args.inputs.x!.shape, y);
    },
    [GELU_GRAD]: (args) => {
      const [xv, dyv] = f32Inputs(args, ['x', 'dy'], GELU_GRAD);
      const dx = uninitialized(xv!.length);
      a.geluGrad(xv!, dyv!, dx);
      return output(args.backend, args.inputs.x!.shape, dx);
    },
    [SOFTMAX_LAST]: (args) => {
      const [xv] = f32Inputs(args, ['x'], SOFTMAX_LAST);
      const x = args.inputs.x!;
      const y = uninitialized(xv!.length);
      a.softmax(xv!, x.shape[x.shape.length - 1]!, y);
      return output(args.backend, x.shape, y);
    },
    [SOFTMAX_GRAD]: (args) => {
      const [yv, dyv] = f32Inputs(args, ['y', 'dy'], SOFTMAX_GRAD);
      const y = args.inputs.y!;
      const dx = uninitialized(yv!.length);
      a.softmaxGrad(yv!, dyv!, y.shape[y.shape.length - 1]!, dx);
      return output(args.backend, y.shape, dx);
    },
  };
}

let gradientsRegistered = false;

export function registerTransformerGradients(): void {
  if (gradientsRegistered) return;
  gradientsRegistered = true;
  tf.registerGradient({
    kernelName: LAYER_NORM,
    inputsToSave: ['x', 'gamma'],
    outputsToSave: [false, true, true],
    gradFunc: (dys, saved) => {
      const [x, gamma, mean, rstd] = saved as tf.Tensor[];
      // mean and rstd are saved for the gradient only: their own gradients are not taken
      const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
      // all three at once (each function below runs in a tidy of its own, which would dispose the others)
      const [dx, dg, db] = tf.engine().runKernel(LAYER_NORM_GRAD, { x: x!, dy, mean: mean!, rstd: rstd!, gamma: gamma! }) as tf.Tensor[];
      return { x: () => dx!, gamma: () => dg!, beta: () => db! };
    },
  });
  tf.registerGradient({
    kernelName: GELU,
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved as tf.Tensor[];
      return { x: () => tf.engine().runKernel(GELU_GRAD, { x: x!, dy: dy as tf.Tensor }) as tf.Tensor };
    },
  });
  tf.registerGradient({
    kernelName: SOFTMAX_LAST,
    outputsToSave: [true],
    gradFunc: (dy, saved) => {
      const [y] = saved as tf.Tensor[];
      return { x: () => tf.engine().runKernel(SOFTMAX_GRAD, { y: y!, dy: dy as tf.Tensor }) as tf.Tensor };
    },
  });
}

/**
 * torch.nn.LayerNorm over the last axis: (x − mean)/√(variance + ε)·γ + β
 * with the biased variance; γ and β of shape [D], D = x's last axis.
 */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  const d = x.shape[x.rank - 1];
  if (gamma.shape.join() !== String(d) || beta.shape.join() !== String(d)) {
    throw new Error(`layerNorm: weight and bias must have shape [${d}] (x's last axis), got [${gamma.shape.join(', ')}] and [${beta.shape.join(', ')}]`);
  }
  if (nativeKernelFor(LAYER_NORM, x, gamma, beta) && x.size > 0) {
    const [y, mean, rstd] = tf.engine().runKernel(LAYER_NORM, { x, gamma, beta }, { eps }) as tf.Tensor[];
    mean!.dispose();
    rstd!.dispose();
    return y!;
  }
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true);
    return x.sub(mean).mul(tf.rsqrt(variance.add(eps))).mul(gamma).add(beta);
  });
}

/** Exact (erf) GELU, as torch.nn.functional.gelu and HF "gelu": x/2·(1 + erf(x/√2)). */
export function gelu(x: tf.Tensor): tf.Tensor {
  if (nativeKernelFor(GELU, x) && x.size >= MIN_NATIVE_SIZE) return tf.engine().runKernel(GELU, { x }) as tf.Tensor;
  return tf.tidy(() => x.mul(0.5).mul(tf.erf(x.mul(Math.SQRT1_2)).add(1)));
}

/** Softmax over the last axis (tf.softmax(x, -1)), with a one-pass native gradient. */
export function softmaxLast(x: tf.Tensor): tf.Tensor {
  if (nativeKernelFor(SOFTMAX_LAST, x) && x.size >= MIN_NATIVE_SIZE && x.rank > 0) return tf.engine().runKernel(SOFTMAX_LAST, { x }) as tf.Tensor;
  return tf.softmax(x, -1);
}

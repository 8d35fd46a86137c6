// A 3D convolution with PyTorch's explicit symmetric padding as ONE kernel.
// The op-by-op form (tf.pad, then a 'valid' conv) copies every conv input
// into a padded array and, in the backward pass, slices the padding off the
// input gradient again: for a ResNet layer that costs about as much as the
// convolution itself. oneDNN pads on the fly.
//
// Without the native kernels this is exactly tf.pad + tf.conv3d 'valid'.
//
// Dilation (MedicalNet's dilated layer3/4): natively, oneDNN's dilated
// convolution and its two backward passes. TF.js's own Conv3D has no
// gradient for dilations > 1, so the pure-JS form is space-to-batch: pad,
// move the r³ phases of the padded input into the batch axis, run an
// undilated 'valid' conv, and interleave the phases back. It is built from
// differentiable ops only (pad, reshape, transpose, conv3d, slice), so its
// gradients come from TF.js unchanged.
import { tf } from '../backend';
import type { NativeAddon } from './addon';
import { f32, nativeKernelFor, output, uninitialized, type KernelArgs, type NativeKernelFunc } from './kernels/cpu-data';

export const PADDED_CONV3D = 'MrclConv3DPadded';
export const PADDED_CONV3D_BACKPROP_INPUT = 'MrclConv3DPaddedBackpropInput';
export const PADDED_CONV3D_BACKPROP_FILTER = 'MrclConv3DPaddedBackpropFilter';

type Shape5 = [number, number, number, number, number];

interface PaddedAttrs {
  stride: number;
  pad: number;
  /** absent in attrs recorded before dilation existed: 1 */
  dilation?: number;
}

/** Spatial output size along each axis, PyTorch's floor((n + 2p − r·(k − 1) − 1)/s) + 1. */
function outSize(n: number, k: number, s: number, p: number, r = 1): number {
  return Math.floor((n + 2 * p - r * (k - 1) - 1) / s) + 1;
}

function geometry(xShape: number[], wShape: number[], a: PaddedAttrs) {
  const r = a.dilation ?? 1;
  const spatial = [0, 1, 2].map((i) => ({ n: xShape[1 + i], k: r * (wShape[i] - 1) + 1 }));
  const out = spatial.map(({ n, k }) => outSize(n, k, a.stride, a.pad));
  return {
    yShape: [xShape[0], ...out, wShape[4]] as Shape5,
    strides: [a.stride, a.stride, a.stride],
    padFront: [a.pad, a.pad, a.pad],
    // what the last window leaves over (negative: trailing cells never read)
    padBack: spatial.map(({ n, k }, i) => (out[i] - 1) * a.stride + k - n - a.pad),
    dilations: [r, r, r],
  };
}

export function paddedConv3dKernels(addon: NativeAddon): Record<string, NativeKernelFunc> {
  const attrsOf = (args: KernelArgs) => args.attrs as unknown as PaddedAttrs;
  const need = (what: string, ...arrays: Array<Float32Array | null>) => {
    if (arrays.some((a) => !a)) throw new Error(`${what}: expects float32 inputs`);
    return arrays as Float32Array[];
  };
  return {
    [PADDED_CONV3D]: (args) => {
      const { x, filter } = args.inputs;
      const [xv, wv] = need(PADDED_CONV3D, f32(args.backend, x), f32(args.backend, filter));
      const g = geometry(x.shape, filter.shape, attrsOf(args));
      const y = uninitialized(g.yShape.reduce((a, b) => a * b, 1));
      addon.conv3dForward(xv, x.shape, wv, filter.shape, y, g.yShape, g.strides, g.padFront, g.padBack, g.dilations);
      return output(args.backend, g.yShape, y);
    },
    [PADDED_CONV3D_BACKPROP_INPUT]: (args) => {
      const { dy, filter } = args.inputs;
      const [dyv, wv] = need(PADDED_CONV3D_BACKPROP_INPUT, f32(args.backend, dy), f32(args.backend, filter));
      const xShape = (args.attrs as unknown as { inputShape: number[] }).inputShape;
      const g = geometry(xShape, filter.shape, attrsOf(args));
      const dx = uninitialized(xShape.reduce((a, b) => a * b, 1));
      addon.conv3dBackwardData(dx, xShape, wv, filter.shape, dyv, dy.shape, g.strides, g.padFront, g.padBack, g.dilations);
      return output(args.backend, xShape, dx);
    },
    [PADDED_CONV3D_BACKPROP_FILTER]: (args) => {
      const { x, dy } = args.inputs;
      const [xv, dyv] = need(PADDED_CONV3D_BACKPROP_FILTER, f32(args.backend, x), f32(args.backend, dy));
      const wShape = (args.attrs as unknown as { filterShape: number[] }).filterShape;
      const g = geometry(x.shape, wShape, attrsOf(args));
      const dw = uninitialized(wShape.reduce((a, b) => a * b, 1));
      addon.conv3dBackwardWeights(xv, x.shape, dw, wShape, dyv, dy.shape, g.strides, g.padFront, g.padBack, g.dilations);
      return output(args.backend, wShape, dw);
    },
  };
}

let gradientRegistered = false;

/** The gradient of the padded conv, in terms of its two backprop kernels (registered once). */
export function registerPaddedConv3dGradient(): void {
  if (gradientRegistered) return;
  gradientRegistered = true;
  tf.registerGradient({
    kernelName: PADDED_CONV3D,
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter] = saved;
      const a = attrs as unknown as PaddedAttrs;
      return {
        x: () => tf.engine().runKernel(PADDED_CONV3D_BACKPROP_INPUT, { dy: dy as tf.Tensor, filter }, { ...a, inputShape: x.shape }) as tf.Tensor,
        filter: () => tf.engine().runKernel(PADDED_CONV3D_BACKPROP_FILTER, { x, dy: dy as tf.Tensor }, { ...a, filterShape: filter.shape }) as tf.Tensor,
      };
    },
  });
}

/**
 * conv3d over NDHWC `x` with filter [d,h,w,in,out], stride `stride`, `pad`
 * cells of zero padding on both sides of each spatial axis and dilation
 * `dilation` (PyTorch's nn.Conv3d semantics). Native when the kernels are
 * registered; a dilated conv without them must have stride 1.
 */
export function conv3dPadded(x: tf.Tensor5D, filter: tf.Tensor5D, stride: number, pad: number, dilation = 1): tf.Tensor5D {
  if (!Number.isInteger(dilation) || dilation < 1) throw new Error(`conv3dPadded: dilation must be a positive integer, got ${dilation}`);
  if (nativeKernelFor(PADDED_CONV3D, x, filter)) {
    const attrs: Record<string, number> = dilation === 1 ? { stride, pad } : { stride, pad, dilation };
    return tf.engine().runKernel(PADDED_CONV3D, { x, filter }, attrs) as tf.Tensor5D;
  }
  if (dilation > 1) {
    if (stride !== 1) throw new Error(`conv3dPadded: a dilated conv (dilation ${dilation}) needs stride 1 without the native kernels, got stride ${stride}`);
    return dilatedConv3dSpaceToBatch(x, filter, pad, dilation);
  }
  return tf.tidy(() => {
    const padded = pad === 0 ? x : tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [pad, pad], [0, 0]]);
    return tf.conv3d(padded, filter, stride, 'valid');
  });
}

/**
 * Stride-1 conv3d with dilation r as an undilated one (space-to-batch).
 * Output cell i = a·r + b (phase b) reads the padded input at
 * i + r·t = (a + t)·r + b: an undilated conv over phase b of the padded
 * input. So: pad, split every axis into (A, r), move the r³ phases into
 * the batch, run a 'valid' conv, interleave the phases back and cut to
 * PyTorch's output size. Differentiable op by op.
 */
export function dilatedConv3dSpaceToBatch(x: tf.Tensor5D, filter: tf.Tensor5D, pad: number, r: number): tf.Tensor5D {
  const [n, , , , c] = x.shape;
  const cout = filter.shape[4];
  const spatial = [0, 1, 2].map((i) => {
    const size = x.shape[1 + i];
    const k = filter.shape[i];
    const out = outSize(size, k, 1, pad, r);
    if (out < 1) throw new Error(`conv3dPadded: input of shape [${x.shape.join(',')}] is too small for a ${k}-wide kernel with dilation ${r} and padding ${pad}`);
    // padded length rounded up to whole phases; each phase is A long
    const phase = Math.ceil((size + 2 * pad) / r);
    return { size, k, out, phase, extra: phase * r - (size + 2 * pad) };
  });
  return tf.tidy(() => {
    const [d, h, w] = spatial;
    const padded = tf.pad(x, [[0, 0], ...spatial.map(({ extra }) => [pad, pad + extra] as [number, number]), [0, 0]]);
    const phases = padded
      .reshape([n, d.phase, r, h.phase, r, w.phase, r, c])
      .transpose([2, 4, 6, 0, 1, 3, 5, 7])
      .reshape([r * r * r * n, d.phase, h.phase, w.phase, c]) as tf.Tensor5D;
    const y = tf.conv3d(phases, filter, 1, 'valid');
    const [, od, oh, ow] = y.shape;
    return y
      .reshape([r, r, r, n, od, oh, ow, cout])
      .transpose([3, 4, 0, 5, 1, 6, 2, 7])
      .reshape([n, od * r, oh * r, ow * r, cout])
      .slice([0, 0, 0, 0, 0], [n, d.out, h.out, w.out, cout]) as tf.Tensor5D;
  });
}

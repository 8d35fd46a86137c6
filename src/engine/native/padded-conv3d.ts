// A 3D convolution with PyTorch's explicit symmetric padding as ONE kernel.
// The op-by-op form (tf.pad, then a 'valid' conv) copies every conv input
// into a padded array and, in the backward pass, slices the padding off the
// input gradient again: for a ResNet layer that costs about as much as the
// convolution itself. oneDNN pads on the fly.
//
// Without the native kernels this is exactly tf.pad + tf.conv3d 'valid'.
import { tf } from '../backend';
import type { NativeAddon } from './addon';
import { f32, output, uninitialized, type KernelArgs, type NativeKernelFunc } from './kernels/cpu-data';

export const PADDED_CONV3D = 'MrclConv3DPadded';
export const PADDED_CONV3D_BACKPROP_INPUT = 'MrclConv3DPaddedBackpropInput';
export const PADDED_CONV3D_BACKPROP_FILTER = 'MrclConv3DPaddedBackpropFilter';

type Shape5 = [number, number, number, number, number];

interface PaddedAttrs {
  stride: number;
  pad: number;
}

/** Spatial output size along each axis, PyTorch's floor((n + 2p − k)/s) + 1. */
function outSize(n: number, k: number, s: number, p: number): number {
  return Math.floor((n + 2 * p - k) / s) + 1;
}

function geometry(xShape: number[], wShape: number[], a: PaddedAttrs) {
  const spatial = [0, 1, 2].map((i) => ({ n: xShape[1 + i], k: wShape[i] }));
  const out = spatial.map(({ n, k }) => outSize(n, k, a.stride, a.pad));
  return {
    yShape: [xShape[0], ...out, wShape[4]] as Shape5,
    strides: [a.stride, a.stride, a.stride],
    padFront: [a.pad, a.pad, a.pad],
    // what the last window leaves over (negative: trailing cells never read)
    padBack: spatial.map(({ n, k }, i) => (out[i] - 1) * a.stride + k - n - a.pad),
    dilations: [1, 1, 1],
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
 * conv3d over NDHWC `x` with filter [d,h,w,in,out], stride `stride` and `pad`
 * cells of zero padding on both sides of each spatial axis (PyTorch's
 * nn.Conv3d semantics). Native when the kernels are registered.
 */
export function conv3dPadded(x: tf.Tensor5D, filter: tf.Tensor5D, stride: number, pad: number): tf.Tensor5D {
  if (tf.getBackend() === 'cpu' && tf.getKernel(PADDED_CONV3D, 'cpu') && x.dtype === 'float32' && filter.dtype === 'float32') {
    return tf.engine().runKernel(PADDED_CONV3D, { x, filter }, { stride, pad }) as tf.Tensor5D;
  }
  return tf.tidy(() => {
    const padded = pad === 0 ? x : tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [pad, pad], [0, 0]]);
    return tf.conv3d(padded, filter, stride, 'valid');
  });
}

// Conv3D and its two gradients (Conv3DBackpropInputV2 for the input,
// Conv3DBackpropFilterV2 for the filter) on oneDNN. TF.js's own gradient
// of conv3d calls these two kernels, so tf.grad uses them unchanged.
//
// Padding comes from TF.js's computeConv3DInfo, so 'same' means what it
// means in TF.js, including its negative padding when kernel < stride.
import { tf } from '../../backend';
import type { NativeAddon } from '../addon';
import { f32, output, uninitialized, type KernelArgs, type NativeKernelFunc } from './cpu-data';

type Shape5 = [number, number, number, number, number];
type Pad = 'same' | 'valid' | number;

interface Geometry {
  info: tf.backend_util.Conv3DInfo;
  strides: number[];
  padFront: number[];
  padBack: number[];
  dilations: number[];
}

function geometry(xShape: Shape5, filterShape: Shape5, strides: unknown, dilations: unknown, pad: Pad): Geometry {
  const info = tf.backend_util.computeConv3DInfo(xShape, filterShape, strides as [number, number, number], dilations as [number, number, number], pad);
  const p = info.padInfo;
  return {
    info,
    strides: [info.strideDepth, info.strideHeight, info.strideWidth],
    padFront: [p.front, p.top, p.left],
    // back/bottom/right as TF.js reads them: whatever the output size leaves over
    padBack: [0, 1, 2].map((a) => {
      const n = [info.inDepth, info.inHeight, info.inWidth][a];
      const k = [info.effectiveFilterDepth, info.effectiveFilterHeight, info.effectiveFilterWidth][a];
      const out = [info.outDepth, info.outHeight, info.outWidth][a];
      const s = [info.strideDepth, info.strideHeight, info.strideWidth][a];
      const front = [p.front, p.top, p.left][a];
      return (out - 1) * s + k - n - front;
    }),
    dilations: [info.dilationDepth, info.dilationHeight, info.dilationWidth],
  };
}

function isNDHWC(attrs: Record<string, unknown> | undefined): boolean {
  const f = attrs?.dataFormat;
  return f === undefined || f === 'NDHWC';
}

export function conv3dKernels(addon: NativeAddon, original: (name: string) => NativeKernelFunc): Record<string, NativeKernelFunc> {
  const conv3d: NativeKernelFunc = (args: KernelArgs) => {
    const { x, filter } = args.inputs;
    const xv = f32(args.backend, x);
    const wv = f32(args.backend, filter);
    if (!xv || !wv || !isNDHWC(args.attrs)) return original('Conv3D')(args);
    const attrs = args.attrs ?? {};
    const g = geometry(x.shape as Shape5, filter.shape as Shape5, attrs.strides, attrs.dilations ?? 1, attrs.pad as Pad);
    const yShape = g.info.outShape;
    const y = uninitialized(yShape.reduce((a, b) => a * b, 1));
    addon.conv3dForward(xv, x.shape, wv, filter.shape, y, yShape, g.strides, g.padFront, g.padBack, g.dilations);
    return output(args.backend, yShape, y);
  };

  const backpropInput: NativeKernelFunc = (args: KernelArgs) => {
    const { dy, filter } = args.inputs;
    const dyv = f32(args.backend, dy);
    const wv = f32(args.backend, filter);
    if (!dyv || !wv) return original('Conv3DBackpropInputV2')(args);
    const attrs = args.attrs ?? {};
    const inputShape = attrs.inputShape as Shape5;
    const g = geometry(inputShape, filter.shape as Shape5, attrs.strides, 1, attrs.pad as Pad);
    const dx = uninitialized(inputShape.reduce((a, b) => a * b, 1));
    addon.conv3dBackwardData(dx, inputShape, wv, filter.shape, dyv, dy.shape, g.strides, g.padFront, g.padBack, g.dilations);
    return output(args.backend, inputShape, dx);
  };

  const backpropFilter: NativeKernelFunc = (args: KernelArgs) => {
    const { x, dy } = args.inputs;
    const xv = f32(args.backend, x);
    const dyv = f32(args.backend, dy);
    if (!xv || !dyv) return original('Conv3DBackpropFilterV2')(args);
    const attrs = args.attrs ?? {};
    const filterShape = attrs.filterShape as Shape5;
    const g = geometry(x.shape as Shape5, filterShape, attrs.strides, 1, attrs.pad as Pad);
    const dw = uninitialized(filterShape.reduce((a, b) => a * b, 1));
    addon.conv3dBackwardWeights(xv, x.shape, dw, filterShape, dyv, dy.shape, g.strides, g.padFront, g.padBack, g.dilations);
    return output(args.backend, filterShape, dw);
  };

  return { Conv3D: conv3d, Conv3DBackpropInputV2: backpropInput, Conv3DBackpropFilterV2: backpropFilter };
}

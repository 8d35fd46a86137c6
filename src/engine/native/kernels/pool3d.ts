// MaxPool3D, AvgPool3D and their gradients (native/src/pool3d.cc), with the
// geometry from TF.js's computePool3DInfo so 'same', 'valid' and rounding
// modes mean what they mean in TF.js.
import { tf } from '../../backend';
import type { NativeAddon } from '../addon';
import { f32, output, uninitialized, type KernelArgs, type NativeKernelFunc } from './cpu-data';

type Shape5 = [number, number, number, number, number];

function poolInfo(xShape: Shape5, attrs: Record<string, unknown> | undefined) {
  const info = tf.backend_util.computePool3DInfo(
    xShape,
    attrs?.filterSize as [number, number, number],
    attrs?.strides as [number, number, number],
    1,
    attrs?.pad as 'same' | 'valid' | number,
    attrs?.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
  );
  return {
    info,
    filter: [info.filterDepth, info.filterHeight, info.filterWidth],
    strides: [info.strideDepth, info.strideHeight, info.strideWidth],
    padFront: [info.padInfo.front, info.padInfo.top, info.padInfo.left],
    dilations: [info.dilationDepth, info.dilationHeight, info.dilationWidth],
  };
}

const isNDHWC = (attrs: Record<string, unknown> | undefined) => attrs?.dataFormat === undefined || attrs.dataFormat === 'NDHWC';

export function pool3dKernels(addon: NativeAddon, original: (name: string) => NativeKernelFunc): Record<string, NativeKernelFunc> {
  const forward = (name: string, isMax: boolean): NativeKernelFunc => (args: KernelArgs) => {
    const { x } = args.inputs;
    const xv = f32(args.backend, x);
    if (!xv || x.shape.length !== 5 || !isNDHWC(args.attrs)) return original(name)(args);
    const g = poolInfo(x.shape as Shape5, args.attrs);
    const yShape = g.info.outShape;
    const y = uninitialized(yShape.reduce((a, b) => a * b, 1));
    addon.pool3d(xv, x.shape, y, yShape, g.filter, g.strides, g.padFront, g.dilations, isMax);
    return output(args.backend, yShape, y);
  };

  const backward = (name: string, isMax: boolean): NativeKernelFunc => (args: KernelArgs) => {
    const { dy, input } = args.inputs;
    const dyv = f32(args.backend, dy);
    const xv = isMax ? f32(args.backend, input) : new Float32Array(0);
    if (!dyv || !xv || input.shape.length !== 5) return original(name)(args);
    const g = poolInfo(input.shape as Shape5, args.attrs);
    const dx = uninitialized(input.shape.reduce((a, b) => a * b, 1));
    addon.pool3dGrad(dyv, dy.shape, xv, input.shape, dx, g.filter, g.strides, g.padFront, g.dilations, isMax);
    return output(args.backend, input.shape, dx);
  };

  return {
    MaxPool3D: forward('MaxPool3D', true),
    AvgPool3D: forward('AvgPool3D', false),
    MaxPool3DGrad: backward('MaxPool3DGrad', true),
    AvgPool3DGrad: backward('AvgPool3DGrad', false),
  };
}

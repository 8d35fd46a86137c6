// PadV2 and Slice as block copies (see native/src/layout.cc). Slice is also
// the gradient of PadV2, so an explicitly padded conv's backward pass uses it.
import { tf } from '../../backend';
import type { NativeAddon } from '../addon';
import { f32, output, uninitialized, type KernelArgs, type NativeKernelFunc } from './cpu-data';

export function layoutKernels(addon: NativeAddon, original: (name: string) => NativeKernelFunc): Record<string, NativeKernelFunc> {
  const pad: NativeKernelFunc = (args: KernelArgs) => {
    const { x } = args.inputs;
    const xv = f32(args.backend, x);
    if (!xv || x.shape.length === 0) return original('PadV2')(args);
    const paddings = args.attrs?.paddings as Array<[number, number]>;
    const value = Number(args.attrs?.constantValue ?? 0);
    const yShape = x.shape.map((n, i) => paddings[i][0] + n + paddings[i][1]);
    const y = uninitialized(yShape.reduce((a, b) => a * b, 1));
    addon.pad(xv, x.shape, y, yShape, paddings.map((p) => p[0]), value);
    return output(args.backend, yShape, y);
  };

  const slice: NativeKernelFunc = (args: KernelArgs) => {
    const { x } = args.inputs;
    const xv = f32(args.backend, x);
    if (!xv || x.shape.length === 0) return original('Slice')(args);
    const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, args.attrs?.begin as number[], args.attrs?.size as number[]);
    const y = uninitialized(size.reduce((a, b) => a * b, 1));
    addon.slice(xv, x.shape, y, size, begin);
    return output(args.backend, size, y);
  };

  return { PadV2: pad, Slice: slice };
}

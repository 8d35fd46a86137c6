// PadV2, Slice and SplitV as block copies (see native/src/layout.cc). Slice
// is also the gradient of PadV2, so an explicitly padded conv's backward pass
// uses it; SplitV is the gradient of Concat. GatherV2 (batchDims 0) as row copies.
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

  // the gradient of Concat: one block copy per part (TF.js's own SplitV
  // copies element by element whenever the axis is not the first)
  const splitV: NativeKernelFunc = (args: KernelArgs) => {
    const { x } = args.inputs;
    const xv = f32(args.backend, x);
    if (!xv || x.shape.length === 0) return original('SplitV')(args);
    const axis = tf.util.parseAxisParam(args.attrs?.axis as number, x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, args.attrs?.numOrSizeSplits as number | number[], axis);
    const begin = x.shape.map(() => 0);
    return sizes.map((n) => {
      const size = x.shape.map((d, i) => (i === axis ? n : d));
      const y = uninitialized(size.reduce((a, b) => a * b, 1));
      if (y.length > 0) addon.slice(xv, x.shape, y, size, begin);
      begin[axis] += n;
      return output(args.backend, size, y);
    });
  };

  // rows of a float32 tensor by int32 indices (batchDims 0): one block copy per
  // index (TF.js's own GatherV2 converts every element's index to a location)
  const gather: NativeKernelFunc = (args: KernelArgs) => {
    const { x, indices } = args.inputs;
    const xv = f32(args.backend, x);
    const ids = (args.backend as { data: { get(id: object): { values?: unknown } } }).data.get(indices.dataId).values;
    if (!xv || !(ids instanceof Int32Array) || indices.dtype !== 'int32' || Number(args.attrs?.batchDims ?? 0) !== 0 || x.shape.length === 0) return original('GatherV2')(args);
    const axis = tf.util.parseAxisParam(args.attrs?.axis as number, x.shape)[0]!;
    const n = x.shape[axis]!;
    for (let i = 0; i < ids.length; i++) if (!(ids[i]! >= 0 && ids[i]! < n)) return original('GatherV2')(args); // its error names the bad index
    const outer = x.shape.slice(0, axis).reduce((a, b) => a * b, 1);
    const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    const shape = [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)];
    const y = uninitialized(outer * ids.length * inner);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < ids.length; i++) {
        const from = (o * n + ids[i]!) * inner;
        y.set(xv.subarray(from, from + inner), (o * ids.length + i) * inner);
      }
    }
    return output(args.backend, shape, y);
  };

  return { PadV2: pad, Slice: slice, SplitV: splitV, GatherV2: gather };
}

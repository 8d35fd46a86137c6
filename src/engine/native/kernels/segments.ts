// Transpose and UnsortedSegmentSum (the gradient of gather, i.e. of every
// embedding lookup). TF.js's cpu UnsortedSegmentSum loops over all segments
// with a full masked sum each — O(vocabulary × tokens × hidden) — and its
// Transpose computes an index per element.
import type { tf } from '../../backend';
import type { NativeAddon } from '../addon';
import { f32, output, uninitialized, type KernelArgs, type NativeKernelFunc } from './cpu-data';
import { MIN_NATIVE_SIZE } from './elementwise';

function int32(backend: unknown, t: tf.TensorInfo): Int32Array | null {
  if (t.dtype !== 'int32') return null;
  const v = (backend as { data: { get(id: object): { values?: unknown } } }).data.get(t.dataId).values;
  return v instanceof Int32Array ? v : null;
}

export function segmentKernels(addon: NativeAddon, original: (name: string) => NativeKernelFunc): Record<string, NativeKernelFunc> {
  const transpose: NativeKernelFunc = (args: KernelArgs) => {
    const { x } = args.inputs;
    const xv = f32(args.backend, x);
    if (!xv || xv.length < MIN_NATIVE_SIZE) return original('Transpose')(args);
    const perm = args.attrs?.perm as number[];
    const y = uninitialized(xv.length);
    addon.transpose(xv, x.shape, perm, y);
    return output(args.backend, perm.map((p) => x.shape[p]), y);
  };

  const segmentSum: NativeKernelFunc = (args: KernelArgs) => {
    const { x, segmentIds } = args.inputs;
    const xv = f32(args.backend, x);
    const ids = int32(args.backend, segmentIds);
    const k = segmentIds.shape.length;
    const prefixMatches = segmentIds.shape.every((n, i) => n === x.shape[i]);
    if (!xv || !ids || !prefixMatches) return original('UnsortedSegmentSum')(args);
    const numSegments = Number(args.attrs?.numSegments);
    const innerShape = x.shape.slice(k);
    const inner = innerShape.reduce((a, b) => a * b, 1);
    const y = uninitialized(numSegments * inner);
    addon.unsortedSegmentSum(xv, ids.length, inner, ids, numSegments, y);
    return output(args.backend, [numSegments, ...innerShape], y);
  };

  return { Transpose: transpose, UnsortedSegmentSum: segmentSum };
}

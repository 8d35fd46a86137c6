// Zero-copy access to the TF.js cpu backend's storage: kernels read the
// backend's own Float32Arrays and hand back freshly allocated ones.
import { tf } from '../../backend';
import { takeOutput } from './output-pool';

/** The part of MathBackendCPU the native kernels use. */
export interface CpuBackendLike {
  data: { get(dataId: object): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo;
}

export interface KernelArgs {
  inputs: Record<string, tf.TensorInfo>;
  backend: unknown;
  attrs?: Record<string, unknown>;
}

export type NativeKernelFunc = (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[];

/**
 * The backend's Float32Array for `t`, or null when it is not float32 data
 * (then the JS kernel runs). A float32 tensor cast from bool or int32 keeps
 * the source's Uint8Array/Int32Array (TF.js's cpu Cast reuses it when no
 * precision is lost): its values are converted once, exactly, and stored back
 * in the tensor's own record, so masks go through the native kernels too.
 */
export function f32(backend: unknown, t: tf.TensorInfo | undefined): Float32Array | null {
  if (!t || t.dtype !== 'float32') return null;
  const record = (backend as CpuBackendLike).data.get(t.dataId);
  const values = record.values;
  if (values instanceof Float32Array) return values;
  if (values instanceof Uint8Array || values instanceof Int32Array) {
    const converted = Float32Array.from(values);
    record.values = converted;
    return converted;
  }
  return null;
}

/**
 * An output array whose contents the kernel fully overwrites: a recycled one
 * of a disposed tensor where the output pool has one of this size
 * (output-pool.ts), else a new one without the zero fill `new
 * Float32Array(n)` pays for.
 */
export function uninitialized(n: number): Float32Array {
  return takeOutput(n);
}

/** The float32 arrays of the inputs `names` of a kernel call; throws naming the kernel and the input otherwise. */
export function f32Inputs(args: KernelArgs, names: readonly string[], kernel: string): Float32Array[] {
  return names.map((n) => {
    const v = f32(args.backend, args.inputs[n]);
    if (!v) throw new Error(`${kernel}: expects float32 input ${n}`);
    return v;
  });
}

/**
 * Whether `kernel` (one of the addon's own, registered with the native
 * kernels) runs for these tensors: the cpu backend is active, the kernel is
 * registered, and every tensor is float32. Otherwise callers take their
 * op-by-op form.
 */
export function nativeKernelFor(kernel: string, ...tensors: tf.Tensor[]): boolean {
  return tf.getBackend() === 'cpu' && tf.getKernel(kernel, 'cpu') !== undefined && tensors.every((t) => t.dtype === 'float32');
}

export function output(backend: unknown, shape: number[], values: Float32Array): tf.TensorInfo {
  return (backend as CpuBackendLike).makeTensorInfo(shape, 'float32', values);
}

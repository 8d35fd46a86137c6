// y = x·scale + shift (+ ReLU) over the channel axis (last) as one kernel:
// the frozen batch norms of conv1–layer2 run on the largest tensors of the
// encoder, and the op-by-op form makes two or three passes over them.
// Without the native kernels it is exactly those ops.
import { tf } from '../backend';
import type { NativeAddon } from './addon';
import { f32Inputs, nativeKernelFor, output, uninitialized, type KernelArgs, type NativeKernelFunc } from './kernels/cpu-data';

export const SCALE_SHIFT = 'MrclScaleShift';

export function scaleShiftKernel(addon: NativeAddon): NativeKernelFunc {
  return (args: KernelArgs) => {
    const x = args.inputs.x!;
    const [xv, sv, bv] = f32Inputs(args, ['x', 'scale', 'shift'], SCALE_SHIFT) as [Float32Array, Float32Array, Float32Array];
    const y = uninitialized(xv.length);
    addon.scaleShift(xv, sv, bv, y, Boolean(args.attrs?.relu));
    return output(args.backend, x.shape, y);
  };
}

let gradientRegistered = false;

export function registerScaleShiftGradient(): void {
  if (gradientRegistered) return;
  gradientRegistered = true;
  tf.registerGradient({
    kernelName: SCALE_SHIFT,
    inputsToSave: ['x', 'scale'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, scale, y] = saved;
      const g = () => ((attrs as { relu?: boolean }).relu ? tf.mul(dy as tf.Tensor, tf.step(y)) : (dy as tf.Tensor));
      const axes = [...Array(x.rank - 1).keys()];
      return {
        x: () => tf.mul(g(), scale),
        scale: () => tf.sum(tf.mul(g(), x), axes),
        shift: () => tf.sum(g(), axes),
      };
    },
  });
}

/** x·scale + shift with scale and shift of shape [C] (C = x's last axis), then ReLU if asked. */
export function scaleShift(x: tf.Tensor, scale: tf.Tensor, shift: tf.Tensor, relu = false): tf.Tensor {
  const c = x.shape[x.rank - 1];
  if (scale.shape.join() !== String(c) || shift.shape.join() !== String(c)) {
    throw new Error(`scaleShift: scale and shift must have shape [${c}] (x's last axis), got [${scale.shape.join(', ')}] and [${shift.shape.join(', ')}]`);
  }
  if (nativeKernelFor(SCALE_SHIFT, x, scale, shift)) return tf.engine().runKernel(SCALE_SHIFT, { x, scale, shift }, { relu }) as tf.Tensor;
  return tf.tidy(() => {
    const y = x.mul(scale).add(shift);
    return relu ? tf.relu(y) : y;
  });
}

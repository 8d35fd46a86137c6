// Batch norm with the batch's statistics (training mode) as one kernel and
// its gradient as another: the op-by-op form (mean, x − mean, square, mean,
// rsqrt, mul, add, and the gradients of each) makes about seven passes over
// the encoder's largest tensors forward and as many backward; the native
// kernels make three forward and two backward, summing in double. Without
// the native kernels the caller keeps the op-by-op form (batchnorm3d.ts).
import { tf } from '../backend';
import type { NativeAddon } from './addon';
import { f32Inputs, nativeKernelFor, output, uninitialized, type KernelArgs, type NativeKernelFunc } from './kernels/cpu-data';

export const BATCH_NORM_TRAIN = 'MrclBatchNormTrain';
export const BATCH_NORM_TRAIN_GRAD = 'MrclBatchNormTrainGrad';

interface Attrs {
  eps: number;
  relu: boolean;
}

export function batchNormTrainKernels(addon: NativeAddon): Record<string, NativeKernelFunc> {
  return {
    // outputs: y, mean, biased variance
    [BATCH_NORM_TRAIN]: (args: KernelArgs) => {
      const x = args.inputs.x!;
      const [xv, gv, bv] = f32Inputs(args, ['x', 'weight', 'bias'], BATCH_NORM_TRAIN) as [Float32Array, Float32Array, Float32Array];
      const { eps, relu } = args.attrs as unknown as Attrs;
      const c = gv.length;
      const y = uninitialized(xv.length);
      const mean = uninitialized(c);
      const variance = uninitialized(c);
      addon.batchNormTrain(xv, gv, bv, eps, y, mean, variance, relu);
      return [output(args.backend, x.shape, y), output(args.backend, [c], mean), output(args.backend, [c], variance)];
    },
    // outputs: dx, dweight, dbias
    [BATCH_NORM_TRAIN_GRAD]: (args: KernelArgs) => {
      const x = args.inputs.x!;
      const [xv, dyv, yv, mv, vv, gv] = f32Inputs(args, ['x', 'dy', 'y', 'mean', 'variance', 'weight'], BATCH_NORM_TRAIN_GRAD);
      const { eps, relu } = args.attrs as unknown as Attrs;
      const c = gv!.length;
      const dx = uninitialized(xv!.length);
      const dw = uninitialized(c);
      const db = uninitialized(c);
      addon.batchNormTrainGrad(xv!, dyv!, yv!, mv!, vv!, gv!, eps, relu, dx, dw, db);
      return [output(args.backend, x.shape, dx), output(args.backend, [c], dw), output(args.backend, [c], db)];
    },
  };
}

let gradientRegistered = false;

export function registerBatchNormTrainGradient(): void {
  if (gradientRegistered) return;
  gradientRegistered = true;
  tf.registerGradient({
    kernelName: BATCH_NORM_TRAIN,
    inputsToSave: ['x', 'weight'],
    outputsToSave: [true, true, true],
    gradFunc: (dys, saved, attrs) => {
      const [x, weight, y, mean, variance] = saved as tf.Tensor[];
      // the mean and variance outputs feed only the running statistics: their gradients are not taken
      const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
      // all three at once, here: each function below runs in a tidy of its
      // own, which would dispose the other two; those not asked for are
      // disposed with the backward pass's scope
      const [dx, dw, db] = tf.engine().runKernel(BATCH_NORM_TRAIN_GRAD, { x: x!, dy, y: y!, mean: mean!, variance: variance!, weight: weight! }, attrs as never) as tf.Tensor[];
      return { x: () => dx!, weight: () => dw!, bias: () => db! };
    },
  });
}

/** Whether batchNormTrain runs natively for these tensors. */
export function nativeBatchNormTrain(...ts: tf.Tensor[]): boolean {
  return nativeKernelFor(BATCH_NORM_TRAIN, ...ts);
}

/**
 * [y, mean, variance] of batch norm over the last axis with the batch's
 * statistics (variance biased), y followed by ReLU if asked. Native kernels
 * only (nativeBatchNormTrain says whether they are there).
 */
export function batchNormTrain(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, eps: number, relu = false): [tf.Tensor, tf.Tensor, tf.Tensor] {
  return tf.engine().runKernel(BATCH_NORM_TRAIN, { x, weight, bias }, { eps, relu }) as [tf.Tensor, tf.Tensor, tf.Tensor];
}

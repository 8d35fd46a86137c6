// Batch norm with the batch's statistics (training mode) as one kernel and
// its gradient as another: the op-by-op form (mean, x − mean, square, mean,
// rsqrt, mul, add, and the gradients of each) makes about seven passes over
// the encoder's largest tensors forward and as many backward; the native
// kernels make three forward and two backward, summing in double. At a
// residual block's end the shortcut's addition and the ReLU after it are in
// the same kernel (`residual`), and the shortcut's gradient comes out of the
// gradient kernel: the add, the ReLU and their gradients are no passes of
// their own. Without the native kernels the caller keeps the op-by-op form
// (batchnorm3d.ts).
import { tf } from '../backend';
import type { NativeAddon } from './addon';
import { f32Inputs, nativeKernelFor, output, uninitialized, type KernelArgs, type NativeKernelFunc } from './kernels/cpu-data';

export const BATCH_NORM_TRAIN = 'MrclBatchNormTrain';
export const BATCH_NORM_TRAIN_GRAD = 'MrclBatchNormTrainGrad';

interface Attrs {
  eps: number;
  relu: boolean;
  /** the kernel's inputs include `residual`, added before the ReLU */
  residual?: boolean;
}

/** Whether the registered addon adds a residual in its batch norm kernel (set when the kernels are made). */
let residualSupported = false;

export function batchNormTrainKernels(addon: NativeAddon): Record<string, NativeKernelFunc> {
  residualSupported = addon.batchNormTrainResidual === true;
  return {
    // outputs: y, mean, biased variance
    [BATCH_NORM_TRAIN]: (args: KernelArgs) => {
      const x = args.inputs.x!;
      const [xv, gv, bv] = f32Inputs(args, ['x', 'weight', 'bias'], BATCH_NORM_TRAIN) as [Float32Array, Float32Array, Float32Array];
      const { eps, relu, residual } = args.attrs as unknown as Attrs;
      if (residual && !residualSupported) throw new Error(`${BATCH_NORM_TRAIN}: the native addon predates the residual input; rebuild it (npm run build:native)`);
      const rv = residual ? (f32Inputs(args, ['residual'], BATCH_NORM_TRAIN)[0] as Float32Array) : undefined;
      const c = gv.length;
      const y = uninitialized(xv.length);
      const mean = uninitialized(c);
      const variance = uninitialized(c);
      addon.batchNormTrain(xv, gv, bv, eps, y, mean, variance, relu, rv);
      return [output(args.backend, x.shape, y), output(args.backend, [c], mean), output(args.backend, [c], variance)];
    },
    // outputs: dx, dweight, dbias (and dresidual with attrs.residual)
    [BATCH_NORM_TRAIN_GRAD]: (args: KernelArgs) => {
      const x = args.inputs.x!;
      const [xv, dyv, yv, mv, vv, gv] = f32Inputs(args, ['x', 'dy', 'y', 'mean', 'variance', 'weight'], BATCH_NORM_TRAIN_GRAD);
      const { eps, relu, residual } = args.attrs as unknown as Attrs;
      const c = gv!.length;
      const dx = uninitialized(xv!.length);
      const dw = uninitialized(c);
      const db = uninitialized(c);
      const dr = residual ? uninitialized(xv!.length) : undefined;
      addon.batchNormTrainGrad(xv!, dyv!, yv!, mv!, vv!, gv!, eps, relu, dx, dw, db, dr);
      const out = [output(args.backend, x.shape, dx), output(args.backend, [c], dw), output(args.backend, [c], db)];
      return dr ? [...out, output(args.backend, x.shape, dr)] : out;
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
      const [dx, dw, db, dr] = tf.engine().runKernel(BATCH_NORM_TRAIN_GRAD, { x: x!, dy, y: y!, mean: mean!, variance: variance!, weight: weight! }, attrs as never) as tf.Tensor[];
      return { x: () => dx!, weight: () => dw!, bias: () => db!, ...(dr ? { residual: () => dr } : {}) };
    },
  });
}

/** Whether batchNormTrain runs natively for these tensors. */
export function nativeBatchNormTrain(...ts: tf.Tensor[]): boolean {
  return nativeKernelFor(BATCH_NORM_TRAIN, ...ts);
}

/** Whether batchNormTrain runs natively for these tensors with a residual (an addon built before it had none: the caller adds it op by op). */
export function nativeBatchNormTrainResidual(...ts: tf.Tensor[]): boolean {
  return residualSupported && nativeBatchNormTrain(...ts);
}

/**
 * [y, mean, variance] of batch norm over the last axis with the batch's
 * statistics (variance biased), y plus `residual` (x's shape) when given,
 * then ReLU if asked. Native kernels only (nativeBatchNormTrain says whether
 * they are there).
 */
export function batchNormTrain(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, eps: number, relu = false, residual?: tf.Tensor): [tf.Tensor, tf.Tensor, tf.Tensor] {
  if (residual && (residual.dtype !== 'float32' || residual.shape.length !== x.shape.length || residual.shape.some((d, i) => d !== x.shape[i]))) {
    throw new Error(`batchNormTrain: the residual's shape [${residual.shape.join(',')}] is not x's [${x.shape.join(',')}]`);
  }
  return (
    residual
      ? tf.engine().runKernel(BATCH_NORM_TRAIN, { x, weight, bias, residual }, { eps, relu, residual: true })
      : tf.engine().runKernel(BATCH_NORM_TRAIN, { x, weight, bias }, { eps, relu })
  ) as [tf.Tensor, tf.Tensor, tf.Tensor];
}

// torch.nn.MaxPool3d(kernel, stride, padding): padded cells count as −∞, so
// they never win a window; floor output size (ceil_mode=False).
import { tf } from '../../backend';
import { convOutputSize, padSpatial3d } from './pad3d';

export interface MaxPool3dOptions {
  kernel: number;
  stride?: number;
  padding?: number;
}

export function maxPool3d(x: tf.Tensor5D, options: MaxPool3dOptions): tf.Tensor5D {
  const { kernel } = options;
  const stride = options.stride ?? kernel;
  const padding = options.padding ?? 0;
  if (2 * padding > kernel) throw new Error(`maxPool3d: padding ${padding} must be at most half the kernel ${kernel} (as PyTorch)`);
  for (const n of x.shape.slice(1, 4)) {
    if (convOutputSize(n, kernel, stride, padding) < 1) {
      throw new Error(`maxPool3d: input of shape [${x.shape.join(',')}] is too small for kernel ${kernel} with padding ${padding}`);
    }
  }
  // On the cpu backend (its JS kernel and the native one) the pool pads itself, skipping padded
  // cells as PyTorch does, with floor rounding: no padded copy of the stem's output, the largest
  // activation of the encoder. Elsewhere (tfjs-node's pools take 'same'/'valid' only) a −∞ pad first.
  if (padding > 0 && tf.getBackend() === 'cpu') return tf.maxPool3d(x, kernel, stride, padding, 'floor');
  return tf.tidy(() => tf.maxPool3d(padSpatial3d(x, padding, -Infinity), kernel, stride, 'valid'));
}

// MedicalNet's downsample_basic_block (shortcut type A): subsample with a
// 1×1×1 stride-s average pool (= take every s-th voxel), then append zero
// channels. Parameter-free. With stride 1 (the first block of a dilated
// layer3/4 that widens the channels) only the zero channels are appended.
//
// PyTorch builds it from `out.data`, which detaches it: no gradient flows
// back through this shortcut. `gradient: false` (the default) reproduces
// that, so gradients match MedicalNet and the authors' code.
import { tf } from '../../backend';

/** Identity forward, zero gradient (torch's `.data` / `.detach()`). */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  const f = tf.customGrad((...inputs) => ({
    value: (inputs[0] as tf.Tensor).clone(),
    gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
  }));
  return f(x) as T;
}

export interface ShortcutAOptions {
  /** let gradients through the shortcut (PyTorch detaches it) */
  gradient?: boolean;
}

export function shortcutA(x: tf.Tensor5D, planes: number, stride: number, options: ShortcutAOptions = {}): tf.Tensor5D {
  const channels = x.shape[4];
  if (planes < channels) throw new Error(`shortcutA: cannot map ${channels} channels to fewer (${planes})`);
  return tf.tidy(() => {
    const sub = stride === 1 ? x : tf.avgPool3d(x, 1, stride, 'valid');
    const padded =
      planes === channels
        ? sub
        : tf.pad(sub, [
            [0, 0],
            [0, 0],
            [0, 0],
            [0, 0],
            [0, planes - channels],
          ]);
    return options.gradient ? padded : stopGradient(padded);
  });
}

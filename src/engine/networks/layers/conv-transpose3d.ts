// torch.nn.ConvTranspose3d(in, out, kernel_size=2, stride=2) over NDHWC
// tensors: the 2× up-sampling of MedicalNet's segmentation head. With kernel
// = stride the output blocks do not overlap, so it is one matrix product per
// input voxel followed by a depth-to-space shuffle:
//   y[n, 2d+a, 2h+b, 2w+c, o] = Σᵢ x[n, d, h, w, i] · W[i, o, a, b, c] + bias[o].
// The weight is stored [in, a, b, c, out]; PyTorch's layout is
// [in, out, a, b, c] (torchPerm [0, 4, 1, 2, 3]).
import { tf } from '../../backend';
import { hashSeed } from '../../util/rng';
import { Module } from '../module';
import { checkNDHWC } from './pad3d';

export const CONV_TRANSPOSE3D_TORCH_PERM = [0, 4, 1, 2, 3];

export interface ConvTranspose3dOptions {
  /** 'torch': nn.ConvTranspose3d's default U(±1/√fan_in), fan_in = out·2³ (PyTorch's convention for transposed weights); 'zeros' */
  init?: 'torch' | 'zeros';
  seed?: number;
  name?: string;
}

export class ConvTranspose3d2x extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    options: ConvTranspose3dOptions = {},
  ) {
    super();
    for (const [what, n] of [['inChannels', inChannels], ['outChannels', outChannels]] as const) {
      if (!Number.isInteger(n) || n < 1) throw new Error(`ConvTranspose3d: ${what} must be a positive integer, got ${n}`);
    }
    const name = options.name ?? 'convT';
    const seed = (label: string) => hashSeed(options.seed ?? 0, `${name}.${label}`) % 2147483647;
    const bound = 1 / Math.sqrt(outChannels * 8);
    const shape: [number, number, number, number, number] = [inChannels, 2, 2, 2, outChannels];
    const zeros = options.init === 'zeros';
    this.weight = this.param('weight', zeros ? tf.zeros(shape) : tf.randomUniform(shape, -bound, bound, 'float32', seed('weight')), CONV_TRANSPOSE3D_TORCH_PERM);
    this.bias = this.param('bias', zeros ? tf.zeros([outChannels]) : tf.randomUniform([outChannels], -bound, bound, 'float32', seed('bias')));
  }

  apply(x: tf.Tensor): tf.Tensor5D {
    checkNDHWC(x, this.inChannels, 'ConvTranspose3d');
    const [n, d, h, w] = x.shape;
    const o = this.outChannels;
    return tf.tidy(() => {
      const y = tf.matMul(x.reshape([-1, this.inChannels]), this.weight.reshape([this.inChannels, 8 * o]));
      // [n, d, h, w, a, b, c, o] → [n, d, a, h, b, w, c, o]
      const blocks = y.reshape([n!, d!, h!, w!, 2, 2, 2, o]).transpose([0, 1, 4, 2, 5, 3, 6, 7]);
      return blocks.reshape([n!, 2 * d!, 2 * h!, 2 * w!, o]).add(this.bias) as tf.Tensor5D;
    });
  }
}

// torch.nn.Conv3d over NDHWC tensors. The kernel is stored in TF layout
// [d, h, w, in, out]; its PyTorch name and layout ([out, in, d, h, w]) are
// kept for checkpoints through the module's torchPerm.
import { tf } from '../../backend';
import { hashSeed } from '../../util/rng';
import { Module } from '../module';
import { conv3dPadded } from '../../native/padded-conv3d';
import { checkNDHWC, convOutputSize } from './pad3d';

/**
 * 'kaiming': kaiming_normal_(mode='fan_out', nonlinearity='relu'), as
 * MedicalNet initialises every conv; 'torch': nn.Conv3d's default
 * U(±1/√fan_in) for weight and bias; 'zeros' when a checkpoint will
 * overwrite the values anyway.
 */
export type ConvInit = 'kaiming' | 'torch' | 'zeros';

export interface Conv3dOptions {
  stride?: number;
  padding?: number;
  /** spacing of the kernel taps (MedicalNet's dilated layer3/4); the weight's shape does not change */
  dilation?: number;
  bias?: boolean;
  init?: ConvInit;
  seed?: number;
  /** label mixed into the seed, so equal layers start differently */
  name?: string;
}

/** conv3d kernel [d,h,w,in,out] → PyTorch [out,in,d,h,w] */
export const CONV3D_TORCH_PERM = [4, 3, 0, 1, 2];

export class Conv3d extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;
  readonly stride: number;
  readonly padding: number;
  readonly dilation: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernel: number,
    options: Conv3dOptions = {},
  ) {
    super();
    for (const [what, n] of [['inChannels', inChannels], ['outChannels', outChannels], ['kernel', kernel]] as const) {
      if (!Number.isInteger(n) || n < 1) throw new Error(`Conv3d: ${what} must be a positive integer, got ${n}`);
    }
    this.stride = options.stride ?? 1;
    this.padding = options.padding ?? 0;
    this.dilation = options.dilation ?? 1;
    if (!Number.isInteger(this.dilation) || this.dilation < 1) throw new Error(`Conv3d: dilation must be a positive integer, got ${this.dilation}`);
    const init = options.init ?? 'kaiming';
    const name = options.name ?? 'conv';
    const seed = (label: string) => hashSeed(options.seed ?? 0, `${name}.${label}`) % 2147483647;
    const shape: [number, number, number, number, number] = [kernel, kernel, kernel, inChannels, outChannels];
    const volume = kernel ** 3;
    const fanIn = inChannels * volume;
    const bound = 1 / Math.sqrt(fanIn);
    const w =
      init === 'zeros'
        ? tf.zeros(shape)
        : init === 'kaiming'
          ? tf.randomNormal(shape, 0, Math.sqrt(2 / (outChannels * volume)), 'float32', seed('weight'))
          : tf.randomUniform(shape, -bound, bound, 'float32', seed('weight'));
    this.weight = this.param('weight', w, CONV3D_TORCH_PERM);
    if (options.bias ?? false) {
      // PyTorch draws conv biases from U(±1/√fan_in) whatever the weight init
      const b = init === 'zeros' ? tf.zeros([outChannels]) : tf.randomUniform([outChannels], -bound, bound, 'float32', seed('bias'));
      this.bias = this.param('bias', b);
    } else {
      this.bias = null;
    }
  }

  /** Output spatial shape for an input of spatial shape `dhw`. */
  outputShape(dhw: readonly number[]): [number, number, number] {
    const [d, h, w] = dhw.map((n) => convOutputSize(n, this.dilation * (this.kernel - 1) + 1, this.stride, this.padding));
    return [d, h, w];
  }

  apply(x: tf.Tensor): tf.Tensor5D {
    checkNDHWC(x, this.inChannels, 'Conv3d');
    const out = this.outputShape(x.shape.slice(1, 4));
    if (out.some((n) => n < 1)) {
      throw new Error(`Conv3d: input of shape [${x.shape.join(',')}] is too small for a ${this.kernel}³ kernel with padding ${this.padding}${this.dilation > 1 ? ` and dilation ${this.dilation}` : ''}`);
    }
    return tf.tidy(() => {
      let y: tf.Tensor5D;
      if (this.kernel === 1 && this.padding === 0) {
        // 1×1×1: a strided subsample then a matrix product, much faster on the cpu backend
        const s = this.stride === 1 ? x : tf.avgPool3d(x, 1, this.stride, 'valid');
        const [n, d, h, w] = s.shape;
        y = tf.matMul(s.reshape([-1, this.inChannels]), this.weight.reshape([this.inChannels, this.outChannels])).reshape([n, d, h, w, this.outChannels]);
      } else {
        // explicit symmetric padding (PyTorch's); one native kernel when available, else pad + 'valid'
        // (dilated: space-to-batch, see padded-conv3d.ts)
        y = conv3dPadded(x, this.weight as tf.Tensor5D, this.stride, this.padding, this.dilation);
      }
      return this.bias ? y.add(this.bias) : y;
    });
  }
}

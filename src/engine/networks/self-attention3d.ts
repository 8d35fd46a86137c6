// SAGAN-style self-attention over the voxels of a feature map, as the
// authors apply it to layer4. Parameter names follow their module
// (`self_attention.{query_conv,key_conv,value_conv}.{weight,bias}`,
// `self_attention.gamma`), so their checkpoints load unchanged.
//
// Positions are the D·H·W voxels flattened in row-major (d, h, w) order —
// the order of PyTorch's `x.view(N, C, -1)` on [N, C, D, H, W] — so the
// attention matrix is index-for-index the authors'.
//
// Their block applies one nn.Dropout(0.2) to key, query and value after the
// 1×1×1 convs (training only); `dropout` sets its rate (0: none). It is one
// Dropout child called three times (key, query, value: three fresh masks),
// so its counter is saved with a run like every other dropout's.
//
// Registers (`registers` > 0, ours; image.attentionRegisters): R learned
// key vectors and R learned value vectors (`self_attention.register_key`,
// `self_attention.register_value`, [R, C]) appended to the voxels' keys and
// values, so a query can put its attention on a place that is no voxel —
// as "Vision Transformers Need Registers" (Darcet et al., ICLR 2024) gives a
// ViT's attention. Without them CL pretraining parks the attention on the
// empty background around the head (measured: docs/METHOD.md §2). The
// `attention` returned is the voxel columns only, each row summing to one
// less its registers' share; the values start at zero, so a fresh block's
// output is the authors' with the voxel rows scaled by that share.
import { tf } from '../backend';
import { softmaxLast } from '../native/transformer';
import { hashSeed } from '../util/rng';
import { Module } from './module';
import type { TrainingFlag } from './layers/batchnorm3d';
import { Conv3d, type ConvInit } from './layers/conv3d';
import { Dropout } from './layers/dropout';
import { checkNDHWC } from './layers/pad3d';

export interface SelfAttentionOutput {
  /** γ·(attended values) + x (without the residual: γ·(attended values)), same shape as the input [N, D, H, W, C] */
  out: tf.Tensor5D;
  /** [N, P, P], row i = softmax over key positions j for query position i */
  attention: tf.Tensor3D;
}

export interface SelfAttention3dOptions {
  /** 'torch': nn.Conv3d's default U(±1/√C), as the authors' block; 'zeros' before loading a checkpoint */
  init?: Extract<ConvInit, 'torch' | 'zeros'>;
  seed?: number;
  name?: string;
  /** dropout on q, k and v after their convs, training only (default 0.2, the authors'; 0: none) */
  dropout?: number;
  /** initial value of the gate γ (default 0, SAGAN's and the authors': the block starts as the identity) */
  gamma?: number;
  /** divide the scores by √channels before the softmax (default false: the authors' unscaled scores) */
  scale?: boolean;
  /** add the input back (default true: out = γ·attended + x, the authors'; false: out = γ·attended) */
  residual?: boolean;
  /** learned register keys and values appended to the voxels' (default 0: none, the authors' block) */
  registers?: number;
}

export class SelfAttention3d extends Module {
  readonly queryConv: Conv3d;
  readonly keyConv: Conv3d;
  readonly valueConv: Conv3d;
  readonly gamma: tf.Variable;
  /** 1/√channels with `scale`, else 1 */
  readonly scoreScale: number;
  /** whether the input is added back to the output */
  readonly residual: boolean;
  /** on key, query and value (null when the rate is 0: no counter to save) */
  readonly dropout: Dropout | null;
  /** [R, C] register keys and values (null without registers) */
  readonly registerKey: tf.Variable | null;
  readonly registerValue: tf.Variable | null;

  constructor(
    readonly channels: number,
    options: SelfAttention3dOptions = {},
  ) {
    super();
    const init = options.init ?? 'torch';
    const name = options.name ?? 'self_attention';
    const conv = (n: string) => new Conv3d(channels, channels, 1, { bias: true, init, seed: options.seed, name: `${name}.${n}` });
    this.keyConv = this.child('key_conv', conv('key_conv'));
    this.queryConv = this.child('query_conv', conv('query_conv'));
    this.valueConv = this.child('value_conv', conv('value_conv'));
    // γ starts at 0 by default: the block begins as the identity
    const gamma = options.gamma ?? 0;
    if (!Number.isFinite(gamma)) throw new Error(`SelfAttention3d: gamma must be a finite number, got ${gamma}`);
    this.gamma = this.param('gamma', tf.fill([1], gamma));
    this.scoreScale = options.scale ? 1 / Math.sqrt(channels) : 1;
    this.residual = options.residual ?? true;
    const rate = options.dropout ?? 0.2;
    this.dropout = rate > 0 ? this.child('dropout', new Dropout(rate, hashSeed(options.seed ?? 0, `${name}.dropout`))) : null;
    const registers = options.registers ?? 0;
    if (!Number.isInteger(registers) || registers < 0) throw new Error(`SelfAttention3d: registers must be a whole number ≥ 0, got ${registers}`);
    if (registers > 0) {
      // keys as the key conv's weights, U(±1/√C) ('zeros': before a checkpoint loads); values zero
      const bound = 1 / Math.sqrt(channels);
      const key =
        init === 'zeros'
          ? tf.zeros([registers, channels])
          : tf.randomUniform([registers, channels], -bound, bound, 'float32', hashSeed(options.seed ?? 0, `${name}.register_key`) % 2147483647);
      this.registerKey = this.param('register_key', key);
      this.registerValue = this.param('register_value', tf.zeros([registers, channels]));
    } else {
      this.registerKey = null;
      this.registerValue = null;
    }
  }

  apply(x: tf.Tensor, options: TrainingFlag = {}): SelfAttentionOutput {
    checkNDHWC(x, this.channels, 'SelfAttention3d');
    return tf.tidy(() => {
      const [n, d, h, w, c] = x.shape;
      const p = d * h * w;
      const flat = (t: tf.Tensor) => t.reshape([n, p, c]) as tf.Tensor3D;
      // the authors' order: key, query, value (each through the same dropout)
      const drop = (t: tf.Tensor) => (this.dropout ? this.dropout.apply(t, options) : t);
      const k = flat(drop(this.keyConv.apply(x)));
      const q = flat(drop(this.queryConv.apply(x)));
      const v = flat(drop(this.valueConv.apply(x)));
      // image.attentionRegisters: the registers' keys and values after the voxels' (not through the dropout: they are parameters, not activations)
      const withRegisters = (t: tf.Tensor3D, r: tf.Variable | null): tf.Tensor3D =>
        r ? tf.concat([t, r.expandDims(0).tile([n, 1, 1]) as tf.Tensor3D], 1) : t;
      const keys = withRegisters(k, this.registerKey);
      const values = withRegisters(v, this.registerValue);
      // follows: METHOD.md §2: A = softmax_j(qᵢ·kⱼ), no 1/√d (image.attentionScale: qᵢ·kⱼ/√C); out = γ·Σⱼ A_ij vⱼ + x (image.attentionResidual false: without + x)
      const scores = tf.matMul(q, keys, false, true);
      const weights = softmaxLast(this.scoreScale === 1 ? scores : scores.mul(this.scoreScale)) as tf.Tensor3D;
      const attention = this.registerKey ? (weights.slice([0, 0, 0], [n, p, p]) as tf.Tensor3D) : weights;
      const attended = tf.matMul(weights, values).reshape([n, d, h, w, c]);
      const gated = attended.mul(this.gamma);
      const out = (this.residual ? gated.add(x) : gated) as tf.Tensor5D;
      return { out, attention };
    });
  }
}

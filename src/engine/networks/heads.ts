// Projection heads from encoder features to the shared embedding spaces,
// each ending in L2 normalisation (the authors: "all embeddings
// L2-normalised").
// follows: METHOD.md §4
import { tf } from '../backend';
import type { ExperimentConfig } from '../../shared/config';
import { Module } from './module';
import { Linear } from './torch-layers';
import { BatchNorm3d } from './layers/batchnorm3d';

export type HeadsConfig = ExperimentConfig['heads'];

export interface HeadOptions {
  seed?: number;
  /** L2-normalise the output (default true) */
  normalize?: boolean;
}

/** x / max(‖x‖₂, eps) along `axis`, as torch.nn.functional.normalize; zero vectors stay zero (finite gradient). */
export function l2Normalize(x: tf.Tensor, axis = -1, eps = 1e-12): tf.Tensor {
  return tf.tidy(() => x.mul(tf.rsqrt(tf.maximum(x.square().sum(axis, true), eps * eps))));
}

function checkLast(x: tf.Tensor, want: number, rank: number, what: string): void {
  if (x.rank !== rank || x.shape[rank - 1] !== want) {
    throw new Error(`${what}: expected a rank-${rank} tensor with ${want} features last, got shape [${x.shape.join(', ')}]`);
  }
}

/**
 * Linear(in → dim) → ReLU → Linear(dim → dim) → L2: the global image and
 * text heads. With `inputNorm: 'batch'` (heads.globalInputNorm) the input is
 * first standardised per feature, as a BatchNorm1d without affine
 * parameters: batch statistics in training (running statistics updated),
 * running statistics in evaluation. It adds no trainable parameter. Its ε
 * is heads.globalInputNormEps (PyTorch's 1e-5 by default).
 */
export class GlobalHead extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly inputNorm: BatchNorm3d | null;
  private readonly normalize: boolean;

  constructor(
    readonly inDim: number,
    readonly dim = 512,
    options: HeadOptions & { name?: string; inputNorm?: 'none' | 'batch'; inputNormEps?: number } = {},
  ) {
    super();
    const n = options.name ?? 'global_head';
    this.inputNorm = options.inputNorm === 'batch' ? this.child('input_norm', new BatchNorm3d(inDim, { eps: options.inputNormEps })) : null;
    // affine-free: γ = 1, β = 0, never trained; batch statistics in training
    this.inputNorm?.setFrozen(true);
    this.fc1 = this.child('fc1', new Linear(inDim, dim, { seed: options.seed, name: `${n}.fc1` }));
    this.fc2 = this.child('fc2', new Linear(dim, dim, { seed: options.seed, name: `${n}.fc2` }));
    this.normalize = options.normalize ?? true;
  }

  /** [N, in] → [N, dim] */
  apply(x: tf.Tensor, options: { training?: boolean } = {}): tf.Tensor2D {
    checkLast(x, this.inDim, 2, 'GlobalHead');
    return tf.tidy(() => {
      const xin = this.inputNorm ? this.inputNorm.apply(x, { training: options.training ?? false }) : x;
      const y = this.fc2.apply(tf.relu(this.fc1.apply(xin)));
      return (this.normalize ? l2Normalize(y) : y) as tf.Tensor2D;
    });
  }
}

/**
 * 1×1×1 conv (in → dim) → ReLU → 1×1×1 conv (dim → dim) → L2 on layer3
 * features; a 1×1×1 conv is a Linear applied at every position. Weights are
 * stored [out, in] (a PyTorch Conv3d's [out, in, 1, 1, 1] without the unit axes).
 */
export class LocalImageHead extends Module {
  readonly conv1: Linear;
  readonly conv2: Linear;
  private readonly normalize: boolean;

  constructor(
    readonly inChannels: number,
    readonly dim = 256,
    options: HeadOptions = {},
  ) {
    super();
    this.conv1 = this.child('conv1', new Linear(inChannels, dim, { seed: options.seed, name: 'local_image_head.conv1' }));
    this.conv2 = this.child('conv2', new Linear(dim, dim, { seed: options.seed, name: 'local_image_head.conv2' }));
    this.normalize = options.normalize ?? true;
  }

  /** [N, D, H, W, C] → patches [N, P = D·H·W, dim], patch p = (d·H + h)·W + w. */
  apply(x: tf.Tensor): tf.Tensor3D {
    checkLast(x, this.inChannels, 5, 'LocalImageHead');
    return tf.tidy(() => {
      const [N, D, H, W] = x.shape as number[];
      const flat = x.reshape([N!, D! * H! * W!, this.inChannels]);
      const y = this.conv2.apply(tf.relu(this.conv1.apply(flat)));
      return (this.normalize ? l2Normalize(y) : y) as tf.Tensor3D;
    });
  }
}

/**
 * The local text head on each word vector: Linear(hidden → mid) → ReLU →
 * Linear(mid → dim) → L2 (the authors' LocalEmbedding, mid = 512), or with
 * mid = 0 a single Linear(hidden → dim) → L2. Empty word slots come out as
 * zeros. Names: `proj` (single), `fc1`/`fc2` (two layers).
 */
export class LocalTextHead extends Module {
  readonly proj: Linear | null;
  readonly fc1: Linear | null;
  readonly fc2: Linear | null;
  private readonly normalize: boolean;

  constructor(
    readonly inDim: number,
    readonly dim = 256,
    options: HeadOptions & { hidden?: number } = {},
  ) {
    super();
    const mid = options.hidden ?? 0;
    if (!Number.isInteger(mid) || mid < 0) throw new Error(`LocalTextHead: hidden must be an integer ≥ 0, got ${mid}`);
    if (mid === 0) {
      this.proj = this.child('proj', new Linear(inDim, dim, { seed: options.seed, name: 'local_text_head.proj' }));
      this.fc1 = this.fc2 = null;
    } else {
      this.proj = null;
      this.fc1 = this.child('fc1', new Linear(inDim, mid, { seed: options.seed, name: 'local_text_head.fc1' }));
      this.fc2 = this.child('fc2', new Linear(mid, dim, { seed: options.seed, name: 'local_text_head.fc2' }));
    }
    this.normalize = options.normalize ?? true;
  }

  /** words [N, W, hidden], wordMask [N, W] (optional) → [N, W, dim] */
  apply(words: tf.Tensor, wordMask?: tf.Tensor): tf.Tensor3D {
    checkLast(words, this.inDim, 3, 'LocalTextHead');
    if (wordMask && (wordMask.rank !== 2 || wordMask.shape[0] !== words.shape[0] || wordMask.shape[1] !== words.shape[1])) {
      throw new Error(`LocalTextHead: wordMask has shape [${wordMask.shape.join(', ')}], expected [${words.shape[0]}, ${words.shape[1]}]`);
    }
    return tf.tidy(() => {
      let y = this.proj ? this.proj.apply(words) : this.fc2!.apply(tf.relu(this.fc1!.apply(words)));
      if (this.normalize) y = l2Normalize(y);
      if (wordMask) y = y.mul(wordMask.cast('float32').expandDims(2));
      return y as tf.Tensor3D;
    });
  }
}

export interface ProjectionHeads {
  imageGlobal: GlobalHead;
  textGlobal: GlobalHead;
  imageLocal: LocalImageHead;
  textLocal: LocalTextHead;
}

/**
 * The four heads for the experiment config: image global in = 8·width
 * (layer4), image local in = 4·width (layer3), text in = encoder hidden size.
 */
export function createProjectionHeads(heads: HeadsConfig, dims: { imageWidth: number; textHidden: number }, seed = 0): ProjectionHeads {
  return {
    imageGlobal: new GlobalHead(8 * dims.imageWidth, heads.globalDim, { seed, name: 'image_global_head', inputNorm: heads.globalInputNorm, inputNormEps: heads.globalInputNormEps }),
    textGlobal: new GlobalHead(dims.textHidden, heads.globalDim, { seed, name: 'text_global_head', inputNorm: heads.globalInputNorm, inputNormEps: heads.globalInputNormEps }),
    imageLocal: new LocalImageHead(4 * dims.imageWidth, heads.localDim, { seed }),
    textLocal: new LocalTextHead(dims.textHidden, heads.localDim, { seed, hidden: heads.textLocalHidden }),
  };
}

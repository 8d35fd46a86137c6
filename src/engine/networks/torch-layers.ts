// Linear, LayerNorm and Embedding stored in PyTorch's layout (Linear weight
// [out, in]) so HuggingFace and PyTorch state dicts map onto them 1:1.
import { tf } from '../backend';
import { hashSeed } from '../util/rng';
import { Module } from './module';
import { layerNorm } from '../native/transformer';

/**
 * How parameters start: 'normal' N(0, std) weights and zero biases (HF
 * `_init_weights`), 'torch' PyTorch's nn.Linear default U(±1/√in), 'zeros'
 * when a checkpoint will overwrite them anyway (cheap for big vocabularies).
 */
export type InitKind = 'normal' | 'torch' | 'zeros';

export interface InitOptions {
  init?: InitKind;
  /** standard deviation for 'normal' (HF initializer_range) */
  std?: number;
  /** seed; each parameter derives its own from this and its name */
  seed?: number;
}

function randomSeed(seed: number | undefined, name: string): number {
  return hashSeed(seed ?? 0, name) % 2147483647;
}

/** x·Wᵀ + b over the last axis of x, any rank ≥ 2. */
export function linearApply(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor | null): tf.Tensor {
  return tf.tidy(() => {
    const inF = weight.shape[1]!;
    const outF = weight.shape[0]!;
    if (x.shape[x.shape.length - 1] !== inF) {
      throw new Error(`linear: input has ${x.shape[x.shape.length - 1]} features, the layer expects ${inF}`);
    }
    const lead = x.shape.slice(0, -1);
    let y: tf.Tensor = tf.matMul(x.reshape([-1, inF]), weight, false, true);
    if (bias) y = y.add(bias);
    return y.reshape([...lead, outF]);
  });
}

export class Linear extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: InitOptions & { bias?: boolean; name?: string } = {},
  ) {
    super();
    const kind = options.init ?? 'torch';
    const seed = randomSeed(options.seed, `${options.name ?? 'linear'}.weight`);
    const bound = 1 / Math.sqrt(inFeatures);
    const shape: [number, number] = [outFeatures, inFeatures];
    const w =
      kind === 'zeros'
        ? tf.zeros(shape)
        : kind === 'normal'
          ? tf.randomNormal(shape, 0, options.std ?? 0.02, 'float32', seed)
          : tf.randomUniform(shape, -bound, bound, 'float32', seed);
    this.weight = this.param('weight', w);
    if (options.bias ?? true) {
      const bseed = randomSeed(options.seed, `${options.name ?? 'linear'}.bias`);
      const b = kind === 'torch' ? tf.randomUniform([outFeatures], -bound, bound, 'float32', bseed) : tf.zeros([outFeatures]);
      this.bias = this.param('bias', b);
    } else {
      this.bias = null;
    }
  }

  apply(x: tf.Tensor): tf.Tensor {
    return linearApply(x, this.weight, this.bias);
  }
}

export class LayerNorm extends Module {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    readonly dim: number,
    readonly eps = 1e-5,
  ) {
    super();
    this.weight = this.param('weight', tf.ones([dim]));
    this.bias = this.param('bias', tf.zeros([dim]));
  }

  /** Normalises the last axis with the biased variance, as torch.nn.LayerNorm. */
  apply(x: tf.Tensor): tf.Tensor {
    return layerNorm(x, this.weight, this.bias, this.eps);
  }
}

export class Embedding extends Module {
  readonly weight: tf.Variable;

  constructor(
    readonly count: number,
    readonly dim: number,
    options: InitOptions & { paddingIdx?: number; name?: string } = {},
  ) {
    super();
    const kind = options.init ?? 'normal';
    let w: tf.Tensor =
      kind === 'zeros'
        ? tf.zeros([count, dim])
        : tf.randomNormal([count, dim], 0, options.std ?? (kind === 'torch' ? 1 : 0.02), 'float32', randomSeed(options.seed, `${options.name ?? 'embedding'}.weight`));
    const pad = options.paddingIdx;
    if (pad !== undefined && pad >= 0 && pad < count && kind !== 'zeros') {
      // nn.Embedding(padding_idx) starts the padding row at zero
      const unpadded = w;
      w = tf.tidy(() => unpadded.mul(tf.scalar(1).sub(tf.oneHot([pad], count).reshape([count, 1]))));
      unpadded.dispose();
    }
    this.weight = this.param('weight', w);
    this.paddingIdx = pad;
  }

  readonly paddingIdx: number | undefined;

  /** Rows of the table for integer ids of any shape → [...ids.shape, dim]. */
  apply(ids: tf.Tensor): tf.Tensor {
    return tf.tidy(() => embeddingLookup(this.weight, ids.flatten().toInt(), this.paddingIdx).reshape([...ids.shape, this.dim]));
  }
}

/**
 * tf.gather with a scatter-add gradient written in plain JS. tfjs's own
 * gradient of gather goes through UnsortedSegmentSum, whose cpu kernel costs
 * O(rows × ids) and dominated a whole training step (seconds for a 1k-row
 * table). As torch's nn.Embedding(padding_idx), the padding row gets no
 * gradient.
 */
export function embeddingLookup(table: tf.Tensor, ids: tf.Tensor, paddingIdx?: number): tf.Tensor {
  const lookup = tf.customGrad(((t: tf.Tensor, i: tf.Tensor, save: tf.GradSaveFunc) => {
    save([i]);
    return {
      value: tf.gather(t, i),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [rows, dim] = t.shape as [number, number];
        const idx = saved[0]!.dataSync();
        const g = dy.dataSync();
        const out = new Float32Array(rows * dim);
        for (let n = 0; n < idx.length; n++) {
          const r = idx[n]!;
          if (r === paddingIdx) continue;
          const src = n * dim;
          const dst = r * dim;
          for (let k = 0; k < dim; k++) out[dst + k] += g[src + k]!;
        }
        return [tf.tensor2d(out, [rows, dim]), tf.zerosLike(saved[0]!)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return lookup(table, ids);
}

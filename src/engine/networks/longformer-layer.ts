// One post-LN Longformer layer (HF LongformerLayer): self-attention →
// dense + dropout + residual + LayerNorm → GELU FFN → dense + dropout +
// residual + LayerNorm. Child names match HF's state-dict names.
// follows: METHOD.md §3
import { tf } from '../backend';
import { Module } from './module';
import { LongformerSelfAttention, type AttentionContext } from './longformer-attention';
import { LayerNorm, Linear, type InitOptions } from './torch-layers';
import { Dropout } from './layers/dropout';
import { gelu } from '../native/transformer';
import { hashSeed } from '../util/rng';

export { gelu } from '../native/transformer';

/** A seeded dropout whose seed derives from the model seed and the module's name. */
export function namedDropout(rate: number, init: { seed?: number; name?: string }): Dropout {
  return new Dropout(rate, hashSeed(init.seed ?? 0, `${init.name ?? ''}dropout`));
}

/** HF SelfOutput / Output: LayerNorm(dropout(dense(h)) + residual). */
export class DenseResidualNorm extends Module {
  readonly dense: Linear;
  readonly norm: LayerNorm;
  readonly dropout: Dropout;

  constructor(inF: number, outF: number, eps: number, rate: number, init: InitOptions & { name?: string }) {
    super();
    this.dense = this.child('dense', new Linear(inF, outF, { ...init, init: init.init ?? 'normal', name: `${init.name ?? ''}dense` }));
    this.norm = this.child('LayerNorm', new LayerNorm(outF, eps));
    this.dropout = this.child('dropout', namedDropout(rate, init));
  }

  apply(h: tf.Tensor, residual: tf.Tensor, training: boolean): tf.Tensor {
    return tf.tidy(() => this.norm.apply(this.dropout.apply(this.dense.apply(h), { training }).add(residual)));
  }
}

export class LongformerAttentionBlock extends Module {
  readonly self: LongformerSelfAttention;
  readonly output: DenseResidualNorm;

  constructor(hidden: number, heads: number, window: number, eps: number, hiddenDropout: number, attentionDropout: number, init: InitOptions & { name?: string }) {
    super();
    this.self = this.child('self', new LongformerSelfAttention(hidden, heads, window, attentionDropout, { ...init, name: `${init.name ?? ''}self.` }));
    this.output = this.child('output', new DenseResidualNorm(hidden, hidden, eps, hiddenDropout, { ...init, name: `${init.name ?? ''}output.` }));
  }

  apply(x: tf.Tensor, ctx: AttentionContext): tf.Tensor {
    return tf.tidy(() => this.output.apply(this.self.apply(x, ctx), x, ctx.training));
  }
}

export class Intermediate extends Module {
  readonly dense: Linear;

  constructor(hidden: number, intermediate: number, init: InitOptions & { name?: string }) {
    super();
    this.dense = this.child('dense', new Linear(hidden, intermediate, { ...init, init: init.init ?? 'normal', name: `${init.name ?? ''}dense` }));
  }

  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => gelu(this.dense.apply(x)));
  }
}

export interface LayerShape {
  hidden: number;
  heads: number;
  intermediate: number;
  window: number;
  layerNormEps: number;
  hiddenDropout: number;
  attentionDropout: number;
}

export class LongformerLayer extends Module {
  readonly attention: LongformerAttentionBlock;
  readonly intermediate: Intermediate;
  readonly output: DenseResidualNorm;

  constructor(s: LayerShape, init: InitOptions & { name?: string } = {}) {
    super();
    const p = init.name ?? '';
    this.attention = this.child(
      'attention',
      new LongformerAttentionBlock(s.hidden, s.heads, s.window, s.layerNormEps, s.hiddenDropout, s.attentionDropout, { ...init, name: `${p}attention.` }),
    );
    this.intermediate = this.child('intermediate', new Intermediate(s.hidden, s.intermediate, { ...init, name: `${p}intermediate.` }));
    this.output = this.child('output', new DenseResidualNorm(s.intermediate, s.hidden, s.layerNormEps, s.hiddenDropout, { ...init, name: `${p}output.` }));
  }

  apply(x: tf.Tensor, ctx: AttentionContext): tf.Tensor {
    return tf.tidy(() => {
      const a = this.attention.apply(x, ctx);
      return this.output.apply(this.intermediate.apply(a), a, ctx.training);
    });
  }
}

/** A numbered list of modules ("0", "1", …), as torch.nn.ModuleList. */
export class ModuleList<M extends Module> extends Module {
  readonly items: M[] = [];

  push(m: M): M {
    this.items.push(this.child(String(this.items.length), m));
    return m;
  }
}

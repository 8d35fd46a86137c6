// Longformer self-attention with HuggingFace LongformerSelfAttention's exact
// semantics:
//  - a non-global, non-pad token i attends (query/key/value) to every token j
//    with |i − j| ≤ w/2 that is neither padding nor global, plus to every
//    global token (keys and values from the same local projections);
//  - a global token's output is recomputed with query_global/key_global/
//    value_global over all non-pad tokens;
//  - a padding token's attention output is zero (HF zeroes its probabilities).
// Two equal computations: a masked full [T, T] one for short sequences and
// a banded one in blocks of w/2 (memory O(T·w)) for long ones.
// follows: METHOD.md §3
import { tf } from '../backend';
import { Module } from './module';
import { Linear, type InitOptions } from './torch-layers';
import { Dropout } from './layers/dropout';
import { softmaxLast } from '../native/transformer';
import { hashSeed } from '../util/rng';

export type AttentionPath = 'auto' | 'full' | 'banded';

/** Mask tensors shared by all layers of one forward pass. */
export interface AttentionContext {
  /** [N, T] 1 for real tokens, 0 for padding */
  valid: tf.Tensor;
  /** [N, T] 1 for tokens with global attention (never padding) */
  global: tf.Tensor;
  /** [N, G, T] one-hot rows picking each sample's global tokens; unused slots are zero rows; null when no token is global */
  select: tf.Tensor | null;
  /** [N, G] 1 for used global slots */
  slotValid: tf.Tensor | null;
  training: boolean;
  path: AttentionPath;
}

// Excluded keys get (mask − 1)·BIG added to their scores: exp underflows to
// exactly 0, and a fully excluded row stays finite (no NaN) before it is
// zeroed.
const BIG = 1e9;

export class LongformerSelfAttention extends Module {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  readonly queryGlobal: Linear;
  readonly keyGlobal: Linear;
  readonly valueGlobal: Linear;
  readonly headDim: number;
  private readonly probsDropout: Dropout;

  constructor(
    readonly hidden: number,
    readonly heads: number,
    /** w: a token sees w/2 neighbours on each side */
    readonly window: number,
    dropout: number,
    init: InitOptions & { name?: string } = {},
  ) {
    super();
    if (hidden % heads !== 0) throw new Error(`Longformer attention: hidden size ${hidden} is not a multiple of ${heads} heads`);
    if (!Number.isInteger(window) || window < 2 || window % 2 !== 0) {
      throw new Error(`Longformer attention: window must be an even integer ≥ 2, got ${window}`);
    }
    this.headDim = hidden / heads;
    const lin = (n: string) => this.child(n, new Linear(hidden, hidden, { ...init, init: init.init ?? 'normal', name: `${init.name ?? ''}${n}` }));
    this.query = lin('query');
    this.key = lin('key');
    this.value = lin('value');
    this.queryGlobal = lin('query_global');
    this.keyGlobal = lin('key_global');
    this.valueGlobal = lin('value_global');
    this.probsDropout = this.child('dropout', new Dropout(dropout, hashSeed(init.seed ?? 0, `${init.name ?? ''}dropout`)));
  }

  get oneSided(): number {
    return this.window / 2;
  }

  /** [N, T, H] → context vectors [N, T, H] (before the output dense layer). */
  apply(x: tf.Tensor, ctx: AttentionContext): tf.Tensor {
    return tf.tidy(() => {
      const T = x.shape[1]!;
      const scale = 1 / Math.sqrt(this.headDim);
      const kx = this.key.apply(x);
      const vx = this.value.apply(x);
      const q = this.split(this.query.apply(x).mul(scale));
      const full = ctx.path === 'full' || (ctx.path === 'auto' && T <= 2 * this.window);
      const local = full ? this.localFull(q, this.split(kx), this.split(vx), ctx) : this.localBanded(q, kx, vx, ctx);
      let out = this.merge(local);
      if (ctx.select) {
        const g = this.globalRows(x, ctx);
        const keep = tf.scalar(1).sub(ctx.global).expandDims(2);
        out = out.mul(keep).add(tf.matMul(ctx.select, g, true, false));
      }
      return out;
    });
  }

  /** [N, T, H] → [N, heads, T, headDim] */
  private split(t: tf.Tensor): tf.Tensor {
    const [n, len] = t.shape;
    return t.reshape([n!, len!, this.heads, this.headDim]).transpose([0, 2, 1, 3]);
  }

  /** [N, heads, T, headDim] → [N, T, H] */
  private merge(t: tf.Tensor): tf.Tensor {
    const [n, , len] = t.shape;
    return t.transpose([0, 2, 1, 3]).reshape([n!, len!, this.hidden]);
  }

  private dropoutProbs(p: tf.Tensor, ctx: AttentionContext): tf.Tensor {
    return this.probsDropout.apply(p, { training: ctx.training });
  }

  /** Batched matMul over any leading axes (flattened to rank 3). */
  private bmm(a: tf.Tensor, b: tf.Tensor, transposeB = false): tf.Tensor {
    const lead = a.shape.slice(0, -2);
    const r = a.shape[a.shape.length - 2]!;
    const out = tf.matMul(a.reshape([-1, r, a.shape[a.shape.length - 1]!]), b.reshape([-1, b.shape[b.shape.length - 2]!, b.shape[b.shape.length - 1]!]), false, transposeB);
    return out.reshape([...lead, r, out.shape[2]!]);
  }

  /** Dense [T, T] scores under the Longformer mask: fine for short sequences. */
  private localFull(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, ctx: AttentionContext): tf.Tensor {
    const T = q.shape[2]!;
    const pos = tf.range(0, T, 1, 'int32');
    const band = tf.abs(pos.expandDims(1).sub(pos.expandDims(0))).lessEqual(this.oneSided).cast('float32');
    const N = q.shape[0]!;
    const keyLocal = ctx.valid.mul(tf.scalar(1).sub(ctx.global)).reshape([N, 1, 1, T]);
    const allowed = band.reshape([1, 1, T, T]).mul(keyLocal).add(ctx.global.reshape([N, 1, 1, T]));
    const scores = this.bmm(q, k, true).add(allowed.sub(1).mul(BIG));
    const probs = this.dropoutProbs(softmaxLast(scores).mul(ctx.valid.reshape([N, 1, T, 1])), ctx);
    return this.bmm(probs, v);
  }

  /**
   * Blocks of c = w/2 queries against the 3c keys around them (the block
   * before, itself, the block after); global keys appended as extra columns.
   */
  private localBanded(q: tf.Tensor, kx: tf.Tensor, vx: tf.Tensor, ctx: AttentionContext): tf.Tensor {
    const [N, nh, T, dh] = q.shape as [number, number, number, number];
    const c = this.oneSided;
    const nb = Math.ceil(T / c);
    const Tp = nb * c;
    const k = this.split(kx);
    const v = this.split(vx);
    const qB = tf.pad(q, [[0, 0], [0, 0], [0, Tp - T], [0, 0]]).reshape([N, nh, nb, c, dh]);
    // [N, nh, (nb+2)·c, dh] → [N, nh, nb, 3c, dh]
    const windows = (t: tf.Tensor): tf.Tensor => {
      const p = tf.pad(t, [[0, 0], [0, 0], [c, Tp - T + c], [0, 0]]).reshape([N, nh, nb + 2, c, dh]);
      return tf.concat([0, 1, 2].map((s) => p.slice([0, 0, s, 0, 0], [N, nh, nb, c, dh])), 3);
    };
    const kW = windows(k);
    const vW = windows(v);
    const keyLocal = tf.pad(ctx.valid.mul(tf.scalar(1).sub(ctx.global)), [[0, 0], [c, Tp - T + c]]).reshape([N, nb + 2, c]);
    const keyWin = tf.concat([0, 1, 2].map((s) => keyLocal.slice([0, s, 0], [N, nb, c])), 2).reshape([N, 1, nb, 1, 3 * c]);
    // query a of a block vs window column b: key offset = b − c − a
    const a = tf.range(0, c, 1, 'int32').expandDims(1);
    const b = tf.range(0, 3 * c, 1, 'int32').expandDims(0);
    const band = tf.abs(b.sub(c).sub(a)).lessEqual(c).cast('float32').reshape([1, 1, 1, c, 3 * c]);
    let scores = this.bmm(qB, kW, true).add(band.mul(keyWin).sub(1).mul(BIG));
    let kG: tf.Tensor | null = null;
    let vG: tf.Tensor | null = null;
    let G = 0;
    if (ctx.select && ctx.slotValid) {
      G = ctx.select.shape[1]!;
      kG = this.split(tf.matMul(ctx.select, kx));
      vG = this.split(tf.matMul(ctx.select, vx));
      const qPad = qB.reshape([N, nh, Tp, dh]);
      const sG = this.bmm(qPad, kG, true)
        .reshape([N, nh, nb, c, G])
        .add(ctx.slotValid.reshape([N, 1, 1, 1, G]).sub(1).mul(BIG));
      scores = tf.concat([sG, scores], 4);
    }
    const qValid = tf.pad(ctx.valid, [[0, 0], [0, Tp - T]]).reshape([N, 1, nb, c, 1]);
    const probs = this.dropoutProbs(softmaxLast(scores).mul(qValid), ctx);
    const pLocal = G > 0 ? probs.slice([0, 0, 0, 0, G], [N, nh, nb, c, 3 * c]) : probs;
    let out = this.bmm(pLocal, vW).reshape([N, nh, Tp, dh]);
    if (G > 0 && vG) {
      const pG = probs.slice([0, 0, 0, 0, 0], [N, nh, nb, c, G]).reshape([N, nh, Tp, G]);
      out = out.add(this.bmm(pG, vG));
    }
    return out.slice([0, 0, 0, 0], [N, nh, T, dh]);
  }

  /** Global tokens' outputs from the global projections over all non-pad tokens: [N, G, H]. */
  private globalRows(x: tf.Tensor, ctx: AttentionContext): tf.Tensor {
    const select = ctx.select!;
    const [N, T] = x.shape as [number, number, number];
    const xg = tf.matMul(select, x);
    const qg = this.split(this.queryGlobal.apply(xg).mul(1 / Math.sqrt(this.headDim)));
    const kg = this.split(this.keyGlobal.apply(x));
    const vg = this.split(this.valueGlobal.apply(x));
    const scores = this.bmm(qg, kg, true).add(ctx.valid.reshape([N, 1, 1, T]).sub(1).mul(BIG));
    const probs = this.dropoutProbs(softmaxLast(scores), ctx);
    return this.merge(this.bmm(probs, vg));
  }
}

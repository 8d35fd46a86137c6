// Combination of the global and local losses (Eq. 3):
//
//   learned:   α = exp(−s_G), β = exp(−s_L),  L = α·L_G + β·L_L + s_G + s_L
//   fixed:     L = α·L_G + β·L_L with the given α, β
//   localOnly: L = L_L (the authors' released code)
//
// `components` drops a term for the ablations: 'global' keeps α·L_G (+ s_G),
// 'local' keeps β·L_L (+ s_L). The s terms keep α and β from collapsing to 0:
// ∂L/∂s_G = 1 − α·L_G, so s_G settles where α = 1/L_G.
// follows: METHOD.md §5 Eq. 3
import { tf } from '../backend';

export type LossWeighting = 'learned' | 'fixed' | 'localOnly';
export type LossComponents = 'both' | 'global' | 'local';

export interface CombineOptions {
  weighting: LossWeighting;
  components: LossComponents;
  /** α for 'fixed' (default 1) */
  alpha?: number;
  /** β for 'fixed' (default 1) */
  beta?: number;
  /** s_G for 'learned' (a LossWeights variable) */
  sG?: tf.Scalar;
  /** s_L for 'learned' */
  sL?: tf.Scalar;
}

export interface CombinedLoss {
  total: tf.Scalar;
  /** the weight applied to L_G (0 when the term is not used) */
  alpha: number;
  /** the weight applied to L_L (0 when the term is not used) */
  beta: number;
}

/** The trainable log-weights s_G, s_L of the 'learned' weighting (init 0: α = β = 1). */
export class LossWeights {
  readonly sG: tf.Variable<tf.Rank.R0>;
  readonly sL: tf.Variable<tf.Rank.R0>;

  /** `name` prefixes the variable names (`${name}/sG`, `${name}/sL`) for checkpoints. */
  constructor(init: { sG?: number; sL?: number; name?: string } = {}) {
    const sG = init.sG ?? 0;
    const sL = init.sL ?? 0;
    if (!Number.isFinite(sG) || !Number.isFinite(sL)) throw new Error(`LossWeights: initial s_G, s_L must be finite, got ${sG}, ${sL}`);
    this.sG = tf.variable(tf.scalar(sG), true, init.name === undefined ? undefined : `${init.name}/sG`);
    this.sL = tf.variable(tf.scalar(sL), true, init.name === undefined ? undefined : `${init.name}/sL`);
  }

  variables(): tf.Variable[] {
    return [this.sG, this.sL];
  }

  getState(): { sG: number; sL: number } {
    return { sG: this.sG.dataSync()[0], sL: this.sL.dataSync()[0] };
  }

  setState(state: { sG: number; sL: number }): void {
    if (!Number.isFinite(state?.sG) || !Number.isFinite(state?.sL)) throw new Error('LossWeights.setState: sG and sL must be finite numbers');
    tf.tidy(() => {
      this.sG.assign(tf.scalar(state.sG));
      this.sL.assign(tf.scalar(state.sL));
    });
  }

  dispose(): void {
    this.sG.dispose();
    this.sL.dispose();
  }
}

function needScalar(t: tf.Tensor | undefined, what: string, why: string): tf.Scalar {
  if (t === undefined) throw new Error(`combineLosses: ${what} is required ${why}`);
  if (t.rank !== 0) throw new Error(`combineLosses: ${what} must be a scalar tensor, got shape [${t.shape.join(', ')}]`);
  return t as tf.Scalar;
}

function needWeight(x: number | undefined, what: string): number {
  const v = x ?? 1;
  if (!Number.isFinite(v) || v < 0) throw new Error(`combineLosses: ${what} must be a finite number ≥ 0, got ${v}`);
  return v;
}

export function combineLosses(losses: { global?: tf.Scalar; local?: tf.Scalar }, options: CombineOptions): CombinedLoss {
  const { weighting, components } = options;
  if (!['learned', 'fixed', 'localOnly'].includes(weighting)) throw new Error(`combineLosses: unknown weighting "${String(weighting)}"`);
  if (!['both', 'global', 'local'].includes(components)) throw new Error(`combineLosses: unknown components "${String(components)}"`);
  if (weighting === 'localOnly') {
    if (components === 'global') throw new Error("combineLosses: weighting 'localOnly' trains L_L alone, which contradicts components 'global'");
    const local = needScalar(losses.local, 'the local loss', "for weighting 'localOnly'");
    return { total: tf.clone(local), alpha: 0, beta: 1 };
  }
  const useGlobal = components !== 'local';
  const useLocal = components !== 'global';
  const why = `for components '${components}'`;
  const global = useGlobal ? needScalar(losses.global, 'the global loss', why) : undefined;
  const local = useLocal ? needScalar(losses.local, 'the local loss', why) : undefined;
  if (weighting === 'fixed') {
    const alpha = useGlobal ? needWeight(options.alpha, 'alpha') : 0;
    const beta = useLocal ? needWeight(options.beta, 'beta') : 0;
    const total = tf.tidy(() => {
      let t: tf.Tensor = tf.scalar(0);
      if (global) t = tf.add(t, tf.mul(global, alpha));
      if (local) t = tf.add(t, tf.mul(local, beta));
      return t as tf.Scalar;
    });
    return { total, alpha, beta };
  }
  const sG = useGlobal ? needScalar(options.sG, 'sG', "for weighting 'learned'") : undefined;
  const sL = useLocal ? needScalar(options.sL, 'sL', "for weighting 'learned'") : undefined;
  const total = tf.tidy(() => {
    let t: tf.Tensor = tf.scalar(0);
    if (global && sG) t = tf.add(t, tf.add(tf.mul(tf.exp(tf.neg(sG)), global), sG));
    if (local && sL) t = tf.add(t, tf.add(tf.mul(tf.exp(tf.neg(sL)), local), sL));
    return t as tf.Scalar;
  });
  return {
    total,
    alpha: sG ? Math.exp(-sG.dataSync()[0]) : 0,
    beta: sL ? Math.exp(-sL.dataSync()[0]) : 0,
  };
}

// AdamW with decoupled weight decay, step for step as torch.optim.AdamW
// (torch 1.13, amsgrad off, maximize off). For each variable p with a
// gradient g at its t-th step:
//   p ← p·(1 − lr·λ)
//   m ← β₁·m + (1 − β₁)·g          v ← β₂·v + (1 − β₂)·g²
//   p ← p − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
// A variable without a gradient in a step is left alone and its step count
// does not advance (as torch skips parameters whose .grad is None).
// lrScales gives some variables the rate lr·scale (torch param groups whose
// lr is a multiple of the base one; a schedule that sets the base rate
// moves every group alike, as StepLR multiplies each group's rate).
// follows: METHOD.md §6 (AdamW)
import { tf } from '../backend';
import { adamwUpdate } from '../native/fused-adamw';

export interface AdamWOptions {
  lr: number;
  /** (β₁, β₂), default (0.9, 0.999) */
  betas?: [number, number];
  /** default 1e-8 */
  eps?: number;
  /** λ, default 0.01 */
  weightDecay?: number;
  /** multipliers of lr for some variables (default 1): their update and their decay use lr·scale */
  lrScales?: ReadonlyMap<tf.Variable, number>;
}

export interface AdamWVariableState {
  /** the variable's name when saved (informative; matching is by position) */
  name: string;
  shape: number[];
  /** steps this variable has taken */
  step: number;
  /** first and second moments, flattened; empty before the first step */
  m: number[];
  v: number[];
}

export interface AdamWState {
  format: 'adamw-1';
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  /** step() calls so far */
  iterations: number;
  variables: AdamWVariableState[];
}

interface Slot {
  variable: tf.Variable;
  step: number;
  m: tf.Variable | null;
  v: tf.Variable | null;
  /** this variable's rate is lr·lrScale */
  lrScale: number;
}

function checkHyper(o: { lr: number; betas: [number, number]; eps: number; weightDecay: number }, where: string): void {
  if (!Number.isFinite(o.lr) || o.lr < 0) throw new Error(`${where}: lr must be a finite number ≥ 0, got ${o.lr}`);
  if (!Array.isArray(o.betas) || o.betas.length !== 2 || o.betas.some((b) => !(b >= 0 && b < 1))) {
    throw new Error(`${where}: betas must be two numbers in [0, 1), got ${JSON.stringify(o.betas)}`);
  }
  if (!Number.isFinite(o.eps) || o.eps < 0) throw new Error(`${where}: eps must be a finite number ≥ 0, got ${o.eps}`);
  if (!Number.isFinite(o.weightDecay) || o.weightDecay < 0) throw new Error(`${where}: weightDecay must be a finite number ≥ 0, got ${o.weightDecay}`);
}

export class AdamW {
  private lr: number;
  private betas: [number, number];
  private eps: number;
  private weightDecay: number;
  private readonly slots: Slot[];
  private readonly byName = new Map<string, Slot>();
  private readonly byVariable = new Map<tf.Variable, Slot>();
  private iterations = 0;
  private disposed = false;

  constructor(params: tf.Variable[], options: AdamWOptions) {
    const o = { lr: options.lr, betas: options.betas ?? ([0.9, 0.999] as [number, number]), eps: options.eps ?? 1e-8, weightDecay: options.weightDecay ?? 0.01 };
    checkHyper(o, 'AdamW');
    this.lr = o.lr;
    this.betas = [o.betas[0], o.betas[1]];
    this.eps = o.eps;
    this.weightDecay = o.weightDecay;
    const scales = options.lrScales ?? new Map<tf.Variable, number>();
    for (const [variable, scale] of scales) {
      if (!params.includes(variable)) throw new Error(`AdamW: lrScales names variable "${variable.name}", which is not one of the parameters`);
      if (!Number.isFinite(scale) || scale < 0) throw new Error(`AdamW: the lr scale of "${variable.name}" must be a finite number ≥ 0, got ${scale}`);
    }
    this.slots = params.map((variable) => ({ variable, step: 0, m: null, v: null, lrScale: scales.get(variable) ?? 1 }));
    for (const s of this.slots) {
      if (this.byVariable.has(s.variable)) throw new Error(`AdamW: variable "${s.variable.name}" is listed twice`);
      if (s.variable.dtype !== 'float32') throw new Error(`AdamW: variable "${s.variable.name}" is ${s.variable.dtype}, expected float32`);
      this.byVariable.set(s.variable, s);
      this.byName.set(s.variable.name, s);
    }
  }

  get learningRate(): number {
    return this.lr;
  }

  get stepCount(): number {
    return this.iterations;
  }

  setLearningRate(lr: number): void {
    if (!Number.isFinite(lr) || lr < 0) throw new Error(`AdamW.setLearningRate: lr must be a finite number ≥ 0, got ${lr}`);
    this.lr = lr;
  }

  /** One update from gradients keyed by variable or by variable name (as tf.variableGrads gives). The gradients stay the caller's. */
  step(grads: Map<tf.Variable, tf.Tensor> | tf.NamedTensorMap): void {
    if (this.disposed) throw new Error('AdamW.step: the optimizer was disposed');
    const pairs: [Slot, tf.Tensor][] = [];
    const entries: [string, tf.Variable | undefined, tf.Tensor][] =
      grads instanceof Map ? [...grads].map(([v, g]) => [v.name, v, g]) : Object.entries(grads).map(([n, g]) => [n, undefined, g]);
    for (const [name, variable, g] of entries) {
      const slot = variable ? this.byVariable.get(variable) : this.byName.get(name);
      if (!slot) throw new Error(`AdamW.step: gradient for variable "${name}", which this optimizer does not update (pass varList to tf.variableGrads)`);
      if (g.shape.length !== slot.variable.shape.length || g.shape.some((d, i) => d !== slot.variable.shape[i])) {
        throw new Error(`AdamW.step: gradient of "${name}" has shape [${g.shape.join(', ')}], the variable [${slot.variable.shape.join(', ')}]`);
      }
      pairs.push([slot, g]);
    }
    const [b1, b2] = this.betas;
    for (const [slot, g] of pairs) {
      slot.step += 1;
      if (!slot.m || !slot.v) {
        // variables are not tracked by tidy; the zeros they start from are
        slot.m = tf.tidy(() => tf.variable(tf.zerosLike(slot.variable), false));
        slot.v = tf.tidy(() => tf.variable(tf.zerosLike(slot.variable), false));
      }
      const m = slot.m;
      const v = slot.v;
      const bc1 = 1 - b1 ** slot.step;
      const bc2Sqrt = Math.sqrt(1 - b2 ** slot.step);
      tf.tidy(() => {
        // one fused pass over p, g, m, v with the native kernels (in place: the variables take the results at once); the same ops in TF.js without
        const u = adamwUpdate(slot.variable, g, m, v, { lr: this.lr * slot.lrScale, beta1: b1, beta2: b2, eps: this.eps, weightDecay: this.weightDecay, biasCorrection1: bc1, biasCorrection2Sqrt: bc2Sqrt }, { inPlace: true });
        m.assign(u.m);
        v.assign(u.v);
        slot.variable.assign(u.p);
      });
    }
    this.iterations += 1;
  }

  /** Everything needed to resume exactly: hyper-parameters, step counts and moments as plain arrays (JSON-safe). */
  getState(): AdamWState {
    return {
      format: 'adamw-1',
      lr: this.lr,
      betas: [this.betas[0], this.betas[1]],
      eps: this.eps,
      weightDecay: this.weightDecay,
      iterations: this.iterations,
      variables: this.slots.map((s) => ({
        name: s.variable.name,
        shape: s.variable.shape.slice(),
        step: s.step,
        m: s.m ? Array.from(s.m.dataSync()) : [],
        v: s.v ? Array.from(s.v.dataSync()) : [],
      })),
    };
  }

  /** Restores a saved state onto the same list of variables (matched by position and shape). */
  setState(state: AdamWState): void {
    const where = 'AdamW.setState';
    if (!state || state.format !== 'adamw-1') throw new Error(`${where}: not an AdamW state (format ${String(state?.format)})`);
    checkHyper(state, where);
    if (!Number.isInteger(state.iterations) || state.iterations < 0) throw new Error(`${where}: iterations must be an integer ≥ 0`);
    if (!Array.isArray(state.variables) || state.variables.length !== this.slots.length) {
      throw new Error(`${where}: state has ${state.variables?.length} variables, the optimizer ${this.slots.length}`);
    }
    state.variables.forEach((sv, i) => {
      const slot = this.slots[i];
      const shape = slot.variable.shape;
      if (!Array.isArray(sv.shape) || sv.shape.length !== shape.length || sv.shape.some((d, j) => d !== shape[j])) {
        throw new Error(`${where}: variable ${i} ("${sv.name}") was saved with shape [${sv.shape}], now [${shape.join(', ')}] ("${slot.variable.name}")`);
      }
      if (!Number.isInteger(sv.step) || sv.step < 0) throw new Error(`${where}: variable ${i} ("${sv.name}") has step ${sv.step}`);
      if (!Array.isArray(sv.m) || !Array.isArray(sv.v)) throw new Error(`${where}: variable ${i} ("${sv.name}") moments must be arrays of numbers`);
      if (sv.m.some((x) => typeof x !== 'number') || sv.v.some((x) => typeof x !== 'number')) {
        throw new Error(`${where}: variable ${i} ("${sv.name}") moments must be arrays of numbers`);
      }
      const size = slot.variable.size;
      const empty = sv.step === 0 && sv.m.length === 0 && sv.v.length === 0;
      if (!empty && (sv.m.length !== size || sv.v.length !== size)) {
        throw new Error(`${where}: variable ${i} ("${sv.name}") moments have ${sv.m.length}/${sv.v.length} values, expected ${size}`);
      }
    });
    this.disposeMoments();
    this.lr = state.lr;
    this.betas = [state.betas[0], state.betas[1]];
    this.eps = state.eps;
    this.weightDecay = state.weightDecay;
    this.iterations = state.iterations;
    state.variables.forEach((sv, i) => {
      const slot = this.slots[i];
      slot.step = sv.step;
      if (sv.m.length > 0) {
        slot.m = tf.tidy(() => tf.variable(tf.tensor(sv.m, slot.variable.shape, 'float32'), false));
        slot.v = tf.tidy(() => tf.variable(tf.tensor(sv.v, slot.variable.shape, 'float32'), false));
      }
    });
  }

  private disposeMoments(): void {
    for (const s of this.slots) {
      s.m?.dispose();
      s.v?.dispose();
      s.m = null;
      s.v = null;
    }
  }

  /** Frees the moments (the variables themselves belong to the caller). */
  dispose(): void {
    this.disposeMoments();
    this.disposed = true;
  }
}

// A minimal PyTorch-like module tree over tf.Variables. Parameter names are
// PyTorch state_dict names ("layer1.0.conv1.weight"), so MedicalNet and
// HuggingFace checkpoints map onto them directly and our own safetensors
// checkpoints read back in PyTorch.
import { tf } from '../backend';

export type TensorLayout = 'torch' | 'tf';

export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

export abstract class Module {
  private readonly _params = new Map<string, tf.Variable>();
  /** permutation taking this engine's layout to PyTorch's, per parameter */
  private readonly _torchPerm = new Map<string, number[]>();
  private readonly _buffers = new Map<string, tf.Variable>();
  private readonly _children = new Map<string, Module>();
  private _frozen = false;

  /**
   * Registers a trainable parameter (takes ownership of `init`).
   * `torchPerm`: the transpose taking this layout to PyTorch's, e.g. a
   * conv3d kernel [d,h,w,in,out] → [out,in,d,h,w] is [4, 3, 0, 1, 2].
   */
  protected param(name: string, init: tf.Tensor, torchPerm?: number[]): tf.Variable {
    if (this._params.has(name) || this._buffers.has(name)) throw new Error(`duplicate parameter "${name}"`);
    const v = tf.variable(init, true);
    init.dispose();
    this._params.set(name, v);
    if (torchPerm) this._torchPerm.set(name, torchPerm);
    return v;
  }

  /** name → permutation to PyTorch layout, for every parameter that needs one. */
  torchPermutations(prefix = ''): Map<string, number[]> {
    const out = new Map<string, number[]>();
    for (const [n, p] of this._torchPerm) out.set(prefix + n, p);
    for (const [n, c] of this._children) for (const [k, p] of c.torchPermutations(`${prefix}${n}.`)) out.set(k, p);
    return out;
  }

  /** Registers a non-trainable state tensor (e.g. BN running stats). */
  protected buffer(name: string, init: tf.Tensor): tf.Variable {
    if (this._params.has(name) || this._buffers.has(name)) throw new Error(`duplicate buffer "${name}"`);
    const v = tf.variable(init, false);
    init.dispose();
    this._buffers.set(name, v);
    return v;
  }

  protected child<M extends Module>(name: string, m: M): M {
    if (this._children.has(name)) throw new Error(`duplicate child "${name}"`);
    this._children.set(name, m);
    return m;
  }

  children(): [string, Module][] {
    return [...this._children.entries()];
  }

  /** All parameters with dotted PyTorch names, in registration order. */
  namedParameters(prefix = ''): [string, tf.Variable][] {
    const out: [string, tf.Variable][] = [];
    for (const [n, v] of this._params) out.push([prefix + n, v]);
    for (const [n, c] of this._children) out.push(...c.namedParameters(`${prefix}${n}.`));
    return out;
  }

  namedBuffers(prefix = ''): [string, tf.Variable][] {
    const out: [string, tf.Variable][] = [];
    for (const [n, v] of this._buffers) out.push([prefix + n, v]);
    for (const [n, c] of this._children) out.push(...c.namedBuffers(`${prefix}${n}.`));
    return out;
  }

  /** Parameters and buffers: what a checkpoint stores. */
  stateEntries(): [string, tf.Variable][] {
    return [...this.namedParameters(), ...this.namedBuffers()];
  }

  /** Freezes (or unfreezes) this module and everything under it. */
  setFrozen(frozen: boolean): void {
    this._frozen = frozen;
    for (const [, v] of this._params) v.trainable = !frozen;
    for (const [, c] of this._children) c.setFrozen(frozen);
  }

  get frozen(): boolean {
    return this._frozen;
  }

  /** Trainable variables (what an optimizer updates). */
  get trainableWeights(): tf.Variable[] {
    return this.namedParameters()
      .map(([, v]) => v)
      .filter((v) => v.trainable);
  }

  countParameters(trainableOnly = false): number {
    return this.namedParameters()
      .filter(([, v]) => !trainableOnly || v.trainable)
      .reduce((s, [, v]) => s + v.size, 0);
  }

  dispose(): void {
    for (const [, v] of this._params) v.dispose();
    for (const [, v] of this._buffers) v.dispose();
    for (const [, c] of this._children) c.dispose();
    this._params.clear();
    this._buffers.clear();
  }
}

function inversePerm(p: number[]): number[] {
  const inv = new Array<number>(p.length);
  p.forEach((axis, i) => (inv[axis] = i));
  return inv;
}

/** The module's state in PyTorch layout (new tensors; caller disposes). */
export function torchStateDict(m: Module): Map<string, tf.Tensor> {
  const perms = m.torchPermutations();
  const out = new Map<string, tf.Tensor>();
  for (const [name, v] of m.stateEntries()) {
    const p = perms.get(name);
    out.set(name, p ? tf.transpose(v, p) : v.clone());
  }
  return out;
}

export interface LoadStateResult {
  missing: string[];
  unexpected: string[];
}

/**
 * Assigns tensors given in PyTorch layout to the module's variables.
 * Every shape is checked; with `strict`, missing or unexpected keys are an
 * error (listing all of them).
 */
export function loadTorchState(
  m: Module,
  state: Map<string, tf.Tensor>,
  options: { strict?: boolean; source?: string } = {},
): LoadStateResult {
  const strict = options.strict ?? true;
  const source = options.source ?? 'state dict';
  const perms = m.torchPermutations();
  const own = new Map(m.stateEntries());
  const missing = [...own.keys()].filter((k) => !state.has(k));
  const unexpected = [...state.keys()].filter((k) => !own.has(k));
  const problems: string[] = [];
  if (strict && missing.length) problems.push(`missing keys: ${missing.join(', ')}`);
  if (strict && unexpected.length) problems.push(`unexpected keys: ${unexpected.join(', ')}`);
  for (const [name, v] of own) {
    const t = state.get(name);
    if (!t) continue;
    const p = perms.get(name);
    const want = p ? p.map((axis) => v.shape[axis]) : v.shape;
    if (t.shape.length !== want.length || t.shape.some((s, i) => s !== want[i])) {
      problems.push(`${name}: shape [${t.shape.join(',')}] does not match the model's [${want.join(',')}] (PyTorch layout)`);
    }
  }
  if (problems.length) throw new Error(`${source}: cannot load: ${problems.join('; ')}`);
  for (const [name, v] of own) {
    const t = state.get(name);
    if (!t) continue;
    const p = perms.get(name);
    tf.tidy(() => v.assign((p ? tf.transpose(t, inversePerm(p)) : t).cast(v.dtype)));
  }
  return { missing, unexpected };
}

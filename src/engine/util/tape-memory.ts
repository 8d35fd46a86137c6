// Backpropagation that frees each tensor as soon as nothing later needs it,
// as PyTorch's autograd does. TF.js (4.22, Engine.gradients) keeps every tape
// node's saved forward tensors, every intermediate gradient and every partial
// gradient of a tensor used more than once until the whole backward pass
// ends, so a training step holds about all activations plus all their
// gradients at once.
//
// This replaces Engine.gradients with the same walk (same filtered tape, same
// order, same gradient functions, same accumulation by add, same errors) that
// releases, once a node's input gradients are computed:
//   - the node's saved tensors (clones kept for it alone),
//   - the gradients of its outputs (a tensor has one producer, so its
//     gradient is read once),
//   - a partial gradient once it has been added into the running sum,
// except what is still referenced: a gradient function may hand back its dy
// (identity) or a saved tensor, and the results (the xs' gradients) and the
// caller's dy are never released. Values are unchanged, only the time at
// which tensors are released moves. Higher-order gradients (a tape inside a
// tape) and MRCL_TAPE_EARLY_FREE=0 use TF.js's own Engine.gradients.
// (tfjs itself, not ../backend: backend.ts installs this when it activates a backend)
import * as tf from '@tensorflow/tfjs';

interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  saved?: tf.Tensor[];
  gradient?: (dys: Array<tf.Tensor | null>) => Record<string, () => tf.Tensor>;
}

interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  gradients(f: () => tf.Tensor, xs: tf.Tensor[], dy?: tf.Tensor, allowNoGradients?: boolean): { value: tf.Tensor; grads: tf.Tensor[] };
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  startTape(): void;
  endTape(): void;
  tidy<T extends tf.TensorContainer>(nameOrFn: string | (() => T), fn?: () => T): T;
}

let installed = false;
let enabled = false;

/**
 * Runs `f` without recording its ops for backpropagation, as PyTorch builds
 * no graph for modules whose parameters and inputs need no gradient. Only
 * for work nothing will differentiate: a gradient that would flow through it
 * is not computed (TF.js then reports the tensor as unconnected). Its
 * intermediate tensors are then not kept as saved tensors until the step's
 * backward pass ends.
 */
export function untaped<T>(f: () => T): T {
  const engine = tf.engine() as unknown as EngineInternals;
  const depth = engine.state.gradientDepth;
  if (depth === 0) return f();
  engine.state.gradientDepth = 0;
  try {
    return f();
  } finally {
    engine.state.gradientDepth = depth;
  }
}

/** Whether backpropagation releases tensors early (see the file's comment). */
export function tapeEarlyFree(): boolean {
  return enabled;
}

/** The nodes on a path from one of `xs` to `y`, in tape order, each with only its inputs that come from `xs`. */
function filterTape(tape: readonly TapeNode[], xs: readonly tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set<number>(xs.map((x) => x.id));
  const nodesFromX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((t) => fromX.has(t.id))) {
      for (const o of node.outputs) fromX.add(o.id);
      nodesFromX.add(node.id);
    }
  }
  const toY = new Set<number>([y.id]);
  const nodesToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    if (node.outputs.some((o) => toY.has(o.id))) {
      for (const t of Object.values(node.inputs)) toY.add(t.id);
      nodesToY.add(node.id);
    }
  }
  const out: TapeNode[] = [];
  for (const node of tape) {
    if (!nodesFromX.has(node.id) || !nodesToY.has(node.id)) continue;
    const inputs: Record<string, tf.Tensor> = {};
    for (const [name, t] of Object.entries(node.inputs)) if (fromX.has(t.id)) inputs[name] = t;
    out.push({ ...node, inputs });
  }
  return out;
}

/** Accumulated gradients by tensor id, counting how many entries hold each gradient tensor. */
class Gradients {
  private readonly byId = new Map<number, tf.Tensor>();
  private readonly uses = new Map<tf.Tensor, number>();

  get(id: number): tf.Tensor | undefined {
    return this.byId.get(id);
  }

  set(id: number, t: tf.Tensor): void {
    this.drop(id);
    this.byId.set(id, t);
    this.uses.set(t, (this.uses.get(t) ?? 0) + 1);
  }

  /** Removes the entry; returns its tensor when no other entry holds it. */
  drop(id: number): tf.Tensor | undefined {
    const t = this.byId.get(id);
    if (!t) return undefined;
    this.byId.delete(id);
    const n = (this.uses.get(t) ?? 1) - 1;
    if (n > 0) {
      this.uses.set(t, n);
      return undefined;
    }
    this.uses.delete(t);
    return t;
  }

  held(t: tf.Tensor): boolean {
    return this.uses.has(t);
  }
}

function backward(engine: EngineInternals, tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor, dy: tf.Tensor | undefined): tf.Tensor[] {
  const acc = new Gradients();
  const seed = dy ?? tf.ones(y.shape);
  acc.set(y.id, seed);
  const results = new Set<number>(xs.map((x) => x.id));
  const none = new Set<tf.Tensor>();
  const release = (t: tf.Tensor | undefined, keep: Set<tf.Tensor>) => {
    if (t && t !== dy && !keep.has(t) && !acc.held(t)) t.dispose();
  };
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    const dys = node.outputs.map((o) => acc.get(o.id) ?? null);
    if (node.gradient == null) throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
    const inputGradients = node.gradient(dys);
    const produced = new Set<tf.Tensor>();
    for (const inputName in node.inputs) {
      if (!(inputName in inputGradients)) {
        throw new Error(`Cannot backprop through input ${inputName}. Available gradients found: ${Object.keys(inputGradients)}.`);
      }
      const dx = engine.tidy(() => inputGradients[inputName]());
      if (dx.dtype !== 'float32') {
        throw new Error(`Error in gradient for op ${node.kernelName}. The gradient of input ${inputName} must have 'float32' dtype, but has '${dx.dtype}'`);
      }
      const x = node.inputs[inputName];
      if (!tf.util.arraysEqual(dx.shape, x.shape)) {
        throw new Error(`Error in gradient for op ${node.kernelName}. The gradient of input '${inputName}' has shape '${dx.shape}', which does not match the shape of the input '${x.shape}'`);
      }
      produced.add(dx);
      const cur = acc.get(x.id);
      if (cur == null) {
        acc.set(x.id, dx);
      } else {
        acc.set(x.id, tf.add(cur, dx));
        release(cur, none);
        release(dx, none);
      }
    }
    // this node is done: its outputs' gradients and its saved tensors are not read again
    for (const o of node.outputs) {
      if (!results.has(o.id)) release(acc.drop(o.id), produced);
    }
    for (const t of node.saved ?? []) release(t, produced);
  }
  return xs.map((x) => acc.get(x.id) as tf.Tensor);
}

/**
 * Installs (once) or toggles early release on the TF.js engine. Default:
 * on unless MRCL_TAPE_EARLY_FREE=0.
 */
export function setTapeEarlyFree(on = process.env.MRCL_TAPE_EARLY_FREE !== '0'): void {
  enabled = on;
  if (installed || !on) return;
  installed = true;
  const engine = tf.engine() as unknown as EngineInternals;
  const original = engine.gradients.bind(engine);
  engine.gradients = (f, xs, dy, allowNoGradients = false) => {
    if (!enabled || engine.state.gradientDepth !== 0) return original(f, xs, dy, allowNoGradients);
    tf.util.assert(xs.length > 0, () => 'gradients() received an empty list of xs.');
    if (dy != null && dy.dtype !== 'float32') throw new Error(`dy must have 'float32' dtype, but has '${dy.dtype}'`);
    const y = engine.scopedRun(
      () => engine.startTape(),
      () => engine.endTape(),
      () => engine.tidy('forward', f),
    );
    tf.util.assert(y instanceof tf.Tensor, () => 'The result y returned by f() must be a tensor.');
    const tape = engine.state.activeTape ?? [];
    const filtered = filterTape(tape, xs, y);
    if (!allowNoGradients && filtered.length === 0 && xs.length > 0) {
      throw new Error('Cannot compute gradient of y=f(x) with respect to x. Make sure that the f you passed encloses all operations that lead from x to y.');
    }
    return engine.tidy('backward', () => {
      const grads = backward(engine, filtered, xs, y, dy ?? undefined);
      // what was not released early (nodes off the path, the first nodes' saved tensors)
      for (const node of tape) for (const t of node.saved ?? []) t.dispose();
      engine.state.activeTape = null;
      return { value: y, grads };
    }) as { value: tf.Tensor; grads: tf.Tensor[] };
  };
}

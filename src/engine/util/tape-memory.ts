// Frees each tape node's tensors as soon as backpropagation has passed it,
// as PyTorch's autograd does. TF.js (4.22, engine.gradients) keeps every
// node's saved forward tensors and every intermediate gradient until the
// whole backward pass ends, so a training step's peak memory is about all
// activations plus all their gradients at once.
//
// How: backpropagation walks the tape in reverse, one node at a time, and a
// node's inputs' gradients are computed before the next node starts. The
// wrapper around each node's gradient function therefore releases, when the
// next node's gradient is requested, what the previous node no longer needs:
// its saved tensors (clones kept for it alone) and the gradients of its
// outputs (each tensor has one producer, so its gradient is read once).
// Nothing is released that a gradient function returned (an identity
// gradient hands back its dy), nor during higher-order gradients (the outer
// tape still needs them), and the engine's own end-of-pass clean-up is left
// in place (disposing twice is a no-op). Values are unchanged: only the time
// at which tensors are released moves. MRCL_TAPE_EARLY_FREE=0 turns it off.
// (tfjs itself, not ../backend: backend.ts installs this when it activates a backend)
import * as tf from '@tensorflow/tfjs';

interface TapeNode {
  saved?: tf.Tensor[];
  gradient?: (dys: Array<tf.Tensor | null>) => Record<string, () => tf.Tensor>;
}

interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  addTapeNode(kernelName: string, inputs: unknown, outputs: tf.Tensor[], gradientsFunc: unknown, saved: tf.Tensor[], attrs: unknown): void;
}

/** What the node whose gradient ran last leaves behind, released when the next one starts. */
interface Pending {
  saved: tf.Tensor[];
  dys: tf.Tensor[];
  returned: Set<tf.Tensor>;
}

let installed = false;
let enabled = false;
let pending: Pending | null = null;

function release(p: Pending): void {
  for (const t of p.saved) if (!p.returned.has(t)) t.dispose();
  for (const t of p.dys) if (!p.returned.has(t)) t.dispose();
}

/** Whether tape nodes release their tensors during backpropagation (see the file's comment). */
export function tapeEarlyFree(): boolean {
  return enabled;
}

/**
 * Installs (once) or toggles early release on the TF.js engine. Default:
 * on unless MRCL_TAPE_EARLY_FREE=0.
 */
export function setTapeEarlyFree(on = process.env.MRCL_TAPE_EARLY_FREE !== '0'): void {
  enabled = on;
  pending = null;
  if (installed || !on) return;
  installed = true;
  const engine = tf.engine() as unknown as EngineInternals;
  const addTapeNode = engine.addTapeNode.bind(engine);
  engine.addTapeNode = (kernelName, inputs, outputs, gradientsFunc, saved, attrs) => {
    addTapeNode(kernelName, inputs, outputs, gradientsFunc, saved, attrs);
    const tape = engine.state.activeTape;
    const node = tape?.[tape.length - 1];
    const gradient = node?.gradient;
    if (!node || !gradient) return;
    node.gradient = (dys) => {
      if (pending) {
        const p = pending;
        pending = null;
        release(p);
      }
      const map = gradient(dys);
      if (!enabled || engine.state.gradientDepth !== 0) return map;
      const record: Pending = { saved: node.saved ?? [], dys: dys.filter((d): d is tf.Tensor => d != null), returned: new Set() };
      const wrapped: Record<string, () => tf.Tensor> = {};
      for (const [name, f] of Object.entries(map)) {
        wrapped[name] = () => {
          const dx = f();
          record.returned.add(dx);
          return dx;
        };
      }
      pending = record;
      return wrapped;
    };
  };
}

/** Releases what the last node of a finished backward pass left pending (the engine frees it too; this only drops the reference). */
export function clearTapePending(): void {
  pending = null;
}

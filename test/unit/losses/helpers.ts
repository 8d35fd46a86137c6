// Shared pieces of the loss tests: cpu backend, leak checks, comparisons,
// central finite differences of a scalar tensor function.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../../../src/engine/backend';

let ready: Promise<void> | undefined;
export function cpu(): Promise<void> {
  ready ??= tf.setBackend('cpu').then(() => tf.ready());
  return ready;
}

export function noLeaks(what: string, f: () => void): void {
  const before = tf.memory().numTensors;
  f();
  assert.equal(tf.memory().numTensors, before, `${what} leaked ${tf.memory().numTensors - before} tensors`);
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} ≠ ${expected.length}`);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  assert.ok(worst <= tol, `${what}: max abs diff ${worst} > ${tol}`);
}

/** Loss value as a number, disposing the tensor. */
export function value(f: () => tf.Scalar): number {
  const t = f();
  const v = t.dataSync()[0];
  t.dispose();
  return v;
}

/** Gradients of a scalar function of several inputs, as flat arrays. */
export function gradients(f: (...xs: tf.Tensor[]) => tf.Scalar, inputs: tf.Tensor[]): Float32Array[] {
  const gs = tf.grads((...xs: tf.Tensor[]) => f(...xs))(inputs);
  const out = gs.map((g) => g.dataSync() as Float32Array);
  tf.dispose(gs);
  return out;
}

/** Central differences ∂f/∂x for every element of every input (step h). */
export function finiteDifferences(f: (...xs: tf.Tensor[]) => tf.Scalar, inputs: tf.Tensor[], h: number): number[][] {
  const base = inputs.map((x) => Float32Array.from(x.dataSync()));
  const at = (values: Float32Array[]): number => {
    const xs = values.map((v, i) => tf.tensor(v, inputs[i].shape, 'float32'));
    const loss = value(() => f(...xs));
    tf.dispose(xs);
    return loss;
  };
  return base.map((b, which) =>
    Array.from(b, (_, e) => {
      const plus = base.map((v) => v.slice());
      const minus = base.map((v) => v.slice());
      plus[which][e] += h;
      minus[which][e] -= h;
      // the step actually taken after float32 rounding
      return (at(plus) - at(minus)) / (plus[which][e] - minus[which][e]);
    }),
  );
}

export function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(join(__dirname, '../../fixtures/losses', name), 'utf8')) as T;
}

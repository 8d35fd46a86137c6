import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, setBackend } from '../../../src/engine/backend';
import { setTapeEarlyFree, tapeEarlyFree } from '../../../src/engine/util/tape-memory';

function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sin(seed + 0.7 * i) * 0.5;
  return out;
}

/** A deep chain with every gradient shape the engine meets: saved inputs and outputs, a tensor used twice, an identity, a broadcast, a custom gradient. */
function build(depth: number, width: number) {
  const ws = Array.from({ length: depth }, (_, i) => tf.variable(tf.tensor2d(values(width * width, i + 1), [width, width]).div(Math.sqrt(width))));
  const bias = tf.variable(tf.tensor1d(values(width, 99)));
  const x = tf.tensor2d(values(512 * width, 7), [512, width]);
  const square = tf.customGrad(((t: tf.Tensor, save: tf.GradSaveFunc) => {
    save([t]);
    return { value: t.square(), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => dy.mul(saved[0]).mul(2) };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  const f = (): tf.Scalar => {
    let h: tf.Tensor = x;
    for (const w of ws) {
      const z = tf.matMul(h, w).add(bias);
      h = tf.relu(z).add(z.mul(0.1)); // z used twice: gradients accumulate
      h = tf.clone(h); // identity gradient
    }
    return (square(h) as tf.Tensor).mean() as tf.Scalar;
  };
  return { vars: [...ws, bias], f, dispose: () => tf.dispose([...ws, bias, x]) };
}

/**
 * The step's gradients, and the most tensor bytes alive while backpropagation
 * ran (sampled as each tape node's gradient is requested: tf.profile's peak
 * is reached in the forward pass and counts a buffer once per tensor viewing it).
 */
async function gradsOf(on: boolean, m: ReturnType<typeof build>): Promise<{ value: number; grads: Float32Array[]; backwardPeak: number }> {
  setTapeEarlyFree(on);
  const engine = tf.engine() as unknown as {
    state: { activeTape: Array<{ gradient?: (dys: unknown) => unknown }> };
    addTapeNode: (...args: unknown[]) => void;
  };
  const addTapeNode = engine.addTapeNode;
  let backwardPeak = 0;
  engine.addTapeNode = (...args: unknown[]) => {
    addTapeNode.apply(engine, args);
    const node = engine.state.activeTape[engine.state.activeTape.length - 1];
    const gradient = node.gradient;
    if (gradient) {
      node.gradient = (dys: unknown) => {
        backwardPeak = Math.max(backwardPeak, tf.memory().numBytes);
        return gradient(dys);
      };
    }
  };
  try {
    const { value, grads } = tf.variableGrads(m.f, m.vars);
    const out = { value: value.dataSync()[0], grads: m.vars.map((v) => grads[v.name].dataSync() as Float32Array), backwardPeak };
    tf.dispose([value, ...Object.values(grads)]);
    return out;
  } finally {
    engine.addTapeNode = addTapeNode;
  }
}

test('early release during backpropagation: the same gradients bit for bit, a lower peak, no leaks', async () => {
  await setBackend('cpu');
  const m = build(12, 64);
  try {
    const before = tf.memory().numTensors;
    const late = await gradsOf(false, m);
    const afterLate = tf.memory().numTensors;
    const early = await gradsOf(true, m);
    const afterEarly = tf.memory().numTensors;
    assert.equal(early.value, late.value);
    for (let i = 0; i < late.grads.length; i++) assert.deepEqual(early.grads[i], late.grads[i], `gradient ${i}`);
    assert.equal(afterLate, before, 'no leak with release at the end');
    assert.equal(afterEarly, before, 'no leak with early release');
    // without early release every saved tensor and intermediate gradient lives until the end of the pass
    assert.ok(early.backwardPeak < 0.7 * late.backwardPeak, `backward peak ${early.backwardPeak} B with early release vs ${late.backwardPeak} B without`);
    // a second pass after the first (what the first left pending is released or already gone)
    const again = await gradsOf(true, m);
    assert.deepEqual(again.grads[0], late.grads[0]);
    assert.equal(tf.memory().numTensors, before);
  } finally {
    m.dispose();
    setTapeEarlyFree();
  }
});

test('early release keeps what the caller holds: gradients kept across the next pass, identity gradients returned as results', async () => {
  await setBackend('cpu');
  setTapeEarlyFree(true);
  assert.equal(tapeEarlyFree(), true);
  const x = tf.variable(tf.tensor1d([1, 2, 3]));
  try {
    // d/dx of sum(identity(x)): the identity hands dy back as the gradient
    const g1 = tf.variableGrads(() => tf.clone(x).sum() as tf.Scalar, [x]);
    const g2 = tf.variableGrads(() => x.square().sum() as tf.Scalar, [x]);
    assert.deepEqual(Array.from(g1.grads[x.name].dataSync()), [1, 1, 1]);
    assert.deepEqual(Array.from(g2.grads[x.name].dataSync()), [2, 4, 6]);
    tf.dispose([g1.value, g2.value, g1.grads[x.name], g2.grads[x.name]]);
  } finally {
    x.dispose();
    setTapeEarlyFree();
  }
});

test('higher-order gradients are untouched by early release', async () => {
  await setBackend('cpu');
  setTapeEarlyFree(true);
  try {
    const x = tf.tensor1d([0.5, -1, 2]);
    const d2 = tf.grad(tf.grad((t: tf.Tensor) => t.pow(3).sum()));
    const before = tf.memory().numTensors;
    const y = d2(x);
    assert.deepEqual(Array.from(y.dataSync()), [3, -6, 12]); // 6x
    y.dispose();
    assert.equal(tf.memory().numTensors, before);
    x.dispose();
  } finally {
    setTapeEarlyFree();
  }
});

test('early release keeps TF.js errors: no path from x to y, a missing gradient', async () => {
  await setBackend('cpu');
  setTapeEarlyFree(true);
  const x = tf.tensor1d([1, 2]);
  try {
    const before = tf.memory().numTensors;
    assert.throws(() => tf.grad(() => tf.scalar(3))(x), /Cannot compute gradient of y=f\(x\) with respect to x/);
    // a gradient through a sum of squares still works after the error, and nothing leaked
    const g = tf.grad((t: tf.Tensor) => t.square().sum())(x);
    assert.deepEqual(Array.from(g.dataSync()), [2, 4]);
    g.dispose();
    assert.equal(tf.memory().numTensors, before);
  } finally {
    x.dispose();
    setTapeEarlyFree();
  }
});

test('untaped: its ops are not recorded, so nothing differentiates through them; a no-op outside a tape', async () => {
  await setBackend('cpu');
  const { untaped } = await import('../../../src/engine/util/tape-memory');
  const v = tf.variable(tf.tensor1d([1, 2, 3]));
  const c = tf.tensor1d([4, 5, 6]);
  try {
    // a constant computed untaped inside the tape: d/dv sum(v · (c + 1)) = c + 1
    const { value, grads } = tf.variableGrads(() => v.mul(untaped(() => c.add(1))).sum() as tf.Scalar, [v]);
    assert.deepEqual(Array.from(grads[v.name]!.dataSync()), [5, 6, 7]);
    assert.equal(value.dataSync()[0], 4 * 1 + 5 * 2 + 6 * 3 + 1 + 2 + 3);
    tf.dispose([value, grads[v.name]!]);
    // v's use inside untaped is invisible to the tape: the loss is unconnected to v
    assert.throws(() => tf.variableGrads(() => untaped(() => v.mul(2)).sum() as tf.Scalar, [v]), /Cannot find a connection between any variable and the result/);
    const outside = untaped(() => c.mul(2));
    assert.deepEqual(Array.from(outside.dataSync()), [8, 10, 12]);
    outside.dispose();
  } finally {
    tf.dispose([v, c]);
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../../../src/engine/backend';
import { disableNativeKernels, enableNativeKernels, nativeKernelCalls, resetNativeKernelCalls } from '../../../src/engine/native/register';
import { GELU, GELU_GRAD, LAYER_NORM, LAYER_NORM_GRAD, SOFTMAX_GRAD, SOFTMAX_LAST, gelu, layerNorm, softmaxLast } from '../../../src/engine/native/transformer';
import { LongformerEncoder } from '../../../src/engine/networks/longformer';
import { compareNative, nativeAvailable, randomTensor, relativeDiff } from './helpers';

// References from PyTorch (float64, rounded once): test/fixtures/transformer/make_fixture.py
const FIXTURE = JSON.parse(readFileSync(join(__dirname, '../../fixtures/transformer/transformer.json'), 'utf8')) as {
  layerNorm: { shape: [number, number]; eps: number; y: number[]; dx: number[]; dgamma: number[]; dbeta: number[] };
  gelu: { n: number; y: number[]; dx: number[] };
  softmax: { shape: [number, number]; y: number[]; dx: number[] };
};

// The fixture's closed-form inputs (make_fixture.py)
const xValues = (n: number) => Array.from({ length: n }, (_, i) => 4 * Math.sin(0.37 * i + 0.1) + 0.5 * Math.cos(1.3 * i));
const dyValues = (n: number) => Array.from({ length: n }, (_, i) => Math.cos(0.11 * i) - 0.25);

/** Runs f with the native kernels on, asserting each kernel in `kernels` ran natively. */
function withNative<T>(kernels: string[], f: () => T): T {
  enableNativeKernels();
  try {
    resetNativeKernelCalls();
    const out = f();
    const ran = nativeKernelCalls();
    for (const k of kernels) assert.ok((ran[k] ?? 0) > 0, `kernel ${k} did not run natively (ran: ${JSON.stringify(ran)})`);
    return out;
  } finally {
    disableNativeKernels();
  }
}

function close(what: string, actual: tf.Tensor, expected: number[], tolerance: number): void {
  const d = relativeDiff(actual.dataSync(), expected);
  assert.ok(d <= tolerance, `${what}: differs from PyTorch by ${d.toExponential(2)} (relative) > ${tolerance}`);
}

test('native layer norm, GELU and softmax equal PyTorch (values and gradients)', async (t) => {
  if (!(await nativeAvailable(t))) return;
  withNative([LAYER_NORM, LAYER_NORM_GRAD, GELU, GELU_GRAD, SOFTMAX_LAST, SOFTMAX_GRAD], () =>
    tf.tidy(() => {
      const ln = FIXTURE.layerNorm;
      const [rows, D] = ln.shape;
      // ≥ MIN_NATIVE_SIZE elements: repeat the fixture's rows (the gradients of γ and β sum over rows, so compare per copy)
      const copies = 8;
      const x = tf.tensor2d(xValues(rows * D), [rows, D]).tile([copies, 1]);
      const k = Array.from({ length: D }, (_, i) => i);
      const gamma = tf.tensor1d(k.map((i) => 1 + 0.1 * i - (0.05 * i * i) / D));
      const beta = tf.tensor1d(k.map((i) => 0.2 * Math.sin(i)));
      const dy = tf.tensor2d(dyValues(rows * D), [rows, D]).tile([copies, 1]);
      const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => layerNorm(a, g, b, ln.eps);
      const [dx, dg, db] = tf.grads(f)([x, gamma, beta], dy);
      close('layer norm y', f(x, gamma, beta).slice([0, 0], [rows, D]), ln.y, 2e-6);
      close('layer norm dx', dx!.slice([0, 0], [rows, D]), ln.dx, 2e-6);
      close('layer norm dγ', dg!.div(copies), ln.dgamma, 2e-6);
      close('layer norm dβ', db!.div(copies), ln.dbeta, 2e-6);

      const g = FIXTURE.gelu;
      const gx = tf.tensor1d(xValues(g.n));
      const gdy = tf.tensor1d(dyValues(g.n));
      close('gelu y', gelu(gx), g.y, 1e-6);
      close('gelu dx', tf.grad(gelu)(gx, gdy), g.dx, 1e-6);

      const s = FIXTURE.softmax;
      const sx = tf.tensor2d(xValues(s.shape[0] * s.shape[1]), s.shape);
      const sdy = tf.tensor2d(dyValues(s.shape[0] * s.shape[1]), s.shape);
      close('softmax y', softmaxLast(sx), s.y, 1e-6);
      close('softmax dx', tf.grad(softmaxLast)(sx, sdy), s.dx, 1e-6);
    }),
  );
});

test('native layer norm, GELU and softmax = the op-by-op forms (values and gradients, any rank)', async (t) => {
  if (!(await nativeAvailable(t))) return;
  const x = randomTensor([3, 17, 40], 1).mul(3);
  const gamma = randomTensor([40], 2).add(1);
  const beta = randomTensor([40], 3);
  const dy = randomTensor([3, 17, 40], 4);
  compareNative('layer norm', () => [layerNorm(x, gamma, beta, 1e-5), ...tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => layerNorm(a, g, b, 1e-5))([x, gamma, beta], dy)], [LAYER_NORM, LAYER_NORM_GRAD]);
  // a constant row: variance 0, so ε alone sets the scale
  const flat = tf.tidy(() => tf.concat([tf.fill([1, 17, 40], 2.5), x.slice([1, 0, 0], [2, 17, 40])]));
  compareNative('layer norm, constant row', () => [layerNorm(flat, gamma, beta, 1e-5), ...tf.grads((a: tf.Tensor) => layerNorm(a, gamma, beta, 1e-5))([flat], dy)], [LAYER_NORM, LAYER_NORM_GRAD]);
  const wide = randomTensor([4, 9, 64], 5).mul(6);
  const wdy = randomTensor([4, 9, 64], 6);
  compareNative('gelu', () => [gelu(wide), tf.grad(gelu)(wide, wdy)], [GELU, GELU_GRAD]);
  compareNative('softmax', () => [softmaxLast(wide), tf.grad(softmaxLast)(wide, wdy)], [SOFTMAX_LAST, SOFTMAX_GRAD]);
  tf.dispose([x, gamma, beta, dy, flat, wide, wdy]);
});

test('native softmax: masked scores give exact zeros, −∞ too, and NaN stays NaN', async (t) => {
  if (!(await nativeAvailable(t))) return;
  const cols = 50;
  const rows = 30;
  const v = randomTensor([rows, cols], 7).dataSync().slice();
  // row 0: every other column masked as the attention does (−1e9 added); row 1: −∞ columns; row 2: a NaN
  for (let c = 0; c < cols; c += 2) {
    v[c] = v[c]! - 1e9;
    v[cols + c] = -Infinity;
  }
  v[2 * cols + 5] = NaN;
  const x = tf.tensor2d(v, [rows, cols]);
  const y = withNative([SOFTMAX_LAST], () => softmaxLast(x));
  const out = y.dataSync();
  for (let c = 0; c < cols; c++) {
    if (c % 2 === 0) {
      assert.equal(out[c], 0, `masked column ${c} is exactly 0`);
      assert.equal(out[cols + c], 0, `−∞ column ${c} is exactly 0`);
    }
    assert.ok(Number.isNaN(out[2 * cols + c]), `the NaN row is NaN at column ${c}`);
  }
  for (const r of [0, 1, 3]) {
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += out[r * cols + c]!;
    assert.ok(Math.abs(sum - 1) < 1e-6, `row ${r} sums to ${sum}`);
  }
  tf.dispose([x, y]);
});

test('text encoder with the native kernels = pure JS (banded attention, padding, global tokens; gradients of every weight), and leaks nothing', async (t) => {
  if (!(await nativeAvailable(t))) return;
  const enc = new LongformerEncoder(
    { vocabSize: 40, hidden: 32, layers: 2, heads: 2, intermediate: 64, attentionWindow: [8, 8], maxPositions: 80, typeVocabSize: 1, padTokenId: 1, layerNormEps: 1e-5, hiddenDropout: 0, attentionDropout: 0 },
    { seed: 9, initStd: 0.3 },
  );
  const encode = (len: number, offset: number) => {
    const ids = [0, ...Array.from({ length: len - 2 }, (_, i) => 3 + ((i * 7 + offset) % 35)), 2];
    return { ids, wordIds: ids.map((_, i) => (i === 0 || i === len - 1 ? null : Math.floor((i - 1) / 2))) };
  };
  const batch = enc.batch([encode(45, 0), encode(30, 4), encode(38, 9)]);
  // The key biases' true gradients are exactly 0 (a softmax over keys ignores a shift shared by all
  // keys): both runs give rounding noise there, checked below to be negligible instead of compared.
  const names = new Map(enc.namedParameters().map(([n, v]) => [v, n]));
  const isKeyBias = (v: tf.Variable) => /\.key(_global)?\.bias$/.test(names.get(v) ?? '');
  const keyBiases = enc.trainableWeights.filter(isKeyBias);
  assert.equal(keyBiases.length, 4);
  const vars = enc.trainableWeights.filter((v) => !isKeyBias(v));
  // a random projection: sums of layer-normed outputs (or of their squares) have no gradient
  const rt = randomTensor([3, 45, 32], 21);
  const rw = randomTensor([3, enc.maxWords, 32], 22);
  const run = () => {
    const o = enc.forward(batch, { training: true });
    const { value, grads } = tf.variableGrads(() => {
      const p = enc.forward(batch, { training: true });
      return p.tokens.mul(rt).sum().add(p.words.mul(rw).sum()) as tf.Scalar;
    }, vars);
    return [o.tokens, o.words, value, ...vars.map((v) => grads[v.name]!)];
  };
  compareNative('longformer', run, [LAYER_NORM, LAYER_NORM_GRAD, GELU, GELU_GRAD, SOFTMAX_LAST, SOFTMAX_GRAD], 5e-5);
  withNative([], () =>
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => {
        const p = enc.forward(batch, { training: true });
        return p.tokens.mul(rt).sum().add(p.words.mul(rw).sum()) as tf.Scalar;
      }, enc.trainableWeights);
      const largest = (vs: tf.Variable[]) => Math.max(...vs.map((v) => grads[v.name]!.abs().max().dataSync()[0]!));
      assert.ok(largest(keyBiases) <= 1e-4 * largest(vars), `key-bias gradients ${largest(keyBiases)} are not negligible next to ${largest(vars)}`);
    }),
  );
  withNative([], () => {
    tf.dispose(tf.tidy(run)); // warm
    const before = tf.memory().numTensors;
    tf.dispose(tf.tidy(run));
    assert.equal(tf.memory().numTensors, before, 'tensors leaked by a forward + backward pass');
  });
  tf.dispose([rt, rw]);
  enc.dispose();
});

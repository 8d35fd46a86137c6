import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tf } from '../../../src/engine/backend';
import { GlobalHead, LocalImageHead, LocalTextHead, createProjectionHeads, l2Normalize } from '../../../src/engine/networks/heads';
import { loadTorchState, type Module } from '../../../src/engine/networks/module';
import { resolveConfig } from '../../../src/engine/config/resolve';
import { assertClose, cpu, noLeaks } from './helpers';

before(cpu);

interface T {
  shape: number[];
  data: number[];
}
const ref = JSON.parse(readFileSync('test/fixtures/cross-attention/reference.json', 'utf8')) as {
  heads: Record<'global' | 'localImage' | 'localText', Record<string, T>>;
};
const t = (x: T) => tf.tensor(x.data, x.shape);

function load(m: Module, entries: Record<string, T>): void {
  const state = new Map<string, tf.Tensor>();
  for (const [k, v] of Object.entries(entries)) if (k.includes('.')) state.set(k, t(v));
  loadTorchState(m, state, { source: 'heads fixture' });
  tf.dispose([...state.values()]);
}

test('l2Normalize: unit rows, zero rows stay zero with a finite gradient (F.normalize)', () => {
  const x = tf.tensor2d([
    [3, 4],
    [0, 0],
  ]);
  const y = l2Normalize(x);
  assertClose(y.dataSync(), [0.6, 0.8, 0, 0], 1e-7, 'l2Normalize');
  const g = tf.grad((a: tf.Tensor) => l2Normalize(a).sum())(x);
  assert.ok(Array.from(g.dataSync()).every(Number.isFinite));
  tf.dispose([x, y, g]);
});

test('global head matches PyTorch Linear → ReLU → Linear → normalize', () => {
  const r = ref.heads.global;
  const head = new GlobalHead(r['input']!.shape[1]!, r['output']!.shape[1]!);
  load(head, r);
  const x = t(r['input']!);
  const y = head.apply(x);
  assertClose(y.dataSync(), r['output']!.data, 1e-5, 'global head');
  tf.dispose([x, y]);
  head.dispose();
});

test('local image head matches PyTorch 1×1×1 convs on [N, C, D, H, W] flattened to (d, h, w) patches', () => {
  const r = ref.heads.localImage;
  const head = new LocalImageHead(r['input']!.shape[4]!, r['output']!.shape[2]!);
  load(head, r);
  const x = t(r['input']!);
  const y = head.apply(x);
  assert.deepEqual(y.shape, r['output']!.shape);
  assertClose(y.dataSync(), r['output']!.data, 1e-5, 'local image head');
  tf.dispose([x, y]);
  head.dispose();
});

test('local text head matches PyTorch and zeroes masked word slots', () => {
  const r = ref.heads.localText;
  const head = new LocalTextHead(r['input']!.shape[2]!, r['output']!.shape[2]!);
  load(head, r);
  const x = t(r['input']!);
  const m = t(r['wordMask']!);
  const y = head.apply(x, m);
  assertClose(y.dataSync(), r['output']!.data, 1e-5, 'local text head');
  tf.dispose([x, m, y]);
  head.dispose();
});

test('heads from the experiment config: paper dimensions and parameter counts', () => {
  const cfg = resolveConfig({}, 'test');
  const h = createProjectionHeads(cfg.heads, { imageWidth: 64, textHidden: 768 });
  // image global 512→512→512, text global 768→512→512, local image 256→256→256, local text 768→512→256 (the authors' LocalEmbedding)
  assert.equal(h.imageGlobal.countParameters(), 512 * 512 + 512 + 512 * 512 + 512);
  assert.equal(h.textGlobal.countParameters(), 768 * 512 + 512 + 512 * 512 + 512);
  assert.equal(h.imageLocal.countParameters(), 2 * (256 * 256 + 256));
  assert.equal(h.textLocal.countParameters(), 768 * 512 + 512 + 512 * 256 + 256);
  const single = createProjectionHeads({ ...cfg.heads, textLocalHidden: 0 }, { imageWidth: 64, textHidden: 768 });
  assert.equal(single.textLocal.countParameters(), 768 * 256 + 256);
  Object.values(single).forEach((m) => m.dispose());
  Object.values(h).forEach((m) => m.dispose());
  const bad = new GlobalHead(4, 3);
  const x = tf.zeros([2, 5]);
  assert.throws(() => bad.apply(x), /GlobalHead: expected a rank-2 tensor with 4 features last, got shape \[2, 5\]/);
  x.dispose();
  bad.dispose();
});

test('no leaked tensors in heads: forward and gradient', async () => {
  const g = new GlobalHead(6, 4, { seed: 1 });
  const li = new LocalImageHead(3, 4, { seed: 2 });
  const lt = new LocalTextHead(5, 4, { seed: 3 });
  const x = tf.randomNormal([2, 6]);
  const f = tf.randomNormal([2, 2, 2, 1, 3]);
  const w = tf.randomNormal([2, 3, 5]);
  const m = tf.tensor2d([
    [1, 1, 0],
    [1, 0, 0],
  ]);
  await noLeaks('heads forward', () => tf.dispose([g.apply(x), li.apply(f), lt.apply(w, m)]));
  await noLeaks('heads gradient', () => {
    const { value, grads } = tf.variableGrads(() => g.apply(x).sum().add(li.apply(f).square().sum()).add(lt.apply(w, m).sum()) as tf.Scalar);
    assert.equal(Object.keys(grads).length, 10);
    assert.ok(Object.values(grads).every((gr) => Array.from(gr.dataSync()).every(Number.isFinite)));
    tf.dispose([value, ...Object.values(grads)]);
  });
  tf.dispose([x, f, w, m]);
  [g, li, lt].forEach((h) => h.dispose());
});

test('two-layer local text head: Linear → ReLU → Linear → L2 per word, hand-derived', () => {
  const head = new LocalTextHead(2, 2, { hidden: 2 });
  // fc1 = identity with bias (0, −1); fc2 = [[1, 1], [0, 2]], bias 0
  head.fc1!.weight.assign(tf.tensor2d([[1, 0], [0, 1]]));
  head.fc1!.bias!.assign(tf.tensor1d([0, -1]));
  head.fc2!.weight.assign(tf.tensor2d([[1, 1], [0, 2]]));
  head.fc2!.bias!.assign(tf.tensor1d([0, 0]));
  const x = tf.tensor3d([[[3, 4], [1, 0.5]]]);
  const y = head.apply(x, tf.tensor2d([[1, 0]]));
  // word 1: relu(3, 3) → (6, 6) → (1/√2, 1/√2); word 2 masked → 0
  const d = Array.from(y.dataSync());
  assert.ok(Math.abs(d[0]! - Math.SQRT1_2) < 1e-6 && Math.abs(d[1]! - Math.SQRT1_2) < 1e-6, String(d));
  assert.deepEqual(d.slice(2), [0, 0]);
  tf.dispose([x, y]);
  head.dispose();
});

test("GlobalHead inputNorm 'batch': batch statistics in training (running ones updated), running statistics in evaluation, no trainable parameter added", async () => {
  const plain = new GlobalHead(3, 4, { seed: 5 });
  const normed = new GlobalHead(3, 4, { seed: 5, inputNorm: 'batch' });
  assert.equal(normed.countParameters(true), plain.countParameters(true));
  const x = tf.tensor2d([
    [1, 10, -2],
    [3, 10.5, 0],
    [5, 9.5, 2],
    [7, 10, 4],
  ]);
  // hand: per-feature mean (4, 10, 1), biased variance (5, 0.125, 5)
  const standardised = tf.tensor2d([
    [-3, 0, -3],
    [-1, 0.5, -1],
    [1, -0.5, 1],
    [3, 0, 3],
  ]).div(tf.tensor1d([5, 0.125, 5]).add(1e-5).sqrt());
  assertClose(normed.apply(x, { training: true }).dataSync(), plain.apply(standardised).dataSync(), 1e-5, 'training: the plain head on standardised input');
  // running statistics after one update (momentum 0.1, unbiased variance n/(n−1))
  const rm = normed.inputNorm!.runningMean.arraySync() as number[];
  const rv = normed.inputNorm!.runningVar.arraySync() as number[];
  assert.deepEqual(rm.map((v) => +v.toFixed(6)), [0.4, 1, 0.1]);
  assert.deepEqual(rv.map((v) => +v.toFixed(6)), [0.9 + 0.1 * (20 / 3), 0.9 + 0.1 * (0.5 / 3), 0.9 + 0.1 * (20 / 3)].map((v) => +v.toFixed(6)));
  // evaluation: running statistics, nothing updated
  const evalIn = x.sub(tf.tensor1d(rm)).div(tf.tensor1d(rv).add(1e-5).sqrt());
  assertClose(normed.apply(x).dataSync(), plain.apply(evalIn).dataSync(), 1e-5, 'evaluation: the running statistics');
  assert.deepEqual(normed.inputNorm!.runningMean.arraySync(), rm);
  // the statistics travel with the weights
  const names = [...normed.namedParameters().map(([n]) => n), ...normed.namedBuffers().map(([n]) => n)];
  assert.ok(names.includes('input_norm.running_mean') && names.includes('input_norm.running_var'), names.join(', '));
  await noLeaks('normalised global head, training', () => tf.dispose(normed.apply(x, { training: true })));
  tf.dispose([x, standardised, evalIn]);
  plain.dispose();
  normed.dispose();
});

// A randomly initialised text encoder's <s> state varies across reports with a
// standard deviation of about 1e-4 (docs/METHOD.md §4): with PyTorch's ε 1e-5
// the standardisation damps it to √(σ²/(σ² + ε)) ≈ 0.03 of unit spread; with
// heads.globalInputNormEps 1e-10 it is standardised. Hand: features 0.8 ± 1e-4.
test('heads.globalInputNormEps: the ε of the global input standardisation decides whether a feature that barely varies is standardised', async () => {
  const spread = (eps?: number) => {
    const head = new GlobalHead(2, 4, { seed: 5, inputNorm: 'batch', inputNormEps: eps });
    const x = tf.tensor2d([
      [0.8 - 1e-4, 0.5 - 2e-4],
      [0.8 + 1e-4, 0.5 + 2e-4],
      [0.8 - 1e-4, 0.5 + 2e-4],
      [0.8 + 1e-4, 0.5 - 2e-4],
    ]);
    const y = head.inputNorm!.apply(x, { training: true });
    // each feature's standard deviation over the batch (biased, as the norm)
    const sd = Array.from(tf.tidy(() => tf.moments(y, 0).variance.sqrt()).dataSync());
    tf.dispose([x, y]);
    head.dispose();
    return sd;
  };
  const damped = spread();
  assertClose(damped, [1e-4 / Math.sqrt(1e-8 + 1e-5), 2e-4 / Math.sqrt(4e-8 + 1e-5)], 2e-3, 'ε 1e-5 (default)');
  assert.ok(damped[0]! < 0.04, `default ε: ${damped[0]}`);
  // float32 resolves 0.8 ± 1e-4 to about 1e-7: unit spread within 1e-2
  assertClose(spread(1e-10), [1, 1], 1e-2, 'ε 1e-10');
  const heads = createProjectionHeads(resolveConfig({ heads: { globalInputNorm: 'batch', globalInputNormEps: 1e-10 } }, 't').heads, { imageWidth: 2, textHidden: 8 });
  assert.equal(heads.imageGlobal.inputNorm!.eps, 1e-10);
  assert.equal(heads.textGlobal.inputNorm!.eps, 1e-10);
  assert.equal(resolveConfig({}, 't').heads.globalInputNormEps, 1e-5);
  assert.throws(() => resolveConfig({ heads: { globalInputNormEps: 0 } }, 't'), /globalInputNormEps/);
  await noLeaks('global head with a small ε, training', () => {
    const head = new GlobalHead(2, 4, { seed: 5, inputNorm: 'batch', inputNormEps: 1e-10 });
    const x = tf.tensor2d([[1, 2], [3, 5]]);
    tf.dispose([x, head.apply(x, { training: true })]);
    head.dispose();
  });
});

test("heads.globalInputNorm reaches both global heads", () => {
  const heads = createProjectionHeads(resolveConfig({ heads: { globalInputNorm: 'batch' } }, 't').heads, { imageWidth: 2, textHidden: 8 });
  assert.ok(heads.imageGlobal.inputNorm && heads.textGlobal.inputNorm);
  assert.equal(heads.textGlobal.inputNorm!.eps, 1e-5, "PyTorch's ε by default");
  const plain = createProjectionHeads(resolveConfig({}, 't').heads, { imageWidth: 2, textHidden: 8 });
  assert.equal(plain.imageGlobal.inputNorm, null);
});

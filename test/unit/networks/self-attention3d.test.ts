import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../../src/engine/backend';
import { torchStateDict } from '../../../src/engine/networks/module';
import { SelfAttention3d } from '../../../src/engine/networks/self-attention3d';
import { Dropout } from '../../../src/engine/networks/layers/dropout';
import { resnet3d10, resnet3dFromConfig } from '../../../src/engine/networks/resnet3d';
import { resolveConfig } from '../../../src/engine/config/resolve';
import { dropoutsOf } from '../../../src/engine/model/contrastive';
import { assertClose, cpu, noLeaks, values } from './helpers';

/** The authors' block written out with loops on [N, C, P] data (PyTorch layout). */
function naiveAttention(
  xNCP: number[][][],
  wq: number[][],
  bq: number[],
  wk: number[][],
  bk: number[],
  wv: number[][],
  bv: number[],
  gamma: number,
  scale = 1,
  registers: { key: number[][]; value: number[][] } = { key: [], value: [] },
) {
  const proj = (w: number[][], b: number[], x: number[][]) => w.map((row, o) => x[0].map((_, p) => row.reduce((s, wv_, i) => s + wv_ * x[i][p], b[o])));
  return xNCP.map((x) => {
    const q = proj(wq, bq, x);
    const k = proj(wk, bk, x);
    const v = proj(wv, bv, x);
    const P = x[0].length;
    const R = registers.key.length;
    // key / value j of P + R: a position's, then a register's
    const keyAt = (c: number, j: number) => (j < P ? k[c][j] : registers.key[j - P]![c]!);
    const valueAt = (c: number, j: number) => (j < P ? v[c][j] : registers.value[j - P]![c]!);
    const full = [...Array(P).keys()].map((i) => {
      const s = [...Array(P + R).keys()].map((j) => scale * q.reduce((acc, row, c) => acc + row[i] * keyAt(c, j), 0));
      const m = Math.max(...s);
      const e = s.map((t) => Math.exp(t - m));
      const z = e.reduce((a, b) => a + b, 0);
      return e.map((t) => t / z);
    });
    const out = x.map((row, c) => row.map((xv, i) => gamma * full[i].reduce((acc, a, j) => acc + a * valueAt(c, j), 0) + xv));
    // the positions' columns
    const A = full.map((row) => row.slice(0, P));
    return { A, out };
  });
}

for (const scaled of [false, true]) {
  test(`SelfAttention3d matches the authors’ formula (softmax over keys, γ·vAᵀ + x), ${scaled ? 'scores scaled by 1/√C (image.attentionScale)' : 'no √d'}`, async () => {
    await cpu();
    const [N, D, H, W, C] = [2, 2, 3, 1, 4];
    const P = D * H * W;
    const sa = new SelfAttention3d(C, { seed: 3, scale: scaled });
    sa.gamma.assign(tf.tensor1d([0.7]));
    const xData = values(N * P * C, 11).map((v) => 2 * v);
    const x = tf.tensor5d(xData, [N, D, H, W, C]);
    const { out, attention } = sa.apply(x);
    assert.deepEqual(out.shape, [N, D, H, W, C]);
    assert.deepEqual(attention.shape, [N, P, P]);

    const sd = torchStateDict(sa);
    assert.deepEqual(
      [...sd.keys()],
      ['gamma', 'key_conv.weight', 'key_conv.bias', 'query_conv.weight', 'query_conv.bias', 'value_conv.weight', 'value_conv.bias'],
    );
    assert.deepEqual(sd.get('query_conv.weight')!.shape, [C, C, 1, 1, 1]);
    const mat = (name: string) => {
      const d = sd.get(name)!.dataSync();
      return [...Array(C).keys()].map((o) => [...Array(C).keys()].map((i) => d[o * C + i]));
    };
    const vec = (name: string) => [...sd.get(name)!.dataSync()];
    // NDHWC → [N, C, P] with P in row-major (d, h, w) order, as PyTorch's view(N, C, -1)
    const xNCP = [...Array(N).keys()].map((n) => [...Array(C).keys()].map((c) => [...Array(P).keys()].map((p) => xData[(n * P + p) * C + c])));
    const ref = naiveAttention(xNCP, mat('query_conv.weight'), vec('query_conv.bias'), mat('key_conv.weight'), vec('key_conv.bias'), mat('value_conv.weight'), vec('value_conv.bias'), 0.7, scaled ? 1 / Math.sqrt(C) : 1);
    assertClose(attention.dataSync(), ref.flatMap((r) => r.A.flat()), 1e-5, 'attention');
    // the other form differs: the option reaches the scores
    const other = naiveAttention(xNCP, mat('query_conv.weight'), vec('query_conv.bias'), mat('key_conv.weight'), vec('key_conv.bias'), mat('value_conv.weight'), vec('value_conv.bias'), 0.7, scaled ? 1 : 1 / Math.sqrt(C));
    assert.ok(other.some((r, n) => r.A.flat().some((v, i) => Math.abs(v - ref[n]!.A.flat()[i]!) > 1e-3)), 'scaled and unscaled attention differ on this input');
    const outRef = ref.flatMap((r) => [...Array(P).keys()].flatMap((p) => [...Array(C).keys()].map((c) => r.out[c][p])));
    assertClose(out.dataSync(), outRef, 1e-5, 'output');
    // rows are distributions over key positions
    const a = attention.arraySync();
    for (const row of a.flat()) assert.ok(Math.abs(row.reduce((s, v) => s + v, 0) - 1) < 1e-5);
    tf.dispose([x, out, attention, ...sd.values()]);
    sa.dispose();
  });
}

test('SelfAttention3d starts as the identity (γ = 0) with PyTorch-default conv init', async () => {
  await cpu();
  const sa = new SelfAttention3d(16, { seed: 1 });
  assert.deepEqual([...sa.gamma.dataSync()], [0]);
  const x = tf.tensor5d(values(2 * 2 * 2 * 2 * 16), [2, 2, 2, 2, 16]);
  const { out, attention } = sa.apply(x);
  assert.deepEqual(out.dataSync(), x.dataSync());
  // U(±1/√16) weights and biases
  for (const v of [sa.queryConv.weight, sa.keyConv.bias!, sa.valueConv.weight]) assert.ok(Math.max(...v.dataSync().map(Math.abs)) <= 0.25);
  assert.equal(sa.countParameters(), 3 * (16 * 16 + 16) + 1);
  tf.dispose([x, out, attention]);
  sa.dispose();
});

test('image.attentionGamma: the gate starts where the config says; at γ = 0 query, key and value get no gradient', async () => {
  await cpu();
  const x = tf.tensor5d(values(1 * 2 * 2 * 1 * 4, 5), [1, 2, 2, 1, 4]);
  const qkvGradSum = (sa: SelfAttention3d) =>
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => sa.apply(x).out.sum() as tf.Scalar, [sa.queryConv.weight, sa.keyConv.weight, sa.valueConv.weight] as tf.Variable[]);
      return Object.values(grads).map((g) => g.abs().sum().arraySync() as number);
    });
  const zero = new SelfAttention3d(4, { seed: 2 });
  assert.deepEqual(qkvGradSum(zero), [0, 0, 0], 'γ = 0: the attention is outside every gradient');
  const set = new SelfAttention3d(4, { seed: 2, gamma: 0.5 });
  assert.deepEqual([...set.gamma.dataSync()], [0.5]);
  for (const g of qkvGradSum(set)) assert.ok(g > 1e-6, `γ = 0.5: gradient ${g}`);
  // the same block as one whose γ is assigned afterwards: out − x = γ·attended
  zero.gamma.assign(tf.tensor1d([0.5]));
  const [a, b] = [zero.apply(x), set.apply(x)];
  assert.deepEqual(a.out.dataSync(), b.out.dataSync());
  assert.throws(() => new SelfAttention3d(4, { gamma: Number.NaN }), /SelfAttention3d: gamma must be a finite number, got NaN/);
  // from the experiment config: default 0 (SAGAN, the authors'), else the configured value
  const fromConfig = (input: Record<string, unknown>) => resnet3dFromConfig(resolveConfig({ image: { width: 1, ...input } }, 'test').image, 1);
  const [dflt, half] = [fromConfig({}), fromConfig({ attentionGamma: 0.25 })];
  assert.deepEqual([[...dflt.selfAttention!.gamma.dataSync()], [...half.selfAttention!.gamma.dataSync()]], [[0], [0.25]]);
  // image.attentionScale reaches the block: unscaled by default, 1/√C (C = 8 · width) when set
  const scaled = fromConfig({ attentionScale: true });
  assert.deepEqual([dflt.selfAttention!.scoreScale, scaled.selfAttention!.scoreScale], [1, 1 / Math.sqrt(8)]);
  tf.dispose([x, a.out, a.attention, b.out, b.attention]);
  for (const m of [zero, set, dflt, half, scaled]) m.dispose();
});

for (const scale of [false, true]) {
  test(`SelfAttention3d leaks nothing, forward or gradient, and every parameter gets a gradient${scale ? ' (scores scaled)' : ''}`, async () => {
    await cpu();
    const sa = new SelfAttention3d(4, { seed: 2, scale });
    sa.gamma.assign(tf.tensor1d([0.5]));
    const x = tf.tensor5d(values(1 * 2 * 2 * 1 * 4), [1, 2, 2, 1, 4]);
    await noLeaks('SelfAttention3d forward', () => {
      const r = sa.apply(x);
      tf.dispose([r.out, r.attention]);
    });
    await noLeaks('SelfAttention3d gradient', () => {
      const { value, grads } = tf.variableGrads(() => tf.tidy(() => sa.apply(x).out.square().sum() as tf.Scalar));
      assert.equal(Object.keys(grads).length, 7);
      for (const g of Object.values(grads)) assert.ok(tf.tidy(() => g.abs().sum().arraySync() as number) > 0);
      tf.dispose([value, ...Object.values(grads)]);
    });
    const bad = tf.zeros([1, 2, 2, 2, 3]);
    assert.throws(() => sa.apply(bad), /SelfAttention3d: expected 4 input channels/);
    tf.dispose([x, bad]);
    sa.dispose();
  });
}

test("SelfAttention3d q/k/v dropout (the authors' 0.2): training only, after the 1×1×1 convs, three fresh masks per call", async () => {
  await cpu();
  const [N, D, H, W, C] = [2, 2, 2, 3, 6];
  const P = D * H * W;
  const sa = new SelfAttention3d(C, { seed: 5 });
  assert.equal(sa.dropout?.rate, 0.2, "the authors' rate is the default");
  sa.gamma.assign(tf.tensor1d([0.9]));
  const plain = new SelfAttention3d(C, { seed: 5, dropout: 0 });
  assert.equal(plain.dropout, null);
  plain.gamma.assign(tf.tensor1d([0.9]));
  const x = tf.tensor5d(values(N * P * C, 21), [N, D, H, W, C]);

  // eval: identity dropout, the same block as without it; no mask drawn
  const e = sa.apply(x);
  const e0 = plain.apply(x, { training: true });
  assertClose(e.out.dataSync(), e0.out.dataSync(), 0, 'eval = no dropout');
  assert.equal(sa.dropout!.callCount, 0);

  // training: the masks come from the Dropout's (seed, call) in the order key, query, value
  const before = sa.dropout!.callCount;
  const t = sa.apply(x, { training: true });
  assert.equal(sa.dropout!.callCount, before + 3);
  const replay = new Dropout(0.2, sa.dropout!.seed);
  replay.callCount = before;
  const proj = (conv: typeof sa.keyConv) => tf.tidy(() => replay.apply(conv.apply(x), { training: true }).reshape([N, P, C]).arraySync() as number[][][]);
  const k = proj(sa.keyConv);
  const q = proj(sa.queryConv);
  const v = proj(sa.valueConv);
  // dropped entries are exact zeros, kept ones scaled by 1/0.8 (about a fifth dropped)
  const raw = tf.tidy(() => sa.queryConv.apply(x).reshape([N, P, C]).arraySync() as number[][][]);
  const flatQ = q.flat(2);
  const flatRaw = raw.flat(2);
  const zeros = flatQ.filter((val) => val === 0).length;
  assert.ok(zeros > 0.05 * flatQ.length && zeros < 0.4 * flatQ.length, `${zeros} of ${flatQ.length} dropped`);
  flatQ.forEach((val, i) => assert.ok(val === 0 || Math.abs(val - flatRaw[i] / 0.8) < 1e-5));
  // A = softmax_j(q_i·k_j), out = γ·Σ_j A_ij v_j + x, written out
  const xs = x.arraySync().map((b) => b.flat(2)) as number[][][];
  const aRef: number[] = [];
  const outRef: number[] = [];
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < P; i++) {
      const s = k[n].map((kj) => kj.reduce((acc, kv, c) => acc + kv * q[n][i][c], 0));
      const m = Math.max(...s);
      const ex = s.map((val) => Math.exp(val - m));
      const z = ex.reduce((a, b) => a + b, 0);
      const a = ex.map((val) => val / z);
      aRef.push(...a);
      for (let c = 0; c < C; c++) outRef.push(0.9 * a.reduce((acc, aj, j) => acc + aj * v[n][j][c], 0) + xs[n][i][c]);
    }
  }
  assertClose(t.attention.dataSync(), aRef, 1e-5, 'training attention');
  assertClose(t.out.dataSync(), outRef, 1e-5, 'training output');
  assert.ok(tf.tidy(() => t.out.sub(e.out).abs().max().arraySync() as number) > 1e-3, 'dropout changes the training output');

  // a second call draws new masks; putting the counter back repeats the first exactly (resume)
  const t2 = sa.apply(x, { training: true });
  assert.ok(tf.tidy(() => t2.out.sub(t.out).abs().max().arraySync() as number) > 1e-3);
  sa.dropout!.callCount = before;
  const again = sa.apply(x, { training: true });
  assertClose(again.out.dataSync(), t.out.dataSync(), 0, 'replayed masks');

  await noLeaks('SelfAttention3d dropout forward and gradient', () => {
    const r = sa.apply(x, { training: true });
    tf.dispose([r.out, r.attention]);
    const { value, grads } = tf.variableGrads(() => tf.tidy(() => sa.apply(x, { training: true }).out.square().sum() as tf.Scalar));
    assert.equal(Object.keys(grads).length, 7);
    tf.dispose([value, ...Object.values(grads)]);
  });
  tf.dispose([x, e.out, e.attention, e0.out, e0.attention, t.out, t.attention, t2.out, t2.attention, again.out, again.attention]);
  sa.dispose();
  plain.dispose();
});

test('the q/k/v dropout is in the module tree, so a run saves its counter (dropoutsOf)', async () => {
  await cpu();
  const withDrop = resnet3d10({ width: 1, seed: 1, init: 'zeros' });
  const found = dropoutsOf(withDrop);
  assert.equal(found.length, 5);
  assert.ok(found.includes(withDrop.selfAttention!.dropout!));
  const x = tf.zeros([2, 16, 16, 16, 1]);
  const o = withDrop.apply(x, { training: true });
  assert.equal(withDrop.selfAttention!.dropout!.callCount, 3);
  tf.dispose([x, o.layer3, o.layer4, o.attention!, o.global]);
  withDrop.dispose();
  // rate 0 (the previous behaviour): no dropout, no counter
  const none = resnet3d10({ width: 1, seed: 1, init: 'zeros', attentionDropout: 0 });
  assert.equal(dropoutsOf(none).length, 4);
  none.dispose();
});

test('image.attentionResidual false: out = γ·attended without the input (the authors’ formula less x), the same attention; from the config; no leaks, every parameter trained', async () => {
  await cpu();
  const [N, D, H, W, C] = [2, 2, 3, 1, 4];
  const P = D * H * W;
  const plain = new SelfAttention3d(C, { seed: 3, scale: true, residual: false });
  const withX = new SelfAttention3d(C, { seed: 3, scale: true });
  assert.deepEqual([plain.residual, withX.residual], [false, true]);
  for (const m of [plain, withX]) m.gamma.assign(tf.tensor1d([0.7]));
  const xData = values(N * P * C, 11).map((v) => 2 * v);
  const x = tf.tensor5d(xData, [N, D, H, W, C]);
  const a = plain.apply(x);
  const b = withX.apply(x);
  assert.deepEqual(a.attention.dataSync(), b.attention.dataSync(), 'the attention does not depend on the residual');
  // the authors' block written out, its + x taken away
  const sd = torchStateDict(plain);
  const mat = (name: string) => {
    const d = sd.get(name)!.dataSync();
    return [...Array(C).keys()].map((o) => [...Array(C).keys()].map((i) => d[o * C + i]));
  };
  const vec = (name: string) => [...sd.get(name)!.dataSync()];
  const xNCP = [...Array(N).keys()].map((n) => [...Array(C).keys()].map((c) => [...Array(P).keys()].map((p) => xData[(n * P + p) * C + c])));
  const ref = naiveAttention(xNCP, mat('query_conv.weight'), vec('query_conv.bias'), mat('key_conv.weight'), vec('key_conv.bias'), mat('value_conv.weight'), vec('value_conv.bias'), 0.7, 1 / Math.sqrt(C));
  const outRef = ref.flatMap((r, n) => [...Array(P).keys()].flatMap((p) => [...Array(C).keys()].map((c) => r.out[c][p] - xNCP[n]![c]![p]!)));
  assertClose(a.out.dataSync(), outRef, 1e-5, 'output without the residual');
  assert.ok(Math.max(...b.out.dataSync().map((v, i) => Math.abs(v - a.out.dataSync()[i]!))) > 0.1, 'the residual form differs');
  // from the experiment config: default true (the authors'), false when set
  const fromConfig = (input: Record<string, unknown>) => resnet3dFromConfig(resolveConfig({ image: { width: 1, ...input } }, 'test').image, 1);
  const [dflt, off] = [fromConfig({}), fromConfig({ attentionResidual: false })];
  assert.deepEqual([dflt.selfAttention!.residual, off.selfAttention!.residual], [true, false]);
  await noLeaks('SelfAttention3d without the residual, forward and gradient', () => {
    const { value, grads } = tf.variableGrads(() => tf.tidy(() => plain.apply(x).out.square().sum() as tf.Scalar));
    assert.equal(Object.keys(grads).length, 7);
    for (const g of Object.values(grads)) assert.ok(tf.tidy(() => g.abs().sum().arraySync() as number) > 0);
    tf.dispose([value, ...Object.values(grads)]);
  });
  tf.dispose([x, a.out, a.attention, b.out, b.attention, ...sd.values()]);
  for (const m of [plain, withX, dflt, off]) m.dispose();
});

test('image.attentionRegisters: learned keys and values after the positions’ (the formula with R more columns); the attention is the positions’ share; gradient reaches them; from the config; no leaks', async () => {
  await cpu();
  const [N, D, H, W, C, R] = [2, 2, 3, 1, 4, 3];
  const P = D * H * W;
  const reg = new SelfAttention3d(C, { seed: 3, scale: true, registers: R });
  const none = new SelfAttention3d(C, { seed: 3, scale: true });
  assert.equal(none.registerKey, null);
  assert.deepEqual([reg.registerKey!.shape, reg.registerValue!.shape], [[R, C], [R, C]]);
  // values start at zero, keys as the key conv's U(±1/√C)
  assert.ok(reg.registerValue!.dataSync().every((v) => v === 0));
  assert.ok(reg.registerKey!.dataSync().every((v) => Math.abs(v) <= 1 / Math.sqrt(C)) && reg.registerKey!.dataSync().some((v) => v !== 0));
  // the same convs as the block without registers (the registers take no draw from theirs)
  assert.deepEqual(reg.keyConv.weight.dataSync(), none.keyConv.weight.dataSync());
  for (const m of [reg, none]) m.gamma.assign(tf.tensor1d([0.7]));
  // large register keys so the registers take a visible share; non-zero values so they count in the output
  reg.registerKey!.assign(tf.tensor2d(values(R * C, 5).map((v) => 3 * v), [R, C]));
  reg.registerValue!.assign(tf.tensor2d(values(R * C, 6).map((v) => 2 * v - 1), [R, C]));
  const xData = values(N * P * C, 11).map((v) => 2 * v);
  const x = tf.tensor5d(xData, [N, D, H, W, C]);
  const { out, attention } = reg.apply(x);
  assert.deepEqual(attention.shape, [N, P, P]);
  const sd = torchStateDict(reg);
  assert.deepEqual([...sd.keys()].sort(), ['gamma', 'key_conv.bias', 'key_conv.weight', 'query_conv.bias', 'query_conv.weight', 'register_key', 'register_value', 'value_conv.bias', 'value_conv.weight']);
  const mat = (name: string) => {
    const d = sd.get(name)!.dataSync();
    return [...Array(C).keys()].map((o) => [...Array(C).keys()].map((i) => d[o * C + i]));
  };
  const vec = (name: string) => [...sd.get(name)!.dataSync()];
  const rows = (name: string) => [...Array(R).keys()].map((r) => [...sd.get(name)!.dataSync().slice(r * C, (r + 1) * C)]);
  const xNCP = [...Array(N).keys()].map((n) => [...Array(C).keys()].map((c) => [...Array(P).keys()].map((p) => xData[(n * P + p) * C + c])));
  const args = [xNCP, mat('query_conv.weight'), vec('query_conv.bias'), mat('key_conv.weight'), vec('key_conv.bias'), mat('value_conv.weight'), vec('value_conv.bias'), 0.7, 1 / Math.sqrt(C)] as const;
  const ref = naiveAttention(...args, { key: rows('register_key'), value: rows('register_value') });
  assertClose(attention.dataSync(), ref.flatMap((r) => r.A.flat()), 1e-5, 'attention over the positions');
  const outRef = ref.flatMap((r) => [...Array(P).keys()].flatMap((p) => [...Array(C).keys()].map((c) => r.out[c][p])));
  assertClose(out.dataSync(), outRef, 1e-5, 'output');
  // each row sums to 1 less the registers' share, which is visible here
  const sums = attention.sum(2).dataSync();
  assert.ok(Math.max(...sums) < 0.99 && Math.min(...sums) > 0.01, `rows keep a share for the positions and give one to the registers: ${Math.min(...sums)}–${Math.max(...sums)}`);
  // without registers the same convs give other maps (the registers count)
  const plainRef = naiveAttention(...args);
  assert.ok(plainRef.some((r, n) => r.A.flat().some((v, i) => Math.abs(v - ref[n]!.A.flat()[i]!) > 1e-3)));
  // from the experiment config: default 0 (the authors' block), R when set; a checkpoint without them loads the rest
  const fromConfig = (input: Record<string, unknown>) => resnet3dFromConfig(resolveConfig({ image: { width: 1, ...input } }, 'test').image, 1);
  const [dflt, four] = [fromConfig({}), fromConfig({ attentionRegisters: 4 })];
  assert.equal(dflt.selfAttention!.registerKey, null);
  assert.deepEqual(four.selfAttention!.registerKey!.shape, [4, 8]);
  assert.ok(torchStateDict(four).has('self_attention.register_value'));
  assert.throws(() => resolveConfig({ image: { attentionRegisters: 1.5 } }, 'test'), /attentionRegisters/);
  assert.throws(() => new SelfAttention3d(C, { registers: -1 }), /registers must be a whole number/);
  await noLeaks('SelfAttention3d with registers, forward and gradient', () => {
    const { value, grads } = tf.variableGrads(() => tf.tidy(() => reg.apply(x, { training: true }).out.square().sum() as tf.Scalar));
    // the six conv parameters, γ and the two register tensors
    assert.equal(Object.keys(grads).length, 9);
    for (const g of Object.values(grads)) assert.ok(tf.tidy(() => g.abs().sum().arraySync() as number) > 0);
    tf.dispose([value, ...Object.values(grads)]);
  });
  tf.dispose([x, out, attention, ...sd.values()]);
  for (const m of [reg, none, dflt, four]) m.dispose();
});

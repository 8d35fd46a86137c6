import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../../src/engine/backend';
import { torchStateDict } from '../../../src/engine/networks/module';
import { SelfAttention3d } from '../../../src/engine/networks/self-attention3d';
import { assertClose, cpu, noLeaks, values } from './helpers';

/** The authors' block written out with loops on [N, C, P] data (PyTorch layout). */
function naiveAttention(xNCP: number[][][], wq: number[][], bq: number[], wk: number[][], bk: number[], wv: number[][], bv: number[], gamma: number) {
  const proj = (w: number[][], b: number[], x: number[][]) => w.map((row, o) => x[0].map((_, p) => row.reduce((s, wv_, i) => s + wv_ * x[i][p], b[o])));
  return xNCP.map((x) => {
    const q = proj(wq, bq, x);
    const k = proj(wk, bk, x);
    const v = proj(wv, bv, x);
    const P = x[0].length;
    const A = [...Array(P).keys()].map((i) => {
      const s = [...Array(P).keys()].map((j) => q.reduce((acc, row, c) => acc + row[i] * k[c][j], 0));
      const m = Math.max(...s);
      const e = s.map((t) => Math.exp(t - m));
      const z = e.reduce((a, b) => a + b, 0);
      return e.map((t) => t / z);
    });
    const out = x.map((row, c) => row.map((xv, i) => gamma * A[i].reduce((acc, a, j) => acc + a * v[c][j], 0) + xv));
    return { A, out };
  });
}

test('SelfAttention3d matches the authors’ formula (softmax over keys, no √d, γ·vAᵀ + x)', async () => {
  await cpu();
  const [N, D, H, W, C] = [2, 2, 3, 1, 4];
  const P = D * H * W;
  const sa = new SelfAttention3d(C, { seed: 3 });
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
  const ref = naiveAttention(xNCP, mat('query_conv.weight'), vec('query_conv.bias'), mat('key_conv.weight'), vec('key_conv.bias'), mat('value_conv.weight'), vec('value_conv.bias'), 0.7);
  assertClose(attention.dataSync(), ref.flatMap((r) => r.A.flat()), 1e-5, 'attention');
  const outRef = ref.flatMap((r) => [...Array(P).keys()].flatMap((p) => [...Array(C).keys()].map((c) => r.out[c][p])));
  assertClose(out.dataSync(), outRef, 1e-5, 'output');
  // rows are distributions over key positions
  const a = attention.arraySync();
  for (const row of a.flat()) assert.ok(Math.abs(row.reduce((s, v) => s + v, 0) - 1) < 1e-5);
  tf.dispose([x, out, attention, ...sd.values()]);
  sa.dispose();
});

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

test('SelfAttention3d leaks nothing, forward or gradient, and every parameter gets a gradient', async () => {
  await cpu();
  const sa = new SelfAttention3d(4, { seed: 2 });
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

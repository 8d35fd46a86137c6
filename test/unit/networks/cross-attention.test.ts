import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tf } from '../../../src/engine/backend';
import { CrossAttention, type CrossAttentionOutput } from '../../../src/engine/networks/cross-attention';
import { assertClose, cpu, noLeaks } from './helpers';

before(cpu);

interface T {
  shape: number[];
  data: number[];
}
type Outputs = Record<keyof CrossAttentionOutput, T>;
const ref = JSON.parse(readFileSync('test/fixtures/cross-attention/reference.json', 'utf8')).cross as {
  patches: T;
  words: T;
  wordMask: T;
  unscaled: Outputs;
  scaled: Outputs;
};
const t = (x: T) => tf.tensor(x.data, x.shape);

for (const scale of [false, true]) {
  test(`cross-attention A and B match PyTorch (${scale ? 'scaled by 1/√d' : 'unscaled dot product'}), masked words excluded`, () => {
    const [p, w, m] = [t(ref.patches), t(ref.words), t(ref.wordMask)];
    const out = new CrossAttention({ scale }).apply(p, w, m);
    const want = scale ? ref.scaled : ref.unscaled;
    for (const key of ['scoresA', 'reportWeightedImage', 'scoresB', 'imageWeightedText'] as const) {
      assert.deepEqual(out[key].shape, want[key].shape, key);
      assertClose(out[key].dataSync(), want[key].data, 1e-6, key);
    }
    tf.dispose([p, w, m, ...Object.values(out)]);
  });
}

test('hand-derived case: softmax over real words only; a report without words gives zeros, not NaN', () => {
  // one patch along x; words along x, y, and a masked slot along x
  const p = tf.tensor3d([[[1, 0]], [[1, 0]]]);
  const w = tf.tensor3d([
    [
      [1, 0],
      [0, 1],
      [1, 0],
    ],
    [
      [1, 0],
      [0, 1],
      [1, 0],
    ],
  ]);
  const m = tf.tensor2d([
    [1, 1, 0],
    [0, 0, 0],
  ]);
  const out = new CrossAttention().apply(p, w, m);
  const e = Math.E;
  const a = out.scoresA.arraySync();
  assert.ok(Math.abs(a[0]![0]![0]! - e / (e + 1)) < 1e-6);
  assert.ok(Math.abs(a[0]![0]![1]! - 1 / (e + 1)) < 1e-6);
  assert.equal(a[0]![0]![2], 0);
  assert.deepEqual(a[1], [[0, 0, 0]]);
  // one patch: each real word puts all its weight on it
  assert.deepEqual(out.scoresB.arraySync(), [[[1], [1], [0]], [[0], [0], [0]]]);
  const v = out.reportWeightedImage.arraySync();
  assert.ok(Math.abs(v[0]![0]![0]! - e / (e + 1)) < 1e-6 && Math.abs(v[0]![0]![1]! - 1 / (e + 1)) < 1e-6);
  assert.deepEqual(v[1], [[0, 0]]);
  assert.ok([...out.imageWeightedText.dataSync(), ...out.reportWeightedImage.dataSync()].every(Number.isFinite));
  tf.dispose([p, w, m, ...Object.values(out)]);
});

test('bad shapes give clear errors', () => {
  const ca = new CrossAttention();
  const [p, w, w3, m5, m4, p2] = [tf.zeros([2, 3, 4]), tf.zeros([2, 5, 4]), tf.zeros([2, 5, 3]), tf.ones([2, 5]), tf.ones([2, 4]), tf.zeros([3, 4])];
  assert.throws(() => ca.apply(p, w3, m5), /differ in batch size or dimension/);
  assert.throws(() => ca.apply(p, w, m4), /wordMask has shape \[2, 4\], expected \[2, 5\]/);
  assert.throws(() => ca.apply(p2, w, m5), /expected patches \[N, P, d\]/);
  tf.dispose([p, w, w3, m5, m4, p2]);
});

test('no leaked tensors; gradients reach both inputs and stay finite with masked words', async () => {
  const p = tf.variable(tf.randomNormal([2, 3, 4], 0, 1, 'float32', 1));
  const w = tf.variable(tf.randomNormal([2, 5, 4], 0, 1, 'float32', 2));
  const m = tf.tensor2d([
    [1, 1, 0, 0, 0],
    [0, 0, 0, 0, 0],
  ]);
  const ca = new CrossAttention({ scale: true });
  await noLeaks('cross-attention forward', () => tf.dispose(Object.values(ca.apply(p, w, m))));
  await noLeaks('cross-attention gradient', () => {
    const { value, grads } = tf.variableGrads(() => {
      const o = ca.apply(p, w, m);
      return o.reportWeightedImage.square().sum().add(o.imageWeightedText.square().sum()) as tf.Scalar;
    }, [p, w]);
    for (const g of Object.values(grads)) {
      const d = Array.from(g.dataSync());
      assert.ok(d.every(Number.isFinite));
      assert.ok(d.some((x) => x !== 0));
    }
    // masked words of sample 1 receive no gradient
    const gw = grads[w.name]!.arraySync() as number[][][];
    assert.ok(gw[1]!.every((row) => row.every((x) => x === 0)));
    tf.dispose([value, ...Object.values(grads)]);
  });
  tf.dispose([p, w, m]);
});

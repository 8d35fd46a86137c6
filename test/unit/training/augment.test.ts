import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../../src/engine/backend';
import { applyAugmentation, augmentBatch, augmentationEnabled, drawAugmentation } from '../../../src/engine/training/augment';
import { Rng } from '../../../src/engine/util/rng';
import { cpu, noLeaks } from '../networks/helpers';

// x[i, j, k] = 100·i + 10·j + k on a 3×2×2 grid, one channel
const X = Array.from({ length: 12 }, (_, n) => 100 * Math.floor(n / 4) + 10 * (Math.floor(n / 2) % 2) + (n % 2));
const vol = () => tf.tensor4d(X, [3, 2, 2, 1]);
const at = (v: ArrayLike<number>, i: number, j: number, k: number) => v[(i * 2 + j) * 2 + k];

test('applyAugmentation: y[i] = x[i − shift] with zeros shifted in, per axis and sign, then ·scale + offset', async () => {
  await cpu();
  const x = vol();
  const cases: Array<[[number, number, number], (i: number, j: number, k: number) => number]> = [
    [[1, 0, 0], (i, j, k) => (i - 1 >= 0 ? 100 * (i - 1) + 10 * j + k : 0)],
    [[-2, 0, 0], (i, j, k) => (i + 2 < 3 ? 100 * (i + 2) + 10 * j + k : 0)],
    [[0, 1, -1], (i, j, k) => (j - 1 >= 0 && k + 1 < 2 ? 100 * i + 10 * (j - 1) + (k + 1) : 0)],
    [[3, 0, 0], () => 0],
  ];
  for (const [shift, want] of cases) {
    const y = applyAugmentation(x, { shift, scale: 1, offset: 0 });
    const v = y.dataSync();
    for (let i = 0; i < 3; i++) for (let j = 0; j < 2; j++) for (let k = 0; k < 2; k++) assert.equal(at(v, i, j, k), want(i, j, k), `shift ${shift} at ${i},${j},${k}`);
    y.dispose();
  }
  const y = applyAugmentation(x, { shift: [0, 0, 0], scale: 2, offset: -1 });
  assert.deepEqual([...y.dataSync()], X.map((v) => 2 * v - 1));
  tf.dispose([x, y]);
});

test('drawAugmentation: within the bounds, repeatable from the seed, nothing drawn when off', () => {
  const o = { shift: 3, intensity: 0.2 };
  const a = new Rng(5);
  const b = new Rng(5);
  const seen = new Set<number>();
  for (let n = 0; n < 200; n++) {
    const d = drawAugmentation(o, a);
    assert.deepEqual(d, drawAugmentation(o, b));
    for (const s of d.shift) {
      assert.ok(Number.isInteger(s) && s >= -3 && s <= 3);
      seen.add(s);
    }
    assert.ok(d.scale >= 0.8 && d.scale <= 1.2 && d.offset >= -0.2 && d.offset <= 0.2);
  }
  assert.equal(seen.size, 7, 'every shift in −3 … 3 occurs');
  const r = new Rng(9);
  const before = r.getState();
  assert.deepEqual(drawAugmentation({ shift: 0, intensity: 0 }, r), { shift: [0, 0, 0], scale: 1, offset: 0 });
  assert.equal(r.getState(), before, 'no draw when augmentation is off');
  assert.equal(augmentationEnabled(undefined), false);
  assert.equal(augmentationEnabled({ shift: 0, intensity: 0 }), false);
  assert.equal(augmentationEnabled({ shift: 1, intensity: 0 }), true);
});

test('augmentBatch: one draw per volume in batch order, no leak', async () => {
  await cpu();
  const x = tf.stack([vol(), vol().mul(2)]) as tf.Tensor5D;
  const o = { shift: 1, intensity: 0.1 };
  const r = new Rng(3);
  const d0 = drawAugmentation(o, r);
  const d1 = drawAugmentation(o, r);
  await noLeaks('augmentBatch', () => augmentBatch(x, o, new Rng(3)).dispose());
  const y = augmentBatch(x, o, new Rng(3));
  const parts = tf.unstack(y);
  const e0 = applyAugmentation(tf.unstack(x)[0] as tf.Tensor4D, d0);
  const e1 = applyAugmentation(tf.unstack(x)[1] as tf.Tensor4D, d1);
  assert.deepEqual([...parts[0]!.dataSync()], [...e0.dataSync()]);
  assert.deepEqual([...parts[1]!.dataSync()], [...e1.dataSync()]);
  tf.dispose([x, y, ...parts, e0, e1]);
});

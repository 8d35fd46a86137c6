// heads.crossAttentionForeground: which layer3 patches lie inside the head,
// from the input volume alone (networks/foreground.ts), on hand-derived
// blocks; then the contrastive model with the option: the words' attention
// (S_B) is zero on the patches outside the head and sums to 1 over the
// others, the pretraining step trains and leaks nothing, and 0 changes nothing.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../../src/engine/backend';
import { blockSide, foregroundPatches } from '../../../src/engine/networks/foreground';
import { resolveConfig } from '../../../src/engine/config/resolve';
import { ContrastiveModel } from '../../../src/engine/model/contrastive';
import { batchEncodings, disposeTextBatch } from '../../../src/engine/networks/text-batch';
import { Rng } from '../../../src/engine/util/rng';
import { cpu, noLeaks } from './helpers';

before(cpu);

test('blockSide: the power of two that maps n voxels onto g cells', () => {
  assert.equal(blockSide(64, 8), 8);
  assert.equal(blockSide(40, 5), 8);
  assert.equal(blockSide(20, 3), 8, '⌈20/8⌉ = 3 (the encoder halves 20 → 10 → 5 → 3)');
  assert.equal(blockSide(24, 2), 16);
  assert.equal(blockSide(5, 5), 1);
  assert.throws(() => blockSide(64, 7), /no power-of-two block maps 64 voxels onto 7 cells/);
});

test('foregroundPatches: a cell is inside when its block\'s mean is at least the threshold; the last blocks padded with background; patch order (x·Y + y)·Z + z', async () => {
  // one volume 4 × 2 × 3 onto a 2 × 1 × 2 grid: blocks of 2 × 2 × 2, the z = 1 blocks padded with a zero slice (z = 3)
  const X = 4;
  const Y = 2;
  const Z = 3;
  const v = new Float32Array(X * Y * Z); // [x][y][z], z fastest as the image tensor
  const set = (x: number, y: number, z: number, val: number) => (v[(x * Y + y) * Z + z] = val);
  // cell (0, 0, 0): x 0–1, z 0–1 → all 8 voxels 0.5: mean 0.5
  for (const x of [0, 1]) for (const y of [0, 1]) for (const z of [0, 1]) set(x, y, z, 0.5);
  // cell (1, 0, 0): x 2–3, z 0–1 → one voxel 0.8: mean 0.1
  set(3, 1, 1, 0.8);
  // cell (0, 0, 1): x 0–1, z 2 (and the padded z 3) → four voxels 0.4 of 8: mean 0.2
  for (const x of [0, 1]) for (const y of [0, 1]) set(x, y, 2, 0.4);
  // cell (1, 0, 1): nothing
  const images = tf.tensor5d(v, [1, X, Y, Z, 1]);
  const at = (t: number) => Array.from(foregroundPatches(images, [2, 1, 2], t).dataSync());
  // patch order: p = (x·1 + 0)·2 + z → p0 = (0,0,0), p1 = (0,0,1), p2 = (1,0,0), p3 = (1,0,1)
  assert.deepEqual(at(0.15), [1, 1, 0, 0]);
  assert.deepEqual(at(0.1), [1, 1, 1, 0]);
  assert.deepEqual(at(0.2), [1, 1, 0, 0], 'the padded block: 0.2 = 4 × 0.4 / 8, at the threshold');
  assert.deepEqual(at(0.21), [1, 0, 0, 0]);
  assert.deepEqual(at(0), [1, 1, 1, 1]);
  assert.throws(() => foregroundPatches(images, [2, 1, 2], 1.5), /threshold must be in \[0, 1\]/);
  assert.throws(() => foregroundPatches(images.reshape([1, X, Y, Z]), [2, 1, 2], 0.1), /expected images \[N, X, Y, Z, 1\]/);
  await noLeaks('foregroundPatches', () => foregroundPatches(images, [2, 1, 2], 0.1).dispose());
  images.dispose();
});

const base = resolveConfig({
  image: { width: 2, outputStride: 8 },
  text: { layers: 1, hidden: 8, heads: 2, intermediate: 16, attentionWindow: 4, maxWords: 6 },
  heads: { globalDim: 8, localDim: 4 },
});

test('the contrastive model with heads.crossAttentionForeground: S_B zero outside the head, a softmax inside; the step trains, leaks nothing; 0 is the authors\' model', () => {
  // a "head" in the first half of x: the right half is background
  const x = tf.tidy(() => {
    const head = tf.randomUniform([3, 12, 24, 16, 1], 0.3, 1, 'float32', 5);
    return tf.concat([head, tf.zeros([3, 12, 24, 16, 1])], 1) as tf.Tensor5D;
  });
  const enc = [
    { ids: [0, 5, 6, 7, 2], wordIds: [null, 0, 0, 1, null] },
    { ids: [0, 8, 9, 2], wordIds: [null, 0, 1, null] },
    { ids: [0, 10, 11, 12, 2], wordIds: [null, 0, 1, 2, null] },
  ];
  const vocab = { size: 32, padId: 1 };
  const on = new ContrastiveModel({ ...base, heads: { ...base.heads, crossAttentionForeground: 0.1 } }, vocab, 1);
  const off = new ContrastiveModel(base, vocab, 1);
  const tb = batchEncodings(enc, { padId: 1, maxWords: on.text.maxWords });
  const [sOn, sOff, grid, wm] = tf.tidy(() => {
    const a = on.forward(x, tb, false);
    const b = off.forward(x, tb, false);
    return [a.cross.scoresB.arraySync(), b.cross.scoresB.arraySync(), a.patchGrid, a.wordMask.arraySync()] as const;
  });
  const [X3, Y3, Z3] = grid;
  assert.deepEqual(grid, [3, 3, 2], 'the 24 × 24 × 16 input on layer3 at output stride 8');
  let outside = 0;
  for (let n = 0; n < 3; n++) {
    for (let w = 0; w < sOn[n]!.length; w++) {
      if (!wm[n]![w]) continue;
      const row = sOn[n]![w]!;
      let sum = 0;
      for (let px = 0; px < X3; px++) {
        for (let q = 0; q < Y3 * Z3; q++) {
          const p = px * Y3 * Z3 + q;
          // cells x = 0 (voxels 0–7) are inside; x = 1 (8–15: half head, mean ≥ 0.15) inside; x = 2 (16–23) background
          if (px === 2) {
            assert.equal(row[p], 0, `case ${n} word ${w} patch ${p}: outside the head`);
            outside++;
          }
          sum += row[p]!;
        }
      }
      assert.ok(Math.abs(sum - 1) < 1e-5, `case ${n} word ${w}: sums to ${sum}`);
      assert.ok(sOff[n]![w]!.slice(2 * Y3 * Z3).some((v) => v > 0), 'without the option the background gets weight');
    }
  }
  assert.ok(outside > 0);
  const before = tf.memory().numTensors;
  const { value, grads } = tf.variableGrads(() => on.loss(on.forward(x, tb, true), ['a', 'a', 'b'], new Rng(1)).total, on.trainableWeights);
  assert.ok(Number.isFinite(value.dataSync()[0]));
  assert.ok(Object.keys(grads).length > 0);
  value.dispose();
  Object.values(grads).forEach((g) => g.dispose());
  assert.equal(tf.memory().numTensors, before, 'the pretraining step leaks nothing');
  x.dispose();
  disposeTextBatch(tb);
  on.dispose();
  off.dispose();
});

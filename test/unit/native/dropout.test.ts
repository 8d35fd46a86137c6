// The dropout kernel: MurmurHash3 against its published test vectors, the
// JavaScript and native kernels bit for bit (any thread count), the keep
// rate, the gradient recomputed from the seed, and no leaks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../../src/engine/backend';
import { DROPOUT_KERNEL, dropout, dropoutAttrs, dropoutValues, murmur32 } from '../../../src/engine/native/dropout';
import { loadAddon, nativeMode } from '../../../src/engine/native/addon';
import { disableNativeKernels, enableNativeKernels, nativeKernelCalls, resetNativeKernelCalls } from '../../../src/engine/native/register';
import { nativeAvailable, randomTensor } from './helpers';

test('murmur32 is MurmurHash3_x86_32 of a 4-byte little-endian key (SMHasher test vectors)', () => {
  // key bytes, seed, expected (the vectors published with SMHasher ports)
  assert.equal(murmur32(0xffffffff, 0), 0x76293b50);
  assert.equal(murmur32(0x87654321, 0), 0xf55b516b);
  assert.equal(murmur32(0x87654321, 0x5082edee), 0x2362f9de);
  assert.equal(murmur32(0, 0), 0x2362f9de);
});

test('dropout attrs: exact keep threshold on the 2^24 grid, float32 scale, rate checked', () => {
  assert.deepEqual(dropoutAttrs(0.25, 7), { seed: 7, threshold: 4194304, scale: Math.fround(4 / 3) });
  assert.deepEqual(dropoutAttrs(0, 0xffffffff), { seed: 0xffffffff, threshold: 0, scale: 1 });
  assert.throws(() => dropoutAttrs(1, 0), /rate must be in \[0, 1\)/);
  assert.throws(() => dropoutAttrs(-0.1, 0), /rate must be in \[0, 1\)/);
});

test('JavaScript kernel: keeps 1 − rate of the elements, scales them, NaN/Inf stay NaN where dropped, masks differ by seed', () => {
  const n = 1 << 20;
  const ones = new Float32Array(n).fill(1);
  for (const rate of [0.1, 0.25, 0.5]) {
    const a = dropoutAttrs(rate, 12345);
    const y = dropoutValues(ones, a);
    let kept = 0;
    for (const v of y) {
      if (v !== 0) {
        kept++;
        assert.equal(v, a.scale);
      }
    }
    // binomial sd √(n·p·(1−p)) ≤ 512: within 5 sd
    assert.ok(Math.abs(kept - n * (1 - rate)) < 2600, `rate ${rate}: kept ${kept} of ${n}`);
  }
  const a = dropoutValues(ones, dropoutAttrs(0.5, 1));
  const b = dropoutValues(ones, dropoutAttrs(0.5, 2));
  let same = 0;
  for (let i = 0; i < n; i++) if (a[i] === b[i]) same++;
  // two independent masks agree on half the elements
  assert.ok(Math.abs(same / n - 0.5) < 0.005, `seeds 1 and 2 agree on ${same / n}`);
  // neighbouring elements are independent: P(both kept) = (1 − rate)²
  let both = 0;
  for (let i = 0; i + 1 < n; i += 2) if (a[i] !== 0 && a[i + 1] !== 0) both++;
  assert.ok(Math.abs(both / (n / 2) - 0.25) < 0.005, `pairs kept ${both / (n / 2)}`);
  const special = new Float32Array([NaN, Infinity, -Infinity, -2, NaN, Infinity, -Infinity, -2]);
  const attrs = dropoutAttrs(0.5, 3);
  const ys = dropoutValues(special, attrs);
  for (let i = 0; i < special.length; i++) {
    const kept = murmur32(i, attrs.seed) >>> 8 >= attrs.threshold;
    if (kept) assert.equal(ys[i], Math.fround(special[i]! * attrs.scale));
    else assert.ok(Object.is(ys[i], special[i]! * 0), `element ${i}: ${ys[i]}`);
  }
});

test('the cpu kernel: forward = x·mask, gradient = dy·(the same mask) with nothing saved, a seed repeats, no leaks', async () => {
  await tf.setBackend('cpu');
  disableNativeKernels();
  const x = randomTensor([3, 5, 7, 4], 1);
  const y = dropout(x, 0.3, 99);
  const xv = x.dataSync();
  const yv = y.dataSync();
  const expected = dropoutValues(new Float32Array(xv), dropoutAttrs(0.3, 99));
  assert.deepEqual(yv, expected);
  assert.deepEqual(dropout(x, 0.3, 99).dataSync(), yv);
  assert.notDeepEqual(dropout(x, 0.3, 100).dataSync(), yv);
  const dy = randomTensor([3, 5, 7, 4], 2);
  const g = tf.grad((t: tf.Tensor) => dropout(t, 0.3, 99))(x, dy);
  assert.deepEqual(g.dataSync(), dropoutValues(new Float32Array(dy.dataSync()), dropoutAttrs(0.3, 99)));
  // the gradient saves nothing for the backward pass (no mask tensor kept alive)
  const grad = tf.getGradient(DROPOUT_KERNEL)!;
  assert.deepEqual([grad.inputsToSave ?? [], grad.outputsToSave ?? []], [[], []]);
  const v = tf.variable(x);
  const before = tf.memory().numTensors;
  const { value, grads } = tf.variableGrads(() => dropout(v, 0.3, 5).sum() as tf.Scalar, [v]);
  tf.dispose([value, ...Object.values(grads)]);
  assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
  tf.dispose([x, y, dy, g, v]);
});

test('dropout native = JavaScript bit for bit (1 and 2 threads, small and parallel sizes, gradient too)', async (t) => {
  if (!(await nativeAvailable(t))) return;
  const addon = loadAddon(nativeMode()).addon!;
  for (const [i, shape] of [[5, 3], [4, 16, 16, 10, 8], [1, 1 << 17]].entries()) {
    const x = randomTensor(shape, 10 + i);
    const dy = randomTensor(shape, 20 + i);
    const run = () => tf.tidy(() => [dropout(x, 0.25, 1000 + i), tf.grad((a: tf.Tensor) => dropout(a, 0.25, 1000 + i))(x, dy)]).map((r) => {
      const v = r.dataSync().slice();
      r.dispose();
      return v;
    });
    disableNativeKernels();
    const reference = run();
    for (const threads of [1, 2]) {
      enableNativeKernels({ threads });
      resetNativeKernelCalls();
      const native = run();
      assert.ok((nativeKernelCalls()[DROPOUT_KERNEL] ?? 0) >= 2, `[${shape}]: forward and gradient ran natively`);
      assert.deepEqual(native[0], reference[0], `[${shape}] ${threads} threads: forward`);
      assert.deepEqual(native[1], reference[1], `[${shape}] ${threads} threads: gradient`);
    }
    disableNativeKernels();
    tf.dispose([x, dy]);
  }
  // the addon checks its arguments
  assert.throws(() => addon.dropout(new Float32Array(4), new Float32Array(3), 1, 0, 1), /y has 3 elements, expected 4/);
});

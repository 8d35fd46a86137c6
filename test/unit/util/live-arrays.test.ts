// The benchmarks' count of the arrays a stretch of work really holds
// (src/engine/util/live-arrays.ts): each array once, however many tensor
// records share it, against tf.memory()'s count of every record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, setBackend } from '../../../src/engine/backend';
import { trackLiveArrays } from '../../../src/engine/util/live-arrays';

test('trackLiveArrays counts each array once: reshapes, clones and views share it; disposal releases it', async () => {
  await setBackend('cpu');
  const before = tf.memory().numBytes;
  const live = trackLiveArrays();
  try {
    const x = tf.ones([1000]);
    const r = x.reshape([10, 100]);
    const c = tf.clone(x);
    assert.equal(tf.memory().numBytes - before, 12000, 'tf.memory counts every record');
    assert.equal(live.bytes, 4000, 'one array');
    const y = x.add(x);
    assert.equal(live.bytes, 8000);
    y.dispose();
    assert.equal(live.bytes, 4000);
    assert.equal(live.peak, 8000);
    // two tensors over one ArrayBuffer: the buffer once, at its own size
    const buf = new Float32Array(300);
    const a = tf.tensor1d(buf.subarray(0, 100));
    const b = tf.tensor1d(buf.subarray(100, 300));
    assert.equal(live.bytes, 4000 + 1200);
    a.dispose();
    assert.equal(live.bytes, 4000 + 1200, 'the other view still holds the buffer');
    b.dispose();
    assert.equal(live.bytes, 4000);
    live.resetPeak();
    assert.equal(live.peak, 4000);
    // the array goes only when its last record goes
    x.dispose();
    r.dispose();
    assert.equal(live.bytes, 4000);
    c.dispose();
    assert.equal(live.bytes, 0);
  } finally {
    live.stop();
  }
  // stopped: the storage's own methods are back and nothing more is counted
  const z = tf.ones([10]);
  assert.equal(live.bytes, 0);
  assert.ok(!Object.prototype.hasOwnProperty.call((tf.backend() as unknown as { data: object }).data, 'set'));
  z.dispose();
});

test('trackLiveArrays counts the arrays of the tensors it is given from the start, and a new record of one of them not again', async () => {
  await setBackend('cpu');
  const buf = new Float32Array(500);
  const w = tf.tensor1d(buf);
  const plain = trackLiveArrays();
  const b1 = tf.tensor1d(buf.subarray(0, 100));
  assert.equal(plain.bytes, 2000, 'unnamed, the old array is counted when a new record of it appears');
  plain.stop();
  b1.dispose();
  const seeded = trackLiveArrays(tf.backend(), [w]);
  try {
    assert.equal(seeded.bytes, 2000, 'named at the start');
    const b2 = tf.tensor1d(buf.subarray(0, 100));
    assert.equal(seeded.bytes, 2000, 'the same array, not again');
    b2.dispose();
    w.dispose();
    assert.equal(seeded.bytes, 0);
    assert.equal(seeded.peak, 2000);
  } finally {
    seeded.stop();
  }
});

test('trackLiveArrays: a gradient step holds fewer distinct bytes at its peak than tf.profile reports', async () => {
  await setBackend('cpu');
  const w = tf.variable(tf.randomNormal([64, 64], 0, 0.1, 'float32', 3));
  const x = tf.randomNormal([256, 64], 0, 1, 'float32', 4);
  const live = trackLiveArrays();
  let profilePeak = 0;
  const base = tf.memory().numBytes;
  try {
    const p = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(() => x.matMul(w).relu().matMul(w).tanh().sum() as tf.Scalar, [w]);
      value.dispose();
      for (const g of Object.values(grads)) g.dispose();
    });
    profilePeak = p.peakBytes - base;
  } finally {
    live.stop();
  }
  assert.ok(live.peak > 0 && live.peak < profilePeak, `distinct ${live.peak} vs profile ${profilePeak}`);
  assert.equal(live.bytes, 0, 'everything the step made is gone');
  w.dispose();
  x.dispose();
});

// The native kernels' output pool (src/engine/native/kernels/output-pool.ts):
// a disposed output is handed to the next kernel of its size, and never an
// array something else can still see (read out, a second record, a view, a
// tensor still sharing its data id); training gives the same numbers, bit
// for bit, with and without it.
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import assert from 'node:assert/strict';
import { tf } from '../../../src/engine/backend';
import { disableNativeKernels, enableNativeKernels } from '../../../src/engine/native/register';
import { disableOutputPool, enableOutputPool, outputPoolSize } from '../../../src/engine/native/kernels/output-pool';
import { resolveConfig } from '../../../src/engine/config/resolve';
import { ContrastiveModel } from '../../../src/engine/model/contrastive';
import { AdamW } from '../../../src/engine/training/adamw';
import { trainCorpusTokenizer } from '../../../src/engine/text/bpe-train';
import { disposeTextBatch } from '../../../src/engine/networks/text-batch';
import { Rng } from '../../../src/engine/util/rng';
import { loadAddon } from '../../../src/engine/native/addon';
import { nativeAvailable, randomTensor, REPORTS, LOCATIONS } from './helpers';

type Cpu = { data: { get(id: object): { values?: unknown } }; makeTensorInfo(shape: number[], dtype: string, values: Float32Array): tf.TensorInfo };
const cpu = () => tf.findBackend('cpu') as unknown as Cpu;
const valuesOf = (t: tf.Tensor) => cpu().data.get(t.dataId).values as Float32Array;
const expectedSum = (a: tf.Tensor, b: tf.Tensor) => {
  const av = valuesOf(a);
  const bv = valuesOf(b);
  return Float32Array.from(av, (v, i) => v + bv[i]!);
};

test('a disposed native output is recycled for the next output of its size, with the new values', async (t) => {
  if (!(await nativeAvailable(t))) return;
  enableNativeKernels();
  const a = randomTensor([4, 64, 64], 1);
  const b = randomTensor([4, 64, 64], 2);
  const y = tf.add(a, b);
  const first = valuesOf(y);
  y.dispose();
  assert.ok(outputPoolSize().arrays >= 1);
  const z = tf.mul(a, b);
  assert.equal(valuesOf(z), first, 'the same array, recycled');
  const av = valuesOf(a);
  const bv = valuesOf(b);
  assert.deepEqual(valuesOf(z), Float32Array.from(av, (v, i) => Math.fround(v * bv[i]!)));
  tf.dispose([a, b, z]);
  disableNativeKernels();
});

test('an output read out, shared by a second record, viewed, or still referenced by another tensor is never recycled', async (t) => {
  if (!(await nativeAvailable(t))) return;
  enableNativeKernels();
  const a = randomTensor([4, 64, 64], 3);
  const b = randomTensor([4, 64, 64], 4);
  const want = expectedSum(a, b);
  // read out: dataSync returns the backend's own array, which the caller keeps
  const y1 = tf.add(a, b);
  const kept = y1.dataSync() as Float32Array;
  y1.dispose();
  // a tensor sharing the data id (reshape) keeps the record alive
  const y2 = tf.add(a, b);
  const v2 = valuesOf(y2);
  const r = y2.reshape([16, 1024]);
  y2.dispose();
  // a view of the array as another tensor's values
  const y3 = tf.add(a, b);
  const v3 = valuesOf(y3);
  const view = tf.engine().makeTensorFromTensorInfo(cpu().makeTensorInfo([8], 'float32', v3.subarray(0, 8)));
  y3.dispose();
  // the same array as a second record's values (as the in-place AdamW hands its inputs back)
  const y4 = tf.add(a, b);
  const v4 = valuesOf(y4);
  const twin = tf.engine().makeTensorFromTensorInfo(cpu().makeTensorInfo([4, 64, 64], 'float32', v4));
  y4.dispose();
  // none of them comes back from the pool; their contents stay as they were
  const fresh = Array.from({ length: 6 }, (_, i) => tf.mul(a, tf.scalar(i + 2).add(b)));
  for (const f of fresh) for (const held of [kept, v2, v3, v4]) assert.notEqual(valuesOf(f), held);
  assert.deepEqual(kept, want);
  assert.deepEqual(valuesOf(r), want);
  assert.deepEqual(Array.from(view.dataSync()), Array.from(want.subarray(0, 8)));
  assert.deepEqual(valuesOf(twin), want);
  tf.dispose([a, b, r, view, twin, ...fresh]);
  disableNativeKernels();
});

test('the pool holds at most its limit, and disabling the native kernels empties it', async (t) => {
  if (!(await nativeAvailable(t))) return;
  enableNativeKernels();
  const a = randomTensor([4, 64, 64], 5);
  enableOutputPool(tf.findBackend('cpu'), 3 * 4 * 16384);
  disableOutputPool();
  enableOutputPool(tf.findBackend('cpu'), 3 * 4 * 16384);
  const ys = Array.from({ length: 6 }, () => tf.neg(a));
  tf.dispose(ys);
  assert.deepEqual(outputPoolSize(), { arrays: 3, bytes: 3 * 4 * 16384 });
  disableNativeKernels();
  assert.deepEqual(outputPoolSize(), { arrays: 0, bytes: 0 });
  a.dispose();
});

test('the pool makes room for a number of the largest outputs released (at least 16 MB, at most its limit)', async (t) => {
  if (!(await nativeAvailable(t))) return;
  enableNativeKernels();
  const a = randomTensor([2, 1024, 1024], 3);
  const MB8 = 8 * 1024 * 1024;
  const pooledAfterSix = (limit: number, arrays: number) => {
    disableOutputPool();
    enableOutputPool(tf.findBackend('cpu'), limit, 60_000, undefined, arrays);
    // six 8 MB outputs, released one after another
    const ys = Array.from({ length: 6 }, () => tf.neg(a));
    tf.dispose(ys);
    return outputPoolSize();
  };
  assert.deepEqual(pooledAfterSix(128 * 1024 * 1024, 5), { arrays: 5, bytes: 5 * MB8 }, 'room for five of the largest');
  assert.deepEqual(pooledAfterSix(128 * 1024 * 1024, 3), { arrays: 3, bytes: 3 * MB8 }, 'three');
  assert.deepEqual(pooledAfterSix(128 * 1024 * 1024, 1), { arrays: 2, bytes: 2 * MB8 }, 'one is 8 MB: the 16 MB floor');
  assert.deepEqual(pooledAfterSix(MB8, 5), { arrays: 1, bytes: MB8 }, 'the limit caps it');
  // small outputs: the floor alone
  disableOutputPool();
  enableOutputPool(tf.findBackend('cpu'), 128 * 1024 * 1024, 60_000, undefined, 5);
  const small = randomTensor([4, 64, 64], 5);
  tf.dispose(Array.from({ length: 300 }, () => tf.neg(small)));
  assert.deepEqual(outputPoolSize(), { arrays: 256, bytes: 16 * 1024 * 1024 }, '64 KB outputs: 16 MB of them');
  disableNativeKernels();
  a.dispose();
  small.dispose();
});

test('a recyclable output the full pool has no room for is freed at once, an output something can still see never is, and an emptied pool frees its arrays', async (t) => {
  if (!(await nativeAvailable(t))) return;
  enableNativeKernels();
  const addon = loadAddon('required').addon!;
  const freed: ArrayBufferLike[] = [];
  const free = (b: ArrayBufferLike) => {
    freed.push(b);
    return addon.freeArray!(b);
  };
  enableOutputPool(tf.findBackend('cpu'), 4 * 16384, 60_000, free);
  const a = randomTensor([4, 64, 64], 9);
  const want = Float32Array.from(valuesOf(a), (v) => -v);
  const [y1, y2, y3] = [tf.neg(a), tf.neg(a), tf.neg(a)];
  const [v1, v2, v3] = [y1, y2, y3].map(valuesOf);
  const read = y3.dataSync() as Float32Array;
  tf.dispose([y1, y2, y3]);
  assert.deepEqual(outputPoolSize(), { arrays: 1, bytes: 4 * 16384 }, 'the first fills the pool');
  assert.equal(v1.length, 16384, 'pooled, not freed');
  assert.equal(v2.length, 0, 'no room: freed (detached) at once');
  assert.deepEqual(freed, [v2.buffer]);
  assert.equal(read, v3);
  assert.deepEqual(read, want, 'read out: neither pooled nor freed');
  // the pooled array is handed out again and computes as any other
  const z = tf.neg(a);
  assert.equal(valuesOf(z), v1);
  assert.deepEqual(valuesOf(z), want);
  z.dispose();
  disableOutputPool();
  assert.equal(v1.length, 0, 'emptying the pool frees its arrays');
  assert.deepEqual(outputPoolSize(), { arrays: 0, bytes: 0 });
  // enableNativeKernels hands the pool the addon's freeArray: with no room at all, every recyclable output is freed
  process.env.MRCL_OUTPUT_POOL_MB = '0';
  try {
    enableNativeKernels();
    const y = tf.neg(a);
    const v = valuesOf(y);
    y.dispose();
    assert.equal(v.length, 0);
  } finally {
    delete process.env.MRCL_OUTPUT_POOL_MB;
  }
  a.dispose();
  disableNativeKernels();
});

test('pretraining steps with AdamW give the same losses and weights, bit for bit, with and without the pool, and with every output freed at once', async (t) => {
  if (!(await nativeAvailable(t))) return;
  const config = resolveConfig(
    {
      image: { width: 4, dropout: 0, attentionDropout: 0 },
      text: { layers: 1, hidden: 16, heads: 2, intermediate: 32, attentionWindow: 16, maxWords: 24, dropout: 0 },
      heads: { globalDim: 32, localDim: 16 },
    },
    'output pool test',
  );
  const tokenizer = trainCorpusTokenizer(REPORTS, { vocabSize: 300, minFrequency: 1 });
  const run = (pool: boolean, limitMb?: number) => {
    process.env.MRCL_OUTPUT_POOL = pool ? '1' : '0';
    if (limitMb === undefined) delete process.env.MRCL_OUTPUT_POOL_MB;
    else process.env.MRCL_OUTPUT_POOL_MB = String(limitMb);
    enableNativeKernels();
    const model = new ContrastiveModel(config, { size: tokenizer.vocabSize, padId: tokenizer.padId }, 5);
    const text = model.text.batch(REPORTS.map((r) => tokenizer.encode(r, { maxTokens: model.text.maxTokens })));
    const x = randomTensor([4, 32, 32, 32, 1], 6) as tf.Tensor5D;
    const vars = model.namedParameters().filter(([, v]) => v.trainable).map(([, v]) => v);
    const opt = new AdamW(vars, { lr: 1e-3 });
    const rng = new Rng(7);
    const losses: number[] = [];
    for (let s = 0; s < 3; s++) {
      const { value, grads } = tf.variableGrads(() => model.loss(model.forward(x, text, true), LOCATIONS, rng).total, vars);
      losses.push(value.dataSync()[0]!);
      opt.step(grads);
      tf.dispose([value, ...Object.values(grads)]);
    }
    const weights = vars.map((v) => Float32Array.from(v.dataSync()));
    const pooled = outputPoolSize().arrays;
    tf.dispose(x);
    disposeTextBatch(text);
    model.dispose();
    disableNativeKernels();
    return { losses, weights, pooled };
  };
  try {
    const off = run(false);
    const on = run(true);
    // no room in the pool: every recyclable output is freed as soon as its tensor is disposed (a use after that would read an empty array)
    const freed = run(true, 0);
    assert.equal(off.pooled, 0);
    assert.ok(on.pooled > 0, 'the pool was used');
    assert.equal(freed.pooled, 0);
    for (const other of [on, freed]) {
      assert.deepEqual(other.losses, off.losses);
      other.weights.forEach((w, i) => assert.deepEqual(w, off.weights[i], `parameter ${i}`));
    }
  } finally {
    delete process.env.MRCL_OUTPUT_POOL;
    delete process.env.MRCL_OUTPUT_POOL_MB;
  }
});

test('an idle pool empties itself, and its arrays are then collected', async (t) => {
  if (!(await nativeAvailable(t))) return;
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  enableNativeKernels();
  enableOutputPool(tf.findBackend('cpu'), 64 * 1024 * 1024, 50);
  const a = randomTensor([4, 64, 64], 8);
  let y: tf.Tensor | null = tf.neg(a);
  const weak = new WeakRef(valuesOf(y));
  y.dispose();
  y = null;
  assert.equal(outputPoolSize().arrays, 1);
  // taken again within the idle time: the pool stays
  await new Promise((r) => setTimeout(r, 30));
  const again = tf.neg(a);
  assert.equal(valuesOf(again), weak.deref(), 'reused');
  again.dispose();
  assert.equal(outputPoolSize().arrays, 1);
  // the look at 50 ms saw a take since the one before: the pool is kept for another 50 ms
  await new Promise((r) => setTimeout(r, 45));
  assert.equal(outputPoolSize().arrays, 1, 'taken in the last period: kept');
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(outputPoolSize(), { arrays: 0, bytes: 0 }, 'idle: emptied');
  await new Promise((r) => setImmediate(r)); // WeakRef targets stay alive until the current job ends
  gc();
  assert.equal(weak.deref(), undefined, 'nothing else held it');
  // the pool then hands out a new array, which works as any other
  const z = tf.neg(a);
  assert.deepEqual(valuesOf(z), Float32Array.from(valuesOf(a), (v) => -v));
  tf.dispose([a, z]);
  disableNativeKernels();
});

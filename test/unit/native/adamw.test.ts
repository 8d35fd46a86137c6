import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../../src/engine/backend';
import { adamwUpdate, type AdamWHyper } from '../../../src/engine/native/fused-adamw';
import { AdamW } from '../../../src/engine/training/adamw';
import { disableNativeKernels, enableNativeKernels } from '../../../src/engine/native/register';
import { compareNative, nativeAvailable, randomTensor, relativeDiff } from './helpers';

const hyper = (t: number): AdamWHyper => ({
  lr: 3e-3,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0.01,
  biasCorrection1: 1 - 0.9 ** t,
  biasCorrection2Sqrt: Math.sqrt(1 - 0.999 ** t),
});

test('fused AdamW native = the op-by-op update', async (t) => {
  if (!(await nativeAvailable(t))) return;
  const shape = [3, 3, 3, 8, 16];
  const p = randomTensor(shape, 1);
  const g = randomTensor(shape, 2);
  const m = randomTensor(shape, 3).mul(0.1);
  const v = randomTensor(shape, 4).abs().mul(0.01);
  for (const step of [1, 2, 10, 1000]) {
    compareNative(`adamw step ${step}`, () => {
      const u = adamwUpdate(p, g, m, v, hyper(step));
      return [u.p, u.m, u.v];
    }, ['MrclAdamW']);
  }
  tf.dispose([p, g, m, v]);
});

test('adamwUpdate (either path) follows the AdamW optimizer over three steps', async () => {
  await tf.setBackend('cpu');
  disableNativeKernels();
  const init = randomTensor([40, 30], 9);
  const grads = [1, 2, 3].map((s) => randomTensor([40, 30], 20 + s));
  const variable = tf.variable(init.clone());
  const opt = new AdamW([variable], { lr: 3e-3, weightDecay: 0.01 });
  let p = init.clone();
  let m = tf.zerosLike(init);
  let v = tf.zerosLike(init);
  grads.forEach((g, i) => {
    opt.step(new Map([[variable, g]]));
    const u = adamwUpdate(p, g, m, v, hyper(i + 1));
    tf.dispose([p, m, v]);
    ({ p, m, v } = u);
  });
  assert.ok(relativeDiff(p.dataSync(), variable.dataSync()) <= 1e-6);
  assert.throws(() => adamwUpdate(p, tf.zeros([2]), m, v, hyper(1)), /gradient and moments must have the parameter's shape \[40, 30\]/);
  tf.dispose([init, p, m, v, variable, ...grads]);
  opt.dispose();
});

test('AdamW.step updates in place natively only where no other tensor can see it; adamwUpdate alone never mutates its inputs', async (t) => {
  if (!(await nativeAvailable(t))) return;
  const backend = tf.backend() as unknown as { data: { get(id: object): { values: Float32Array } } };
  const arrayOf = (x: tf.Tensor) => backend.data.get(x.dataId).values;
  const init = randomTensor([64, 48], 31);
  const grads = [1, 2, 3].map((s) => randomTensor([64, 48], 40 + s));
  const run = () => {
    const variable = tf.variable(init);
    const opt = new AdamW([variable], { lr: 3e-3, weightDecay: 0.01 });
    const arrays: Float32Array[] = [];
    for (const g of grads) {
      opt.step(new Map([[variable, g]]));
      arrays.push(arrayOf(variable));
    }
    const out = variable.dataSync().slice();
    variable.dispose();
    opt.dispose();
    return { out, arrays };
  };
  disableNativeKernels();
  const reference = run().out;
  enableNativeKernels();
  try {
    const native = run();
    assert.ok(relativeDiff(native.out, reference) <= 1e-6, 'same values as the op-by-op optimizer');
    // steps 2 and 3 wrote into the array the variable already had (step 1 created the moments)
    assert.equal(native.arrays[1], native.arrays[0]);
    assert.equal(native.arrays[2], native.arrays[0]);
    // a clone of the parameter shares its data: the step must not change the clone
    const variable = tf.variable(init);
    const opt = new AdamW([variable], { lr: 3e-3 });
    opt.step(new Map([[variable, grads[0]!]]));
    const before = variable.dataSync().slice();
    const kept = variable.clone();
    opt.step(new Map([[variable, grads[1]!]]));
    assert.deepEqual(kept.dataSync(), before, 'the clone still holds the old values');
    assert.notDeepEqual(variable.dataSync(), before, 'the variable moved');
    tf.dispose([kept, variable]);
    opt.dispose();
    // without inPlace the kernel never writes into its inputs
    const [p, g, m, v] = [1, 2, 3, 4].map((s) => randomTensor([10, 7], 60 + s));
    const copies = [p, m, v].map((x) => x!.dataSync().slice());
    const u = adamwUpdate(p!, g!, m!, v!, hyper(5));
    [p, m, v].forEach((x, i) => assert.deepEqual(x!.dataSync(), copies[i]));
    tf.dispose([p!, g!, m!, v!, u.p, u.m, u.v]);
  } finally {
    disableNativeKernels();
    tf.dispose([init, ...grads]);
  }
});

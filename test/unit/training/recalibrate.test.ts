import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../../../src/engine/backend';
import { BatchNorm3d } from '../../../src/engine/networks/layers/batchnorm3d';
import { Dropout } from '../../../src/engine/networks/layers/dropout';
import { Module } from '../../../src/engine/networks/module';
import { recalibrateBatchNorm, recalibrationBatches } from '../../../src/engine/training/recalibrate';
import { assertClose, cpu, noLeaks } from '../networks/helpers';

interface Fixture {
  batches: number[][];
  shapes: [number, number, number, number, number][];
  bn1: { weight: number[]; bias: number[]; running_mean: number[]; running_var: number[]; num_batches_tracked: number };
  bn2: Fixture['bn1'];
  bn3: { running_mean: number[]; running_var: number[] };
}
const F = JSON.parse(readFileSync(join(__dirname, '../../fixtures/recalibrate/update_bn.json'), 'utf8')) as Fixture;

/** Dropout(0.5) → BN → ReLU → BN → BN (frozen, 'eval'): make_fixtures.py's Net, channels last. */
class Net extends Module {
  readonly drop = this.child('drop', new Dropout(0.5, 7));
  readonly bn1 = this.child('bn1', new BatchNorm3d(3));
  readonly bn2 = this.child('bn2', new BatchNorm3d(3));
  readonly bn3 = this.child('bn3', new BatchNorm3d(3));
  constructor() {
    super();
    this.bn3.setFrozen(true);
    this.bn3.frozenMode = 'eval';
  }
  apply(x: tf.Tensor, training: boolean): tf.Tensor {
    return tf.tidy(() => this.bn3.apply(this.bn2.apply(tf.relu(this.bn1.apply(this.drop.apply(x, { training }), { training })), { training }), { training }));
  }
}

function net(): Net {
  const n = new Net();
  tf.tidy(() => {
    for (const [bn, f] of [[n.bn1, F.bn1], [n.bn2, F.bn2]] as const) {
      bn.weight.assign(tf.tensor1d(f.weight));
      bn.bias.assign(tf.tensor1d(f.bias));
      // stale statistics, as the fixture's
      bn.runningMean.assign(tf.fill([3], 5));
      bn.runningVar.assign(tf.fill([3], 9));
      bn.numBatchesTracked.assign(tf.scalar(100, 'int32'));
    }
    n.bn3.runningMean.assign(tf.tensor1d([0.1, 0.2, 0.3]));
    n.bn3.runningVar.assign(tf.tensor1d([2, 3, 4]));
  });
  return n;
}

test('recalibrateBatchNorm matches torch update_bn (dropout off, a frozen eval-mode batch norm kept)', async () => {
  await cpu();
  const n = net();
  const batches = F.batches.map((b, i) => tf.tensor5d(b, F.shapes[i]!));
  const updated = recalibrateBatchNorm(n, batches, (x) => n.apply(x, true));
  assert.equal(updated, 2, 'bn1 and bn2 use batch statistics in training; bn3 does not');
  for (const [bn, f, name] of [[n.bn1, F.bn1, 'bn1'], [n.bn2, F.bn2, 'bn2']] as const) {
    assertClose(bn.runningMean.dataSync(), f.running_mean, 1e-5, `${name} running_mean`);
    assertClose(bn.runningVar.dataSync(), f.running_var, 1e-5, `${name} running_var`);
    assert.equal(bn.numBatchesTracked.dataSync()[0], f.num_batches_tracked, `${name} num_batches_tracked`);
  }
  assertClose(n.bn3.runningMean.dataSync(), F.bn3.running_mean, 0, 'bn3 running_mean untouched');
  assertClose(n.bn3.runningVar.dataSync(), F.bn3.running_var, 0, 'bn3 running_var untouched');
  // momentum and dropout are back to what training uses
  assert.equal(n.bn1.momentum, 0.1);
  assert.equal(n.drop.suspended, false);
  const x = batches[0]!;
  const a = n.apply(x, true);
  const b = n.apply(x, true);
  assert.ok(tf.tidy(() => a.sub(b).abs().max().dataSync()[0]!) > 0, 'dropout draws masks again after the pass');
  tf.dispose([a, b, ...batches]);
  n.dispose();
});

test('recalibrateBatchNorm with dropout left on would differ (the fixture tells the two apart)', async () => {
  await cpu();
  const n = net();
  const batches = F.batches.map((b, i) => tf.tensor5d(b, F.shapes[i]!));
  for (const bn of [n.bn1, n.bn2]) {
    tf.tidy(() => {
      bn.runningMean.assign(tf.zeros([3]));
      bn.runningVar.assign(tf.ones([3]));
      bn.numBatchesTracked.assign(tf.scalar(0, 'int32'));
    });
    bn.momentum = null;
  }
  for (const x of batches) n.apply(x, true).dispose();
  assert.ok(Math.max(...[...n.bn1.runningVar.dataSync()].map((v, i) => Math.abs(v - F.bn1.running_var[i]!))) > 1e-2);
  tf.dispose(batches);
  n.dispose();
});

test('recalibrateBatchNorm leaks no tensor; nothing to do leaves the model as it was', async () => {
  await cpu();
  const n = net();
  const batches = F.batches.map((b, i) => tf.tensor5d(b, F.shapes[i]!));
  await noLeaks('recalibrateBatchNorm', () => {
    recalibrateBatchNorm(n, batches, (x) => n.apply(x, true));
  });
  assert.equal(recalibrateBatchNorm(n, [], (x: tf.Tensor) => n.apply(x, true)), 0);
  assertClose(n.bn1.runningMean.dataSync(), F.bn1.running_mean, 1e-5, 'unchanged by an empty pass');
  tf.dispose(batches);
  n.dispose();
});

test('recalibrationBatches: in order, a last batch below the minimum joins the one before', () => {
  assert.deepEqual(recalibrationBatches([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4, 5]]);
  assert.deepEqual(recalibrationBatches([1, 2, 3, 4, 5, 6], 4, 3), [[1, 2, 3, 4, 5, 6]]);
  assert.deepEqual(recalibrationBatches([1, 2, 3, 4], 2), [[1, 2], [3, 4]]);
  assert.deepEqual(recalibrationBatches([1], 4), [[1]]);
  assert.deepEqual(recalibrationBatches([], 4), []);
});

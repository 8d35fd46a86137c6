// A run that cannot train must fail, not report its initial weights as
// trained: batch sizes below what the loss needs are config errors, the step
// counts say 0, and the loop refuses an epoch without a batch or a
// non-finite loss.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tf } from '../../../src/engine/backend';
import { resolveConfig } from '../../../src/engine/config/resolve';
import { Module } from '../../../src/engine/networks/module';
import { AdamW } from '../../../src/engine/training/adamw';
import { runLoop, NoTrainingError, type LoopSpec } from '../../../src/engine/training/loop';
import { batchSizeIssues, minimumBatch, MIN_FINETUNE_BATCH } from '../../../src/engine/training/batch-rules';
import { epochBatches, pretrainSteps } from '../../../src/engine/training/pretrain';
import { finetuneSteps } from '../../../src/engine/training/finetune';
import { variantConfig } from '../../../src/engine/experiment/units';
import type { ExperimentConfigInput } from '../../../src/shared/config';

const cfg = (input: ExperimentConfigInput) => resolveConfig(input);

test('minimumBatch: semi-hard and hard negatives need 3, random negatives and the global InfoNCE loss 2', () => {
  const rows: [ExperimentConfigInput, number][] = [
    [{}, 3], // default: triplet, semi-hard
    [{ loss: { negatives: 'hard' } }, 3],
    [{ loss: { negatives: 'random' } }, 2],
    [{ loss: { kind: 'infonce', components: 'global' } }, 2],
    [{ loss: { kind: 'infonce', components: 'both' } }, 3],
  ];
  for (const [input, need] of rows) assert.equal(minimumBatch(cfg(input)), need, JSON.stringify(input));
  assert.equal(MIN_FINETUNE_BATCH, 2);
});

test('batchSizeIssues: a batch size with which every batch is dropped is an error on its field', () => {
  const rows: [ExperimentConfigInput, string[]][] = [
    [{ pretrain: { batchSize: 3 }, finetune: { batchSize: 2 } }, []],
    [{ pretrain: { batchSize: 2 } }, ['/pretrain/batchSize']],
    [{ pretrain: { batchSize: 1 }, loss: { negatives: 'random' } }, ['/pretrain/batchSize']],
    [{ pretrain: { batchSize: 2 }, loss: { negatives: 'random' } }, []],
    [{ finetune: { batchSize: 1 } }, ['/finetune/batchSize']],
    [{ pretrain: { batchSize: 2 }, finetune: { batchSize: 1 } }, ['/pretrain/batchSize', '/finetune/batchSize']],
  ];
  for (const [input, paths] of rows) assert.deepEqual(batchSizeIssues(cfg(input)).map((i) => i.path), paths, JSON.stringify(input));
  const [pre] = batchSizeIssues(cfg({ pretrain: { batchSize: 2 } }));
  assert.match(pre!.message, /^pretrain\.batchSize 2 is below 3, the smallest batch semi-hard negatives can learn from: .*set it to at least 3$/);
  const [fine] = batchSizeIssues(cfg({ finetune: { batchSize: 1 } }));
  assert.match(fine!.message, /^finetune\.batchSize 1 is below 2: .*set it to at least 2$/);
  // stages the run does not have are not checked; an ablation's strictest variant is
  const random = cfg({ pretrain: { batchSize: 2 }, finetune: { batchSize: 1 }, loss: { negatives: 'random' } });
  assert.deepEqual(batchSizeIssues(random, { pretraining: true, finetuning: false }), []);
  const hard = variantConfig(random, 'hard-negatives');
  const strictest = batchSizeIssues(random, { pretraining: true, finetuning: false, variants: [random, hard] });
  assert.equal(strictest.length, 1);
  assert.match(strictest[0]!.message, /^pretrain\.batchSize 2 is below 3, the smallest batch hard negatives can learn from/);
});

test('step counts: a batch size below the minimum trains 0 steps (every batch is dropped)', () => {
  // 20 cases in batches of 2 with semi-hard negatives: 10 batches, each below 3
  assert.equal(epochBatches(Array.from({ length: 20 }, (_, i) => i), 2, 3, 1, 0).length, 0);
  assert.equal(pretrainSteps(cfg({ pretrain: { batchSize: 2, epochs: 4 } }), 20), 0);
  // 20 in batches of 6: 3 full + a last batch of 2, dropped (below 3)
  assert.equal(pretrainSteps(cfg({ pretrain: { batchSize: 6, epochs: 4 } }), 20), 3 * 4);
  assert.equal(pretrainSteps(cfg({ pretrain: { batchSize: 6, epochs: 1 } }), 21), 4);
  assert.equal(finetuneSteps(cfg({ finetune: { batchSize: 1, epochs: 3 } }), 10), 0);
  assert.equal(finetuneSteps(cfg({ finetune: { batchSize: 4, epochs: 3 } }), 10), 3 * 3); // 4 + 4 + 2
  assert.equal(finetuneSteps(cfg({ finetune: { batchSize: 4, epochs: 1 } }), 9), 2); // 4 + 4, the last 1 dropped
});

class One extends Module {
  readonly w = this.param('w', tf.zeros([1]));
}

function loopSpec(batches: (epoch: number) => number[][], loss: () => number): { spec: LoopSpec<number[]>; dispose(): void; dir: string } {
  const model = new One();
  const optimizer = new AdamW([model.w], { lr: 0.1 });
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-loop-'));
  const spec: LoopSpec<number[]> = {
    stage: 'pretrain',
    dir,
    config: cfg({}),
    model,
    optimizer,
    epochs: 2,
    checkpointEvery: 1,
    lr: () => 0.1,
    batches,
    step: () => ({ loss: loss() }),
    noBatches: '5 case(s) in batches of 2 leave no batch of at least 3',
    seed: 1,
    resume: false,
    emit: () => {},
  };
  return { spec, dir, dispose: () => (optimizer.dispose(), model.dispose()) };
}

test('runLoop: a stage without a batch fails before it starts, naming why; no checkpoint is written', async () => {
  const { spec, dir, dispose } = loopSpec(() => [], () => 1);
  try {
    await assert.rejects(runLoop(spec), (e: Error) => {
      assert.ok(e instanceof NoTrainingError);
      assert.equal(e.message, 'pretrain: no optimizer step to take (5 case(s) in batches of 2 leave no batch of at least 3); nothing would be trained');
      return true;
    });
    assert.equal(existsSync(join(dir, 'checkpoints')), false);
  } finally {
    dispose();
  }
});

test('runLoop: an epoch that loses its batches fails the stage too', async () => {
  const { spec, dispose } = loopSpec((epoch) => (epoch === 0 ? [[1, 2, 3]] : []), () => 1);
  try {
    await assert.rejects(runLoop(spec), NoTrainingError);
  } finally {
    dispose();
  }
});

test('runLoop: a non-finite loss fails the stage, naming epoch and step', async () => {
  let n = 0;
  const { spec, dispose } = loopSpec(() => [[1, 2, 3], [4, 5, 6]], () => (++n === 2 ? NaN : 1));
  try {
    await assert.rejects(runLoop(spec), /^Error: pretrain: loss became NaN at epoch 1, step 2; training diverged/);
  } finally {
    dispose();
  }
});

test('runLoop: a stage with batches trains and counts its steps', async () => {
  const { spec, dispose } = loopSpec(() => [[1, 2, 3], [4, 5, 6]], () => 0.5);
  try {
    const r = await runLoop(spec);
    assert.equal(r.steps, 4);
    assert.equal(r.lastEpoch?.loss, 0.5);
  } finally {
    dispose();
  }
});

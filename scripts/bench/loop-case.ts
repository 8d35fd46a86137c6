// The bench's `loop` case: the real pretraining loop's step. Once, at setup,
// a small synthetic cohort (LOOP_BATCHES batches of the bench's batch size,
// at the bench's --sizes shape) is written into a temporary folder and opened
// as a Dataset from its manifest, as a run opens it; its reports train the
// corpus tokenizer as pretraining does (prepareText). Each `step` is one
// pretrainStep — the function pretrain() runs for every optimizer step — on
// the next batch of the epoch: volumes through the Dataset (its preprocessing
// cache, then its in-memory layer, as in a run past its first epoch), the
// reports' token batch (synthetic reports run to a few hundred tokens, so the
// Longformer takes its banded path with several blocks), locations, forward,
// losses, backward, AdamW. `forward` does the same without gradients or the
// optimizer step.
//
// The cohort is written by a child process (the same worker script, run
// with MRCL_BENCH_SYNTH): a run reads a cohort that exists, and generating
// the volumes in the measured process left freed memory in its allocator
// that added 15–18 MB to the step's peak RSS (width 8, batch 16).
//
// The PyTorch side gets the same batches (token ids, masks, word slots,
// locations, volume paths) through torch-inputs.json and reads the volumes
// with nibabel at every step, as a PyTorch Dataset does; a checksum of the
// first batch's input checks that both sides see the same voxels.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { CaseRecord } from '../../src/engine/data/manifest';
import { resolveConfig } from '../../src/engine/config/resolve';
import { tf } from '../../src/engine/backend';
import { ContrastiveModel } from '../../src/engine/model/contrastive';
import { volumesToInput } from '../../src/engine/networks/image-input';
import { disposeTextBatch } from '../../src/engine/networks/text-batch';
import { synthesizeCohort } from '../../src/engine/synth/cohort';
import type { Encoding } from '../../src/engine/text/tokenizer';
import { AdamW } from '../../src/engine/training/adamw';
import { minimumBatch } from '../../src/engine/training/batch-rules';
import { openDataset, pretrainingCases, type Dataset } from '../../src/engine/training/dataset';
import { epochBatches, prepareText, pretrainStep } from '../../src/engine/training/pretrain';
import { Rng, hashSeed } from '../../src/engine/util/rng';
import type { Setup, TrainingCase } from './training-cases';
import { scratchFolder, torchBatch, writeTorchInputs, type TorchBatch } from './torch-inputs';

/** Batches in the cohort; the steps cycle through them (report lengths differ between batches). */
export const LOOP_BATCHES = 2;

/** Σ x[i]·(i mod 97 + 1): order-sensitive, so a transposed or flipped volume does not match. */
function checksum(ds: Dataset, batch: CaseRecord[]): number {
  const x = volumesToInput(
    batch.map((c) => ds.image(c)),
    batch.map((c) => c.id),
  );
  try {
    const v = x.dataSync();
    let sum = 0;
    for (let i = 0; i < v.length; i++) sum += v[i]! * ((i % 97) + 1);
    return sum;
  } finally {
    x.dispose();
  }
}

/** The environment variable that makes the worker script write a cohort and exit (synthesizeInChild). */
export const SYNTH_ENV = 'MRCL_BENCH_SYNTH';

interface SynthRequest {
  out: string;
  internal: number;
  shape: [number, number, number];
}

/** The cohort, written by this script run again as a child process; returns its manifest's path. */
function synthesizeInChild(r: SynthRequest): string {
  const script = process.argv[1];
  if (!script) throw new Error('bench loop: no script path to run the cohort synthesis with');
  const child = spawnSync(process.execPath, [...process.execArgv, script], {
    env: { ...process.env, [SYNTH_ENV]: JSON.stringify(r) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (child.status !== 0) throw new Error(`bench loop: writing the synthetic cohort into ${r.out} failed (exit ${child.status ?? child.signal})`);
  return join(r.out, 'manifest.json');
}

/** In the child: writes the cohort SYNTH_ENV asks for. */
export async function synthesizeRequested(json: string): Promise<void> {
  const r = JSON.parse(json) as SynthRequest;
  await synthesizeCohort({ out: r.out, internal: r.internal, external: 0, shape: r.shape });
}

export async function loopCase(s: Setup): Promise<TrainingCase> {
  const scratch = scratchFolder('loop');
  const manifest = synthesizeInChild({ out: join(scratch.dir, 'cohort'), internal: LOOP_BATCHES * s.batch, shape: s.size });
  const config = resolveConfig({ image: { width: s.width }, data: { manifest, shape: s.size }, pretrain: { batchSize: s.batch } }, 'bench');
  const ds = openDataset(config, scratch.dir);
  const cases = pretrainingCases(ds);
  const reports = cases.map((c) => ds.report(c)!);
  const text = await prepareText(config, { dir: scratch.dir, stage: 'bench loop', baseDir: scratch.dir, resume: false, emit: () => {} }, reports);
  const model = new ContrastiveModel(config, { size: text.tokenizer.vocabSize, padId: text.tokenizer.padId }, config.seed, text.encoder);
  const encodings = new Map<string, Encoding>(cases.map((c, i) => [c.id, text.tokenizer.encode(reports[i]!, { maxTokens: model.text.maxTokens })]));
  const trainable = model.trainableWeights;
  const optimizer = new AdamW(trainable, { lr: config.pretrain.lr, weightDecay: config.pretrain.weightDecay });
  const locations = (b: CaseRecord[]) => b.map((c) => c.location ?? '');
  const batches = epochBatches(cases, s.batch, minimumBatch(config), config.seed, 0);
  if (batches.length === 0) throw new Error(`bench loop: ${cases.length} cases give no batch of ${s.batch}`);
  const forTorch: TorchBatch[] = batches.map((b, i) => {
    const tb = model.text.batch(b.map((c) => encodings.get(c.id)!));
    try {
      return { ...torchBatch(tb, locations(b)), images: b.map((c) => c.image), inputSum: i === 0 ? checksum(ds, b) : undefined };
    } finally {
      disposeTextBatch(tb);
    }
  });
  const inputs = writeTorchInputs(scratch.dir, config, { size: text.tokenizer.vocabSize, padId: text.tokenizer.padId }, forTorch, s.size);
  const rng = new Rng(hashSeed(config.seed, 'pretrain-loop'));
  let cursor = 0;
  const next = () => batches[cursor++ % batches.length]!;
  return {
    params: model.countParameters(true),
    inputs,
    reportTokens: forTorch.map((b) => b.lengths),
    forward: () => {
      const b = next();
      const images = volumesToInput(
        b.map((c) => ds.image(c)),
        b.map((c) => c.id),
      );
      const tb = model.text.batch(b.map((c) => encodings.get(c.id)!));
      try {
        tf.tidy(() => void model.loss(model.forward(images, tb, true), locations(b), rng).total.dataSync());
      } finally {
        images.dispose();
        disposeTextBatch(tb);
      }
    },
    step: () => void pretrainStep(model, optimizer, trainable, [next()], ds, encodings, locations, rng),
    dispose: () => {
      optimizer.dispose();
      model.dispose();
      scratch.remove();
    },
  };
}

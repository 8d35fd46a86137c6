// Full training steps for the bench: a pretraining step (image encoder,
// small text encoder, heads, cross-attention, all losses, AdamW), a
// fine-tuning step (encoder + classifier head, BCE, AdamW) and the real
// pretraining loop's step on a synthetic cohort (loop-case.ts), on the
// engine's own model classes so the bench times exactly what training runs.
// The pretraining cases write their resolved config and token batches into a
// JSON file (`inputs`) that the PyTorch worker reads, so both frameworks
// build the same model and see the same reports.
import { tf } from '../../src/engine/backend';
import { resolveConfig } from '../../src/engine/config/resolve';
import { ContrastiveModel } from '../../src/engine/model/contrastive';
import { MarkerClassifier, bceWithLogits } from '../../src/engine/model/classifier';
import { trainCorpusTokenizer } from '../../src/engine/text/bpe-train';
import { AdamW } from '../../src/engine/training/adamw';
import { Rng } from '../../src/engine/util/rng';
import { loopCase } from './loop-case';
import { scratchFolder, torchBatch, writeTorchInputs } from './torch-inputs';

export interface TrainingCase {
  forward(): void;
  step(): void;
  params: number;
  /** JSON file the PyTorch worker reads at setup (pretraining cases) */
  inputs?: string;
  /** removes what the case wrote (temporary folder) */
  dispose?(): void;
  /** tokens of each report, per batch (pretraining cases) */
  reportTokens?: number[][];
}

export interface Setup {
  size: [number, number, number];
  batch: number;
  width: number;
}

/** Short synthetic reports of the pretrain case (the PyTorch side reads their token batch); word counts differ so padding is exercised. */
export const BENCH_REPORTS = [
  'Large heterogeneous mass in the right temporal lobe with surrounding oedema and mild midline shift.',
  'Cystic lesion in the cerebellar vermis compressing the fourth ventricle, with an enhancing mural nodule.',
  'Infiltrative lesion of the left thalamus extending into the midbrain, no hydrocephalus.',
  'Small well defined lesion in the pons with slight mass effect on the fourth ventricle and no restricted diffusion seen.',
  'Frontal lobe lesion with calcification and a cystic component, the ventricles are normal in size.',
  'Optic pathway lesion involving the chiasm and both optic tracts with extension to the hypothalamus.',
];
export const BENCH_LOCATIONS = ['supratentorial', 'infratentorial', 'transtentorial', 'infratentorial', 'supratentorial', 'supratentorial'];

function images(s: Setup, seedShift: number): tf.Tensor5D {
  const [d, h, w] = s.size;
  const n = s.batch * d * h * w;
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = Math.sin(0.001 * (i + seedShift));
  return tf.tensor5d(v, [s.batch, d, h, w, 1]);
}

function pretrainCase(s: Setup): TrainingCase {
  const config = resolveConfig({ image: { width: s.width } }, 'bench');
  const reports = Array.from({ length: s.batch }, (_, i) => BENCH_REPORTS[i % BENCH_REPORTS.length]);
  const locations = Array.from({ length: s.batch }, (_, i) => BENCH_LOCATIONS[i % BENCH_LOCATIONS.length]);
  const tokenizer = trainCorpusTokenizer(BENCH_REPORTS, { vocabSize: config.tokenizer.vocabSize, minFrequency: config.tokenizer.minFrequency });
  const model = new ContrastiveModel(config, { size: tokenizer.vocabSize, padId: tokenizer.padId }, 1);
  const text = model.text.batch(reports.map((r) => tokenizer.encode(r, { maxTokens: model.text.maxTokens })));
  const x = images(s, 0);
  const vars = model.trainableWeights;
  const rng = new Rng(1);
  const scratch = scratchFolder('pretrain');
  const inputs = writeTorchInputs(scratch.dir, config, { size: tokenizer.vocabSize, padId: tokenizer.padId }, [torchBatch(text, locations)]);
  const c = trainingCase(model.countParameters(true), vars, () => model.loss(model.forward(x, text, true), locations, rng).total);
  return { ...c, inputs, dispose: scratch.remove, reportTokens: [text.lengths] };
}

function finetuneCase(s: Setup): TrainingCase {
  const config = resolveConfig({ image: { width: s.width } }, 'bench');
  const model = new MarkerClassifier(config, 1);
  const x = images(s, 0);
  const labels = tf.tensor1d(Array.from({ length: s.batch }, (_, i) => i % 2));
  const vars = model.trainableWeights;
  return trainingCase(model.countParameters(true), vars, () => bceWithLogits(model.apply(x, true).logits, labels));
}

/** Forward (loss only) and a full AdamW step of a model's trainable variables. */
function trainingCase(params: number, vars: tf.Variable[], lossOf: () => tf.Scalar): TrainingCase {
  const optimizer = new AdamW(vars, { lr: 1e-4, weightDecay: 0.01 });
  return {
    params,
    forward: () => tf.tidy(() => void lossOf()),
    step: () => {
      const { value, grads } = tf.variableGrads(lossOf, vars);
      optimizer.step(grads);
      tf.dispose([value, ...Object.values(grads)]);
    },
  };
}

export async function setupTrainingCase(kind: string, setup: Setup): Promise<TrainingCase> {
  if (kind === 'pretrain') return pretrainCase(setup);
  if (kind === 'finetune') return finetuneCase(setup);
  if (kind === 'loop') return loopCase(setup);
  throw new Error(`unknown bench case "${kind}"`);
}

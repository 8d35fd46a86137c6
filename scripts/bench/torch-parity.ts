// Checks that the bench's PyTorch pretraining model (torch_models.py) is the
// engine's ContrastiveModel: the engine's weights (torchStateDict names and
// layout) are loaded into it and both compute the embeddings, the
// cross-attention outputs and the loss of one batch at the bench's config
// (batch 3, where semi-hard sampling takes every other case, so no random
// draw differs). Two runs: reports long enough for the Longformer's banded
// path in training mode (dropout rates 0, batch-statistics batch norm), and
// short ones (full path) in evaluation mode. Exits 1 when a value differs by
// more than 1e-5.
//
//   node --import tsx scripts/bench/torch-parity.ts [--python /usr/bin/python3]
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { tf, setBackend } from '../../src/engine/backend';
import { resolveConfig } from '../../src/engine/config/resolve';
import { writeFileAtomic } from '../../src/engine/io/atomic';
import { ContrastiveModel } from '../../src/engine/model/contrastive';
import { disposeTextBatch } from '../../src/engine/networks/text-batch';
import { trainCorpusTokenizer } from '../../src/engine/text/bpe-train';
import { saveModelWeights } from '../../src/engine/training/checkpoint';
import { Rng } from '../../src/engine/util/rng';
import { BENCH_LOCATIONS, BENCH_REPORTS } from './training-cases';
import { scratchFolder, torchBatch } from './torch-inputs';

const { values: o } = parseArgs({ options: { python: { type: 'string', default: '/usr/bin/python3' } } });

async function run(dir: string, training: boolean, reports: string[]): Promise<number> {
  const input = { image: { width: 4, ...(training ? { dropout: 0, attentionDropout: 0 } : {}) }, ...(training ? { text: { dropout: 0 } } : {}) };
  const config = resolveConfig(input, 'bench parity');
  const tokenizer = trainCorpusTokenizer(BENCH_REPORTS, { vocabSize: config.tokenizer.vocabSize, minFrequency: config.tokenizer.minFrequency });
  const model = new ContrastiveModel(config, { size: tokenizer.vocabSize, padId: tokenizer.padId }, 3);
  model.image.selfAttention!.gamma.assign(tf.tensor1d([0.7])); // 0 at init would hide the attention's output
  const text = model.text.batch(reports.map((r) => tokenizer.encode(r, { maxTokens: model.text.maxTokens })));
  const locations = BENCH_LOCATIONS.slice(0, reports.length);
  const [n, d, h, w] = [reports.length, 24, 24, 16];
  const x = new Float32Array(n * d * h * w).map((_, i) => Math.sin(0.001 * i) + 0.3 * Math.cos(0.017 * i));
  const values = tf.tidy(() => {
    const out = model.forward(tf.tensor5d(x, [n, d, h, w, 1]), text, training);
    const l = model.loss(out, locations, new Rng(1));
    const arr = (t: tf.Tensor) => Array.from(t.dataSync());
    return {
      imageGlobal: arr(out.imageGlobal),
      textGlobal: arr(out.textGlobal),
      imageLocal: arr(out.imageLocal),
      textLocal: arr(out.textLocal),
      reportWeightedImage: arr(out.cross.reportWeightedImage),
      imageWeightedText: arr(out.cross.imageWeightedText),
      loss: [l.total.dataSync()[0]!],
    };
  });
  const weights = join(dir, 'weights.safetensors');
  saveModelWeights(weights, model, config);
  const io = join(dir, 'parity.json');
  const batch = torchBatch(text, locations);
  writeFileAtomic(io, [new TextEncoder().encode(JSON.stringify({ config, vocab: { size: tokenizer.vocabSize, padId: tokenizer.padId }, batch, x: Array.from(x), shape: [n, d, h, w], training, values }))]);
  disposeTextBatch(text);
  model.dispose();
  process.stderr.write(`${training ? 'training' : 'evaluation'}, report tokens ${batch.lengths.join(', ')}:\n`);
  const r = spawnSync(o.python!, [join(__dirname, 'torch_parity.py'), weights, io], { stdio: 'inherit' });
  return r.status ?? 1;
}

async function main(): Promise<void> {
  await setBackend('cpu');
  const scratch = scratchFolder('parity');
  const long = (k: number, shift: number) => Array.from({ length: k }, (_, i) => BENCH_REPORTS[(i * 5 + shift) % BENCH_REPORTS.length]).join(' ');
  let status = 0;
  try {
    status ||= await run(scratch.dir, true, [long(12, 0), BENCH_REPORTS[1]!, long(5, 3)]);
    status ||= await run(scratch.dir, false, [long(2, 1), BENCH_REPORTS[4]!, BENCH_REPORTS[2]!]);
  } finally {
    scratch.remove();
  }
  process.exit(status);
}

void main();

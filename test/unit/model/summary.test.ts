// `mrcl model summary` against the paper's Table 7 at the paper's
// dimensions: ResNet-18-A width 64 with self-attention, conv1–layer2 frozen;
// a text encoder shaped like Clinical-Longformer (hidden 768, 12 layers, 12
// heads, FFN 3072, window 512, vocabulary 50265, 4098 positions) from its
// config.json alone (no weights read), last 2 layers trained; localDim 256,
// globalDim 512. Table 7: image 31,759,873; text 18,900,736; cross-attention
// 789,504; MLP heads 525,312; classifier 131,585; totals 52,107,009
// (pretraining, + s_G, s_L here) and 31,891,458 (fine-tuning).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { main } from '../../../src/cli/main';
import { modelSummary } from '../../../src/engine/model/summary';
import { resolveConfig } from '../../../src/engine/config/resolve';

const CLINICAL_LONGFORMER_SHAPE = {
  architectures: ['LongformerForMaskedLM'],
  model_type: 'longformer',
  vocab_size: 50265,
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  hidden_act: 'gelu',
  attention_window: Array(12).fill(512),
  max_position_embeddings: 4098,
  type_vocab_size: 1,
  pad_token_id: 1,
  bos_token_id: 0,
  eos_token_id: 2,
  layer_norm_eps: 1e-5,
  initializer_range: 0.02,
};

function paperWorkspace(extra: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-summary-'));
  mkdirSync(join(dir, 'clinical-longformer'));
  writeFileSync(join(dir, 'clinical-longformer', 'config.json'), JSON.stringify(CLINICAL_LONGFORMER_SHAPE));
  const config = {
    image: { depth: 18, shortcut: 'A', width: 64, selfAttention: true, trainableFrom: 'layer3' },
    text: { pretrained: 'clinical-longformer', trainableLayers: 2 },
    heads: { globalDim: 512, localDim: 256 },
    ...extra,
  };
  const path = join(dir, 'paper.mrcl.json');
  writeFileSync(path, JSON.stringify(config));
  return path;
}

test("model summary --json prints Table 7 at the paper's dimensions", { timeout: 120_000 }, async () => {
  const path = paperWorkspace();
  let out = '';
  const code = await main(['model', 'summary', path, '--json'], { stdout: (s) => void (out += s), stderr: (s) => void (out += s), tty: false, signal: new AbortController().signal });
  assert.equal(code, 0, out);
  const s = JSON.parse(out);
  assert.equal(s.pretrain.imageEncoder.trainable, 31_759_873);
  assert.equal(s.pretrain.textEncoder.trainable, 18_900_736);
  assert.equal(s.pretrain.crossAttention.trainable, 789_504);
  assert.equal(s.pretrain.heads.trainable, 525_312);
  assert.equal(s.finetune.classifier.trainable, 131_585);
  assert.equal(s.finetune.imageEncoder.trainable, 31_759_873);
  assert.equal(s.finetune.total.trainable, 31_891_458);
  // Table 7's pretraining total counts the local image head (131,584) in no column; s_G, s_L are ours
  assert.equal(s.pretrain.imageLocalHead.trainable, 131_584);
  assert.equal(s.pretrain.lossWeights.trainable, 2);
  assert.equal(s.pretrain.total.trainable, 52_107_009 + 2);
  // frozen: conv1, bn1, layer1, layer2 of ResNet-18-A (hand count: 64·343 + 4·(64·64·27) + 128·(64·27) + 3·(128·128·27) + BN affine)
  const frozenImage = 64 * 343 + 2 * 64 + 4 * (64 * 64 * 27) + 4 * 2 * 64 + 128 * 64 * 27 + 3 * (128 * 128 * 27) + 4 * 2 * 128;
  assert.equal(s.pretrain.imageEncoder.frozen, frozenImage);
  assert.equal(s.finetune.imageEncoder.frozen, frozenImage);
  // the Longformer's embeddings and first 10 layers: word 50265·768 + positions 4098·768 + type 768 + LN 2·768, 10 × 8,859,648
  assert.equal(s.pretrain.textEncoder.frozen, 50265 * 768 + 4098 * 768 + 768 + 2 * 768 + 10 * 8_859_648);
  for (const k of ['imageEncoder', 'imageLocalHead', 'textEncoder', 'crossAttention', 'heads', 'lossWeights', 'classifier', 'total']) {
    assert.ok(s.pretrain[k] && s.finetune[k], `key ${k}`);
  }
});

test('model summary follows the config: the parameter-free cross-attention has no parameters, the one-layer text head fewer', { timeout: 120_000 }, () => {
  const config = resolveConfig(
    { image: { width: 4 }, text: { hidden: 32, layers: 1, heads: 2, intermediate: 64 }, heads: { globalDim: 16, localDim: 8, crossAttention: 'dot', textLocalHidden: 0 }, tokenizer: { vocabSize: 300 } },
    'inline',
  );
  const s = modelSummary(config, '/');
  assert.deepEqual(s.pretrain.crossAttention, { trainable: 0, frozen: 0 });
  const learned = modelSummary(resolveConfig({ ...config, heads: { ...config.heads, crossAttention: 'learned' } }, 'inline'), '/');
  // two modules × six projections 8 → 8 with bias; the gates are constants unless trained
  assert.equal(learned.pretrain.crossAttention.trainable, 2 * 6 * (8 * 8 + 8));
  const gated = modelSummary(resolveConfig({ ...config, heads: { ...config.heads, crossAttention: "learned", crossAttentionGammaTrainable: true } }, "inline"), "/");
  assert.equal(gated.pretrain.crossAttention.trainable, 2 * 6 * (8 * 8 + 8) + 2);
  const twoLayer = modelSummary(resolveConfig({ ...config, heads: { ...config.heads, textLocalHidden: 12 } }, 'inline'), '/');
  assert.equal(twoLayer.pretrain.textEncoder.trainable - s.pretrain.textEncoder.trainable, 32 * 12 + 12 + 12 * 8 + 8 - (32 * 8 + 8));
});

test('model summary names a missing text config', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-summary-'));
  const path = join(dir, 'c.mrcl.json');
  writeFileSync(path, JSON.stringify({ text: { pretrained: 'nowhere' } }));
  let err = '';
  const code = await main(['model', 'summary', path], { stdout: () => undefined, stderr: (s) => void (err += s), tty: false, signal: new AbortController().signal });
  assert.equal(code, 1);
  assert.match(err, /nowhere.*config\.json is missing/);
});

test("model summary sizes the small encoder's embeddings by a pretrained tokenizer's vocabulary, not tokenizer.vocabSize", { timeout: 60_000 }, async () => {
  const { loadTokenizer } = await import('../../../src/engine/text/tokenizer');
  const path = join(process.cwd(), 'test/fixtures/text/mini-roberta/tokenizer.json');
  const vocab = loadTokenizer(path).vocabSize;
  const text = { hidden: 16, layers: 1, heads: 2, intermediate: 32 };
  const base = { image: { width: 2 }, text, heads: { globalDim: 8, localDim: 4 } };
  const corpus = modelSummary(resolveConfig({ ...base, tokenizer: { vocabSize: 300 } }, 'inline'), '/');
  const pretrained = modelSummary(resolveConfig({ ...base, tokenizer: { kind: 'pretrained', path, vocabSize: 300 } }, 'inline'), '/');
  assert.equal(corpus.built.vocabSize, 300);
  assert.equal(pretrained.built.vocabSize, vocab);
  assert.notEqual(vocab, 300);
  // the word embeddings are the only difference: (vocab − 300) × hidden
  assert.equal(pretrained.pretrain.textEncoder.trainable - corpus.pretrain.textEncoder.trainable, (vocab - 300) * 16);
});

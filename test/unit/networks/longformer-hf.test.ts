// The TF.js Longformer against PyTorch: test/fixtures/longformer/make_fixture.py
// writes a tiny HF folder and the outputs of HF's LongformerModel algorithm.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tf } from '../../../src/engine/backend';
import { loadHfTextEncoder, selectLongformerKeys } from '../../../src/engine/networks/hf-text';
import { disposeTextBatch, type EncodingLike } from '../../../src/engine/networks/text-batch';
import { loadTorchCheckpoint } from '../../../src/engine/io/torch-checkpoint';
import { writeSafetensors } from '../../../src/engine/io/safetensors';
import type { RawTensor } from '../../../src/engine/io/raw-tensor';
import { assertClose, cpu } from './helpers';

const DIR = 'test/fixtures/longformer/tiny-longformer';
const ref = JSON.parse(readFileSync('test/fixtures/longformer/reference.json', 'utf8')) as {
  texts: string[];
  encodings: (EncodingLike & { tokens: string[] })[];
  maxWords: number;
  shape: [number, number, number];
  lastHiddenGlobal: number[];
  lastHiddenLocal: number[];
  wordsGlobal: number[];
  wordMask: number[];
};
const CONFIG = JSON.parse(readFileSync(join(DIR, 'config.json'), 'utf8')) as Record<string, unknown>;

let tmp: string;
before(async () => {
  await cpu();
  tmp = mkdtempSync(join(tmpdir(), 'mrcl-hf-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A model folder in tmp with the fixture's tokenizer, the given config and optional safetensors weights. */
function folder(name: string, config: unknown, tensors?: Map<string, RawTensor>): string {
  const dir = mkdtempSync(join(tmp, `${name}-`));
  for (const f of ['vocab.json', 'merges.txt']) copyFileSync(join(DIR, f), join(dir, f));
  writeFileSync(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  if (tensors) writeSafetensors(join(dir, 'model.safetensors'), tensors);
  return dir;
}

async function checkAgainstPyTorch(dir: string): Promise<void> {
  const { encoder, tokenizer, ignored } = await loadHfTextEncoder(dir, { maxWords: ref.maxWords });
  assert.deepEqual(ignored.sort(), [
    'lm_head.bias',
    'lm_head.dense.bias',
    'lm_head.dense.weight',
    'lm_head.layer_norm.bias',
    'lm_head.layer_norm.weight',
    'longformer.embeddings.position_ids',
  ]);
  // the loaded tokenizer gives the fixture's ids and word map
  ref.texts.forEach((text, n) => {
    const e = tokenizer.encode(text);
    assert.deepEqual(e.ids, ref.encodings[n]!.ids, `ids of text ${n}`);
    assert.deepEqual(e.wordIds, ref.encodings[n]!.wordIds, `word ids of text ${n}`);
  });
  const b = encoder.batch(ref.encodings);
  for (const attention of ['auto', 'full', 'banded'] as const) {
    const g = encoder.forward(b, { attention });
    assert.deepEqual(g.tokens.shape, ref.shape);
    assertClose(g.tokens.dataSync(), ref.lastHiddenGlobal, 1e-4, `last hidden state, global <s>, ${attention}`);
    assertClose(g.cls.dataSync(), tf.tidy(() => g.tokens.slice([0, 0, 0], [2, 1, 32]).dataSync()), 0, 'cls');
    assertClose(g.words.dataSync(), ref.wordsGlobal, 1e-4, `words, ${attention}`);
    assert.deepEqual(Array.from(g.wordMask.dataSync()), ref.wordMask);
    const l = encoder.forward({ ...b, globalAttentionMask: undefined }, { attention });
    assertClose(l.tokens.dataSync(), ref.lastHiddenLocal, 1e-4, `last hidden state, no global attention, ${attention}`);
    tf.dispose([...Object.values(g), ...Object.values(l)]);
  }
  disposeTextBatch(b);
  encoder.dispose();
}

test('a HF folder with pytorch_model.bin (LongformerForMaskedLM names) matches PyTorch within 1e-4', async () => {
  await checkAgainstPyTorch(DIR);
});

test('the same weights as model.safetensors match too', async () => {
  const { tensors } = loadTorchCheckpoint(join(DIR, 'pytorch_model.bin'));
  await checkAgainstPyTorch(folder('st', CONFIG, tensors));
});

test('selectLongformerKeys strips the base-model prefix and leaves out heads, pooler and position_ids', () => {
  const { keep, ignored } = selectLongformerKeys(['longformer.embeddings.word_embeddings.weight', 'longformer.pooler.dense.weight', 'classifier.dense.weight']);
  assert.deepEqual([...keep], [['embeddings.word_embeddings.weight', 'longformer.embeddings.word_embeddings.weight']]);
  assert.deepEqual(ignored, ['longformer.pooler.dense.weight', 'classifier.dense.weight']);
  const bare = selectLongformerKeys(['embeddings.position_ids', 'encoder.layer.0.output.dense.bias']);
  assert.deepEqual([...bare.keep.keys()], ['encoder.layer.0.output.dense.bias']);
  assert.deepEqual(bare.ignored, ['embeddings.position_ids']);
});

test('unsupported or broken folders give clear errors', async () => {
  const { tensors } = loadTorchCheckpoint(join(DIR, 'pytorch_model.bin'));
  await assert.rejects(loadHfTextEncoder(join(tmp, 'nope')), /nope: not a folder/);
  const noConfig = folder('noconfig', '{}');
  rmSync(join(noConfig, 'config.json'));
  await assert.rejects(loadHfTextEncoder(noConfig), /config.json is missing/);
  await assert.rejects(loadHfTextEncoder(folder('badjson', '{"model_type": ')), /config.json: not valid JSON/);
  await assert.rejects(loadHfTextEncoder(folder('bert', { ...CONFIG, model_type: 'bert' })), /model_type "bert" is not supported; only "longformer"/);
  await assert.rejects(loadHfTextEncoder(folder('odd', { ...CONFIG, attention_window: [4, 7] })), /attention window of layer 1 must be an even integer ≥ 2, got 7/);
  await assert.rejects(loadHfTextEncoder(folder('count', { ...CONFIG, attention_window: [4, 4, 4] })), /attention window lists 3 values for 2 layers/);
  await assert.rejects(loadHfTextEncoder(folder('act', { ...CONFIG, hidden_act: 'relu' })), /hidden_act "relu" is not supported/);
  await assert.rejects(loadHfTextEncoder(folder('noweights', CONFIG)), /holds neither model.safetensors nor pytorch_model.bin/);
  const missing = new Map(tensors);
  missing.delete('longformer.encoder.layer.1.attention.self.key_global.weight');
  await assert.rejects(loadHfTextEncoder(folder('missing', CONFIG, missing)), /model.safetensors: cannot load: missing keys: encoder.layer.1.attention.self.key_global.weight/);
  const extra = new Map(tensors);
  extra.set('longformer.encoder.layer.2.output.dense.bias', tensors.get('longformer.encoder.layer.1.output.dense.bias')!);
  await assert.rejects(loadHfTextEncoder(folder('extra', CONFIG, extra)), /cannot load: unexpected keys: encoder.layer.2.output.dense.bias/);
  const garbage = folder('garbage', CONFIG);
  writeFileSync(join(garbage, 'pytorch_model.bin'), 'not a checkpoint');
  await assert.rejects(loadHfTextEncoder(garbage), /pytorch_model.bin: not a PyTorch checkpoint/);
  await assert.rejects(
    loadHfTextEncoder(folder('shape', { ...CONFIG, intermediate_size: 48 }, tensors)),
    /longformer.encoder.layer.0.intermediate.dense.weight: shape \[64,32\] does not match the model's \[48,32\].*longformer.encoder.layer.1.output.dense.weight: shape \[32,64\] does not match the model's \[32,48\]/,
  );
  await assert.rejects(loadHfTextEncoder(folder('pad', { ...CONFIG, pad_token_id: 3 }, tensors)), /the tokenizer's pad id 1 differs from config.json pad_token_id 3/);
  await assert.rejects(loadHfTextEncoder(folder('vocab', { ...CONFIG, vocab_size: 100 }, tensors)), /the tokenizer has 301 ids but the model's vocabulary \(config.json vocab_size\) is 100/);
});

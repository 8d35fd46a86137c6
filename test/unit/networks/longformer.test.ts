import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../../src/engine/backend';
import { resolveConfig } from '../../../src/engine/config/resolve';
import { LongformerEncoder, createTextEncoder, type TextEncoderInputs } from '../../../src/engine/networks/longformer';
import type { LongformerConfig } from '../../../src/engine/networks/longformer-config';
import { batchEncodings, disposeTextBatch, wordOverflow, type EncodingLike } from '../../../src/engine/networks/text-batch';
import { cpu } from './helpers';

before(cpu);

function tinyConfig(over: Partial<LongformerConfig> = {}): LongformerConfig {
  return {
    vocabSize: 30,
    hidden: 8,
    layers: 2,
    heads: 2,
    intermediate: 16,
    attentionWindow: [2, 4],
    maxPositions: 40,
    typeVocabSize: 1,
    padTokenId: 1,
    layerNormEps: 1e-5,
    hiddenDropout: 0.1,
    attentionDropout: 0.1,
    ...over,
  };
}

/** Two samples, the second padded; word ids like a RoBERTa encoding. */
function sampleEncodings(len0: number, len1: number): EncodingLike[] {
  const enc = (len: number, offset: number): EncodingLike => {
    const ids = [0, ...Array.from({ length: len - 2 }, (_, i) => 3 + ((i * 7 + offset) % 25)), 2];
    const wordIds = ids.map((_, t) => (t === 0 || t === len - 1 ? null : Math.floor((t - 1) / 2)));
    return { ids, wordIds };
  };
  return [enc(len0, 0), enc(len1, 5)];
}

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(a.sub(b))).dataSync()[0]!);
}

test('position ids follow HF create_position_ids_from_input_ids (pads get padding_idx, others count from padding_idx + 1)', () => {
  const enc = new LongformerEncoder(tinyConfig());
  const ids = tf.tensor2d(
    [
      [0, 5, 6, 2, 1, 1],
      [0, 1, 7, 2, 1, 9],
    ],
    undefined,
    'int32',
  );
  const pos = enc.embeddings.positionIds(ids);
  assert.deepEqual(pos.arraySync(), [
    [2, 3, 4, 5, 1, 1],
    [2, 1, 3, 4, 1, 5],
  ]);
  tf.dispose([ids, pos]);
  enc.dispose();
});

test('banded attention equals the masked full attention (windows, lengths, padding, global tokens)', () => {
  for (const [windows, lens] of [
    [[2, 4], [9, 5]],
    [[4, 4], [13, 7]],
    [[6, 2], [3, 2]], // shorter than one block
    [[2, 2], [8, 8]], // exact multiple of w/2, no padding
  ] as [number[], [number, number]][]) {
    const enc = new LongformerEncoder(tinyConfig({ attentionWindow: windows }), { seed: 11, initStd: 0.5 });
    const b = enc.batch(sampleEncodings(...lens));
    for (const global of [true, false]) {
      const inputs: TextEncoderInputs = { ...b, globalAttentionMask: global ? b.globalAttentionMask : undefined };
      const full = enc.forward(inputs, { attention: 'full' });
      const banded = enc.forward(inputs, { attention: 'banded' });
      assert.ok(maxAbsDiff(full.tokens, banded.tokens) < 1e-5, `windows ${windows} lengths ${lens} global ${global}`);
      tf.dispose(Object.values(full));
      tf.dispose(Object.values(banded));
    }
    disposeTextBatch(b);
    enc.dispose();
  }
});

test('a token only sees neighbours within w/2 (and global tokens): changing a far token leaves it unchanged', () => {
  // one layer, w = 2: token 5 depends on tokens 4..6 only (no global tokens)
  const enc = new LongformerEncoder(tinyConfig({ layers: 1, attentionWindow: [2] }), { seed: 3, initStd: 0.5 });
  const run = (ids: number[], globalFirst: boolean) =>
    tf.tidy(() => {
      const out = enc.forward(
        {
          inputIds: tf.tensor2d([ids], undefined, 'int32'),
          globalAttentionMask: globalFirst ? tf.tensor2d([[1, 0, 0, 0, 0, 0, 0, 0, 0, 0]]) : undefined,
        },
        { attention: 'banded' },
      );
      return out.tokens.slice([0, 5, 0], [1, 1, 8]).dataSync();
    });
  const base = [0, 4, 5, 6, 7, 8, 9, 10, 11, 2];
  const far = [...base];
  far[2] = 20;
  const near = [...base];
  near[4] = 20;
  const first = [...base];
  first[0] = 21;
  assert.deepEqual(Array.from(run(base, false)), Array.from(run(far, false)));
  assert.notDeepEqual(Array.from(run(base, false)), Array.from(run(near, false)));
  // token 0 is far from token 5: it matters only once it is global
  assert.deepEqual(Array.from(run(base, false)), Array.from(run(first, false)));
  assert.notDeepEqual(Array.from(run(base, true)), Array.from(run(first, true)));
  enc.dispose();
});

test('outputs: cls is token 0, words sum their sub-word tokens, empty slots are masked', () => {
  const enc = new LongformerEncoder(tinyConfig(), { seed: 5, maxWords: 3 });
  const b = enc.batch(sampleEncodings(9, 5)); // sample 0: words 0..3 (3 dropped), sample 1: words 0, 1
  const out = enc.forward(b);
  assert.deepEqual(out.cls.shape, [2, 8]);
  assert.deepEqual(out.tokens.shape, [2, 9, 8]);
  assert.deepEqual(out.words.shape, [2, 3, 8]);
  assert.deepEqual(out.wordMask.arraySync(), [
    [1, 1, 1],
    [1, 1, 0],
  ]);
  const tok = out.tokens.arraySync();
  const words = out.words.arraySync();
  const cls = out.cls.arraySync();
  for (let k = 0; k < 8; k++) {
    assert.ok(Math.abs(cls[1]![k]! - tok[1]![0]![k]!) < 1e-7);
    assert.ok(Math.abs(words[0]![1]![k]! - (tok[0]![3]![k]! + tok[0]![4]![k]!)) < 1e-5);
    assert.ok(Math.abs(words[1]![1]![k]! - tok[1]![3]![k]!) < 1e-5);
    assert.equal(words[1]![2]![k], 0);
  }
  tf.dispose(Object.values(out));
  disposeTextBatch(b);
  enc.dispose();
});

test('freezing: embeddings and the first L − trainableLayers layers are frozen', () => {
  const enc = new LongformerEncoder(tinyConfig({ layers: 3, attentionWindow: [2, 2, 2] }));
  const trainable = () => new Set(enc.namedParameters().filter(([, v]) => v.trainable).map(([n]) => n.split('.').slice(0, 3).join('.')));
  assert.deepEqual([...trainable()].sort(), ['encoder.layer.1', 'encoder.layer.2']);
  enc.setTrainableLayers(0);
  assert.equal(enc.trainableWeights.length, 0);
  enc.setTrainableLayers(3);
  assert.deepEqual([...trainable()].sort(), ['encoder.layer.0', 'encoder.layer.1', 'encoder.layer.2']);
  enc.setTrainableLayers(4);
  assert.ok(trainable().has('embeddings.word_embeddings.weight'));
  assert.throws(() => enc.setTrainableLayers(-1), /trainableLayers must be an integer ≥ 0/);
  enc.dispose();
});

test('the default small encoder from the experiment config: HF names and parameter count', () => {
  const cfg = resolveConfig({}, 'test');
  const enc = createTextEncoder(cfg.text, { size: 300, padId: 1 });
  assert.equal(enc.config.hidden, 64);
  assert.equal(enc.layers.length, 2);
  assert.deepEqual(enc.config.attentionWindow, [64, 64]);
  const H = 64;
  const F = 256;
  const perLayer = 6 * (H * H + H) + (H * H + H) + 2 * H + (H * F + F) + (F * H + H) + 2 * H;
  const embeddings = 300 * H + 1026 * H + 1 * H + 2 * H;
  assert.equal(enc.countParameters(), embeddings + 2 * perLayer);
  const names = enc.namedParameters().map(([n]) => n);
  for (const n of [
    'embeddings.word_embeddings.weight',
    'embeddings.position_embeddings.weight',
    'embeddings.token_type_embeddings.weight',
    'embeddings.LayerNorm.weight',
    'encoder.layer.0.attention.self.query.weight',
    'encoder.layer.0.attention.self.query_global.weight',
    'encoder.layer.0.attention.self.key_global.bias',
    'encoder.layer.0.attention.self.value_global.weight',
    'encoder.layer.0.attention.output.dense.weight',
    'encoder.layer.0.attention.output.LayerNorm.bias',
    'encoder.layer.1.intermediate.dense.weight',
    'encoder.layer.1.output.dense.weight',
    'encoder.layer.1.output.LayerNorm.weight',
  ]) {
    assert.ok(names.includes(n), n);
  }
  const w = enc.namedParameters().find(([n]) => n === 'encoder.layer.0.intermediate.dense.weight')![1];
  assert.deepEqual(w.shape, [F, H]); // PyTorch [out, in]
  enc.dispose();
});

test('bad inputs give clear errors', () => {
  const enc = new LongformerEncoder(tinyConfig({ maxPositions: 8 }));
  const ids = (rows: number[][]) => tf.tensor2d(rows, undefined, 'int32');
  const a = ids([[0, 31, 2]]);
  assert.throws(() => enc.forward({ inputIds: a }), /token id 31 at \[0, 1\] is outside the vocabulary of 30/);
  const b = ids([[0, 3, 3, 3, 3, 3, 2]]);
  assert.throws(() => enc.forward({ inputIds: b }), /7 tokens exceed the 6 the position table allows/);
  const c = ids([[0, 3, 2]]);
  const m = tf.ones([1, 4]);
  assert.throws(() => enc.forward({ inputIds: c, attentionMask: m }), /attentionMask has shape \[1, 4\], expected \[1, 3\]/);
  tf.dispose([a, b, c, m]);
  assert.throws(() => new LongformerEncoder(tinyConfig({ attentionWindow: [3, 4] })), /attention window of layer 0 must be an even integer/);
  assert.throws(() => new LongformerEncoder(tinyConfig({ hidden: 9 })), /hidden size 9 is not a multiple of the 2 heads/);
  enc.dispose();
});

test('dropout acts only in training', () => {
  const enc = new LongformerEncoder(tinyConfig({ hiddenDropout: 0.5, attentionDropout: 0.5 }), { seed: 2 });
  const b = enc.batch(sampleEncodings(6, 4));
  const e1 = enc.forward(b);
  const e2 = enc.forward(b);
  const t1 = enc.forward(b, { training: true });
  assert.equal(maxAbsDiff(e1.tokens, e2.tokens), 0);
  assert.ok(maxAbsDiff(e1.tokens, t1.tokens) > 1e-3);
  tf.dispose([...Object.values(e1), ...Object.values(e2), ...Object.values(t1)]);
  disposeTextBatch(b);
  enc.dispose();
});

test('no leaked tensors: construction and disposal (the embeddings zero their padding rows), forward (both paths) and gradient', () => {
  const built = tf.memory().numTensors;
  new LongformerEncoder(tinyConfig(), { seed: 1, trainableLayers: 3 }).dispose();
  assert.equal(tf.memory().numTensors, built, 'construction and disposal');
  const enc = new LongformerEncoder(tinyConfig(), { seed: 1, trainableLayers: 3 });
  const b = enc.batch(sampleEncodings(9, 5));
  for (const attention of ['full', 'banded'] as const) {
    const before = tf.memory().numTensors;
    const out = enc.forward(b, { attention, training: true });
    tf.dispose(Object.values(out));
    assert.equal(tf.memory().numTensors, before, `forward ${attention}`);
    const { value, grads } = tf.variableGrads(() => {
      const o = enc.forward(b, { attention, training: true });
      return o.tokens.square().mean().add(o.words.mean()).add(o.cls.mean()) as tf.Scalar;
    });
    assert.ok(Object.keys(grads).length > 0);
    tf.dispose([value, ...Object.values(grads)]);
    assert.equal(tf.memory().numTensors, before, `gradient ${attention}`);
  }
  disposeTextBatch(b);
  enc.dispose();
});

test('gradients match finite differences (local, global and embedding weights; both paths)', () => {
  const enc = new LongformerEncoder(tinyConfig({ hiddenDropout: 0, attentionDropout: 0 }), { seed: 9, initStd: 0.3, trainableLayers: 3 });
  const b = enc.batch(sampleEncodings(7, 4));
  const R = tf.randomNormal([2, 7, 8], 0, 1, 'float32', 4);
  const params = new Map(enc.namedParameters());
  const probes: [string, number][] = [
    ['encoder.layer.0.attention.self.query.weight', 5],
    ['encoder.layer.0.attention.self.key.weight', 17],
    ['encoder.layer.1.attention.self.query_global.weight', 3],
    ['encoder.layer.1.attention.self.value_global.bias', 2],
    ['embeddings.word_embeddings.weight', 8 * 3 + 1],
  ];
  for (const attention of ['full', 'banded'] as const) {
    const loss = () => tf.tidy(() => enc.forward(b, { attention }).tokens.mul(R).sum() as tf.Scalar);
    const { value, grads } = tf.variableGrads(loss);
    value.dispose();
    for (const [name, index] of probes) {
      const v = params.get(name)!;
      const analytic = grads[v.name]!.dataSync()[index]!;
      const orig = v.dataSync().slice();
      const at = (delta: number) => {
        const d = orig.slice();
        d[index]! += delta;
        v.assign(tf.tensor(d, v.shape));
        const l = loss();
        const r = l.dataSync()[0]!;
        l.dispose();
        return r;
      };
      const h = 1e-2;
      const numeric = (at(h) - at(-h)) / (2 * h);
      v.assign(tf.tensor(orig, v.shape));
      assert.ok(Math.abs(numeric - analytic) <= 2e-2 * Math.max(1, Math.abs(analytic)), `${attention} ${name}[${index}]: numeric ${numeric} vs analytic ${analytic}`);
      assert.ok(Math.abs(analytic) > 1e-4, `${name} gets a gradient`);
    }
    tf.dispose(Object.values(grads));
  }
  R.dispose();
  disposeTextBatch(b);
  enc.dispose();
});

test('batchEncodings: padding, masks, word slots, truncation keeping </s>', () => {
  const b = batchEncodings(
    [
      { ids: [0, 10, 11, 12, 2], wordIds: [null, 0, 0, 1, null], words: ['tumour', 'left'] },
      { ids: [0, 13, 2], wordIds: [null, 0, null] },
    ],
    { padId: 1, maxWords: 1 },
  );
  assert.deepEqual(b.inputIds.arraySync(), [
    [0, 10, 11, 12, 2],
    [0, 13, 2, 1, 1],
  ]);
  assert.deepEqual(b.attentionMask.arraySync(), [
    [1, 1, 1, 1, 1],
    [1, 1, 1, 0, 0],
  ]);
  assert.deepEqual(b.globalAttentionMask.arraySync(), [
    [1, 0, 0, 0, 0],
    [1, 0, 0, 0, 0],
  ]);
  assert.deepEqual(b.wordIndex.arraySync(), [
    [-1, 0, 0, -1, -1],
    [-1, 0, -1, -1, -1],
  ]);
  assert.deepEqual(b.words, [['tumour'], []]);
  assert.deepEqual(b.lengths, [5, 3]);
  disposeTextBatch(b);

  const t = batchEncodings([{ ids: [0, 10, 11, 12, 2], wordIds: [null, 0, 1, 2, null] }], { padId: 1, maxWords: 8, maxTokens: 4, globalCls: false });
  assert.deepEqual(t.inputIds.arraySync(), [[0, 10, 11, 2]]);
  assert.deepEqual(t.wordIndex.arraySync(), [[-1, 0, 1, -1]]);
  assert.deepEqual(t.globalAttentionMask.arraySync(), [[0, 0, 0, 0]]);
  disposeTextBatch(t);
});

test('wordOverflow: reports with more words than the word slots, and the longest (newline and special tokens are no words)', () => {
  const three = { ids: [0, 10, 11, 12, 13, 2], wordIds: [null, 0, 0, 1, 2, null] }; // 3 words, one of 2 tokens
  const one = { ids: [0, 10, 14, 2], wordIds: [null, 0, null, null] }; // 1 word and a newline
  const none = { ids: [0, 2], wordIds: [null, null] };
  assert.deepEqual(wordOverflow([three, one, none], 3), { over: 0, longest: 3 });
  assert.deepEqual(wordOverflow([three, one, none], 2), { over: 1, longest: 3 });
  assert.deepEqual(wordOverflow([three, one, none], 1), { over: 1, longest: 3 });
  assert.deepEqual(wordOverflow([three, three, one], 1), { over: 2, longest: 3 });
  assert.deepEqual(wordOverflow([none], 1), { over: 0, longest: 0 });
  // what batchEncodings leaves out is exactly what wordOverflow counts
  const b = batchEncodings([three, one], { padId: 1, maxWords: 2 });
  assert.deepEqual(b.wordIndex.arraySync(), [
    [-1, 0, 0, 1, -1, -1],
    [-1, 0, -1, -1, -1, -1],
  ]);
  disposeTextBatch(b);
});

test('batchEncodings: bad encodings give clear errors', () => {
  const o = { padId: 1, maxWords: 4, source: 'reports.json' };
  assert.throws(() => batchEncodings([], o), /reports.json: no encodings to batch/);
  assert.throws(() => batchEncodings([{ ids: [], wordIds: [] }], o), /reports.json: sample 0 has no tokens/);
  assert.throws(() => batchEncodings([{ ids: [0, 2], wordIds: [null] }], o), /sample 0 has 2 ids but 1 word ids/);
  assert.throws(() => batchEncodings([{ ids: [0, 1.5], wordIds: [null, 0] }], o), /sample 0, token 1: id 1.5 is not in the vocabulary/);
  assert.throws(() => batchEncodings([{ ids: [0, 50], wordIds: [null, 0] }], { ...o, vocabSize: 50 }), /id 50 is not in the vocabulary \[0, 50\)/);
  assert.throws(() => batchEncodings([{ ids: [0, 5], wordIds: [null, -2] }], o), /word id -2 must be null or an integer ≥ 0/);
});

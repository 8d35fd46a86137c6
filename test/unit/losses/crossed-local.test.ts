// loss.localNegatives "crossed" (ours, docs/METHOD.md §5): the local loss's
// cosines for every image of the batch with every report, checked against
// the model run on the same images with the reports shifted (image a given
// report a + s), and the loss against the hinge written out on those cosines.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../../src/engine/backend';
import { resolveConfig } from '../../../src/engine/config/resolve';
import { ContrastiveModel, type ContrastiveOutput } from '../../../src/engine/model/contrastive';
import { batchEncodings, disposeTextBatch } from '../../../src/engine/networks/text-batch';
import { crossedLocalCosines, crossedWordScores, localInfoNceLoss, wordLocalLoss } from '../../../src/engine/losses/local-triplet';
import { localTripletLoss } from '../../../src/engine/losses';
import { Rng } from '../../../src/engine/util/rng';
import { assertClose, cpu, noLeaks, value } from './helpers';
import { cosine, REPORTS, tinyContrastiveConfig } from './local-fixtures';

before(cpu);

const base = tinyContrastiveConfig({ loss: { localNegatives: "crossed" } });
const vocab = { size: 32, padId: 1 };
const ENC = REPORTS;
const N = ENC.length;

/** The pretraining loss's gradient reaches the image encoder's layer3, the text encoder and the cross-attention; no leaks. */
function trainsEverything(model: ContrastiveModel, x: tf.Tensor5D, tb: ReturnType<typeof batchEncodings>, what: string): void {
  noLeaks(what, () => {
    const { value: v, grads } = tf.variableGrads(() => model.loss(model.forward(x, tb, true), ['a', 'a', 'b'], new Rng(1)).total, model.trainableWeights);
    assert.ok(Number.isFinite(v.dataSync()[0]));
    const names = new Map(model.namedParameters().map(([n, t]) => [t.name, n]));
    const reached = Object.entries(grads).filter(([, g]) => tf.tidy(() => g.abs().sum().dataSync()[0]!) > 0).map(([k]) => names.get(k) ?? k);
    assert.ok(reached.some((n) => n.startsWith('image_encoder.layer3')), 'the image encoder trains');
    assert.ok(reached.some((n) => n.startsWith('text_encoder.')), 'the text encoder trains');
    assert.ok(reached.some((n) => n.startsWith('cross_attention.')), 'the cross-attention trains');
    v.dispose();
    Object.values(grads).forEach((t) => t.dispose());
  });
}

/** The model's own forward pass with image a given report (a + shift) mod N: v_a, v̂_{a←a+s}, w_{a+s}, ŵ_{a+s←a}, masked word slots zeroed. */
function shifted(model: ContrastiveModel, x: tf.Tensor5D, shift: number) {
  const tb = batchEncodings(
    ENC.map((_, a) => ENC[(a + shift) % N]!),
    { padId: 1, maxWords: model.text.maxWords },
  );
  try {
    return tf.tidy(() => {
      const out: ContrastiveOutput = model.forward(x, tb, false);
      const m = out.wordMask.expandDims(2);
      const rows = (t: tf.Tensor) => (t.reshape([N, -1]).arraySync() as number[][]);
      return { v: rows(out.imageLocal), vHat: rows(out.cross.reportWeightedImage), w: rows(out.textLocal.mul(m)), wHat: rows(out.cross.imageWeightedText.mul(m)) };
    });
  } finally {
    disposeTextBatch(tb);
  }
}

for (const foreground of [0, 0.1]) {
  test(`crossed local cosines: C_img[a, b] = cos(v_a, v̂ of image a asking report b), C_txt[a, b] = cos(w_a, ŵ of report a asking image b), the diagonal the pairs' own${foreground ? '; with heads.crossAttentionForeground the mask follows the image' : ''}`, () => {
    const config = { ...base, heads: { ...base.heads, crossAttentionForeground: foreground } };
    const model = new ContrastiveModel(config, vocab, 3);
    // a "head" in the first half of x, background in the second (so the foreground mask differs by patch)
    const x = tf.tidy(() => tf.concat([tf.randomUniform([N, 12, 24, 16, 1], 0.2, 1, 'float32', 7), tf.zeros([N, 12, 24, 16, 1])], 1) as tf.Tensor5D);
    const tb = batchEncodings(ENC, { padId: 1, maxWords: model.text.maxWords });
    const [cImg, cTxt] = tf.tidy(() => {
      const out = model.forward(x, tb, false);
      const c = crossedLocalCosines(out.imageLocal, out.textLocal, out.wordMask, (patches, words, mask, imageIndex) => {
        // the model's own path, as model.loss calls it
        const cross = model.attendLocal(patches, words, mask, out.patchMask ? tf.gather(out.patchMask, imageIndex) : undefined);
        return { imageWeighted: cross.reportWeightedImage, textWeighted: cross.imageWeightedText };
      });
      return [c.image.arraySync(), c.text.arraySync()];
    });
    for (let s = 0; s < N; s++) {
      const r = shifted(model, x, s);
      for (let a = 0; a < N; a++) {
        const b = (a + s) % N;
        // image a with report b
        assert.ok(Math.abs(cImg[a]![b]! - cosine(r.v[a]!, r.vHat[a]!)) < 1e-5, `C_img[${a}][${b}] ${cImg[a]![b]} vs ${cosine(r.v[a]!, r.vHat[a]!)}`);
        // report b with image a
        assert.ok(Math.abs(cTxt[b]![a]! - cosine(r.w[a]!, r.wHat[a]!)) < 1e-5, `C_txt[${b}][${a}] ${cTxt[b]![a]} vs ${cosine(r.w[a]!, r.wHat[a]!)}`);
      }
    }
    // the contents differ: an image with another report is not its own pair
    assert.ok(cImg.some((row, a) => row.some((v, b) => a !== b && Math.abs(v - cImg[a]![a]!) > 1e-4)));
    assert.ok(cTxt.some((row, a) => row.some((v, b) => a !== b && Math.abs(v - cTxt[a]![a]!) > 1e-4)));
    x.dispose();
    disposeTextBatch(tb);
    model.dispose();
  });
}

test('loss.localNegatives "crossed": the loss is the hinge on the crossed cosines (rows: another report for the image, columns: another image for the report); differs from "pair"; gradient reaches both encoders; no leaks', () => {
  const model = new ContrastiveModel(base, vocab, 3);
  const pair = new ContrastiveModel({ ...base, loss: { ...base.loss, localNegatives: 'pair' } }, vocab, 3);
  assert.equal(resolveConfig({}).loss.localNegatives, 'pair', "the default is the paper's");
  assert.throws(() => resolveConfig({ loss: { localNegatives: 'other' } }), /localNegatives/);
  const x = tf.randomUniform([N, 24, 24, 16, 1], 0, 1, 'float32', 9) as tf.Tensor5D;
  const tb = batchEncodings(ENC, { padId: 1, maxWords: model.text.maxWords });
  const negatives = { imageLocal: [1, 2, 0], imageWeighted: [2, 0, 1], textLocal: [2, 0, 1], textWeighted: [1, 2, 0] };
  const m = base.loss.localMargin;
  const [loss, expected, pairLoss] = tf.tidy(() => {
    const out = model.forward(x, tb, false);
    // the model's crossed cosines, as model.loss computes them
    const c = crossedLocalCosines(out.imageLocal, out.textLocal, out.wordMask, (patches, words, mask) => {
      const cross = model.attendLocal(patches, words, mask);
      return { imageWeighted: cross.reportWeightedImage, textWeighted: cross.imageWeightedText };
    });
    const ci = c.image.arraySync();
    const ct = c.text.arraySync();
    const hinge = (cm: number[][], neg: number[], columns: boolean) =>
      neg.reduce((s, j, i) => s + Math.max(0, 1 - cm[i]![i]! - (1 - (columns ? cm[j]![i]! : cm[i]![j]!)) + m), 0);
    const hand =
      (hinge(ci, negatives.imageLocal, false) + hinge(ci, negatives.imageWeighted, true) + hinge(ct, negatives.textLocal, false) + hinge(ct, negatives.textWeighted, true)) / (2 * N);
    const opts = { margin: m, negatives, wordMask: out.wordMask };
    const l = localTripletLoss(out.imageLocal, out.cross.reportWeightedImage, out.textLocal, out.cross.imageWeightedText, { ...opts, crossed: c });
    const p = localTripletLoss(out.imageLocal, out.cross.reportWeightedImage, out.textLocal, out.cross.imageWeightedText, opts);
    return [l.dataSync()[0]!, hand, p.dataSync()[0]!];
  });
  assertClose([loss], [expected], 1e-5, 'crossed loss vs the hinge written out');
  assert.ok(Math.abs(loss - pairLoss) > 1e-4, `crossed ${loss} and pair ${pairLoss} differ`);
  // model.loss takes the crossed path (its local term differs from the pair model's on the same weights and draws)
  const locals = [model, pair].map((mod) =>
    tf.tidy(() => mod.loss(mod.forward(x, tb, true), ['a', 'a', 'b'], new Rng(2)).local!.dataSync()[0]!),
  );
  assert.ok(Math.abs(locals[0]! - locals[1]!) > 1e-4, `model.loss: crossed ${locals[0]} vs pair ${locals[1]}`);
  trainsEverything(model, x, tb, 'the crossed pretraining loss and its gradient');
  x.dispose();
  disposeTextBatch(tb);
  model.dispose();
  pair.dispose();
});

test('loss.localKind "infonce": a symmetric InfoNCE on the local cosine matrices (pairs\' or crossed), image and text terms summed; 2·ln N on collapsed embeddings, where the triplet form is met at its margin; model.loss takes it; no leaks', () => {
  const tau = 0.1;
  const ce = (c: number[][]) => {
    // ½ [row-wise + column-wise cross-entropy of c / τ, the diagonal the positives]
    const side = (m: number[][]) =>
      -m.reduce((s, row, i) => {
        const z = row.map((v) => v / tau);
        const max = Math.max(...z);
        const lse = max + Math.log(z.reduce((a, v) => a + Math.exp(v - max), 0));
        return s + z[i]! - lse;
      }, 0) / m.length;
    const t = c.map((_, i) => c.map((row) => row[i]!));
    return 0.5 * (side(c) + side(t));
  };
  const model = new ContrastiveModel({ ...base, loss: { ...base.loss, localKind: 'infonce', temperature: tau } }, vocab, 3);
  const triplet = new ContrastiveModel(base, vocab, 3);
  assert.equal(resolveConfig({}).loss.localKind, 'triplet', "the default is the paper's");
  const x = tf.randomUniform([N, 24, 24, 16, 1], 0, 1, 'float32', 9) as tf.Tensor5D;
  const tb = batchEncodings(ENC, { padId: 1, maxWords: model.text.maxWords });
  const [crossedLoss, crossedHand, pairLoss, pairHand] = tf.tidy(() => {
    const out = model.forward(x, tb, false);
    const c = crossedLocalCosines(out.imageLocal, out.textLocal, out.wordMask, (patches, words, mask) => {
      const cross = model.attendLocal(patches, words, mask);
      return { imageWeighted: cross.reportWeightedImage, textWeighted: cross.imageWeightedText };
    });
    const args = [out.imageLocal, out.cross.reportWeightedImage, out.textLocal, out.cross.imageWeightedText] as const;
    const crossed = localInfoNceLoss(...args, { temperature: tau, wordMask: out.wordMask, crossed: c }).dataSync()[0]!;
    const pair = localInfoNceLoss(...args, { temperature: tau, wordMask: out.wordMask }).dataSync()[0]!;
    // the pairs' cosines written out: cos(v_i, v̂_j) and cos(w_i, ŵ_j) of the flattened, masked vectors
    const m = out.wordMask.expandDims(2);
    const rows = (t: tf.Tensor) => t.reshape([N, -1]).arraySync() as number[][];
    const [v, vh, w, wh] = [rows(out.imageLocal), rows(out.cross.reportWeightedImage), rows(out.textLocal.mul(m)), rows(out.cross.imageWeightedText.mul(m))];
    const mat = (a: number[][], b: number[][]) => a.map((ai) => b.map((bj) => cosine(ai, bj)));
    return [crossed, ce(c.image.arraySync()) + ce(c.text.arraySync()), pair, ce(mat(v, vh)) + ce(mat(w, wh))];
  });
  assertClose([crossedLoss], [crossedHand], 1e-4, 'crossed InfoNCE vs written out');
  assertClose([pairLoss], [pairHand], 1e-4, "pairs' InfoNCE vs written out");
  // collapsed local embeddings (every cosine equal): 2·ln N, and still a gradient toward the diagonal
  const flat = tf.fill([N, N], 0.3) as tf.Tensor2D;
  const same = tf.ones([N, 2, 4]);
  const collapsed = value(() => localInfoNceLoss(same, same, same, same, { temperature: tau, crossed: { image: flat, text: flat } }));
  assertClose([collapsed], [2 * Math.log(N)], 1e-5, 'collapsed: 2 ln N');
  const g = tf.grad((c: tf.Tensor) => localInfoNceLoss(same, same, same, same, { temperature: tau, crossed: { image: c as tf.Tensor2D, text: flat } }))(flat);
  assert.ok(g.dataSync()[0]! < 0, 'the diagonal is pushed up from the collapse');
  const margin = value(() => localTripletLoss(same, same, same, same, { margin: 0.4, crossed: { image: flat, text: flat }, negatives: { imageLocal: [1, 2, 0], imageWeighted: [1, 2, 0], textLocal: [1, 2, 0], textWeighted: [1, 2, 0] } }));
  assertClose([margin], [0.8], 1e-6, 'the triplet form on the same collapse: twice its margin');
  const locals = [model, triplet].map((mod) => tf.tidy(() => mod.loss(mod.forward(x, tb, true), ['a', 'a', 'b'], new Rng(2)).local!.dataSync()[0]!));
  assert.ok(Math.abs(locals[0]! - locals[1]!) > 1e-3, `model.loss: infonce ${locals[0]} vs triplet ${locals[1]}`);
  noLeaks('the InfoNCE local loss and its gradient', () => {
    const { value: v, grads } = tf.variableGrads(() => model.loss(model.forward(x, tb, true), ['a', 'a', 'b'], new Rng(1)).total, model.trainableWeights);
    assert.ok(Number.isFinite(v.dataSync()[0]));
    v.dispose();
    Object.values(grads).forEach((t) => t.dispose());
  });
  tf.dispose([x, flat, same, g]);
  disposeTextBatch(tb);
  model.dispose();
  triplet.dispose();
});

/** ½ [row-wise + column-wise cross-entropy of s / τ], the diagonal the positives, written out. */
function symmetricCe(s: number[][], tau: number): number {
  const side = (m: number[][]) =>
    -m.reduce((acc, row, i) => {
      const z = row.map((v) => v / tau);
      const max = Math.max(...z);
      return acc + z[i]! - (max + Math.log(z.reduce((a, v) => a + Math.exp(v - max), 0)));
    }, 0) / m.length;
  return 0.5 * (side(s) + side(s.map((_, i) => s.map((row) => row[i]!))));
}

/** (1/γ) ln Σ_j exp(γ r_j) over the given per-word cosines; 0 for none. */
function wordAggregate(r: number[], gamma: number): number {
  if (r.length === 0) return 0;
  return Math.log(r.reduce((a, v) => a + Math.exp(gamma * v), 0)) / gamma;
}

test('crossedWordScores by hand: each real word against what it attends to in the image, log-sum-exp over the words with sharpness γ; padding ignored; a report without words scores 0', () => {
  // 2 images of 3 patches, 2 reports of 3 word slots (d = 2); report 1 has no real word
  const patches = [
    [[1, 0], [0, 1], [1, 1]],
    [[0, 1], [2, 0], [1, -1]],
  ];
  const words = [
    [[1, 0], [0.5, 0.5], [9, 9]],
    [[0, 1], [1, 0], [1, 1]],
  ];
  const mask = [[1, 1, 0], [0, 0, 0]];
  // a stand-in attention: word j of the report attends to patch j of the image (ŵ = that patch + the word)
  const attend = (p: tf.Tensor3D, w: tf.Tensor3D) => tf.add(p, tf.mul(w, 0.5)) as tf.Tensor3D;
  const gamma = 5;
  const got = tf.tidy(() => crossedWordScores(tf.tensor3d(patches), tf.tensor3d(words), tf.tensor2d(mask), attend, gamma).arraySync());
  for (let a = 0; a < 2; a++) {
    for (let b = 0; b < 2; b++) {
      const r = words[b]!.flatMap((wj, j) => (mask[b]![j] ? [cosine(wj, patches[a]![j]!.map((pv, e) => pv + 0.5 * wj[e]!))] : []));
      assertClose([got[a]![b]!], [wordAggregate(r, gamma)], 1e-6, `Z[${a}][${b}]`);
    }
  }
  assert.deepEqual([got[0]![1], got[1]![1]], [0, 0], 'a report without words scores 0');
  assert.throws(() => tf.tidy(() => crossedWordScores(tf.tensor3d(patches), tf.tensor3d(words), tf.tensor2d(mask), attend, 0)), /sharpness γ must be a finite number > 0, got 0/);
  assert.throws(() => wordLocalLoss(tf.zeros([2, 3]) as tf.Tensor2D, 0.1), /scores must be \[N, N\], got \[2, 3\]/);
});

test('loss.localKind "word" (GLoRIA\'s word-level loss): the scores equal the model run on each image with each report, aggregated by hand; the loss is the symmetric InfoNCE on them; model.loss takes it and refuses "pair"; gradients reach both encoders and the cross-attention; no leaks', () => {
  const tau = 0.1;
  const gamma = 5;
  const config = { ...base, loss: { ...base.loss, localKind: 'word' as const, temperature: tau, localWordSharpness: gamma } };
  const model = new ContrastiveModel(config, vocab, 3);
  assert.equal(resolveConfig({}).loss.localWordSharpness, 5, "GLoRIA's γ2");
  assert.throws(() => resolveConfig({ loss: { localKind: 'words' } }), /localKind/);
  const x = tf.randomUniform([N, 24, 24, 16, 1], 0, 1, 'float32', 9) as tf.Tensor5D;
  const tb = batchEncodings(ENC, { padId: 1, maxWords: model.text.maxWords });
  const [z, loss] = tf.tidy(() => {
    const out = model.forward(x, tb, false);
    // the words' side alone (what model.loss runs); the forward passes below run both sides
    const s = crossedWordScores(out.imageLocal, out.textLocal, out.wordMask, (patches, words, mask) => model.attendLocalWords(patches, words, mask), gamma);
    return [s.arraySync(), wordLocalLoss(s, tau).dataSync()[0]!];
  });
  // by hand: for every shift, the model's own forward pass gives report b = a + s's words and what they attend to in image a
  for (let s = 0; s < N; s++) {
    const tbs = batchEncodings(ENC.map((_, a) => ENC[(a + s) % N]!), { padId: 1, maxWords: model.text.maxWords });
    const [w, wHat, m] = tf.tidy(() => {
      const out = model.forward(x, tbs, false);
      return [out.textLocal.arraySync(), out.cross.imageWeightedText.arraySync(), out.wordMask.arraySync()];
    });
    disposeTextBatch(tbs);
    for (let a = 0; a < N; a++) {
      const b = (a + s) % N;
      const r = w[a]!.flatMap((wj, j) => (m[a]![j] ? [cosine(wj, wHat[a]![j]!)] : []));
      assert.ok(r.length > 0);
      assertClose([z[a]![b]!], [wordAggregate(r, gamma)], 1e-5, `Z[image ${a}][report ${b}]`);
    }
  }
  assert.ok(z.some((row, a) => row.some((v, b) => a !== b && Math.abs(v - z[b]![b]!) > 1e-4)), 'another image scores differently for the report');
  assertClose([loss], [symmetricCe(z, tau)], 1e-4, 'the word loss vs the InfoNCE written out');
  // model.loss: its local term is this loss on the training pass; "pair" is refused
  const [viaModel, direct] = tf.tidy(() => {
    const out = model.forward(x, tb, false);
    const l = model.loss(out, ['a', 'a', 'b'], new Rng(2)).local!.dataSync()[0]!;
    return [l, symmetricCe(crossedWordScores(out.imageLocal, out.textLocal, out.wordMask, (p, w, mk) => model.attendLocal(p, w, mk).imageWeightedText, gamma).arraySync(), tau)];
  });
  assertClose([viaModel], [direct], 1e-4, 'model.loss takes the word path');
  const pairModel = new ContrastiveModel({ ...config, loss: { ...config.loss, localNegatives: 'pair' } }, vocab, 3);
  assert.throws(() => tf.tidy(() => pairModel.loss(pairModel.forward(x, tb, false), ['a', 'a', 'b'], new Rng(2)).total), /localKind "word" .* set loss\.localNegatives to "crossed" \(got "pair"\)/);
  pairModel.dispose();
  trainsEverything(model, x, tb, 'the word-level local loss and its gradient');
  x.dispose();
  disposeTextBatch(tb);
  model.dispose();
});

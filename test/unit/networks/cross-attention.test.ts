import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tf } from '../../../src/engine/backend';
import { CrossAttention, LearnedCrossAttention, type CrossAttentionOutput } from '../../../src/engine/networks/cross-attention';
import { loadTorchState } from '../../../src/engine/networks/module';
import { assertClose, cpu, noLeaks } from './helpers';
import { kernelCalls } from '../native/helpers';

before(cpu);

interface T {
  shape: number[];
  data: number[];
}
type Outputs = Record<keyof CrossAttentionOutput, T>;
const ref = JSON.parse(readFileSync('test/fixtures/cross-attention/reference.json', 'utf8')).cross as {
  patches: T;
  words: T;
  wordMask: T;
  unscaled: Outputs;
  scaled: Outputs;
};
const t = (x: T) => tf.tensor(x.data, x.shape);

for (const scale of [false, true]) {
  test(`cross-attention A and B match PyTorch (${scale ? 'scaled by 1/√d' : 'unscaled dot product'}), masked words excluded`, () => {
    const [p, w, m] = [t(ref.patches), t(ref.words), t(ref.wordMask)];
    const out = new CrossAttention({ scale }).apply(p, w, m);
    const want = scale ? ref.scaled : ref.unscaled;
    for (const key of ['scoresA', 'reportWeightedImage', 'scoresB', 'imageWeightedText'] as const) {
      assert.deepEqual(out[key].shape, want[key].shape, key);
      assertClose(out[key].dataSync(), want[key].data, 1e-6, key);
    }
    tf.dispose([p, w, m, ...Object.values(out)]);
  });
}

test('hand-derived case: softmax over real words only; a report without words gives zeros, not NaN', () => {
  // one patch along x; words along x, y, and a masked slot along x
  const p = tf.tensor3d([[[1, 0]], [[1, 0]]]);
  const w = tf.tensor3d([
    [
      [1, 0],
      [0, 1],
      [1, 0],
    ],
    [
      [1, 0],
      [0, 1],
      [1, 0],
    ],
  ]);
  const m = tf.tensor2d([
    [1, 1, 0],
    [0, 0, 0],
  ]);
  const out = new CrossAttention().apply(p, w, m);
  const e = Math.E;
  const a = out.scoresA.arraySync();
  assert.ok(Math.abs(a[0]![0]![0]! - e / (e + 1)) < 1e-6);
  assert.ok(Math.abs(a[0]![0]![1]! - 1 / (e + 1)) < 1e-6);
  assert.equal(a[0]![0]![2], 0);
  assert.deepEqual(a[1], [[0, 0, 0]]);
  // one patch: each real word puts all its weight on it
  assert.deepEqual(out.scoresB.arraySync(), [[[1], [1], [0]], [[0], [0], [0]]]);
  const v = out.reportWeightedImage.arraySync();
  assert.ok(Math.abs(v[0]![0]![0]! - e / (e + 1)) < 1e-6 && Math.abs(v[0]![0]![1]! - 1 / (e + 1)) < 1e-6);
  assert.deepEqual(v[1], [[0, 0]]);
  assert.ok([...out.imageWeightedText.dataSync(), ...out.reportWeightedImage.dataSync()].every(Number.isFinite));
  tf.dispose([p, w, m, ...Object.values(out)]);
});

test('bad shapes give clear errors', () => {
  const ca = new CrossAttention();
  const [p, w, w3, m5, m4, p2] = [tf.zeros([2, 3, 4]), tf.zeros([2, 5, 4]), tf.zeros([2, 5, 3]), tf.ones([2, 5]), tf.ones([2, 4]), tf.zeros([3, 4])];
  assert.throws(() => ca.apply(p, w3, m5), /differ in batch size or dimension/);
  assert.throws(() => ca.apply(p, w, m4), /wordMask has shape \[2, 4\], expected \[2, 5\]/);
  assert.throws(() => ca.apply(p2, w, m5), /expected patches \[N, P, d\]/);
  tf.dispose([p, w, w3, m5, m4, p2]);
});

test('no leaked tensors; gradients reach both inputs and stay finite with masked words', async () => {
  const p = tf.variable(tf.randomNormal([2, 3, 4], 0, 1, 'float32', 1));
  const w = tf.variable(tf.randomNormal([2, 5, 4], 0, 1, 'float32', 2));
  const m = tf.tensor2d([
    [1, 1, 0, 0, 0],
    [0, 0, 0, 0, 0],
  ]);
  const ca = new CrossAttention({ scale: true });
  await noLeaks('cross-attention forward', () => tf.dispose(Object.values(ca.apply(p, w, m))));
  await noLeaks('cross-attention gradient', () => {
    const { value, grads } = tf.variableGrads(() => {
      const o = ca.apply(p, w, m);
      return o.reportWeightedImage.square().sum().add(o.imageWeightedText.square().sum()) as tf.Scalar;
    }, [p, w]);
    for (const g of Object.values(grads)) {
      const d = Array.from(g.dataSync());
      assert.ok(d.every(Number.isFinite));
      assert.ok(d.some((x) => x !== 0));
    }
    // masked words of sample 1 receive no gradient
    const gw = grads[w.name]!.arraySync() as number[][][];
    assert.ok(gw[1]!.every((row) => row.every((x) => x === 0)));
    tf.dispose([value, ...Object.values(grads)]);
  });
  tf.dispose([p, w, m]);
});

// ------------------------------------------------ learned (the paper's) form
const learned = JSON.parse(readFileSync('test/fixtures/cross-attention/learned.json', 'utf8')) as {
  tau: number;
  gamma: number;
  patches: T;
  words: T;
  wordMask: T;
  weights: Record<string, T>;
  scoresA: T;
  outA: T;
  scoresB: T;
  outB: T;
  rA: T;
  rB: T;
  rScoresA: T;
  rScoresB: T;
  loss: number;
  grads: Record<string, T>;
  gradPatches: T;
  gradWords: T;
};

function learnedModule(): LearnedCrossAttention {
  const m = new LearnedCrossAttention(learned.patches.shape[2]!, { temperature: learned.tau, gammaInit: 0, gammaTrainable: true });
  const state = new Map(Object.entries(learned.weights).map(([k, v]) => [k, t(v)]));
  loadTorchState(m, state, { source: 'learned.json' });
  tf.dispose([...state.values()]);
  return m;
}

test('learned cross-attention: A and B forward and every gradient match PyTorch (the authors\' modules, τ, γ, masked words)', async () => {
  const m = learnedModule();
  const [p, w, mask] = [t(learned.patches), t(learned.words), t(learned.wordMask)];
  const [rA, rB, rsA, rsB] = [t(learned.rA), t(learned.rB), t(learned.rScoresA), t(learned.rScoresB)];
  await noLeaks('learned cross-attention forward and backward', () => {
    const out = m.apply(p, w, mask);
    assertClose(out.scoresA.dataSync(), learned.scoresA.data, 1e-5, 'scoresA');
    assertClose(out.reportWeightedImage.dataSync(), learned.outA.data, 1e-5, 'outA');
    assertClose(out.scoresB.dataSync(), learned.scoresB.data, 1e-5, 'scoresB');
    assertClose(out.imageWeightedText.dataSync(), learned.outB.data, 1e-5, 'outB');
    tf.dispose(Object.values(out));
    const vars = m.trainableWeights;
    const names = new Map(m.namedParameters().map(([n, v]) => [v, n]));
    const f = (pp: tf.Tensor, ww: tf.Tensor) => {
      const o = m.apply(pp, ww, mask);
      return tf.addN([o.reportWeightedImage.mul(rA).sum(), o.imageWeightedText.mul(rB).sum(), o.scoresA.mul(rsA).sum(), o.scoresB.mul(rsB).sum()]) as tf.Scalar;
    };
    const { value, grads } = tf.variableGrads(() => f(p, w), vars);
    assert.ok(Math.abs(value.dataSync()[0]! - learned.loss) < 1e-4 * Math.max(1, Math.abs(learned.loss)), `loss ${value.dataSync()[0]} vs ${learned.loss}`);
    for (const v of vars) {
      const name = names.get(v)!;
      const want = learned.grads[name];
      const got = grads[v.name];
      if (!want) {
        // the idle projections of each module: no gradient, as in PyTorch (grad None)
        assert.ok(!got || tf.abs(got).max().dataSync()[0] === 0, `${name} should get no gradient`);
        continue;
      }
      assert.ok(got, `${name}: no gradient`);
      assertClose(got.dataSync(), want.data, 2e-4, `d loss / d ${name}`);
    }
    const [gp, gw] = tf.grads((pp: tf.Tensor, ww: tf.Tensor) => f(pp, ww))([p, w]);
    assertClose(gp!.dataSync(), learned.gradPatches.data, 2e-4, 'd loss / d patches');
    assertClose(gw!.dataSync(), learned.gradWords.data, 2e-4, 'd loss / d words');
    tf.dispose([value, ...Object.values(grads), gp!, gw!]);
  });
  tf.dispose([p, w, mask, rA, rB, rsA, rsB]);
  m.dispose();
});

test('learned cross-attention: a lower temperature sharpens the attention; without the residual the output is the attended values alone', () => {
  const [p, w, mask] = [t(learned.patches), t(learned.words), t(learned.wordMask)];
  const entropy = (s: tf.Tensor) => tf.tidy(() => tf.neg(s.mul(tf.log(s.add(1e-12))).sum(-1)).mean().dataSync()[0]!);
  const sharp = new LearnedCrossAttention(6, { temperature: 0.05, seed: 1 });
  const soft = new LearnedCrossAttention(6, { temperature: 5, seed: 1 });
  const a = sharp.apply(p, w, mask);
  const b = soft.apply(p, w, mask);
  assert.ok(entropy(a.scoresB) < entropy(b.scoresB) - 0.1, `entropy τ=0.05 ${entropy(a.scoresB)} vs τ=5 ${entropy(b.scoresB)}`);
  const bare = new LearnedCrossAttention(6, { residual: false, seed: 1 });
  const withRes = new LearnedCrossAttention(6, { residual: true, gammaInit: 0, seed: 1 });
  const o1 = bare.apply(p, w, mask);
  const o2 = withRes.apply(p, w, mask);
  // γ = 0 with the residual: out_A is the patches themselves
  assertClose(o2.reportWeightedImage.dataSync(), p.dataSync(), 1e-6, 'γ = 0 → out_A = patches');
  const direct = tf.tidy(() => tf.matMul(o1.scoresA, bare.patchAttention.valueTxt.apply(w)));
  assertClose(o1.reportWeightedImage.dataSync(), direct.dataSync(), 1e-5, 'no residual → S_A·V(words)');
  tf.dispose([p, w, mask, direct, ...Object.values(a), ...Object.values(b), ...Object.values(o1), ...Object.values(o2)]);
  for (const m of [sharp, soft, bare, withRes]) m.dispose();
});

test('learned cross-attention: γ is a constant (buffer) unless trained; the idle projections are registered and trainable', () => {
  const fixed = new LearnedCrossAttention(4);
  const trained = new LearnedCrossAttention(4, { gammaTrainable: true });
  assert.equal(fixed.countParameters(true), 2 * 6 * (4 * 4 + 4));
  assert.equal(trained.countParameters(true), 2 * 6 * (4 * 4 + 4) + 2);
  assert.ok(fixed.stateEntries().some(([n]) => n === 'patch_local_atten_layer.gamma'), 'γ saved with the weights');
  fixed.dispose();
  trained.dispose();
});

test('a patch mask (heads.crossAttentionForeground): S_B is the softmax over the kept patches only, 0 elsewhere; an empty mask keeps all; S_A unchanged; both forms; gradients, no leaks', async () => {
  const [p, w, mask] = [t(learned.patches), t(learned.words), t(learned.wordMask)];
  const [N, P] = p.shape as [number, number, number];
  // case 0 keeps patches 0 and 2 (of P), case 1 none (an image with no patch inside the head)
  const keep = Array.from({ length: N }, (_, n) => Array.from({ length: P }, (_, q) => (n === 0 && (q === 0 || q === 2) ? 1 : 0)));
  const pm = tf.tensor2d(keep);
  const softmax = (xs: number[]) => {
    const m = Math.max(...xs);
    const e = xs.map((x) => Math.exp(x - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / s);
  };
  for (const model of [new LearnedCrossAttention(6, { seed: 1 }), new CrossAttention()]) {
    const plain = model.apply(p, w, mask);
    const masked = model.apply(p, w, mask, pm);
    // the scores B's softmax sees, recovered from the plain S_B (log S_B differs from them by a constant per row)
    const sB = plain.scoresB.arraySync() as number[][][];
    const got = masked.scoresB.arraySync() as number[][][];
    const wm = mask.arraySync() as number[][];
    for (let n = 0; n < N; n++) {
      for (let r = 0; r < sB[n]!.length; r++) {
        if (!wm[n]![r]) {
          assert.ok(got[n]![r]!.every((v) => v === 0), 'a masked word keeps a zero row');
          continue;
        }
        const kept = keep[n]!.some((k) => k) ? keep[n]! : keep[n]!.map(() => 1);
        const logits = sB[n]![r]!.map((v) => Math.log(v));
        const sub = softmax(logits.filter((_, q) => kept[q]));
        let j = 0;
        const want = kept.map((k) => (k ? sub[j++]! : 0));
        assertClose(got[n]![r]!, want, 1e-5, `${model.constructor.name} case ${n} word ${r}`);
      }
    }
    assertClose(masked.scoresA.dataSync(), plain.scoresA.dataSync(), 1e-7, 'S_A does not see the patch mask');
    const wrong = tf.ones([N, P + 1]);
    assert.throws(() => model.apply(p, w, mask, wrong), /patchMask has shape \[\d+, \d+\], expected \[\d+, \d+\]/);
    tf.dispose([wrong, ...Object.values(plain), ...Object.values(masked)]);
  }
  const model = new LearnedCrossAttention(6, { seed: 1 });
  await noLeaks('masked cross-attention gradient', () => {
    const { grads, value } = tf.variableGrads(() => {
      const o = model.apply(p, w, mask, pm);
      return o.imageWeightedText.square().sum() as tf.Scalar;
    }, model.trainableWeights);
    assert.ok(Number.isFinite(value.dataSync()[0]!));
    const kImg = grads[model.wordAttention.keyImg.weight.name]!;
    assert.ok(Array.from(kImg.dataSync()).some((v) => v !== 0), 'the kept patches give the key projection a gradient');
    tf.dispose([value, ...Object.values(grads)]);
  });
  model.dispose();
  tf.dispose([p, w, mask, pm]);
});

test('attendWords (the word-level local loss\'s path): the words\' side alone equals apply\'s S_B and ŵ exactly, both forms, with and without the residual and a patch mask; its gradient reaches only module B; no leaks', async () => {
  const [p, w, mask] = [t(learned.patches), t(learned.words), t(learned.wordMask)];
  const [N, P] = p.shape as [number, number, number];
  const pm = tf.tensor2d(Array.from({ length: N }, (_, n) => Array.from({ length: P }, (_, q) => (n === 0 && q !== 1 ? 1 : 0))));
  const models = [new LearnedCrossAttention(6, { seed: 1, gammaInit: 0.7 }), new LearnedCrossAttention(6, { seed: 2, residual: false, temperature: 0.5 }), new CrossAttention({ scale: true })];
  for (const model of models) {
    for (const patchMask of [undefined, pm]) {
      const both = model.apply(p, w, mask, patchMask);
      const words = model.attendWords(p, w, mask, patchMask);
      assert.deepEqual(Object.keys(words).sort(), ['imageWeightedText', 'scoresB']);
      assert.deepEqual(Array.from(words.scoresB.dataSync()), Array.from(both.scoresB.dataSync()), `${model.constructor.name} S_B`);
      assert.deepEqual(Array.from(words.imageWeightedText.dataSync()), Array.from(both.imageWeightedText.dataSync()), `${model.constructor.name} ŵ`);
      tf.dispose([...Object.values(both), ...Object.values(words)]);
    }
  }
  const model = models[0] as LearnedCrossAttention;
  const [whole, wordsOnly] = [await kernelCalls(() => model.apply(p, w, mask)), await kernelCalls(() => model.attendWords(p, w, mask))];
  assert.ok(wordsOnly.length <= whole.length / 2 + 3, `module A not run: ${wordsOnly.length} kernels against ${whole.length}`);
  await noLeaks('attendWords and its gradient', () => {
    const { grads, value } = tf.variableGrads(() => model.attendWords(p, w, mask).imageWeightedText.square().sum() as tf.Scalar, model.trainableWeights);
    const nonZero = (name: string) => Array.from(grads[name]?.dataSync() ?? []).some((v) => v !== 0);
    assert.ok(nonZero(model.wordAttention.queryTxt.weight.name) && nonZero(model.wordAttention.keyImg.weight.name) && nonZero(model.wordAttention.valueImg.weight.name), 'module B trains');
    assert.ok(!nonZero(model.patchAttention.queryImg.weight.name) && !nonZero(model.patchAttention.valueTxt.weight.name), 'module A is not run');
    tf.dispose([value, ...Object.values(grads)]);
  });
  models.forEach((m) => m.dispose());
  tf.dispose([p, w, mask, pm]);
});

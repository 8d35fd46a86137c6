// Whether the local representation reads the other modality (docs/METHOD.md
// §5): each image with its own and the next case's report, checked against
// the model's own forward passes, and the summary against a hand table.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../../src/engine/backend';
import { ContrastiveModel } from '../../../src/engine/model/contrastive';
import { batchEncodings, disposeTextBatch } from '../../../src/engine/networks/text-batch';
import { localPairingBatch, localPairingDegenerate, localPairingWarning, wordSharpness, summarizeLocalPairing, type LocalPairingCase } from '../../../src/engine/explain/local-pairing';
import { cpu, noLeaks } from '../networks/helpers';
import { kernelCalls } from '../native/helpers';
import { cosine, REPORTS, tinyContrastiveConfig } from '../losses/local-fixtures';

before(cpu);

const config = tinyContrastiveConfig();
const ENC = REPORTS;
const N = ENC.length;

test('localPairingBatch: image k with its own report and report k + 1, report k with its own image and image k − 1, as the model computes them; no leaks', async () => {
  const model = new ContrastiveModel(config, { size: 32, padId: 1 }, 5);
  const x = tf.randomUniform([N, 24, 24, 16, 1], 0, 1, 'float32', 3) as tf.Tensor5D;
  const own = batchEncodings(ENC, { padId: 1, maxWords: model.text.maxWords });
  const shifted = batchEncodings(ENC.map((_, k) => ENC[(k + 1) % N]!), { padId: 1, maxWords: model.text.maxWords });
  let got: LocalPairingCase[] = [];
  await noLeaks('localPairingBatch', () => {
    got = localPairingBatch(model, x, own, shifted);
  });
  // the reference: each combination run through the model on its own, one case at a time
  const one = (image: number, report: number) =>
    tf.tidy(() => {
      const tb = batchEncodings([ENC[report]!], { padId: 1, maxWords: model.text.maxWords });
      try {
        const o = model.forward(x.slice([image, 0, 0, 0, 0], [1, -1, -1, -1, -1]) as tf.Tensor5D, tb, false);
        const m = o.wordMask.expandDims(2);
        const flat = (t: tf.Tensor) => Array.from(t.reshape([-1]).dataSync());
        // word by word: (1/γ) ln Σ exp(γ cos) over the real words
        const w = o.textLocal.arraySync()[0]!;
        const wHat = o.cross.imageWeightedText.arraySync()[0]!;
        const real = o.wordMask.arraySync()[0]!;
        const g = model.config.loss.localWordSharpness;
        const words = Math.log(w.reduce((s, wj, j) => s + (real[j] ? Math.exp(g * cosine(wj, wHat[j]!)) : 0), 0)) / g;
        return { image: cosine(flat(o.imageLocal), flat(o.cross.reportWeightedImage)), text: cosine(flat(o.textLocal.mul(m)), flat(o.cross.imageWeightedText.mul(m))), words };
      } finally {
        disposeTextBatch(tb);
      }
    });
  for (let k = 0; k < N; k++) {
    const self = one(k, k);
    const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-4, `${what}: ${a} vs ${b}`);
    close(got[k]!.image.own, self.image, `image ${k}, own report`);
    close(got[k]!.image.otherReport, one(k, (k + 1) % N).image, `image ${k}, report ${(k + 1) % N}`);
    close(got[k]!.text.own, self.text, `report ${k}, own image`);
    close(got[k]!.text.otherImage, one((k - 1 + N) % N, k).text, `report ${k}, image ${(k - 1 + N) % N}`);
    close(got[k]!.words.own, self.words, `report ${k} word by word, own image`);
    close(got[k]!.words.otherImage, one((k - 1 + N) % N, k).words, `report ${k} word by word, image ${(k - 1 + N) % N}`);
  }
  assert.ok(got.some((c) => Math.abs(c.words.own - c.words.otherImage) > 1e-6), 'another image changes the word scores');
  assert.ok(got.some((c) => Math.abs(c.image.own - c.image.otherReport) > 1e-6), 'another report changes the counterpart');
  // a run configured before loss.localWordSharpness existed (its config.json lacks it): the default γ, the same scores
  const { localWordSharpness: _, ...olderLoss } = model.config.loss;
  const older = { ...model.config, loss: olderLoss } as typeof model.config;
  assert.equal(wordSharpness(older), 5);
  const olderModel = new ContrastiveModel(older, { size: 32, padId: 1 }, 5); // the same seed: the same weights
  const olderGot = localPairingBatch(olderModel, x, own, shifted);
  olderGot.forEach((c, k) => assert.ok(Math.abs(c.words.own - got[k]!.words.own) < 1e-6 && Math.abs(c.words.otherImage - got[k]!.words.otherImage) < 1e-6));
  olderModel.dispose();
  assert.throws(() => localPairingBatch(model, x.slice([0, 0, 0, 0, 0], [1, -1, -1, -1, -1]) as tf.Tensor5D, own, shifted), /at least 2 cases/);
  x.dispose();
  disposeTextBatch(own);
  disposeTextBatch(shifted);
  model.dispose();
});

test('summarizeLocalPairing: means and own − other; degenerate when all three differences (flattened image, flattened text, word by word) are under 0.01', () => {
  const c = (io: number, ir: number, to: number, ti: number, wo = 0.3, wi = 0.3): LocalPairingCase => ({ image: { own: io, otherReport: ir }, text: { own: to, otherImage: ti }, words: { own: wo, otherImage: wi } });
  const s = summarizeLocalPairing([c(0.8, 0.8, 0.6, 0.6, 0.5, 0.5), c(0.6, 0.59, 0.4, 0.41, 0.3, 0.306)])!;
  assert.equal(s.cases, 2);
  assert.ok(Math.abs(s.image.own - 0.7) < 1e-12 && Math.abs(s.image.otherReport - 0.695) < 1e-12 && Math.abs(s.image.difference - 0.005) < 1e-12);
  assert.ok(Math.abs(s.text.own - 0.5) < 1e-12 && Math.abs(s.text.otherImage - 0.505) < 1e-12 && Math.abs(s.text.difference + 0.005) < 1e-12);
  assert.ok(Math.abs(s.words.own - 0.4) < 1e-12 && Math.abs(s.words.otherImage - 0.403) < 1e-12 && Math.abs(s.words.difference + 0.003) < 1e-12);
  assert.equal(localPairingDegenerate(s), true, 'the shortcut: the other modality changes nothing');
  const reads = summarizeLocalPairing([c(0.48, 0.11, 0.13, 0.01)])!;
  assert.equal(localPairingDegenerate(reads), false);
  assert.equal(localPairingDegenerate(summarizeLocalPairing([c(0.5, 0.5, 0.3, 0.2)])!), false, 'one modality reading the other is enough');
  assert.equal(localPairingDegenerate(summarizeLocalPairing([c(0.5, 0.5, 0.3, 0.3, 0.4, 0.2)])!), false, 'words reading the image one by one is enough');
  assert.equal(summarizeLocalPairing([]), null);
});

test('localPairingWarning: the pretraining warning names the stage, the pairs and every cosine when the local representation does not read the other modality; none when it does', () => {
  const c = (io: number, ir: number, to: number, ti: number, wo: number, wi: number): LocalPairingCase => ({ image: { own: io, otherReport: ir }, text: { own: to, otherImage: ti }, words: { own: wo, otherImage: wi } });
  const shortcut = summarizeLocalPairing([c(0.8325, 0.8323, 0.6461, 0.6462, 1.629, 1.629)])!;
  assert.equal(
    localPairingWarning('pretrain', 'held-out', shortcut),
    'pretrain: the local representation does not read the other modality: on the held-out pairs an image\'s report-weighted patches are as close to its patches with another case\'s report (cosine 0.833 vs 0.832) and a report\'s image-weighted words to its words with another image (0.646 vs 0.646; word by word 1.629 vs 1.629); the local loss is met by each modality\'s own queries, so the cross-attention maps say nothing about the pairing (docs/METHOD.md §5; loss.localNegatives "crossed" with loss.localKind "infonce" removes it)',
  );
  assert.equal(localPairingWarning('pretrain', 'held-out', summarizeLocalPairing([c(0.11, 0.11, -0.86, -0.86, 0.739, 0.657)])!), undefined, 'the words read the image');
});

test('forwardReports (what the pairing measure runs): each report batch gives exactly what forward gives, the image encoder run once; no leaks', async () => {
  const model = new ContrastiveModel({ ...config, heads: { ...config.heads, crossAttentionForeground: 0.3 } }, { size: 32, padId: 1 }, 5);
  const x = tf.randomUniform([N, 24, 24, 16, 1], 0, 1, 'float32', 4) as tf.Tensor5D;
  const own = batchEncodings(ENC, { padId: 1, maxWords: model.text.maxWords });
  const shifted = batchEncodings(ENC.map((_, k) => ENC[(k + 2) % N]!), { padId: 1, maxWords: model.text.maxWords });
  const flat = (o: ReturnType<ContrastiveModel['forward']>) =>
    [o.imageGlobal, o.textGlobal, o.imageLocal, o.textLocal, o.wordMask, o.cross.scoresA, o.cross.scoresB, o.cross.reportWeightedImage, o.cross.imageWeightedText, o.patchMask!, o.attention!].map((t) => Array.from(t.dataSync()));
  await noLeaks('forwardReports', () =>
    tf.tidy(() => {
      const both = model.forwardReports(x, [own, shifted]);
      assert.equal(both.length, 2);
      assert.deepEqual(flat(both[0]!), flat(model.forward(x, own, false)), 'own reports');
      assert.deepEqual(flat(both[1]!), flat(model.forward(x, shifted, false)), 'other reports');
      assert.notDeepEqual(flat(both[0]!)[3], flat(both[1]!)[3]);
    }),
  );
  const convs = async (f: () => unknown) => (await kernelCalls(f)).filter((name) => name.startsWith('Conv3D')).length;
  const once = await convs(() => model.forward(x, own, false));
  assert.ok(once > 0);
  assert.equal(await convs(() => model.forwardReports(x, [own, shifted])), once, 'the image encoder runs once for both report batches');
  assert.equal(await convs(() => [model.forward(x, own, false), model.forward(x, shifted, false)]), 2 * once);
  model.dispose();
  x.dispose();
  disposeTextBatch(own);
  disposeTextBatch(shifted);
});

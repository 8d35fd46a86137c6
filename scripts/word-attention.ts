// Where do the words that decide a report's word-level score look
// (loss.localKind "word", docs/METHOD.md §5)? For a run's pretrained model
// (eval mode), in batches of 8 of the held-out pairs, each report with its
// own image: each real word's cosine cos(w_j, ŵ_j) with what it attends to,
// its attention over the layer3 patches (S_B), and the patches the tumour
// touches. Printed: the tumour patches' share of the grid (a flat map's mass
// on them), the mass on them of all words' attention averaged, of the
// attention weighted as the word-level score weights the words (exp(γ cos)),
// and of the best-matching word's alone, with that word's entropy as a share
// of its maximum; then the words that matched best most often. Any run can be
// measured (γ = loss.localWordSharpness, its default for runs configured
// before it). The masks are read here for evaluation only.
//
//   node --import tsx scripts/word-attention.ts RUN [STAGE]   (STAGE: the pretraining folder, default pretrain)
import { join } from 'node:path';
import { tf } from '../src/engine/backend';
import { pretrainSplit } from '../src/engine/training/dataset';
import { openStageModel } from './stage-model';
import { volumesToInput } from '../src/engine/networks/image-input';
import { disposeTextBatch } from '../src/engine/networks/text-batch';
import { evaluationMasks } from '../src/engine/explain/masks';
import { tumourPatches } from '../src/engine/explain/tumour-reach';
import { loadCrossAttention } from '../src/engine/explain/cross-attention-io';
import { caseFile } from '../src/engine/io/safe-path';
import { wordSharpness } from '../src/engine/explain/local-pairing';
import { rowCosine } from '../src/engine/losses/cosine';

async function main() {
  const { run, config, manifest, ds, stage, tokenizer: tok, model } = await openStageModel('word-attention.ts');
  const masks = evaluationMasks(config, manifest);
  const gamma = wordSharpness(config);
  const cases = pretrainSplit(ds).heldOut;
  const acc = { flat: 0, averaged: 0, weighted: 0, best: 0, bestEntropy: 0, n: 0 };
  const bestWords = new Map<string, number>();
  const bs = 8;
  for (let s = 0; s < cases.length; s += bs) {
    const batch = cases.slice(s, s + bs);
    const x = volumesToInput(batch.map((c) => ds.image(c)), batch.map((c) => c.id));
    const tb = model.text.batch(batch.map((c) => tok.encode(ds.report(c)!, { maxTokens: model.text.maxTokens })));
    const [attention, cosines, wordMask, grid] = tf.tidy(() => {
      const o = model.forward(x, tb, false);
      const [n, w] = o.textLocal.shape;
      // each word's cosine with what it attends to, as the word-level score takes it (wordScores)
      const cos = rowCosine(o.textLocal.reshape([n * w, -1]), o.cross.imageWeightedText.reshape([n * w, -1])).reshape([n, w]);
      return [o.cross.scoresB.arraySync() as number[][][], cos.arraySync() as number[][], o.wordMask.arraySync() as number[][], o.patchGrid] as const;
    });
    x.dispose();
    disposeTextBatch(tb);
    batch.forEach((c, k) => {
      const mask = masks.get(c);
      if (!mask) return;
      const tumour = tumourPatches({ data: Float32Array.from(mask), dims: config.data.shape as [number, number, number] }, grid);
      const patches = tumour.length;
      const tumourCount = tumour.reduce((t, v) => t + v, 0);
      if (!tumourCount) return;
      const real = wordMask[k]!.flatMap((v, j) => (v > 0 ? [j] : []));
      if (!real.length) return;
      const words = loadCrossAttention(caseFile(join(stage, 'attention'), c.id, '.json', stage)).words; // the export's own file name for the case
      const weights = real.map((j) => Math.exp(gamma * cosines[k]![j]!));
      const total = weights.reduce((t, v) => t + v, 0);
      const massOf = (row: number[]) => row.reduce((t, v, p) => t + v * tumour[p]!, 0);
      let weighted = 0;
      let averaged = 0;
      real.forEach((j, r) => {
        const m = massOf(attention[k]![j]!);
        weighted += (weights[r]! / total) * m;
        averaged += m / real.length;
      });
      const best = real.reduce((b, j) => (cosines[k]![j]! > cosines[k]![b]! ? j : b), real[0]!);
      const row = attention[k]![best]!;
      const entropy = -row.reduce((t, v) => t + (v > 0 ? v * Math.log(v) : 0), 0) / Math.log(patches);
      const word = words[real.indexOf(best)] ?? `word ${real.indexOf(best)}`;
      bestWords.set(word, (bestWords.get(word) ?? 0) + 1);
      acc.flat += tumourCount / patches;
      acc.averaged += averaged;
      acc.weighted += weighted;
      acc.best += massOf(row);
      acc.bestEntropy += Math.min(1, entropy);
      acc.n++;
    });
  }
  if (!acc.n) throw new Error(`${run.dir}: no held-out pair with a tumour mask and words`);
  const pct = (v: number) => ((100 * v) / acc.n).toFixed(2);
  console.log(
    `held-out pairs ${acc.n} (γ ${gamma}): the tumour patches' share of the grid (a flat map's mass) ${pct(acc.flat)} %; mass on them: all words averaged ${pct(acc.averaged)} %, weighted by exp(γ cos) ${pct(acc.weighted)} %, the best-matching word ${pct(acc.best)} % (its entropy ${pct(acc.bestEntropy)} % of the maximum)`,
  );
  const top = [...bestWords.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12);
  console.log(`best-matching words: ${top.map(([w, count]) => `${w} ${count}`).join(', ')}`);
  model.dispose();
}
main().catch((e: unknown) => {
  console.error((e as Error).message);
  process.exit(1);
});

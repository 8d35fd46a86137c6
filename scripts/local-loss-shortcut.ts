// Does a pretrained model's local loss tell pairs apart by the other
// modality's content, or by each modality's own queries (docs/METHOD.md §5,
// loss.localNegatives)? For a run's pretrained model (eval mode), in batches
// of 8 of the first 64 training pairs and of the held-out pairs, image i
// with its own report and with report i + 1:
//   image term cos(v_i, v̂): own report; another report, the same image (the
//     patches as queries); another pair (the "pair" loss's negative)
//   text term cos(w, ŵ): the report with its own image; with another image;
//     another pair
//   word by word (loss.localKind "word"): the report's word-level score
//     with its own image; with another image
// Equal values in the first two columns mean the local representation is
// matched without the other modality's content. No mask is read.
//
//   node --import tsx scripts/local-loss-shortcut.ts RUN [STAGE]   (STAGE: the pretraining folder, default pretrain)
import { tf } from '../src/engine/backend';
import { pretrainSplit } from '../src/engine/training/dataset';
import { openStageModel } from './stage-model';
import { volumesToInput } from '../src/engine/networks/image-input';
import { disposeTextBatch } from '../src/engine/networks/text-batch';
import { caseCosines, localPairingFromOutputs, wordSharpness } from '../src/engine/explain/local-pairing';

async function main() {
  const { config, ds, tokenizer: tok, model } = await openStageModel('local-loss-shortcut.ts');
  const split = pretrainSplit(ds);
  const bs = 8;
  for (const [name, all] of [['training', split.train.slice(0, 64)], ['held-out', split.heldOut]] as const) {
    const acc = { iPos: 0, iMis: 0, iNeg: 0, tPos: 0, tMis: 0, tNeg: 0, wPos: 0, wMis: 0, n: 0 };
    for (let s = 0; s + bs <= all.length; s += bs) {
      const batch = all.slice(s, s + bs);
      const rot = batch.map((_, i) => batch[(i + 1) % bs]!);
      const x = volumesToInput(batch.map((c) => ds.image(c)), batch.map((c) => c.id));
      const enc = (cs: typeof batch) => model.text.batch(cs.map((c) => tok.encode(ds.report(c)!, { maxTokens: model.text.maxTokens })));
      const tb = enc(batch), tr = enc(rot);
      tf.tidy(() => {
        const m = model.forward(x, tb, false);
        const r = model.forward(x, tr, false); // image i with report i+1
        // own and another report / image: the measure pretraining records (explain/local-pairing.ts)
        const pairing = localPairingFromOutputs(m, r, wordSharpness(config));
        // another pair, the "pair" loss's negative: case i's v against case i+1's v̂, report i+1's w against case i's ŵ
        const next = (t: tf.Tensor) => tf.concat([t.slice(1), t.slice(0, 1)]);
        const mask = m.wordMask.expandDims(2);
        const iNeg = caseCosines(m.imageLocal, next(m.cross.reportWeightedImage));
        const tNeg = caseCosines(next(m.textLocal.mul(mask)), m.cross.imageWeightedText.mul(mask));
        pairing.forEach((p, i) => {
          const j = (i + 1) % bs;
          acc.iPos += p.image.own; acc.iMis += p.image.otherReport; acc.iNeg += iNeg[i]!;
          // report j: with its own image, with image i, and case i's ŵ
          acc.tPos += pairing[j]!.text.own; acc.tMis += pairing[j]!.text.otherImage; acc.tNeg += tNeg[i]!;
          acc.wPos += pairing[j]!.words.own; acc.wMis += pairing[j]!.words.otherImage;
          acc.n++;
        });
      });
      x.dispose(); disposeTextBatch(tb); disposeTextBatch(tr);
    }
    const k = (v: number) => (v / acc.n).toFixed(3);
    console.log(`${name} (${acc.n} pairs): image term cos(v, v̂): own report ${k(acc.iPos)}, other report same image ${k(acc.iMis)}, other pair (the loss's negative) ${k(acc.iNeg)} | text term cos(w, ŵ): own image ${k(acc.tPos)}, other image same report ${k(acc.tMis)}, other pair ${k(acc.tNeg)} | word by word (γ ${wordSharpness(config)}): own image ${k(acc.wPos)}, other image ${k(acc.wMis)}`);
  }
  model.dispose();
}
main().catch((e: unknown) => {
  console.error((e as Error).message);
  process.exit(1);
});

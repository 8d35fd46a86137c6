// Does a pretrained model's local loss tell pairs apart by the other
// modality's content, or by each modality's own queries (docs/METHOD.md §5,
// loss.localNegatives)? For a run's pretrained model (eval mode), in batches
// of 8 of the first 64 training pairs and of the held-out pairs, image i
// with its own report and with report i + 1:
//   image term cos(v_i, v̂): own report; another report, the same image (the
//     patches as queries); another pair (the "pair" loss's negative)
//   text term cos(w, ŵ): the report with its own image; with another image;
//     another pair
// Equal values in the first two columns mean the local representation is
// matched without the other modality's content. No mask is read.
//
//   node --import tsx scripts/local-loss-shortcut.ts RUN [STAGE]   (STAGE: the pretraining folder, default pretrain)
import { join } from 'node:path';
import { setBackend, tf } from '../src/engine/backend';
import { RunFolder } from '../src/engine/training/run-folder';
import { openDataset, pretrainSplit } from '../src/engine/training/dataset';
import { ContrastiveModel } from '../src/engine/model/contrastive';
import { loadTokenizer } from '../src/engine/text/tokenizer';
import { loadModelWeights } from '../src/engine/training/checkpoint';
import { volumesToInput } from '../src/engine/networks/image-input';
import { disposeTextBatch } from '../src/engine/networks/text-batch';
function cos(a: Float32Array, b: Float32Array): number {
  let s = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    s += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return s / Math.sqrt(na * nb + 1e-12);
}
async function main() {
  await setBackend('auto');
  if (!process.argv[2]) throw new Error('usage: node --import tsx scripts/local-loss-shortcut.ts RUN [STAGE]');
  const run = RunFolder.open(process.argv[2]);
  const config = run.config;
  const ds = openDataset(config, '/');
  const stage = join(run.dir, process.argv[3] ?? 'pretrain');
  const tok = loadTokenizer(join(stage, 'tokenizer.json'));
  const model = new ContrastiveModel(config, { size: tok.vocabSize, padId: tok.padId }, config.seed);
  loadModelWeights(join(stage, 'model.safetensors'), model);
  const split = pretrainSplit(ds);
  const bs = 8;
  for (const [name, all] of [['training', split.train.slice(0, 64)], ['held-out', split.heldOut]] as const) {
    const acc = { iPos: 0, iMis: 0, iNeg: 0, tPos: 0, tMis: 0, tNeg: 0, n: 0 };
    for (let s = 0; s + bs <= all.length; s += bs) {
      const batch = all.slice(s, s + bs);
      const rot = batch.map((_, i) => batch[(i + 1) % bs]!);
      const x = volumesToInput(batch.map((c) => ds.image(c)), batch.map((c) => c.id));
      const enc = (cs: typeof batch) => model.text.batch(cs.map((c) => tok.encode(ds.report(c)!, { maxTokens: model.text.maxTokens })));
      const tb = enc(batch), tr = enc(rot);
      tf.tidy(() => {
        const m = model.forward(x, tb, false);
        const r = model.forward(x, tr, false); // image i with report i+1
        const v = m.imageLocal.arraySync() as number[][][];
        const vh = m.cross.reportWeightedImage.arraySync() as number[][][];
        const vhR = r.cross.reportWeightedImage.arraySync() as number[][][];
        const w = m.textLocal.mul(m.wordMask.expandDims(2)).arraySync() as number[][][];
        const wh = m.cross.imageWeightedText.mul(m.wordMask.expandDims(2)).arraySync() as number[][][];
        const whR = r.cross.imageWeightedText.mul(r.wordMask.expandDims(2)).arraySync() as number[][][]; // report i+1 with image i, row i
        const f = (a: number[][]) => Float32Array.from(a.flat());
        for (let i = 0; i < bs; i++) {
          const j = (i + 1) % bs;
          acc.iPos += cos(f(v[i]!), f(vh[i]!)); acc.iMis += cos(f(v[i]!), f(vhR[i]!)); acc.iNeg += cos(f(v[i]!), f(vh[j]!));
          // report j's words: with its own image (m row j), with image i (r row i), and another pair's ŵ (m row i)
          acc.tPos += cos(f(w[j]!), f(wh[j]!)); acc.tMis += cos(f(w[j]!), f(whR[i]!)); acc.tNeg += cos(f(w[j]!), f(wh[i]!));
          acc.n++;
        }
      });
      x.dispose(); disposeTextBatch(tb); disposeTextBatch(tr);
    }
    const k = (v: number) => (v / acc.n).toFixed(3);
    console.log(`${name} (${acc.n} pairs): image term cos(v, v̂): own report ${k(acc.iPos)}, other report same image ${k(acc.iMis)}, other pair (the loss's negative) ${k(acc.iNeg)} | text term cos(w, ŵ): own image ${k(acc.tPos)}, other image same report ${k(acc.tMis)}, other pair ${k(acc.tNeg)}`);
  }
  model.dispose();
}
main().catch((e: unknown) => {
  console.error((e as Error).message);
  process.exit(1);
});

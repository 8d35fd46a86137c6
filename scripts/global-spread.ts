// Are a run's global embeddings collapsed, and is the global heads' input
// standardisation (heads.globalInputNorm "batch") damped by its ε
// (heads.globalInputNormEps)? For a run's pretrained model, on up to 32 of
// its pretraining pairs and 32 held-out ones: per modality, the spread
// across cases of the global head's input features (training-mode batch
// statistics, as the loss sees them), the spread left after the
// standardisation, √(σ²/(σ² + ε)) on average over the features, and the
// mean cosine between different cases' global embeddings (evaluation mode);
// then the image–report cosine of own pairs against other pairs. A
// collapsed model has cosines near 1 everywhere and own ≈ other (docs/METHOD.md §4).
//
//   node --import tsx scripts/global-spread.ts RUN [STAGE]   (STAGE: the pretraining folder, default pretrain)
import { tf } from '../src/engine/backend';
import { pretrainSplit } from '../src/engine/training/dataset';
import { openStageModel } from './stage-model';
import { volumesToInput } from '../src/engine/networks/image-input';
import { disposeTextBatch, type TextBatch } from '../src/engine/networks/text-batch';

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

function offDiagonal(m: number[][]): number[] {
  return m.flatMap((r, i) => r.filter((_, j) => j !== i));
}

async function main() {
  const { run, ds, tokenizer: tok, model } = await openStageModel('global-spread.ts');
  const split = pretrainSplit(ds);
  const eps = model.textGlobalHead.inputNorm?.eps;
  console.log(`${run.dir}: global heads' input standardisation ${eps === undefined ? 'off' : `on, ε ${eps}`}`);
  for (const [which, all] of [['pretraining pairs', split.train], ['held-out pairs', split.heldOut]] as const) {
    const cases = all.slice(0, 32);
    if (cases.length < 2) continue;
    const x = volumesToInput(cases.map((c) => ds.image(c)), cases.map((c) => c.id));
    const tb: TextBatch = model.text.batch(cases.map((c) => tok.encode(ds.report(c)!, { maxTokens: model.text.maxTokens })));
    tf.tidy(() => {
      // the heads' inputs as training sees them (batch statistics; nothing is saved)
      const image = model.image.apply(x, { training: true }).global;
      const text = model.encodeText(tb, true).cls;
      const out = model.forward(x, tb, false);
      for (const [name, features, head, embedding] of [
        ['image', image, model.imageGlobalHead, out.imageGlobal],
        ['report', text, model.textGlobalHead, out.textGlobal],
      ] as const) {
        const variance = Array.from(tf.moments(features, 0).variance.dataSync());
        const sd = variance.map(Math.sqrt);
        const headEps = head.inputNorm?.eps;
        const kept = headEps === undefined ? null : mean(variance.map((v) => Math.sqrt(v / (v + headEps))));
        const cos = offDiagonal(tf.matMul(embedding, embedding, false, true).arraySync() as number[][]);
        console.log(
          `${which}, ${name}: input spread across cases ${mean(sd).toExponential(2)} (features ${Math.min(...sd).toExponential(2)}–${Math.max(...sd).toExponential(2)})` +
            (kept === null ? '' : `, after standardisation ${kept.toFixed(3)} of unit spread`) +
            `; embeddings' mean cosine between cases ${mean(cos).toFixed(4)}`,
        );
      }
      const cross = tf.matMul(out.imageGlobal, out.textGlobal, false, true).arraySync() as number[][];
      console.log(`${which}: image–report cosine, own pair ${mean(cross.map((r, i) => r[i]!)).toFixed(4)}, other pairs ${mean(offDiagonal(cross)).toFixed(4)}`);
    });
    x.dispose();
    disposeTextBatch(tb);
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});

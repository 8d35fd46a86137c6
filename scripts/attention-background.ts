// Where each arm's frozen self-attention looks, inside the head or on the
// background: for fold 0's starting encoders of a run (batch norms
// recalibrated as `mrcl probe` does) on fold 0's internal test cases, the
// attention map (each layer4 position's mean attention received), the mean
// input intensity of the cell it peaks on, how many peaks lie outside the
// head (the cell's block mean below 0.05, the threshold
// heads.crossAttentionForeground's README measurement used), and the map's
// mass on the head's cells; with image.attentionRegisters, the share of the
// attention the registers take (1 − the mean row sum over the positions).
// No mask is read.
//
//   node --import tsx scripts/attention-background.ts RUN
import { setBackend, tf } from '../src/engine/backend';
import { RunFolder } from '../src/engine/training/run-folder';
import { readPlan, unitPretrainedModel } from '../src/engine/experiment/study';
import { initialClassifier, downstreamFolds, recalibrateClassifier } from '../src/engine/training/finetune';
import { openDataset } from '../src/engine/training/dataset';
import { volumesToInput } from '../src/engine/networks/image-input';
import { blockMeans } from '../src/engine/networks/foreground';

const HEAD = 0.05;

async function main() {
  await setBackend('auto');
  const runDir = process.argv[2];
  if (!runDir) throw new Error('usage: node --import tsx scripts/attention-background.ts RUN');
  const run = RunFolder.open(runDir);
  const plan = readPlan(run);
  const config = run.config;
  const ds = openDataset(config, '/');
  const { cases, splits } = downstreamFolds(config, ds);
  const test = splits[0]!.test.map((k) => cases[k]!);
  const fit = splits[0]!.fit.map((k) => cases[k]!);
  for (const u of plan.finetune.filter((x) => x.fold === 0)) {
    const model = initialClassifier(config, { arm: u.arm, init: u.init, fold: u.fold, pretrainedModel: unitPretrainedModel(run, u) }, run.dir, 'attention-background');
    recalibrateClassifier(config, ds, model, fit);
    if (!model.image.selfAttention) throw new Error(`${run.dir}: the encoder has no self-attention`);
    const peakI: number[] = [], headMass: number[] = [], headFrac: number[] = [], registerShare: number[] = [];
    for (const c of test) {
      const vol = ds.image(c.case);
      tf.tidy(() => {
        const x = volumesToInput([vol]);
        const out = model.image.apply(x, { training: false });
        const [, gx, gy, gz] = out.layer4.shape;
        const map = out.attention!.mean(1).reshape([-1]).dataSync(); // column means: how much each position is attended
        const means = blockMeans(x, [gx, gy, gz]).dataSync();
        let p = 0; for (let i = 1; i < map.length; i++) if (map[i]! > map[p]!) p = i;
        peakI.push(means[p]!);
        let hm = 0, tot = 0, n = 0; for (let i = 0; i < map.length; i++) { tot += map[i]!; if (means[i]! >= HEAD) { hm += map[i]!; n++; } }
        headMass.push(hm / tot); headFrac.push(n / map.length);
        registerShare.push(1 - tot); // a row sums to 1 less the registers' share; the column means' total is the rows' mean sum
      });
    }
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    const outside = peakI.filter((v) => v < HEAD).length;
    const registers = model.image.selfAttention.registerKey ? `; the registers take ${(100 * mean(registerShare)).toFixed(1)} % of the attention` : '';
    console.log(`${u.arm}${u.variant === 'base' ? '' : ` (${u.variant})`}: peak cell's mean intensity ${mean(peakI).toFixed(3)}, peak outside the head (block mean < ${HEAD}) on ${outside} of ${peakI.length} cases; map mass on the head's cells ${(100 * mean(headMass)).toFixed(1)} % (they are ${(100 * mean(headFrac)).toFixed(1)} % of the grid)${registers}`);
    model.dispose();
  }
}
main().catch((e: unknown) => {
  console.error((e as Error).message);
  process.exit(1);
});

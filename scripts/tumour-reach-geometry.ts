// How far the tumour reaches into a randomly initialised encoder's features
// at several input sizes and output strides (explain/tumour-reach.ts): the
// study's 64×64×40 at stride 8 against the paper's 240×240×155 at stride 32.
// Synthetic cases rendered with and without their tumour at each size (the
// generator's tumourFree image, min–max scaled as the image), one encoder per
// geometry (the quick study's image config otherwise: width 8, undilated,
// scaled self-attention, γ 0.1), eval mode.
//
//   node --import tsx scripts/tumour-reach-geometry.ts [--cases N] [--seed S] [--encoder-seed E] SHAPE:STRIDE…
//   e.g. 64x64x40:8 128x128x80:16 240x240x155:32 (the default)
import { parseArgs } from 'node:util';
import { setBackend } from '../src/engine/backend';
import { resolveConfig } from '../src/engine/config/resolve';
import { minmaxScale } from '../src/engine/data/normalize';
import { measureTumourReach, type ReachCase, type ReachSummary } from '../src/engine/explain/tumour-reach';
import { resnet3dFromConfig } from '../src/engine/networks/resnet3d';
import { synthesizeCase } from '../src/engine/synth/case';
import { markerPrior } from '../src/engine/synth/cohort';
import { headGrid } from '../src/engine/synth/grid';
import { studyConfigs } from '../src/engine/study/scales';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { cases: { type: 'string', default: '8' }, seed: { type: 'string', default: '1003' }, 'encoder-seed': { type: 'string', default: '7' } },
});
const geometries = positionals.length ? positionals : ['64x64x40:8', '128x128x80:16', '240x240x155:32'];
const n = Number(values.cases);
const seed = Number(values.seed);
const encoderSeed = Number(values['encoder-seed']);

const row = (what: string, m: ReachSummary) =>
  `| ${what} | ${m.relative
    .slice(1)
    .map((v) => (v === null ? '—' : v.toFixed(2)))
    .join(' | ')} | ${m.tumourShare === null ? '—' : `${(100 * m.tumourShare).toFixed(1)} %`} | ${(100 * m.tumourFraction).toFixed(1)} % |`;

async function main(): Promise<void> {
  await setBackend();
  const quick = studyConfigs('quick', seed).experiment!;
  console.log(`Random encoders (the quick study's image config, encoder seed ${encoderSeed}), ${n} internal cases of a cohort with seed ${seed} rendered at each size; a patch's change as a share of the tumour patches', 1 / 2 / ≥ 3 patches away.\n`);
  console.log('| geometry, features | 1 | 2 | ≥ 3 | tumour patches\' share of the change² | tumour patches |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const spec of geometries) {
    const m = /^(\d+)x(\d+)x(\d+):(8|16|32)$/.exec(spec);
    if (!m) throw new Error(`${spec}: expected XxYxZ:STRIDE, STRIDE 8, 16 or 32`);
    const shape = [Number(m[1]), Number(m[2]), Number(m[3])] as [number, number, number];
    const config = resolveConfig({ ...quick, image: { ...quick.image, outputStride: Number(m[4]), medicalNet: undefined }, data: { ...quick.data, shape } });
    const encoder = resnet3dFromConfig(config.image, encoderSeed);
    try {
      const grid = headGrid(shape);
      const cases: ReachCase[] = [];
      for (let i = 1; i <= n; i++) {
        const id = `int-${String(i).padStart(3, '0')}`;
        const c = synthesizeCase(seed, id, 'internal', grid, markerPrior('paper'), { tumourFree: true });
        const image = minmaxScale(c.image.data);
        const tumourFree = minmaxScale(c.tumourFree!.data, c.image.data);
        cases.push({ id, image: { data: image, dims: shape }, tumourFree: { data: tumourFree, dims: shape }, mask: c.mask });
      }
      const r = measureTumourReach(cases, [{ name: 'random', encoder }]);
      const e = r.encoders[0]!;
      console.log(row(`${shape.join('×')}, stride ${m[4]}: input on layer3's grid`, r.input));
      console.log(row(`${shape.join('×')}, stride ${m[4]}: layer3`, e.layer3));
      console.log(row(`${shape.join('×')}, stride ${m[4]}: layer4 + self-attention`, e.layer4));
    } finally {
      encoder.dispose();
    }
  }
}

main().catch((e: unknown) => {
  console.error((e as Error).message);
  process.exit(1);
});

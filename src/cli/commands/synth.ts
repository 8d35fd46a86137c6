import { resolve } from 'node:path';
import { synthesizeCohort } from '../../engine/synth/cohort';
import { createProgressBar } from '../progress';
import { intOption, shapeOption, UsageError, type Command } from '../command';

export const synthCommand: Command = {
  name: 'synth',
  summary: 'Generate a synthetic pediatric low-grade glioma cohort (FLAIR-like NIfTI images, tumour masks, reports, manifest).',
  usage: 'mrcl synth --out DIR [--internal N] [--external M] [--shape X,Y,Z] [--seed S] [--markers default|paper]',
  options: {
    out: { type: 'string', short: 'o', valueName: 'DIR', description: 'Output folder (created; must be empty or a previous synthetic cohort)' },
    internal: { type: 'string', valueName: 'N', description: 'Internal cases with reports', default: '60' },
    external: { type: 'string', valueName: 'M', description: 'External cases (scanner shift, no reports)', default: '20' },
    shape: { type: 'string', valueName: 'X,Y,Z', description: 'Volume size in voxels', default: '64,64,40' },
    seed: { type: 'string', valueName: 'S', description: 'Random seed (same seed, same files)', default: '42' },
    markers: { type: 'string', valueName: 'PRIOR', description: "Marker proportions: 'default' (most cases fusion or V600E) or 'paper' (Table 6: 137 fusion, 67 V600E, 137 other of 341)", default: 'default' },
  },
  async run(args, ctx) {
    const out = args.values.out;
    if (typeof out !== 'string' || !out) throw new UsageError('--out DIR is required', 'synth');
    const markers = args.values.markers;
    if (markers !== 'default' && markers !== 'paper') throw new UsageError(`--markers must be default or paper, got "${String(markers)}"`, 'synth');
    const bar = createProgressBar(ctx.stderr, { tty: ctx.tty, title: 'synth' });
    const summary = await synthesizeCohort({
      out: resolve(out),
      internal: intOption(args.values.internal, 'internal', 0),
      external: intOption(args.values.external, 'external', 0),
      shape: shapeOption(args.values.shape, 'shape'),
      seed: intOption(args.values.seed, 'seed', 0),
      markers,
      onProgress: (done, total) => bar.update(done, total),
    });
    bar.done();
    ctx.stdout(`${JSON.stringify(summary, null, 2)}\n`);
    return 0;
  },
};

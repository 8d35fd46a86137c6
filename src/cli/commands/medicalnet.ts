// `mrcl medicalnet standin CONFIG --out FILE.pth`: trains the synthetic
// MedicalNet stand-in for a config's encoder and writes it in MedicalNet's
// checkpoint format, ready for `image.medicalNet`.
import { resolve } from 'node:path';
import { loadConfig } from '../../engine/config/resolve';
import { setBackend } from '../../engine/backend';
import { CancelledError } from '../../engine/training/loop';
import { STANDIN_DEFAULTS, trainMedicalNetStandin, type StandinProgress } from '../../engine/training/medicalnet-standin';
import { createProgressBar } from '../progress';
import { intOption, UsageError, type Command } from '../command';

/**
 * The stand-in's progress on stderr: a bar for the cohort and one bar for the
 * whole training (elapsed time and ETA over every epoch), with a line per
 * finished epoch.
 */
export function standinProgressPrinter(write: (s: string) => void, tty: boolean, now?: () => number): (p: StandinProgress) => void {
  const cohortBar = createProgressBar(write, { tty, title: 'standin cohort', now });
  let trainBar: ReturnType<typeof createProgressBar> | undefined;
  return (p) => {
    if (p.phase === 'cohort') {
      cohortBar.update(p.done, p.total);
      if (p.done === p.total) cohortBar.done();
    } else if (p.phase === 'train') {
      // one bar for all epochs, so its elapsed time and ETA count from the first step
      trainBar ??= createProgressBar(write, { tty, title: 'standin train', now });
      trainBar.update((p.epoch - 1) * p.steps + p.step, p.epochs * p.steps, `epoch ${p.epoch}/${p.epochs} loss ${p.loss.toFixed(4)}`);
    } else {
      trainBar?.done();
      write(`epoch ${p.epoch}/${p.epochs}: mean loss ${p.loss.toFixed(4)}\n`);
    }
  };
}

export const medicalnetCommand: Command = {
  name: 'medicalnet',
  summary:
    "MedicalNet checkpoints: `standin CONFIG --out FILE.pth` trains a synthetic stand-in (the config's encoder with MedicalNet's segmentation head, on the phantom's tissue classes of a cohort disjoint from every study cohort; no tumour class) and saves it as a MedicalNet .pth for image.medicalNet, with FILE.pth.json saying what it is. It is not Med3D's weights.",
  usage: 'mrcl medicalnet standin CONFIG --out FILE.pth [--cases N] [--held-out M] [--epochs E] [--batch B] [--seed S]',
  positionals: [
    { name: 'ACTION', description: 'standin', required: true },
    { name: 'CONFIG', description: 'experiment config (.mrcl.json): its image encoder and data.shape/normalization', required: true },
  ],
  options: {
    out: { type: 'string', short: 'o', valueName: 'FILE', description: 'The .pth to write (FILE.json is written beside it)' },
    cases: { type: 'string', valueName: 'N', description: 'Training cases of the stand-in cohort', default: String(STANDIN_DEFAULTS.cases) },
    'held-out': { type: 'string', valueName: 'M', description: "Held-out stand-in cases for the record's per-class Dice", default: String(STANDIN_DEFAULTS.heldOut) },
    epochs: { type: 'string', valueName: 'E', description: 'Training epochs', default: String(STANDIN_DEFAULTS.epochs) },
    batch: { type: 'string', valueName: 'B', description: 'Batch size', default: String(STANDIN_DEFAULTS.batchSize) },
    seed: { type: 'string', valueName: 'S', description: "Seed of the stand-in cohort and of the initial weights", default: String(STANDIN_DEFAULTS.seed) },
  },
  async run(args, ctx) {
    const [action, configPath] = args.positionals;
    if (action !== 'standin') throw new UsageError(`unknown action "${action}" (expected standin)`, 'medicalnet');
    const out = args.values.out;
    if (typeof out !== 'string' || !out) throw new UsageError('--out FILE.pth is required', 'medicalnet');
    const options = {
      cases: intOption(args.values.cases, 'cases', 2),
      heldOut: intOption(args.values['held-out'], 'held-out', 0),
      epochs: intOption(args.values.epochs, 'epochs', 1),
      batchSize: intOption(args.values.batch, 'batch', 1),
      seed: intOption(args.values.seed, 'seed', 0),
    };
    const loaded = loadConfig(configPath!);
    await setBackend(loaded.config.backend, { training: true, precision: loaded.config.precision });
    const onProgress = standinProgressPrinter(ctx.stderr, ctx.tty);
    try {
      const result = await trainMedicalNetStandin({
        config: loaded.config,
        out: resolve(out),
        ...options,
        signal: ctx.signal,
        onProgress,
      });
      const dice = Object.entries(result.summary.heldOutDice).filter((e): e is [string, number] => e[1] !== null);
      if (dice.length) ctx.stderr(`held-out Dice (head grid): ${dice.map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')}\n`);
      ctx.stderr(`wrote ${result.checkpoint} (${result.summary.description}) and ${result.record}\n`);
      ctx.stdout(`${JSON.stringify(result.summary, null, 2)}\n`);
      return 0;
    } catch (e) {
      if (e instanceof CancelledError) {
        ctx.stderr('cancelled; nothing was written\n');
        return 130;
      }
      throw e;
    }
  },
};

// `mrcl demo`: a synthetic cohort and the whole experiment at a scale that
// finishes in minutes on a laptop CPU with the pure-JS backend.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { synthesizeCohort } from '../../engine/synth/cohort';
import { resolveConfig } from '../../engine/config/resolve';
import { runStudy } from '../../engine/experiment/study';
import type { ExperimentConfigInput } from '../../shared/config';
import type { Command } from '../command';
import { eventPrinter } from '../events';

/** The demo's scale (documented in the README). */
export const DEMO_CONFIG: ExperimentConfigInput = {
  name: 'demo',
  data: { manifest: 'cohort/manifest.json', shape: [32, 32, 24] },
  tokenizer: { vocabSize: 800 },
  image: { width: 8 },
  text: { layers: 1, hidden: 32, heads: 2, intermediate: 64, attentionWindow: 32, maxWords: 64 },
  heads: { globalDim: 64, localDim: 32 },
  pretrain: { epochs: 8, batchSize: 8, stepSize: 4, gamma: 0.8 },
  finetune: { epochs: 6, batchSize: 8, warmupEpochs: 2, stepSize: 2, gamma: 0.5 },
  outDir: 'runs',
};

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Synthesise a small cohort and run the whole experiment on it (pretraining, 3 initialisations × 5 folds, tables).',
  usage: 'mrcl demo [--out DIR] [--json]',
  options: {
    out: { type: 'string', short: 'o', valueName: 'DIR', description: 'Folder for the cohort, the config and the run', default: 'demo-out' },
    json: { type: 'boolean', description: 'Print events as JSON lines on stdout' },
  },
  async run(args, ctx) {
    const out = resolve(typeof args.values.out === 'string' ? args.values.out : 'demo-out');
    mkdirSync(out, { recursive: true });
    ctx.stderr(`synthesising a cohort in ${join(out, 'cohort')}\n`);
    await synthesizeCohort({ out: join(out, 'cohort'), internal: 40, external: 12, shape: [32, 32, 24], seed: 42 });
    const config = resolveConfig(DEMO_CONFIG, 'demo config');
    const configPath = join(out, 'demo.mrcl.json');
    writeFileSync(configPath, `${JSON.stringify(DEMO_CONFIG, null, 2)}\n`);
    ctx.stderr(`config: ${configPath}\n`);
    const outcome = await runStudy({
      kind: 'experiment',
      config,
      baseDir: out,
      signal: ctx.signal,
      emit: eventPrinter(ctx, Boolean(args.values.json)),
      onRunDir: (dir) => ctx.stderr(`run folder: ${dir}\n`),
    });
    if (outcome.status !== 'done') {
      ctx.stderr(`demo ${outcome.status}${outcome.error ? `: ${outcome.error}` : ''}\n`);
      return outcome.status === 'cancelled' ? 130 : 1;
    }
    ctx.stdout(`\nTables: ${join(outcome.runDir!, 'results.md')}\nRun folder: ${outcome.runDir}\n`);
    return 0;
  },
};

import { join, resolve } from 'node:path';
import { runDemo } from '../../engine/experiment/demo';
import type { Command } from '../command';
import { eventPrinter } from '../events';
import { printResultsWarnings } from './study';

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
    const outcome = await runDemo(out, {
      signal: ctx.signal,
      emit: eventPrinter(ctx, Boolean(args.values.json)),
      onRunDir: (dir) => ctx.stderr(`run folder: ${dir}\n`),
    });
    if (outcome.status !== 'done') {
      ctx.stderr(`demo ${outcome.status}${outcome.error ? `: ${outcome.error}` : ''}\n`);
      return outcome.status === 'cancelled' ? 130 : 1;
    }
    printResultsWarnings(outcome.runDir, ctx);
    ctx.stdout(`\nTables: ${join(outcome.runDir!, 'results.md')}\nRun folder: ${outcome.runDir}\n`);
    return 0;
  },
};

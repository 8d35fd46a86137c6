import { validateDataset, formatValidationReport } from '../../engine/data/validate';
import { LEAK_TERM_DEFAULTS, LOCATION_DEFAULTS, MARKER_DEFAULTS } from '../../shared/config';
import { loadConfig, resolveIn } from '../../engine/config/resolve';
import { intOption, type Command } from '../command';

export const validateCommand: Command = {
  name: 'validate',
  summary: 'Check a dataset manifest: lists every problem at once; exits non-zero on errors (warnings do not fail).',
  usage: 'mrcl validate MANIFEST [--config FILE] [--folds K] [--json]',
  positionals: [{ name: 'MANIFEST', description: 'manifest.json or manifest.csv', required: true }],
  options: {
    config: { type: 'string', short: 'c', valueName: 'FILE', description: 'Experiment config whose labels, leak terms and fold count to check against' },
    folds: { type: 'string', valueName: 'K', description: 'Check that each downstream class has at least K internal cases' },
    json: { type: 'boolean', description: 'Print the report as JSON' },
  },
  async run(args, ctx) {
    const manifest = args.positionals[0];
    let locations = LOCATION_DEFAULTS;
    let markers = MARKER_DEFAULTS;
    let leakTerms = LEAK_TERM_DEFAULTS;
    let positiveMarker = 'v600e';
    let negativeMarker = 'fusion';
    let folds = intOption(args.values.folds, 'folds', 2);
    if (typeof args.values.config === 'string') {
      const { config } = loadConfig(args.values.config);
      ({ locations, markers, positiveMarker, negativeMarker } = config.data);
      leakTerms = config.report.leakTerms;
      folds ??= config.finetune.folds;
    }
    const report = await validateDataset(resolveIn(process.cwd(), manifest), {
      locations,
      markers,
      leakTerms,
      folds,
      positiveMarker,
      negativeMarker,
    });
    ctx.stdout(args.values.json ? `${JSON.stringify(report, null, 2)}\n` : formatValidationReport(report, manifest));
    return report.errors.length ? 1 : 0;
  },
};

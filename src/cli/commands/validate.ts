import { validateDataset, formatValidationReport } from '../../engine/data/validate';
import { loadConfig, resolveIn } from '../../engine/config/resolve';
import { datasetValidationOptions } from '../../engine/config/semantic';
import { intOption, type Command } from '../command';

export const validateCommand: Command = {
  name: 'validate',
  summary: 'Check a dataset manifest: lists every problem at once; exits non-zero on errors (warnings do not fail).',
  usage: 'mrcl validate MANIFEST [--config FILE] [--folds K] [--allow-outside-paths] [--json]',
  positionals: [{ name: 'MANIFEST', description: 'manifest.json or manifest.csv', required: true }],
  options: {
    config: { type: 'string', short: 'c', valueName: 'FILE', description: 'Experiment config whose labels, leak terms, de-identification lists and fold count to check against' },
    folds: { type: 'string', valueName: 'K', description: 'Check that each downstream class has at least K internal cases' },
    'allow-outside-paths': { type: 'boolean', description: "Accept image, mask and report paths outside the manifest's folder (as data.allowOutsidePaths: true does)" },
    json: { type: 'boolean', description: 'Print the report as JSON' },
  },
  async run(args, ctx) {
    const manifest = args.positionals[0];
    const folds = intOption(args.values.folds, 'folds', 2);
    const loaded = typeof args.values.config === 'string' ? loadConfig(args.values.config) : undefined;
    const fromConfig = loaded ? datasetValidationOptions(loaded.config, loaded.baseDir) : {};
    const allow = args.values['allow-outside-paths'] === true ? { allowOutsidePaths: true } : {};
    const report = await validateDataset(resolveIn(process.cwd(), manifest), { ...fromConfig, ...(folds !== undefined ? { folds } : {}), ...allow });
    ctx.stdout(args.values.json ? `${JSON.stringify(report, null, 2)}\n` : formatValidationReport(report, manifest));
    return report.errors.length ? 1 : 0;
  },
};

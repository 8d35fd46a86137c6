import { loadConfig } from '../../engine/config/resolve';
import { setBackend } from '../../engine/backend';
import { modelSummary, renderModelSummary } from '../../engine/model/summary';
import { UsageError, type Command } from '../command';

export const modelCommand: Command = {
  name: 'model',
  summary: "Describe the model a config builds: `summary FILE` prints trainable and frozen parameters per component for pretraining and fine-tuning, laid out as the paper's Table 7 (no weights are read).",
  usage: 'mrcl model summary FILE [--json]',
  positionals: [
    { name: 'ACTION', description: 'summary', required: true },
    { name: 'FILE', description: 'config file (.mrcl.json)', required: true },
  ],
  options: {
    json: { type: 'boolean', description: 'Print JSON: { pretrain, finetune } with { trainable, frozen } per component' },
  },
  async run(args, ctx) {
    const [action, file] = args.positionals;
    if (action !== 'summary') throw new UsageError(`unknown action "${action}" (expected summary)`, 'model');
    if (!file) throw new UsageError('model summary: FILE is required', 'model');
    const loaded = loadConfig(file);
    // counting needs no accelerator: the plain cpu backend builds the models fastest
    await setBackend('cpu');
    const summary = modelSummary(loaded.config, loaded.baseDir);
    ctx.stdout(args.values.json ? `${JSON.stringify(summary, null, 2)}\n` : `${file}\n\n${renderModelSummary(summary)}\n`);
    return 0;
  },
};

import { bf16Support, probeBackends, setBackend, describeBackend } from '../../engine/backend';
import type { Command } from '../command';
import { TRAINING_NODE_FLAGS, hasTrainingNodeFlags } from '../../shared/node-flags';

export const backendCommand: Command = {
  name: 'backend',
  summary: 'Show which TF.js backends load on this machine and which one would be used.',
  usage: 'mrcl backend [--backend NAME] [--json]',
  options: {
    backend: { type: 'string', valueName: 'NAME', description: 'auto | tensorflow-gpu | tensorflow | cpu | wasm (default: $MRCL_BACKEND or auto)' },
    json: { type: 'boolean', description: 'Print JSON' },
  },
  async run(args, ctx) {
    const probes = probeBackends();
    const active = await setBackend(typeof args.values.backend === 'string' ? args.values.backend : undefined);
    const bf16 = bf16Support(active);
    // the options this process runs with: bin/mrcl.js adds the training flags (src/cli/launch.ts)
    const node = { version: process.version, execArgv: process.execArgv, nodeOptions: process.env.NODE_OPTIONS ?? '', trainingFlags: hasTrainingNodeFlags(process.execArgv, process.env.NODE_OPTIONS ?? '') };
    if (args.values.json) {
      ctx.stdout(`${JSON.stringify({ active, probes, precision: { fp32: { available: true }, bf16 }, node }, null, 2)}\n`);
    } else {
      for (const p of probes) ctx.stdout(`${p.available ? 'yes' : 'no '}  ${p.preference.padEnd(15)} ${p.detail}\n`);
      ctx.stdout(`active: ${describeBackend(active)}\n`);
      ctx.stdout(`precision bf16: ${bf16.available ? 'yes' : 'no'}, ${bf16.detail}\n`);
      const flags = [...node.execArgv, ...(node.nodeOptions ? [`NODE_OPTIONS=${node.nodeOptions}`] : [])].join(' ') || 'none';
      ctx.stdout(`node ${node.version}, options: ${flags}${node.trainingFlags ? '' : ` (training processes add ${TRAINING_NODE_FLAGS.join(' ')}; bin/mrcl.js does)`}\n`);
    }
    return 0;
  },
};

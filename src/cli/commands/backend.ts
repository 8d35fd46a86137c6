import { bf16Support, probeBackends, setBackend, describeBackend } from '../../engine/backend';
import type { Command } from '../command';

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
    if (args.values.json) {
      ctx.stdout(`${JSON.stringify({ active, probes, precision: { fp32: { available: true }, bf16 } }, null, 2)}\n`);
    } else {
      for (const p of probes) ctx.stdout(`${p.available ? 'yes' : 'no '}  ${p.preference.padEnd(15)} ${p.detail}\n`);
      ctx.stdout(`active: ${describeBackend(active)}\n`);
      ctx.stdout(`precision bf16: ${bf16.available ? 'yes' : 'no'}, ${bf16.detail}\n`);
    }
    return 0;
  },
};

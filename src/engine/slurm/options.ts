// What every sbatch script of a run asks Slurm for: the config's `slurm`
// section, overridden field by field by CLI flags or editor settings.
import type { ExperimentConfig, SlurmConfig } from '../../shared/config';

export interface SlurmOptions extends SlurmConfig {
  /** the mrcl CLI (bin/mrcl.js) the tasks run */
  cli: string;
}

export const SLURM_DEFAULTS: SlurmConfig = {
  partition: '',
  account: '',
  time: '04:00:00',
  cpusPerTask: 4,
  gpusPerTask: 0,
  memPerTask: '16G',
  sbatch: [],
  preamble: [],
  node: '',
};

/** Merges defaults ← config.slurm ← overrides (undefined fields do not override). */
export function slurmOptions(config: ExperimentConfig, overrides: Partial<SlurmConfig>, cli: string, nodeDefault: string): SlurmOptions {
  // run folders made before the slurm section existed have none
  const fromConfig: Partial<SlurmConfig> = (config as Partial<ExperimentConfig>).slurm ?? {};
  const o: SlurmConfig = { ...SLURM_DEFAULTS };
  for (const src of [fromConfig, overrides]) {
    for (const [k, v] of Object.entries(src)) if (v !== undefined) (o as unknown as Record<string, unknown>)[k] = v;
  }
  if (!o.node) o.node = nodeDefault;
  checkOptions(o);
  return { ...o, cli };
}

function checkOptions(o: SlurmConfig): void {
  // these end up in #SBATCH lines: a newline would inject a line of its own
  for (const k of ['partition', 'account', 'time', 'memPerTask', 'node'] as const) {
    if (/[\n\r]/.test(o[k])) throw new Error(`slurm.${k}: must be one line, got ${JSON.stringify(o[k])}`);
  }
  if (o.time && !/^(\d+-)?\d+(:\d+){0,2}$|^\d+-\d+$|^(UNLIMITED|INFINITE)$/i.test(o.time)) {
    throw new Error(`slurm.time: "${o.time}" is not a Slurm time (minutes, MM:SS, HH:MM:SS, D-HH or D-HH:MM:SS)`);
  }
  if (o.memPerTask && !/^\d+[KMGT]?$/i.test(o.memPerTask)) throw new Error(`slurm.memPerTask: "${o.memPerTask}" is not a Slurm memory size (e.g. 16G, 8000M)`);
  if (!Number.isInteger(o.cpusPerTask) || o.cpusPerTask < 1) throw new Error(`slurm.cpusPerTask: must be a positive integer, got ${o.cpusPerTask}`);
  if (!Number.isInteger(o.gpusPerTask) || o.gpusPerTask < 0) throw new Error(`slurm.gpusPerTask: must be a non-negative integer, got ${o.gpusPerTask}`);
  for (const line of o.sbatch) {
    if (/[\n\r]/.test(line)) throw new Error(`slurm.sbatch: each extra line must be one line, got ${JSON.stringify(line)}`);
    if (!line.trim().startsWith('-')) throw new Error(`slurm.sbatch: "${line}" is not an sbatch option (e.g. --qos=normal)`);
  }
}

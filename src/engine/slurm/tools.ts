// Calls to Slurm's command-line tools, with errors that say what to do:
// sbatch missing (not on a login node), an unknown partition, a rejected
// submission (Slurm's own message).
import { spawnSync } from 'node:child_process';

export interface ToolResult {
  status: number;
  stdout: string;
  stderr: string;
}

export type ToolRunner = (tool: string, args: readonly string[]) => ToolResult;

export class SlurmMissingError extends Error {}

/** Runs a Slurm tool; throws SlurmMissingError when it is not installed. */
export const runTool: ToolRunner = (tool, args) => {
  const r = spawnSync(tool, args, { encoding: 'utf8', timeout: 120_000 });
  if (r.error) {
    if ((r.error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new SlurmMissingError(`${tool} not found on PATH: run this on a Slurm login node (or load the Slurm module first)`);
    }
    throw new Error(`${tool} ${args.join(' ')}: ${r.error.message}`);
  }
  return { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
};

/** Throws unless sbatch can be run here. */
export function checkSbatch(run: ToolRunner = runTool): void {
  const r = run('sbatch', ['--version']);
  if (r.status !== 0) throw new Error(`sbatch --version failed: ${(r.stderr || r.stdout).trim()}`);
}

/** Throws when `partition` is not one of the cluster's partitions (sinfo). */
export function checkPartition(partition: string, run: ToolRunner = runTool): void {
  if (!partition) return;
  const r = run('sinfo', ['-h', '-o', '%P']);
  if (r.status !== 0) throw new Error(`sinfo failed: ${(r.stderr || r.stdout).trim()}`);
  const names = r.stdout.split('\n').map((s) => s.trim().replace(/\*$/, '')).filter(Boolean);
  if (!names.includes(partition)) throw new Error(`unknown Slurm partition "${partition}" (this cluster has: ${names.join(', ') || 'none'})`);
}

/** `sbatch --parsable [--dependency=…] SCRIPT` → the job id. */
export function sbatch(script: string, dependency: string | undefined, run: ToolRunner = runTool): string {
  const args = ['--parsable', ...(dependency ? [`--dependency=${dependency}`] : []), script];
  const r = run('sbatch', args);
  const id = r.stdout.trim().split(/[;\s]/)[0] ?? '';
  if (r.status !== 0 || !/^\d+$/.test(id)) {
    throw new Error(`Slurm rejected ${script}: ${(r.stderr || r.stdout).trim() || `sbatch exited with ${r.status}`}`);
  }
  return id;
}

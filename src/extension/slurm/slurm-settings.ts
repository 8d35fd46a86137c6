// mrcl.slurm.* settings: set ones override the experiment config's slurm
// section, passed to the CLI as its flags.
import * as vscode from 'vscode';

export function slurmSettingFlags(): string[] {
  const c = vscode.workspace.getConfiguration('mrcl.slurm');
  const flags: string[] = [];
  const str = (key: string, flag: string) => {
    const v = c.get<string>(key, '').trim();
    if (v) flags.push(`--${flag}`, v);
  };
  const int = (key: string, flag: string) => {
    const v = c.get<number | null>(key, null);
    if (typeof v === 'number' && Number.isInteger(v)) flags.push(`--${flag}`, String(v));
  };
  str('partition', 'partition');
  str('account', 'account');
  str('time', 'time');
  str('memPerTask', 'mem');
  int('cpusPerTask', 'cpus-per-task');
  int('gpusPerTask', 'gpus-per-task');
  for (const l of c.get<string[]>('sbatch', [])) flags.push(`--sbatch=${l}`);
  for (const l of c.get<string[]>('preamble', [])) flags.push('--preamble', l);
  return flags;
}

export function pollSeconds(): number {
  return Math.max(5, vscode.workspace.getConfiguration('mrcl.slurm').get<number>('pollSeconds', 15));
}

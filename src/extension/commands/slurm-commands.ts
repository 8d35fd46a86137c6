// Running an experiment as Slurm jobs from the editor (e.g. through
// Remote-SSH on a login node) and cancelling them: both go through the
// `mrcl` CLI, which needs sbatch on the PATH of the extension host.
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../runs/engine-paths';
import { readSettings } from '../settings';
import { ensureTrusted } from '../trust';
import { slurmMonitor } from '../slurm/slurm-monitor';
import { slurmSettingFlags } from '../slurm/slurm-settings';
import { command, type CommandDef } from './define';
import { pickConfig, pickRun } from './targets';

export const slurmCommands: CommandDef[] = [
  command('runExperimentOnSlurm', async (s, arg) => {
    const config = await pickConfig(arg, 'Run Experiment on Slurm');
    if (!config || !ensureTrusted()) return undefined;
    const out = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Submitting to Slurm…' }, () =>
      runCli(s.context.extensionPath, readSettings().nodePath, ['experiment', config, '--slurm', '--json', ...slurmSettingFlags()], 300_000),
    );
    const { runDir, submissions } = JSON.parse(out.trim().split('\n').pop() ?? '{}') as { runDir: string; submissions: { role: string; jobId: string }[] };
    s.log.info(`[slurm] submitted ${runDir}: ${submissions.map((x) => `${x.role} ${x.jobId}`).join(', ')}`);
    slurmMonitor(s).watch(runDir);
    s.tree.refresh();
    void vscode.window.showInformationMessage(`Submitted to Slurm: ${submissions.map((x) => `${x.role} job ${x.jobId}`).join(', ')}.`);
    return runDir;
  }),

  command('cancelSlurmRun', async (s, arg) => {
    const run = await pickRun(arg, s, 'Cancel Slurm Run', (r) => existsSync(join(r.dir, 'slurm', 'jobs.json')) && r.status === 'running');
    if (!run) return undefined;
    const ok = await vscode.window.showWarningMessage(`Cancel the Slurm jobs of ${run.id}? Finished units keep their results.`, { modal: true }, 'Cancel Jobs');
    if (ok !== 'Cancel Jobs') return undefined;
    await runCli(s.context.extensionPath, readSettings().nodePath, ['cancel', run.dir]);
    s.log.info(`[slurm] cancelled the jobs of ${run.dir}`);
    s.tree.refresh();
    return run.dir;
  }),
];

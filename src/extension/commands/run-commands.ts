// Starting, stopping and resuming engine runs. Each run goes to the run
// manager (a worker process per run); the tree and status bar follow it.
import * as vscode from 'vscode';
import { join } from 'node:path';
import type { RunRequest } from '../../shared/protocol';
import { resumeCommand } from '../runs/job';
import { readSettings } from '../settings';
import { command, type CommandDef } from './define';
import { isResumable, pickActiveJob, pickConfig, pickRun, workspaceRoot } from './targets';

function configRun(id: string, engineCommand: RunRequest['command'], title: string): CommandDef {
  return command(id, async (s, arg) => {
    const config = await pickConfig(arg, title);
    if (!config) return undefined;
    return s.startRun({ command: engineCommand, config });
  });
}

export const runCommands: CommandDef[] = [
  configRun('runExperiment', 'experiment', 'Run Experiment'),
  configRun('runPretraining', 'pretrain', 'Run Pretraining'),
  configRun('runFinetuning', 'finetune', 'Run Fine-tuning'),
  configRun('runAblations', 'ablate', 'Run Ablations'),

  command('runDemo', (s) => {
    const out = join(workspaceRoot(), readSettings().demoFolder);
    return s.startRun({ command: 'demo', out }, `Demo → ${readSettings().demoFolder}`);
  }),

  command('stopRun', async (s, arg) => {
    const job = await pickActiveJob(arg, s);
    if (job) s.manager.stop(job.id);
    return job;
  }),

  command('resumeRun', async (s, arg) => {
    const run = await pickRun(arg, s, 'Resume Run', (r) => isResumable(r, s));
    if (!run) return undefined;
    const engineCommand = resumeCommand(run.kind);
    if (!engineCommand) throw new Error(`${run.dir}: a run of kind "${run.kind}" cannot be resumed`);
    if (s.manager.findByRunDir(run.dir)) {
      void vscode.window.showInformationMessage(`${run.id} is already running.`);
      return undefined;
    }
    return s.startRun({ command: engineCommand, runDir: run.dir, resume: true });
  }),
];

// Wiring only: each part registers itself and its disposal.
import * as vscode from 'vscode';
import type { RunRequest } from '../shared/protocol';
import { ALL_COMMANDS } from './commands';
import { registerCommands, type Services } from './commands/define';
import { ConfigDiagnostics } from './config/diagnostics';
import { ModelSummaries } from './config/model-summary';
import { workerSpawn } from './runs/engine-paths';
import { RunManager } from './runs/run-manager';
import { EngineQueryClient } from './runs/engine-queries';
import { readSettings } from './settings';
import { ensureTrusted } from './trust';
import { showRunProgress } from './ui/run-progress';
import { RunStatusBar } from './ui/status-bar';
import { ExperimentsTree, VIEW_ID } from './views/experiments-tree';
import { slurmMonitor } from './slurm/slurm-monitor';
import { registerPanels } from './panels'; // webviews: viewer, report attention, dashboard, results

/** What activate() returns: the live objects, for the end-to-end tests and other extensions. */
export interface MrclApi {
  manager: RunManager;
  tree: ExperimentsTree;
  diagnostics: ConfigDiagnostics;
  startRun: Services['startRun'];
}

let manager: RunManager | undefined;

export function activate(context: vscode.ExtensionContext): MrclApi {
  const log = vscode.window.createOutputChannel('MRI-Report CL', { log: true });
  context.subscriptions.push(log);

  const cwd = () => vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file')?.uri.fsPath;
  manager = new RunManager({
    spawnSpec: () => workerSpawn(context.extensionPath, readSettings().nodePath, cwd()),
    maxParallel: () => readSettings().maxParallelRuns,
    stopGraceMs: () => readSettings().stopTimeoutSeconds * 1000,
  });
  const runs = manager;
  context.subscriptions.push(
    runs.onLog(({ level, message, job }) => log[level](job ? `[${job.label}] ${message}` : message)),
    runs.onDidChange((job) => {
      if (job.status !== 'queued' && job.status !== 'running') log.info(`[${job.label}] ${job.status}${job.error ? `: ${job.error}` : ''}${job.runDir ? ` (${job.runDir})` : ''}`);
    }),
  );

  const tree = new ExperimentsTree(runs);
  const diagnostics = new ConfigDiagnostics(log);
  context.subscriptions.push(
    tree,
    vscode.window.createTreeView(VIEW_ID, { treeDataProvider: tree, showCollapseAll: true }),
    diagnostics,
    new RunStatusBar(runs),
    vscode.workspace.onDidGrantWorkspaceTrust(() => tree.refresh()),
  );
  void diagnostics.checkWorkspace();

  // parameter counts of configs (code lenses, Show Model Summary), asked of a worker process of their own
  const queries = new EngineQueryClient({
    spawnSpec: () => workerSpawn(context.extensionPath, readSettings().nodePath, cwd()),
    onLog: (level, message) => log[level](`[model summary] ${message}`),
  });
  const summaries = new ModelSummaries(queries, log);
  context.subscriptions.push({ dispose: () => queries.dispose() }, summaries);

  const startRun = (request: RunRequest, label?: string) => {
    if (!ensureTrusted()) return undefined;
    const backend = readSettings().backend;
    const req: RunRequest = backend !== 'config' && request.command !== 'synth' && request.command !== 'validate' ? { ...request, backend } : request;
    const job = runs.start(req, label);
    log.info(`[${job.label}] queued`);
    showRunProgress(runs, job, log);
    return job;
  };
  const services: Services = { context, manager: runs, log, tree, diagnostics, summaries, startRun };
  context.subscriptions.push(...registerCommands(ALL_COMMANDS, services));
  slurmMonitor(services); // follows Slurm runs (tree state, status bar)
  context.subscriptions.push(registerPanels(context, { manager: runs })); // webviews (src/extension/panels)
  return { manager: runs, tree, diagnostics, startRun };
}

/** Stops running runs at a step boundary (they stay resumable) before the host goes. */
export async function deactivate(): Promise<void> {
  await manager?.dispose();
  manager = undefined;
}

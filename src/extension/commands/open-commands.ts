// Opening what runs wrote (results, run folders, configs), deleting a run,
// refreshing the tree and showing the engine log.
import * as vscode from 'vscode';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isActive } from '../runs/job';
import { command, type CommandDef } from './define';
import { jobOf, knownRuns, pathOf, pickRun } from './targets';
import { ExperimentNode, JobNode, RunNode } from '../views/tree-nodes';

function inWorkspace(path: string): boolean {
  return (vscode.workspace.workspaceFolders ?? []).some((f) => f.uri.scheme === 'file' && (path === f.uri.fsPath || path.startsWith(`${f.uri.fsPath}/`) || path.startsWith(`${f.uri.fsPath}\\`)));
}

async function openFile(path: string): Promise<void> {
  const uri = vscode.Uri.file(path);
  if (path.endsWith('.md')) {
    try {
      await vscode.commands.executeCommand('markdown.showPreview', uri);
      return;
    } catch {
      // no markdown preview here: open the text
    }
  }
  await vscode.window.showTextDocument(uri, { preview: false });
}

/** results.md / results.json of a run folder; the manifest of a synthetic cohort. */
function resultFile(dir: string): string | undefined {
  return ['results.md', 'results.json', 'manifest.json'].map((f) => join(dir, f)).find((p) => existsSync(p));
}

export const openCommands: CommandDef[] = [
  command('openResults', async (s, arg) => {
    let dir = arg instanceof RunNode ? arg.path : arg instanceof JobNode ? arg.path : jobOf(arg, s)?.runDir;
    if (!dir) dir = (await pickRun(arg, s, 'Open Results', (r) => r.results !== undefined))?.dir;
    if (!dir) return undefined;
    const file = resultFile(dir);
    if (!file) {
      void vscode.window.showInformationMessage(`No results yet in ${dir}: they are written when the run finishes.`);
      return undefined;
    }
    await openFile(file);
    return file;
  }),

  command('openRunFolder', async (s, arg) => {
    const path = pathOf(arg) ?? (await pickRun(arg, s, 'Open Run Folder', () => true))?.dir;
    if (!path) return undefined;
    const uri = vscode.Uri.file(path);
    if (vscode.env.uiKind === vscode.UIKind.Desktop && vscode.env.remoteName === undefined) {
      await vscode.commands.executeCommand('revealFileInOS', uri);
    } else if (inWorkspace(path)) {
      await vscode.commands.executeCommand('revealInExplorer', uri);
    } else {
      const choice = await vscode.window.showInformationMessage(`${path} is outside the workspace.`, 'Open in New Window');
      if (choice) await vscode.commands.executeCommand('vscode.openFolder', uri, { forceNewWindow: true });
    }
    return path;
  }),

  command('openConfig', async (_s, arg) => {
    let path = arg instanceof ExperimentNode ? arg.path : pathOf(arg);
    if (path && existsSync(path) && statSync(path).isDirectory()) path = join(path, 'config.json');
    if (!path) throw new Error('Open Config: choose an experiment or a run in the Experiments view');
    await vscode.window.showTextDocument(vscode.Uri.file(path), { preview: false });
    return path;
  }),

  command('deleteRun', async (s, arg) => {
    const run = arg instanceof RunNode ? arg.run : await pickRun(arg, s, 'Delete Run', (r) => !s.manager.findByRunDir(r.dir));
    if (!run) return undefined;
    const job = s.manager.findByRunDir(run.dir);
    if (job && isActive(job)) throw new Error(`${run.id} is ${job.status}: stop it before deleting it`);
    const choice = await vscode.window.showWarningMessage(
      `Delete run ${run.id}? Its folder, checkpoints and results are removed for good.`,
      { modal: true, detail: run.dir },
      'Delete',
    );
    if (choice !== 'Delete') return undefined;
    await vscode.workspace.fs.delete(vscode.Uri.file(run.dir), { recursive: true, useTrash: false });
    s.tree.refresh();
    return run.dir;
  }),

  command('refreshExperiments', async (s) => {
    s.tree.refresh();
    return (await knownRuns(s)).length;
  }),

  command('showLog', (s) => s.log.show(true)),
];

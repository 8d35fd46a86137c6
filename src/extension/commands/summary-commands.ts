// Show Model Summary: the trainable and frozen parameters per component of
// a config, for pretraining and fine-tuning (the paper's Table 7 layout), in
// a read-only document beside the config. The engine counts in a child
// process, for the editor's text as it is (saved or not).
import * as vscode from 'vscode';
import { SUMMARY_SCHEME, summaryUri } from '../config/model-summary';
import { command, type CommandDef } from './define';
import { chooseConfig } from './targets';

export const UNTRUSTED_SUMMARY =
  'MRI-Report CL does not count parameters in Restricted Mode: counting runs the engine on the files this config names. Trust the workspace to see the model summary.';

export const summaryCommands: CommandDef[] = [
  command('showModelSummary', async (s, arg) => {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage(UNTRUSTED_SUMMARY, 'Manage Workspace Trust').then((c) => c && vscode.commands.executeCommand('workbench.trust.manage'));
      return undefined;
    }
    // from the summary document itself: its config
    const active = vscode.window.activeTextEditor?.document.uri;
    const config = arg === undefined && active?.scheme === SUMMARY_SCHEME ? active.query : await chooseConfig(arg, 'Show Model Summary');
    if (!config) return undefined;
    const name = vscode.workspace.asRelativePath(config);
    try {
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Counting the parameters of ${name}…` }, () => s.summaries.summaryOf(config));
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      throw new Error(`Model summary of ${name}: ${message}`);
    }
    const doc = await vscode.workspace.openTextDocument(summaryUri(config));
    await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside });
    return config;
  }),
];

// Restricted Mode: runs execute engine code on files the workspace names
// (configs, manifests, checkpoints), so they need a trusted workspace.
// Browsing experiments, runs and results works either way.
import * as vscode from 'vscode';

export const UNTRUSTED_MESSAGE =
  'MRI-Report CL does not start runs in Restricted Mode: a run executes the engine on files this workspace names. Trust the workspace to run; viewing experiments and results works without it.';

/** True when runs may start; otherwise says why (with a way to trust the workspace). */
export function ensureTrusted(): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window.showWarningMessage(UNTRUSTED_MESSAGE, 'Manage Workspace Trust').then((choice) => {
    if (choice) void vscode.commands.executeCommand('workbench.trust.manage');
  });
  return false;
}

// Extension-host side of the webview check: opens the case viewer and the
// report attention panel of the fixture run, then keeps the host alive until
// the browser side writes its done file.
import * as vscode from 'vscode';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export async function run(): Promise<void> {
  const ws = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
  const fx = JSON.parse(readFileSync(join(ws, 'panels-fixture.json'), 'utf8')) as { runDir: string; caseId: string; done: string };
  const ext = vscode.extensions.all.find((e) => e.id.toLowerCase() === 'mri-report-cl.mri-report-cl');
  await ext?.activate();
  await vscode.commands.executeCommand('mrcl.openCaseViewer', { runDir: fx.runDir, caseId: fx.caseId });
  await vscode.commands.executeCommand('mrcl.openReportAttention', { runDir: fx.runDir, caseId: fx.caseId });
  const end = Date.now() + 6 * 60_000;
  // the dashboard and results open once the browser has checked the case panels (a panel opened
  // over a webview that has not loaded yet would hide it before it ever loads)
  while (!existsSync(`${fx.done}.phase2`) && !existsSync(fx.done) && Date.now() < end) await new Promise((r) => setTimeout(r, 500));
  await vscode.commands.executeCommand('mrcl.openDashboard', { runDir: fx.runDir });
  while (!existsSync(`${fx.done}.phase3`) && !existsSync(fx.done) && Date.now() < end) await new Promise((r) => setTimeout(r, 500));
  await vscode.commands.executeCommand('mrcl.openResultsPanel', { runDir: fx.runDir });
  while (!existsSync(fx.done) && Date.now() < end) await new Promise((r) => setTimeout(r, 500));
}

// Registers every webview: the .nii/.nii.gz custom editor, the case viewer,
// the report attention panel, the training dashboard, the results panel
// (each with its serializer), inline attention in report editors, and the
// commands that open them.
import * as vscode from 'vscode';
import { join } from 'node:path';
import type { RunManager } from '../runs/run-manager';
import { CaseLinks } from './case-link';
import { DASHBOARD_PANEL, dashboardSerializer, openDashboard } from './dashboard-panel';
import { InlineAttention } from './inline-attention';
import { openReportPanel, REPORT_PANEL, reportSerializer } from './report-panel';
import { openResultsPanel, RESULTS_PANEL, resultsSerializer } from './results-panel';
import { casesOfRun, locateCase } from './run-case';
import { targetOf, type PanelTarget } from './panel-target';
import { OpenPanels, panelKey, stateKey } from './open-panels';
import { CASE_VIEWER, caseViewerSerializer, NIFTI_EDITOR, NiftiEditorProvider, openCaseViewer } from './viewer-panel';

export interface PanelServices {
  manager?: RunManager;
}

/** The commands registered here (contributed in package.json like the others). */
export const PANEL_COMMANDS = ['mrcl.openCaseViewer', 'mrcl.openReportAttention', 'mrcl.openDashboard', 'mrcl.openResultsPanel', 'mrcl.toggleInlineAttention'] as const;

/** The command's run folder: from its argument, else asked for. */
async function runTarget(arg: unknown, inline: InlineAttention): Promise<PanelTarget | undefined> {
  const t = inline.targetOf(arg) ?? targetOf(arg);
  if (t) return t;
  if (arg !== undefined) throw new Error(`${describe(arg)} is not a run folder or a file inside one`);
  const pick = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, title: 'Choose a run folder' });
  if (!pick?.[0]) return undefined;
  const chosen = targetOf(pick[0]);
  if (!chosen) throw new Error(`${pick[0].fsPath} is not a run folder (it has no run.json and config.json)`);
  return chosen;
}

function describe(arg: unknown): string {
  const o = arg as { fsPath?: unknown; path?: unknown };
  return typeof arg === 'string' ? arg : typeof o?.fsPath === 'string' ? o.fsPath : typeof o?.path === 'string' ? o.path : 'the selection';
}

/** The target with its case: given, else picked among the run's cases. */
async function caseTarget(arg: unknown, inline: InlineAttention): Promise<(PanelTarget & { caseId: string }) | undefined> {
  const t = await runTarget(arg, inline);
  if (!t) return undefined;
  if (t.caseId) return { ...t, caseId: t.caseId };
  const ids = casesOfRun(t.runDir);
  if (ids.length === 0) {
    void vscode.window.showInformationMessage(`${t.runDir} has no heatmaps or saved attention yet.`);
    return undefined;
  }
  const caseId = await vscode.window.showQuickPick(ids, { title: 'Choose a case' });
  return caseId ? { ...t, caseId } : undefined;
}

function report(e: unknown): void {
  void vscode.window.showErrorMessage(e instanceof Error ? e.message : String(e));
}

export function registerPanels(context: vscode.ExtensionContext, services: PanelServices = {}): vscode.Disposable {
  const ext = context.extensionUri;
  const links = new CaseLinks();
  const inline = new InlineAttention();
  const open = new OpenPanels();
  const viewer = (runDir: string, caseId: string, fold?: string) => {
    const shown = fold ?? locateCase(runDir, caseId).fold;
    return open.show(panelKey.viewer(runDir, caseId, shown), () => openCaseViewer(ext, links, runDir, caseId, shown));
  };
  const safe =
    (f: (...args: unknown[]) => unknown) =>
    async (...args: unknown[]) => {
      try {
        return await f(...args);
      } catch (e) {
        report(e);
        return undefined;
      }
    };
  const disposables: vscode.Disposable[] = [
    inline,
    vscode.window.registerCustomEditorProvider(NIFTI_EDITOR, new NiftiEditorProvider(ext), {
      webviewOptions: { retainContextWhenHidden: true }, // WebGL viewer only
      supportsMultipleEditorsPerDocument: true,
    }),
    vscode.window.registerWebviewPanelSerializer(CASE_VIEWER, open.restoring(caseViewerSerializer(ext, links), (st) => stateKey('viewer', st))),
    vscode.window.registerWebviewPanelSerializer(REPORT_PANEL, open.restoring(reportSerializer(ext, links, viewer), (st) => stateKey('report', st))),
    vscode.window.registerWebviewPanelSerializer(DASHBOARD_PANEL, open.restoring(dashboardSerializer(ext, services.manager), (st) => stateKey('dashboard', st))),
    vscode.window.registerWebviewPanelSerializer(RESULTS_PANEL, open.restoring(resultsSerializer(ext), (st) => stateKey('results', st))),
    vscode.commands.registerCommand(
      'mrcl.openCaseViewer',
      safe(async (arg) => {
        const t = await caseTarget(arg, inline);
        if (!t) return undefined;
        const panel = viewer(t.runDir, t.caseId, t.fold);
        // a word (hover link): its patch map, with the crosshair at its peak, or on the patch the link names
        const link = t.word !== undefined || t.patch !== undefined ? links.get(t.runDir, t.caseId, locateCase(t.runDir, t.caseId).attention) : undefined;
        if (t.word !== undefined) link!.wordSelected(t.word, t.patch === undefined);
        if (t.patch !== undefined) link!.patchChosen(t.patch);
        return panel;
      }),
    ),
    vscode.commands.registerCommand(
      'mrcl.openReportAttention',
      safe(async (arg) => {
        const t = await caseTarget(arg, inline);
        if (!t) return undefined;
        return open.show(panelKey.report(t.runDir, t.caseId), () => openReportPanel(ext, links, t.runDir, t.caseId, () => viewer(t.runDir, t.caseId, t.fold)));
      }),
    ),
    vscode.commands.registerCommand(
      'mrcl.openDashboard',
      safe(async (arg) => {
        const t = await runTarget(arg, inline);
        return t ? open.show(panelKey.dashboard(t.runDir), () => openDashboard(ext, t.runDir, services.manager)) : undefined;
      }),
    ),
    vscode.commands.registerCommand(
      'mrcl.openResultsPanel',
      safe(async (arg) => {
        const t = await runTarget(arg, inline);
        if (!t) return undefined;
        const path = join(t.runDir, 'results.json');
        return open.show(panelKey.results(path), () => openResultsPanel(ext, path));
      }),
    ),
    vscode.commands.registerCommand('mrcl.toggleInlineAttention', () => {
      const on = inline.toggle();
      void vscode.window.setStatusBarMessage(`Inline attention ${on ? 'on' : 'off'}`, 3000);
      return on;
    }),
  ];
  return vscode.Disposable.from(...disposables);
}

// Registers every webview: the .nii/.nii.gz custom editor, the case viewer,
// the report attention panel, the training dashboard, the results panel
// (each with its serializer), inline attention in report editors, and the
// commands that open them.
import * as vscode from 'vscode';
import { dirname, join } from 'node:path';
import type { RunManager } from '../runs/run-manager';
import { CaseLinks } from './case-link';
import { DASHBOARD_PANEL, dashboardSerializer, openDashboard } from './dashboard-panel';
import { InlineAttention } from './inline-attention';
import { openReportPanel, REPORT_PANEL, reportSerializer } from './report-panel';
import { openResultsPanel, RESULTS_PANEL, resultsSerializer } from './results-panel';
import { casesOfRun, runDirOf } from './run-case';
import { CASE_VIEWER, caseViewerSerializer, NIFTI_EDITOR, NiftiEditorProvider, openCaseViewer } from './viewer-panel';

export interface PanelServices {
  manager?: RunManager;
}

/** Commands registered here (not in the palette until contributed). */
export const PANEL_COMMANDS = ['mrcl.openCaseViewer', 'mrcl.openReportAttention', 'mrcl.openDashboard', 'mrcl.openResultsPanel', 'mrcl.toggleInlineAttention'] as const;

interface CaseArg {
  runDir?: string;
  caseId?: string;
  word?: number;
}

/** A run folder from the argument (a path, a Uri, a tree node with `dir`/`runDir`), else asked for. */
async function runDirFrom(arg: unknown): Promise<string | undefined> {
  const o = (arg ?? {}) as { runDir?: unknown; dir?: unknown; fsPath?: unknown; run?: { dir?: unknown } };
  const given = typeof arg === 'string' ? arg : [o.runDir, o.dir, o.run?.dir, o.fsPath].find((x): x is string => typeof x === 'string');
  if (given) return given.endsWith('.json') ? (runDirOf(given) ?? dirname(given)) : given;
  const pick = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, title: 'Choose a run folder' });
  return pick?.[0]?.fsPath;
}

async function caseFrom(arg: unknown, runDir: string): Promise<string | undefined> {
  const id = (arg as CaseArg | undefined)?.caseId;
  if (typeof id === 'string') return id;
  const ids = casesOfRun(runDir);
  if (ids.length === 0) {
    void vscode.window.showInformationMessage(`${runDir} has no heatmaps or saved attention yet.`);
    return undefined;
  }
  return vscode.window.showQuickPick(ids, { title: 'Choose a case' });
}

function report(e: unknown): void {
  void vscode.window.showErrorMessage(e instanceof Error ? e.message : String(e));
}

export function registerPanels(context: vscode.ExtensionContext, services: PanelServices = {}): vscode.Disposable {
  const ext = context.extensionUri;
  const links = new CaseLinks();
  const inline = new InlineAttention();
  const viewer = (runDir: string, caseId: string) => openCaseViewer(ext, links, runDir, caseId);
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
    vscode.window.registerWebviewPanelSerializer(CASE_VIEWER, caseViewerSerializer(ext, links)),
    vscode.window.registerWebviewPanelSerializer(REPORT_PANEL, reportSerializer(ext, links, viewer)),
    vscode.window.registerWebviewPanelSerializer(DASHBOARD_PANEL, dashboardSerializer(ext, services.manager)),
    vscode.window.registerWebviewPanelSerializer(RESULTS_PANEL, resultsSerializer(ext)),
    vscode.commands.registerCommand(
      'mrcl.openCaseViewer',
      safe(async (arg) => {
        const runDir = await runDirFrom(arg);
        const caseId = runDir && (await caseFrom(arg, runDir));
        if (!runDir || !caseId) return undefined;
        const panel = viewer(runDir, caseId);
        const word = (arg as CaseArg | undefined)?.word;
        if (typeof word === 'number') links.get(runDir, caseId, undefined).wordSelected(word);
        return panel;
      }),
    ),
    vscode.commands.registerCommand(
      'mrcl.openReportAttention',
      safe(async (arg) => {
        const runDir = await runDirFrom(arg);
        const caseId = runDir && (await caseFrom(arg, runDir));
        if (!runDir || !caseId) return undefined;
        return openReportPanel(ext, links, runDir, caseId, () => viewer(runDir, caseId));
      }),
    ),
    vscode.commands.registerCommand(
      'mrcl.openDashboard',
      safe(async (arg) => {
        const runDir = await runDirFrom(arg);
        return runDir ? openDashboard(ext, runDir, services.manager) : undefined;
      }),
    ),
    vscode.commands.registerCommand(
      'mrcl.openResultsPanel',
      safe(async (arg) => {
        const runDir = await runDirFrom(arg);
        return runDir ? openResultsPanel(ext, join(runDir, 'results.json')) : undefined;
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

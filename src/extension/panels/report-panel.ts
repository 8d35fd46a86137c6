// The report attention panel's host side: the case's words and weights from
// its cross-attention file, linked with the case viewer (CaseLink): a chosen
// word's top patches are listed, and choosing one moves the viewer there.
import * as vscode from 'vscode';
import { basename } from 'node:path';
import type { ReportProtocol } from '../../shared/webview-protocol';
import type { CaseLinks } from './case-link';
import { wordWeightsOf } from './attention-file';
import { Messenger } from './messenger';
import { locateCase } from './run-case';
import { setPanelHtml } from './webview-setup';

export const REPORT_PANEL = 'mrcl.reportAttention';
const TOP_K = 10;

export function showReport(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, links: CaseLinks, runDir: string, caseId: string, openViewer: () => void): vscode.Disposable {
  const files = locateCase(runDir, caseId);
  const link = links.get(runDir, caseId, files.attention);
  const title = `Report attention · ${caseId}`;
  panel.title = title;
  setPanelHtml(panel.webview, extensionUri, 'report', title);
  const m = new Messenger<ReportProtocol>(
    panel.webview,
    {
      wordSelected: (w) => link.wordSelected(w === null ? null : w.index),
      patchChosen: ({ patch }) => {
        if (!link.viewer) openViewer(); // registers itself with the link at once; the crosshair moves once it has loaded
        link.patchChosen(patch);
      },
      openViewer: () => openViewer(),
    },
    {},
    (message) => void vscode.window.showErrorMessage(`${title}: ${message}`),
  );
  link.report = { patchWeights: (p) => m.post('patchWeights', p), wordPatches: (p) => m.post('wordPatches', p) };
  m.onReady(() => {
    try {
      const a = link.record;
      if (!a) {
        m.post('status', { kind: 'error', message: `No saved cross-attention for case "${caseId}" in ${basename(runDir)} (pretrain/attention/${caseId}.json): pretraining writes it.` });
        return;
      }
      m.post('load', { caseId, words: a.words, weights: wordWeightsOf(a), topK: TOP_K, restore: { runDir, caseId } });
    } catch (e) {
      m.post('status', { kind: 'error', message: e instanceof Error ? e.message : String(e) });
    }
  });
  return new vscode.Disposable(() => {
    m.dispose();
    link.report = undefined;
    links.release(link);
  });
}

export function openReportPanel(extensionUri: vscode.Uri, links: CaseLinks, runDir: string, caseId: string, openViewer: () => void): vscode.WebviewPanel {
  const panel = vscode.window.createWebviewPanel(REPORT_PANEL, caseId, vscode.ViewColumn.Beside, { enableScripts: true });
  const d = showReport(panel, extensionUri, links, runDir, caseId, openViewer);
  panel.onDidDispose(() => d.dispose());
  return panel;
}

export function reportSerializer(extensionUri: vscode.Uri, links: CaseLinks, openViewer: (runDir: string, caseId: string) => void): vscode.WebviewPanelSerializer {
  return {
    async deserializeWebviewPanel(panel, state: unknown) {
      const s = (state ?? {}) as { runDir?: unknown; caseId?: unknown };
      if (typeof s.runDir !== 'string' || typeof s.caseId !== 'string') {
        panel.webview.html = '<p>This panel cannot be restored: open the case again from its run.</p>';
        return;
      }
      const { runDir, caseId } = s as { runDir: string; caseId: string };
      const d = showReport(panel, extensionUri, links, runDir, caseId, () => openViewer(runDir, caseId));
      panel.onDidDispose(() => d.dispose());
    },
  };
}

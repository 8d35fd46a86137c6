// The results panel's host side: a run's results.json as the paper-layout
// tables, a comparison with a second run, and exports (written atomically
// where the user chooses).
import * as vscode from 'vscode';
import { basename, dirname, join } from 'node:path';
import { compareResults } from '../../engine/results/compare';
import type { ResultsDoc } from '../../engine/results/types';
import { writeFileAtomic } from '../../engine/io/atomic';
import { BoundedReadError, READ_LIMITS, readTextBounded } from '../../engine/io/bounded-read';
import type { ResultsProtocol } from '../../shared/webview-protocol';
import { checkResultsDoc } from '../../../webview/common/results-rows';
import { exportResults } from './results-logic';
import { Messenger } from './messenger';
import { setPanelHtml } from './webview-setup';

export const RESULTS_PANEL = 'mrcl.results';

export function readResultsDoc(path: string): ResultsDoc {
  let json: unknown;
  try {
    json = JSON.parse(readTextBounded(path, { maxBytes: READ_LIMITS.runFile, what: 'results file' }));
  } catch (e) {
    if (e instanceof BoundedReadError) throw e;
    throw new Error(`${path}: ${(e as { code?: string }).code === 'ENOENT' ? 'file not found' : `not valid JSON (${(e as Error).message})`}`);
  }
  return checkResultsDoc(json, path);
}

export function showResults(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, path: string): vscode.Disposable {
  let doc: ResultsDoc | undefined;
  let shownPath = path;
  const title = `Results · ${basename(dirname(path))}`;
  panel.title = title;
  setPanelHtml(panel.webview, extensionUri, 'results', title);
  const m = new Messenger<ResultsProtocol>(
    panel.webview,
    {},
    {
      export: async ({ format, tableId }) => {
        if (!doc) throw new Error('no results loaded');
        const out = exportResults(doc, format, tableId, shownPath);
        const target = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(join(dirname(path), out.fileName)), title: `Export ${out.fileName}` });
        if (!target) return null;
        writeFileAtomic(target.fsPath, [Buffer.from(out.text, 'utf8')]);
        return { path: target.fsPath };
      },
      compare: async () => {
        if (!doc) throw new Error('no results loaded');
        const pick = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'Results': ['json'] }, defaultUri: vscode.Uri.file(dirname(dirname(path))), title: 'Compare with another run: its results.json' });
        if (!pick?.[0]) return null;
        const other = readResultsDoc(pick[0].fsPath);
        doc = compareResults(readResultsDoc(path), other);
        shownPath = `${path} ↔ ${pick[0].fsPath}`;
        m.post('load', { doc, path: shownPath });
        return { compared: pick[0].fsPath };
      },
    },
    (message) => void vscode.window.showErrorMessage(`${title}: ${message}`),
  );
  m.onReady(() => {
    try {
      doc = readResultsDoc(path);
      shownPath = path;
      m.post('load', { doc, path });
    } catch (e) {
      m.post('status', { kind: 'error', message: e instanceof Error ? e.message : String(e) });
    }
  });
  return m;
}

export function openResultsPanel(extensionUri: vscode.Uri, path: string): vscode.WebviewPanel {
  const panel = vscode.window.createWebviewPanel(RESULTS_PANEL, basename(dirname(path)), vscode.ViewColumn.Active, { enableScripts: true });
  const d = showResults(panel, extensionUri, path);
  panel.onDidDispose(() => d.dispose());
  return panel;
}

export function resultsSerializer(extensionUri: vscode.Uri): vscode.WebviewPanelSerializer {
  return {
    async deserializeWebviewPanel(panel, state: unknown) {
      const path = (state as { path?: unknown } | undefined)?.path;
      if (typeof path !== 'string') {
        panel.webview.html = '<p>These results cannot be restored: open them again from their run.</p>';
        return;
      }
      const d = showResults(panel, extensionUri, path);
      panel.onDidDispose(() => d.dispose());
    },
  };
}

// The training dashboard's host side: replays a run's events.jsonl, then
// forwards the run manager's live events for that run folder.
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { READ_LIMITS, readTextBounded } from '../../engine/io/bounded-read';
import { basename, join } from 'node:path';
import type { TimedEvent } from '../../shared/events';
import type { DashboardProtocol } from '../../shared/webview-protocol';
import { parseEventsJsonl } from '../../../webview/common/dashboard-series';
import type { RunManager } from '../runs/run-manager';
import { Messenger } from './messenger';
import { setPanelHtml } from './webview-setup';

export const DASHBOARD_PANEL = 'mrcl.dashboard';

export function showDashboard(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, runDir: string, manager: RunManager | undefined): vscode.Disposable {
  const title = `Training · ${basename(runDir)}`;
  panel.title = title;
  setPanelHtml(panel.webview, extensionUri, 'dashboard', title);
  const m = new Messenger<DashboardProtocol>(panel.webview, {}, {}, (message) => void vscode.window.showErrorMessage(`${title}: ${message}`));
  m.onReady(() => {
    const file = join(runDir, 'events.jsonl');
    try {
      const events = existsSync(file) ? (parseEventsJsonl(readTextBounded(file, { maxBytes: READ_LIMITS.events, what: 'event log' }), file) as TimedEvent[]) : [];
      m.post('reset', { title, runDir, events });
    } catch (e) {
      m.post('status', { kind: 'error', message: e instanceof Error ? e.message : String(e) });
    }
  });
  const live = manager?.onEvent(({ job, event }) => {
    if (job.runDir === runDir) m.post('events', { events: [event] });
  });
  return new vscode.Disposable(() => {
    live?.dispose();
    m.dispose();
  });
}

export function openDashboard(extensionUri: vscode.Uri, runDir: string, manager: RunManager | undefined): vscode.WebviewPanel {
  const panel = vscode.window.createWebviewPanel(DASHBOARD_PANEL, basename(runDir), vscode.ViewColumn.Active, { enableScripts: true });
  const d = showDashboard(panel, extensionUri, runDir, manager);
  panel.onDidDispose(() => d.dispose());
  return panel;
}

/** Restores dashboards after a reload (their state: runDir). */
export function dashboardSerializer(extensionUri: vscode.Uri, manager: RunManager | undefined): vscode.WebviewPanelSerializer {
  return {
    async deserializeWebviewPanel(panel, state: unknown) {
      const runDir = (state as { runDir?: unknown } | undefined)?.runDir;
      if (typeof runDir !== 'string') {
        panel.webview.html = '<p>This dashboard cannot be restored: open it again from its run.</p>';
        return;
      }
      const d = showDashboard(panel, extensionUri, runDir, manager);
      panel.onDidDispose(() => d.dispose());
    },
  };
}

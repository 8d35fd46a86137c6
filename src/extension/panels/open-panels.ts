// One panel per thing shown: opening a case, a run's dashboard or its
// results again reveals the panel already showing it (also one restored
// after a reload) instead of stacking copies.
import type * as vscode from 'vscode';

export class OpenPanels {
  private readonly panels = new Map<string, vscode.WebviewPanel>();

  /** The panel showing `key`, revealed; else the one `create` makes, remembered until it closes. */
  show(key: string, create: () => vscode.WebviewPanel): vscode.WebviewPanel {
    const open = this.panels.get(key);
    if (open) {
      open.reveal();
      return open;
    }
    return this.track(key, create());
  }

  track(key: string, panel: vscode.WebviewPanel): vscode.WebviewPanel {
    this.panels.set(key, panel);
    panel.onDidDispose(() => {
      if (this.panels.get(key) === panel) this.panels.delete(key);
    });
    return panel;
  }

  /** Wraps a serializer so the panels it restores are found again by `keyOf(state)`. */
  restoring(serializer: vscode.WebviewPanelSerializer, keyOf: (state: unknown) => string | undefined): vscode.WebviewPanelSerializer {
    return {
      deserializeWebviewPanel: async (panel, state: unknown) => {
        await serializer.deserializeWebviewPanel(panel, state);
        const key = keyOf(state);
        if (key) this.track(key, panel);
      },
    };
  }
}

/** Keys of what a panel shows. */
export const panelKey = {
  viewer: (runDir: string, caseId: string, fold: string | undefined) => `viewer\u0000${runDir}\u0000${caseId}\u0000${fold ?? ''}`,
  report: (runDir: string, caseId: string) => `report\u0000${runDir}\u0000${caseId}`,
  dashboard: (runDir: string) => `dashboard\u0000${runDir}`,
  results: (path: string) => `results\u0000${path}`,
};

/** The key of a restored panel from its saved state (the fields each panel keeps with setState). */
export function stateKey(kind: keyof typeof panelKey, state: unknown): string | undefined {
  const s = (state ?? {}) as { runDir?: unknown; caseId?: unknown; fold?: unknown; path?: unknown };
  const str = (x: unknown) => (typeof x === 'string' ? x : undefined);
  const runDir = str(s.runDir);
  const caseId = str(s.caseId);
  switch (kind) {
    case 'viewer':
      return runDir && caseId ? panelKey.viewer(runDir, caseId, str(s.fold)) : undefined;
    case 'report':
      return runDir && caseId ? panelKey.report(runDir, caseId) : undefined;
    case 'dashboard':
      return runDir ? panelKey.dashboard(runDir) : undefined;
    case 'results':
      return str(s.path) ? panelKey.results(str(s.path)!) : undefined;
  }
}

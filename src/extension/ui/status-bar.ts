// One status-bar item: the backend runs use, the current run with its epoch
// and ETA, and how many more are running or queued.
import * as vscode from 'vscode';
import { describeProgress, isActive } from '../runs/job';
import type { RunManager } from '../runs/run-manager';
import { readSettings } from '../settings';
import { Disposable } from '../util/dispose';
import { VIEW_ID } from '../views/experiments-tree';
import { READ_LIMITS, readTextBounded } from '../../engine/io/bounded-read';
import { join } from 'node:path';

export class RunStatusBar extends Disposable {
  private readonly item = this._register(vscode.window.createStatusBarItem('mrcl.status', vscode.StatusBarAlignment.Left, 10));
  /** run folder → the backend its run.json records */
  private readonly recorded = new Map<string, string>();

  constructor(private readonly manager: RunManager) {
    super();
    this.item.name = 'MRI-Report CL';
    this.item.command = `${VIEW_ID}.focus`;
    this._register(manager.onDidChange(() => this.update()));
    this._register(vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('mrcl.backend') && this.update()));
    this.update();
    this.item.show();
  }

  /** The backend the current run recorded in run.json (read once per run), else the setting. */
  private backend(runDir: string | undefined): string {
    if (runDir && !this.recorded.has(runDir)) {
      try {
        const info = JSON.parse(readTextBounded(join(runDir, 'run.json'), { maxBytes: READ_LIMITS.config, what: 'run file' })) as { backend?: unknown };
        if (typeof info.backend === 'string') this.recorded.set(runDir, info.backend.split(/[ ;(]/)[0]!);
      } catch {
        // no run.json yet (or not a run folder): ask again on the next update
      }
    }
    const recorded = runDir ? this.recorded.get(runDir) : undefined;
    if (recorded) return recorded;
    const s = readSettings().backend;
    return s === 'config' ? 'backend from config' : s;
  }

  update(): void {
    const active = this.manager.list().filter(isActive);
    const running = active.filter((j) => j.status === 'running');
    const current = running[0] ?? active[0];
    if (!current) {
      this.item.text = `$(beaker) MRCL · ${this.backend(undefined)}`;
      this.item.tooltip = 'MRI-Report CL: no run in progress. Click for the Experiments view.';
      return;
    }
    const more = active.length - 1;
    const queued = active.filter((j) => j.status === 'queued').length;
    this.item.text = `$(sync~spin) ${current.label} · ${describeProgress(current)}${more ? ` (+${more})` : ''} · ${this.backend(current.runDir)}`;
    const md = new vscode.MarkdownString(`**MRI-Report CL** — ${running.length} running, ${queued} queued\n\n`);
    for (const j of active) md.appendMarkdown(`- ${j.label}: ${describeProgress(j)}\n`);
    this.item.tooltip = md;
  }
}

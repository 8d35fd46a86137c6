// Follows runs submitted to Slurm: polls `mrcl status RUN --json` while any
// unit is pending or running (which also builds the tables once all are
// in), keeps each unit's state for the tree, and shows the count of done
// units in the status bar. Runs of earlier sessions are picked up from the
// tree's scans (a run folder with slurm/jobs.json whose run is running).
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SlurmRunStatus } from '../../engine/slurm/status';
import type { UnitState } from '../../engine/slurm/parse';
import type { Services } from '../commands/define';
import { runCli } from '../runs/engine-paths';
import { readSettings } from '../settings';
import { Disposable } from '../util/dispose';
import { pollSeconds } from './slurm-settings';

export class SlurmMonitor extends Disposable {
  private readonly runs = new Map<string, SlurmRunStatus | undefined>();
  private readonly changed = this._register(new vscode.EventEmitter<string>());
  readonly onDidChange = this.changed.event;
  private readonly item = this._register(vscode.window.createStatusBarItem('mrcl.slurm', vscode.StatusBarAlignment.Left, 9));
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(private readonly s: Services) {
    super();
    this.item.name = 'MRI-Report CL Slurm';
    this._register(
      s.tree.onDidRefresh((snap) => {
        for (const r of [...snap.experiments.flatMap((e) => e.runs), ...snap.otherRuns]) {
          if (r.status === 'running' && existsSync(join(r.dir, 'slurm', 'jobs.json'))) this.watch(r.dir);
        }
      }),
    );
    this._register({ dispose: () => this.timer && clearTimeout(this.timer) });
  }

  /** Starts following a run folder (idempotent). */
  watch(runDir: string): void {
    if (this.runs.has(runDir)) return;
    this.runs.set(runDir, undefined);
    void this.poll();
  }

  /** The last known status of a run (undefined before the first poll). */
  status(runDir: string): SlurmRunStatus | undefined {
    return this.runs.get(runDir);
  }

  /** A unit's Slurm state (pending/running/done/failed/cancelled/not run), for the tree. */
  unitState(runDir: string, unit: string): UnitState | undefined {
    return this.runs.get(runDir)?.units.find((u) => u.id === unit)?.state;
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    if (this.timer) clearTimeout(this.timer);
    try {
      for (const dir of [...this.runs.keys()]) {
        try {
          const out = await runCli(this.s.context.extensionPath, readSettings().nodePath, ['status', dir, '--json'], 120_000);
          const st = JSON.parse(out) as SlurmRunStatus;
          this.runs.set(dir, st);
          this.changed.fire(dir);
          if (st.counts.pending + st.counts.running === 0) {
            this.runs.delete(dir); // nothing left to follow; the tree shows the result files
            this.s.log.info(`[slurm] ${dir}: ${st.done}/${st.total} units done${st.results ? `; tables: ${st.results}` : ''}`);
          }
        } catch (e) {
          this.s.log.warn(`[slurm] ${dir}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      this.s.tree.refresh();
      this.render();
    } finally {
      this.polling = false;
      if (this.runs.size) this.timer = setTimeout(() => void this.poll(), pollSeconds() * 1000);
    }
  }

  private render(): void {
    const known = [...this.runs.entries()].filter((e): e is [string, SlurmRunStatus] => e[1] !== undefined);
    if (!known.length) {
      this.item.hide();
      return;
    }
    const done = known.reduce((n, [, s]) => n + s.done, 0);
    const total = known.reduce((n, [, s]) => n + s.total, 0);
    const failed = known.reduce((n, [, s]) => n + s.counts.failed + s.counts.cancelled, 0);
    this.item.text = `$(server-process) Slurm ${done}/${total} units done${failed ? ` · ${failed} failed` : ''}`;
    const md = new vscode.MarkdownString('**MRI-Report CL on Slurm**\n\n');
    for (const [dir, s] of known) {
      md.appendMarkdown(`- ${dir.split(/[\\/]/).pop()}: ${s.done}/${s.total} done, ${s.counts.running} running, ${s.counts.pending} pending, ${s.counts.failed} failed\n`);
    }
    this.item.tooltip = md;
    this.item.show();
  }
}

let monitor: SlurmMonitor | undefined;

/** The monitor of this window, if created (the tree asks it for unit states). */
export function currentSlurmMonitor(): SlurmMonitor | undefined {
  return monitor;
}

/** The one monitor of this window, created with the services on first use. */
export function slurmMonitor(s: Services): SlurmMonitor {
  if (!monitor) {
    monitor = new SlurmMonitor(s);
    s.context.subscriptions.push(monitor, { dispose: () => (monitor = undefined) });
  }
  return monitor;
}

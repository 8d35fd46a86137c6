// The Experiments view: configs found in the workspace with their runs, run
// folders of no config (the demo's), and this window's jobs that have no run
// folder. Rebuilt from disk on file-system events (debounced) and on the run
// manager's changes; it reads only what the engine wrote.
import * as vscode from 'vscode';
import { dirname } from 'node:path';
import { CONFIG_GLOB, EXCLUDE_GLOB } from '../config/config-files';
import { isActive, type Job } from '../runs/job';
import type { RunManager } from '../runs/run-manager';
import { Disposable } from '../util/dispose';
import { readExperiment, type ExperimentModel } from './experiment-scan';
import { readRunFolder, type RunModel } from './run-scan';
import { ExperimentNode, GroupNode, JobNode, RunNode, type TreeContext, type TreeNode } from './tree-nodes';

export const VIEW_ID = 'mrcl.experiments';
const REFRESH_DEBOUNCE_MS = 250;
const RERENDER_MS = 500;
const MAX_CONFIGS = 200;
const MAX_RUN_FILES = 1000;

export interface TreeSnapshot {
  experiments: ExperimentModel[];
  otherRuns: RunModel[];
  jobs: Job[];
}

export class ExperimentsTree extends Disposable implements vscode.TreeDataProvider<TreeNode> {
  private readonly changed = this._register(new vscode.EventEmitter<TreeNode | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  private readonly ctx: TreeContext;
  private timer: NodeJS.Timeout | undefined;
  private redraw: NodeJS.Timeout | undefined;
  private roots: Promise<TreeNode[]> | undefined;
  private lastSnapshot: TreeSnapshot = { experiments: [], otherRuns: [], jobs: [] };
  private readonly refreshed = this._register(new vscode.EventEmitter<TreeSnapshot>());
  /** fires after the tree was rebuilt from disk (tests wait on it) */
  readonly onDidRefresh = this.refreshed.event;

  constructor(private readonly manager: RunManager) {
    super();
    this.ctx = { manager };
    for (const glob of [CONFIG_GLOB, '**/run.json', '**/{metrics,results}.json', '**/results.md']) {
      const w = this._register(vscode.workspace.createFileSystemWatcher(glob));
      this._register(w.onDidCreate(() => this.refresh()));
      this._register(w.onDidChange(() => this.refresh()));
      this._register(w.onDidDelete(() => this.refresh()));
    }
    // progress only changes descriptions (nodes read the job live): re-render;
    // a new status or run folder changes what is on disk: rescan
    const seen = new Map<string, string>();
    this._register(
      manager.onDidChange((job) => {
        const key = `${job.status}\u0000${job.runDir ?? ''}`;
        if (seen.get(job.id) === key) this.rerender();
        else {
          seen.set(job.id, key);
          this.refresh();
        }
      }),
    );
    this._register(vscode.workspace.onDidChangeWorkspaceFolders(() => this.refresh()));
    this._register({ dispose: () => (clearTimeout(this.timer), clearTimeout(this.redraw)) });
  }

  /** Rebuilds the tree soon (bursts of file events make one rebuild). */
  refresh(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.roots = undefined;
      this.changed.fire(undefined);
    }, REFRESH_DEBOUNCE_MS);
  }

  /** Redraws the items without reading the disk again (throttled). */
  private rerender(): void {
    if (this.timer || this.redraw) return;
    this.redraw = setTimeout(() => {
      this.redraw = undefined;
      this.changed.fire(undefined);
    }, RERENDER_MS);
  }

  /** The models behind the last rebuild. */
  get snapshot(): TreeSnapshot {
    return this.lastSnapshot;
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    return node.getTreeItem();
  }

  getChildren(node?: TreeNode): vscode.ProviderResult<TreeNode[]> {
    if (node) return node.getChildren();
    this.roots ??= this.buildRoots();
    return this.roots;
  }

  /** Reads the workspace now and returns what the tree shows. */
  async scan(): Promise<TreeSnapshot> {
    const configs = await vscode.workspace.findFiles(CONFIG_GLOB, EXCLUDE_GLOB, MAX_CONFIGS);
    const experiments = configs
      .filter((u) => u.scheme === 'file')
      .map((u) => readExperiment(u.fsPath))
      .sort((a, b) => a.name.localeCompare(b.name) || a.path.localeCompare(b.path));
    const claimed = new Set(experiments.flatMap((e) => e.runs.map((r) => r.dir)));
    const runFiles = await vscode.workspace.findFiles('**/run.json', EXCLUDE_GLOB, MAX_RUN_FILES);
    const otherRuns = runFiles
      .map((u) => dirname(u.fsPath))
      .filter((d) => !claimed.has(d))
      .flatMap((d) => readRunFolder(d) ?? [])
      .sort((a, b) => (b.created ?? '').localeCompare(a.created ?? ''));
    // jobs shown by themselves: those with no run folder in the tree (synth, validate, not started yet)
    const shown = new Set([...claimed, ...otherRuns.map((r) => r.dir)]);
    const jobs = this.manager.list().filter((j) => !(j.runDir && shown.has(j.runDir)));
    this.lastSnapshot = { experiments, otherRuns, jobs };
    return this.lastSnapshot;
  }

  private async buildRoots(): Promise<TreeNode[]> {
    const snap = await this.scan();
    const configJobs = new Map<string, Job[]>();
    const looseJobs: Job[] = [];
    for (const j of snap.jobs) {
      const e = j.request.config && !j.runDir && isActive(j) ? snap.experiments.find((x) => x.path === j.request.config) : undefined;
      if (e) configJobs.set(e.path, [...(configJobs.get(e.path) ?? []), j]);
      else looseJobs.push(j);
    }
    const roots: TreeNode[] = snap.experiments.map((e) => new ExperimentNode(e, configJobs.get(e.path) ?? [], this.ctx));
    if (snap.otherRuns.length) {
      roots.push(new GroupNode('group:other-runs', 'Other runs', 'history', snap.otherRuns.map((r) => new RunNode(r, this.ctx))));
    }
    if (looseJobs.length) {
      // newest first
      roots.push(new GroupNode('group:jobs', 'Jobs in this window', 'tasklist', looseJobs.reverse().map((j) => new JobNode(j))));
    }
    this.refreshed.fire(snap);
    return roots;
  }
}

// The experiments tree, one class per level on an abstract base:
// experiment (a config file) → run (a run folder) → stage (pretrain,
// finetune/<init>/fold-k, …) → artifact (a file the engine wrote). Jobs of
// this window without a run folder (synthetic cohort, validation, a queued
// run) have their own node. Nodes only present the models read from disk
// (run-scan, experiment-scan) and the run manager's live state.
import * as vscode from 'vscode';
import { currentSlurmMonitor } from '../slurm/slurm-monitor';
import { stageDescription } from '../slurm/slurm-label';
import { basename } from 'node:path';
import { describeProgress, type Job } from '../runs/job';
import type { RunManager } from '../runs/run-manager';
import { contextValue, isCaseArtifact, jobContextValue, runContextValue, runStatus } from './context-values';
import type { ExperimentModel } from './experiment-scan';
import { formatMetrics, listArtifacts, type ArtifactModel, type NodeStatus, type RunModel, type StageModel } from './run-scan';

/** The MRI viewer (package.json customEditors): NIfTI artifacts open in it. */
export const NIFTI_VIEWER = 'mrcl.niftiViewer';

export interface TreeContext {
  manager: RunManager;
}

const ICONS: Record<NodeStatus, [string, string | undefined]> = {
  queued: ['clock', undefined],
  running: ['sync~spin', 'charts.blue'],
  done: ['pass', 'testing.iconPassed'],
  failed: ['error', 'testing.iconFailed'],
  cancelled: ['circle-slash', 'charts.yellow'],
  skipped: ['debug-step-over', undefined],
  'not run': ['circle-outline', undefined],
};

export function statusIcon(status: NodeStatus): vscode.ThemeIcon {
  const [id, color] = ICONS[status];
  return new vscode.ThemeIcon(id, color ? new vscode.ThemeColor(color) : undefined);
}

export abstract class TreeNode {
  abstract readonly kind: string;
  /** stable across refreshes, so expansion state survives */
  abstract readonly id: string;
  abstract getTreeItem(): vscode.TreeItem;
  getChildren(): TreeNode[] {
    return [];
  }
}

export class ArtifactNode extends TreeNode {
  readonly kind = 'artifact';
  constructor(readonly artifact: ArtifactModel) {
    super();
  }
  get id(): string {
    return `artifact:${this.artifact.path}`;
  }
  get path(): string {
    return this.artifact.path;
  }
  getTreeItem(): vscode.TreeItem {
    const uri = vscode.Uri.file(this.artifact.path);
    const folder = this.artifact.isFolder;
    const nifti = /\.nii(\.gz)?$/i.test(this.artifact.name);
    // folders (heatmaps/, checkpoints/, tables/) expand to their files
    const item = new vscode.TreeItem(uri, folder ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.id = this.id;
    item.label = this.artifact.name;
    item.tooltip = this.artifact.path;
    // a case's heatmap or saved attention: opens the case viewer / report attention of its run
    const ofCase = !folder && isCaseArtifact(this.artifact.path);
    item.contextValue = contextValue('artifact', { folder, file: !folder, nifti, case: ofCase });
    if (folder) {
      // a codicon: not every file icon theme draws folders
      item.iconPath = new vscode.ThemeIcon('folder');
    } else if (ofCase && nifti) {
      item.iconPath = new vscode.ThemeIcon('eye');
      item.command = { command: 'mrcl.openCaseViewer', title: 'Open Case Viewer', arguments: [uri] };
    } else if (nifti) {
      item.iconPath = new vscode.ThemeIcon('eye');
      item.command = { command: 'vscode.openWith', title: 'Open in Viewer', arguments: [uri, NIFTI_VIEWER] };
    } else {
      item.iconPath = vscode.ThemeIcon.File;
      item.command = { command: 'vscode.open', title: 'Open', arguments: [uri] };
    }
    return item;
  }
  override getChildren(): TreeNode[] {
    return this.artifact.isFolder ? listArtifacts(this.artifact.path).map((a) => new ArtifactNode(a)) : [];
  }
}

export class StageNode extends TreeNode {
  readonly kind = 'stage';
  constructor(
    readonly stage: StageModel,
    readonly run: RunModel,
  ) {
    super();
  }
  get id(): string {
    return `stage:${this.run.dir}:${this.stage.stage}`;
  }
  get path(): string {
    return this.stage.dir;
  }
  getTreeItem(): vscode.TreeItem {
    const s = this.stage;
    const hasChildren = s.children.length > 0 || s.artifacts.length > 0;
    const item = new vscode.TreeItem(s.label, hasChildren ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
    item.id = this.id;
    item.iconPath = statusIcon(s.status);
    const metrics = formatMetrics(s.metrics);
    const slurm = currentSlurmMonitor()?.unitState(this.run.dir, s.stage);
    item.description = stageDescription(s.status, metrics, slurm);
    item.tooltip = new vscode.MarkdownString(`**${s.stage}** — ${s.status}${slurm ? ` (Slurm: ${slurm})` : ''}${metrics ? `\n\n${metrics}` : ''}\n\n\`${s.dir}\``);
    item.contextValue = contextValue('stage', { folder: true });
    return item;
  }
  override getChildren(): TreeNode[] {
    return [...this.stage.children.map((c) => new StageNode(c, this.run)), ...this.stage.artifacts.map((a) => new ArtifactNode(a))];
  }
}

export class RunNode extends TreeNode {
  readonly kind = 'run';
  constructor(
    readonly run: RunModel,
    private readonly ctx: TreeContext,
  ) {
    super();
  }
  get id(): string {
    return `run:${this.run.dir}`;
  }
  get path(): string {
    return this.run.dir;
  }
  get job(): Job | undefined {
    return this.ctx.manager.findByRunDir(this.run.dir);
  }
  getTreeItem(): vscode.TreeItem {
    const r = this.run;
    const job = this.job;
    const status = runStatus(r, job);
    const item = new vscode.TreeItem(r.id, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = this.id;
    item.iconPath = statusIcon(status);
    const metrics = formatMetrics(r.metrics);
    item.description = job ? describeProgress(job) : [status, metrics].filter(Boolean).join(' · ');
    const md = new vscode.MarkdownString();
    md.appendMarkdown(`**${r.id}** — ${r.kind}, ${status}\n\n`);
    if (metrics) md.appendMarkdown(`${metrics}\n\n`);
    if (r.created) md.appendMarkdown(`created ${r.created}  \n`);
    if (r.updated) md.appendMarkdown(`updated ${r.updated}  \n`);
    if (r.backend) md.appendMarkdown(`backend ${r.backend}  \n`);
    if (r.error) md.appendMarkdown(`\n**error:** ${r.error.split('\n')[0]}\n`);
    md.appendMarkdown(`\n\`${r.dir}\``);
    item.tooltip = md;
    item.contextValue = runContextValue(r, job);
    return item;
  }
  override getChildren(): TreeNode[] {
    return [...this.run.stages.map((s) => new StageNode(s, this.run)), ...this.run.artifacts.map((a) => new ArtifactNode(a))];
  }
}

export class JobNode extends TreeNode {
  readonly kind = 'job';
  constructor(readonly job: Job) {
    super();
  }
  get id(): string {
    return `job:${this.job.id}`;
  }
  get path(): string | undefined {
    return this.job.runDir;
  }
  getTreeItem(): vscode.TreeItem {
    const j = this.job;
    const item = new vscode.TreeItem(j.label, vscode.TreeItemCollapsibleState.None);
    item.id = this.id;
    item.iconPath = statusIcon(j.status);
    const counts = j.metrics && j.request.command === 'validate' ? `${j.metrics.errors ?? 0} error(s), ${j.metrics.warnings ?? 0} warning(s)` : '';
    item.description = [describeProgress(j), counts].filter(Boolean).join(' · ');
    item.tooltip = new vscode.MarkdownString(`**${j.label}** — ${j.status}${j.runDir ? `\n\n\`${j.runDir}\`` : ''}${j.error ? `\n\n**error:** ${j.error.split('\n')[0]}` : ''}`);
    item.contextValue = jobContextValue(j);
    if (j.runDir && j.request.command === 'synth' && j.status === 'done') {
      item.command = { command: 'vscode.open', title: 'Open Manifest', arguments: [vscode.Uri.file(`${j.runDir}/manifest.json`)] };
    }
    return item;
  }
}

export class ExperimentNode extends TreeNode {
  readonly kind = 'experiment';
  constructor(
    readonly experiment: ExperimentModel,
    private readonly queued: Job[],
    private readonly ctx: TreeContext,
  ) {
    super();
  }
  get id(): string {
    return `experiment:${this.experiment.path}`;
  }
  get path(): string {
    return this.experiment.path;
  }
  getTreeItem(): vscode.TreeItem {
    const e = this.experiment;
    const item = new vscode.TreeItem(e.name, vscode.TreeItemCollapsibleState.Expanded);
    item.id = this.id;
    item.iconPath = new vscode.ThemeIcon('beaker');
    const n = e.runs.length;
    item.description = `${basename(e.path)} · ${n} run${n === 1 ? '' : 's'}${e.problem ? ` · ${e.problem}` : ''}`;
    item.tooltip = new vscode.MarkdownString(`**${e.name}**\n\nconfig \`${e.path}\`\n\nruns in \`${e.outDir}\``);
    item.contextValue = contextValue('experiment', { config: true });
    return item;
  }
  override getChildren(): TreeNode[] {
    return [...this.queued.map((j) => new JobNode(j)), ...this.experiment.runs.map((r) => new RunNode(r, this.ctx))];
  }
}

export class GroupNode extends TreeNode {
  readonly kind = 'group';
  constructor(
    readonly id: string,
    private readonly label: string,
    private readonly icon: string,
    private readonly children: TreeNode[],
  ) {
    super();
  }
  getTreeItem(): vscode.TreeItem {
    const item = new vscode.TreeItem(this.label, vscode.TreeItemCollapsibleState.Expanded);
    item.id = this.id;
    item.iconPath = new vscode.ThemeIcon(this.icon);
    item.contextValue = contextValue('group', {});
    return item;
  }
  override getChildren(): TreeNode[] {
    return this.children;
  }
}

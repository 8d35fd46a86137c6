// What a command acts on: the tree node, explorer file or editor it was
// invoked on, else the active editor, else a quick pick.
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { configIssues } from '../../engine/config/resolve';
import { BoundedReadError, READ_LIMITS, readTextBounded } from '../../engine/io/bounded-read';
import { CONFIG_GLOB, EXCLUDE_GLOB, isConfigPath } from '../config/config-files';
import { isActive, resumeCommand, type Job } from '../runs/job';
import type { Services } from './define';
import { ArtifactNode, ExperimentNode, JobNode, RunNode, StageNode } from '../views/tree-nodes';
import type { RunModel } from '../views/run-scan';

export function workspaceRoot(): string {
  const f = vscode.workspace.workspaceFolders?.[0];
  if (!f || f.uri.scheme !== 'file') throw new Error('Open a folder first: MRI-Report CL works on the files of a local workspace folder.');
  return f.uri.fsPath;
}

function isJob(v: unknown): v is Job {
  return typeof v === 'object' && v !== null && 'request' in v && 'status' in v && 'queuedAt' in v;
}

/** A file-system path from a tree node, Uri or string argument. */
export function pathOf(arg: unknown): string | undefined {
  if (arg instanceof vscode.Uri) return arg.scheme === 'file' ? arg.fsPath : undefined;
  if (typeof arg === 'string') return arg;
  if (arg instanceof ExperimentNode || arg instanceof RunNode || arg instanceof StageNode || arg instanceof ArtifactNode) return arg.path;
  if (arg instanceof JobNode) return arg.job.runDir;
  if (isJob(arg)) return arg.runDir;
  return undefined;
}

export function jobOf(arg: unknown, s: Services): Job | undefined {
  if (arg instanceof JobNode) return arg.job;
  if (arg instanceof RunNode) return arg.job;
  if (isJob(arg)) return s.manager.get(arg.id);
  return undefined;
}

async function saveIfDirty(path: string): Promise<void> {
  const doc = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && d.uri.fsPath === path);
  if (doc?.isDirty) await doc.save();
}

/** An experiment config: the argument, else the active editor's config, else the user's pick. */
export async function chooseConfig(arg: unknown, purpose: string): Promise<string | undefined> {
  let path = pathOf(arg);
  if (path && !isConfigPath(path)) path = undefined;
  const editor = vscode.window.activeTextEditor?.document.uri;
  if (!path && editor?.scheme === 'file' && isConfigPath(editor.fsPath)) path = editor.fsPath;
  if (!path) {
    const files = await vscode.workspace.findFiles(CONFIG_GLOB, EXCLUDE_GLOB, 200);
    if (!files.length) {
      const choice = await vscode.window.showWarningMessage('No experiment config (*.mrcl.json or experiments/*.json) in this workspace.', 'New Experiment');
      if (choice) await vscode.commands.executeCommand('mrcl.newExperiment');
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      files.map((u) => ({ label: vscode.workspace.asRelativePath(u), path: u.fsPath })),
      { title: purpose, placeHolder: 'Experiment config' },
    );
    path = picked?.path;
  }
  return path;
}

/**
 * The experiment config to run (chooseConfig), saved first; refused with
 * the engine's own message when its schema check fails.
 */
export async function pickConfig(arg: unknown, purpose: string): Promise<string | undefined> {
  const path = await chooseConfig(arg, purpose);
  if (!path) return undefined;
  await saveIfDirty(path);
  let raw: unknown;
  try {
    raw = JSON.parse(readTextBounded(path, { maxBytes: READ_LIMITS.config, what: 'config' }));
  } catch (e) {
    if (e instanceof BoundedReadError) throw e;
    throw new Error(`${path}: not valid JSON: ${(e as Error).message}`);
  }
  const issues = configIssues(raw);
  if (issues.length) {
    throw new Error(`${path}: invalid config: ${issues.slice(0, 3).map((i) => `${i.path || '/'}: ${i.message}`).join('; ')}${issues.length > 3 ? ` (and ${issues.length - 3} more; see Problems)` : ''}`);
  }
  return path;
}

/** A dataset manifest (or a config naming one) to validate. */
export async function pickManifestOrConfig(arg: unknown): Promise<{ manifest?: string; config?: string } | undefined> {
  const given = pathOf(arg);
  if (given) {
    if (isConfigPath(given)) return { config: given };
    if (existsSync(join(given, 'manifest.json'))) return { manifest: join(given, 'manifest.json') };
    return { manifest: given };
  }
  const files = [
    ...(await vscode.workspace.findFiles('**/manifest.{json,csv}', EXCLUDE_GLOB, 100)),
    ...(await vscode.workspace.findFiles(CONFIG_GLOB, EXCLUDE_GLOB, 100)),
  ];
  if (!files.length) throw new Error('No dataset manifest (manifest.json / manifest.csv) or experiment config in this workspace. Generate a synthetic cohort first.');
  const picked = await vscode.window.showQuickPick(
    files.map((u) => ({ label: vscode.workspace.asRelativePath(u), description: isConfigPath(u.fsPath) ? 'config: its manifest, labels and folds' : 'manifest', path: u.fsPath })),
    { title: 'Validate Dataset', placeHolder: 'Manifest or experiment config' },
  );
  if (!picked) return undefined;
  return isConfigPath(picked.path) ? { config: picked.path } : { manifest: picked.path };
}

/** All run folders the tree knows, freshly read. */
export async function knownRuns(s: Services): Promise<RunModel[]> {
  const snap = await s.tree.scan();
  return [...snap.experiments.flatMap((e) => e.runs), ...snap.otherRuns];
}

/** A run folder from the argument or a pick among those matching `filter`. */
export async function pickRun(arg: unknown, s: Services, title: string, filter: (r: RunModel) => boolean): Promise<RunModel | undefined> {
  if (arg instanceof RunNode) return arg.run;
  const runs = (await knownRuns(s)).filter(filter);
  if (!runs.length) {
    void vscode.window.showInformationMessage(`${title}: no run to choose from.`);
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    runs.map((r) => ({ label: r.id, description: `${r.kind} · ${r.status}`, detail: vscode.workspace.asRelativePath(r.dir), run: r })),
    { title },
  );
  return picked?.run;
}

export function isResumable(r: RunModel, s: Services): boolean {
  return (r.status === 'cancelled' || r.status === 'failed') && resumeCommand(r.kind) !== undefined && !s.manager.findByRunDir(r.dir);
}

/** An active job from the argument or a pick. */
export async function pickActiveJob(arg: unknown, s: Services): Promise<Job | undefined> {
  const given = jobOf(arg, s);
  if (given) return given;
  const active = s.manager.list().filter(isActive);
  if (!active.length) {
    void vscode.window.showInformationMessage('No run is queued or running.');
    return undefined;
  }
  if (active.length === 1) return active[0];
  const picked = await vscode.window.showQuickPick(active.map((j) => ({ label: j.label, description: j.status, job: j })), { title: 'Stop Run' });
  return picked?.job;
}

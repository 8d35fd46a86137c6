// Problems-panel diagnostics for experiment configs, from the engine's own
// checks (checkConfig: schema, cross-field and semantic problems — missing
// files, fold count vs cohort size, weights file format). The editor's JSON
// language service adds completion, hover and schema squiggles through
// contributes.jsonValidation; what the engine would refuse is shown here.
import * as vscode from 'vscode';
import { dirname } from 'node:path';
import { checkConfig } from '../../engine/config/semantic';
import { BoundedReadError, READ_LIMITS, readTextBounded } from '../../engine/io/bounded-read';
import { Disposable } from '../util/dispose';
import { CONFIG_GLOB, EXCLUDE_GLOB, isConfigPath } from './config-files';
import { locatePointer } from './json-location';

const DEBOUNCE_MS = 400;
const MAX_FILES = 200;
export const DIAGNOSTIC_SOURCE = 'mrcl';

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

/** A position from an offset without opening the file as a document (which would fire open events). */
function positionAt(starts: readonly number[], offset: number): vscode.Position {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return new vscode.Position(lo, offset - starts[lo]!);
}

export class ConfigDiagnostics extends Disposable {
  private readonly collection = this._register(vscode.languages.createDiagnosticCollection('mrcl'));
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** a newer check of the same file makes an older one's result obsolete */
  private readonly generation = new Map<string, number>();

  constructor(private readonly log: vscode.LogOutputChannel) {
    super();
    this._register(vscode.workspace.onDidOpenTextDocument((d) => this.schedule(d.uri, 0)));
    this._register(vscode.workspace.onDidChangeTextDocument((e) => this.schedule(e.document.uri, DEBOUNCE_MS)));
    this._register(vscode.workspace.onDidSaveTextDocument((d) => this.schedule(d.uri, 0)));
    const watcher = this._register(vscode.workspace.createFileSystemWatcher(CONFIG_GLOB));
    this._register(watcher.onDidCreate((u) => this.schedule(u, DEBOUNCE_MS)));
    this._register(watcher.onDidChange((u) => this.schedule(u, DEBOUNCE_MS)));
    this._register(watcher.onDidDelete((u) => this.collection.delete(u)));
    this._register({ dispose: () => this.timers.forEach((t) => clearTimeout(t)) });
  }

  /** Checks every config in the workspace (at start-up) and the open ones. */
  async checkWorkspace(): Promise<void> {
    const files = await vscode.workspace.findFiles(CONFIG_GLOB, EXCLUDE_GLOB, MAX_FILES);
    for (const d of vscode.workspace.textDocuments) if (isConfigPath(d.uri.fsPath)) files.push(d.uri);
    const unique = new Map(files.map((u) => [u.toString(), u]));
    await Promise.all([...unique.values()].map((u) => this.check(u)));
  }

  private schedule(uri: vscode.Uri, delayMs: number): void {
    if (uri.scheme !== 'file' || !isConfigPath(uri.fsPath)) return;
    const key = uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        void this.check(uri);
      }, delayMs),
    );
  }

  /** Checks one config (the editor's text when open, else the file) and publishes the result. */
  async check(uri: vscode.Uri): Promise<readonly vscode.Diagnostic[]> {
    const key = uri.toString();
    const gen = (this.generation.get(key) ?? 0) + 1;
    this.generation.set(key, gen);
    let text: string;
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === key);
    try {
      // files on disk through the bounded reader: a workspace config linked to a device or a huge file is refused, not read
      if (open) text = open.getText();
      else if (uri.scheme === 'file') text = readTextBounded(uri.fsPath, { maxBytes: READ_LIMITS.config, what: 'config' });
      else text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
    } catch (e) {
      if (!(e instanceof BoundedReadError)) {
        this.collection.delete(uri);
        return [];
      }
      const d = new vscode.Diagnostic(new vscode.Range(0, 0, 0, 1), `the engine cannot read this file: ${e.problem}`, vscode.DiagnosticSeverity.Error);
      d.source = DIAGNOSTIC_SOURCE;
      if (this.generation.get(key) === gen) this.collection.set(uri, [d]);
      return [d];
    }
    const diagnostics = await this.diagnose(uri, text);
    if (this.generation.get(key) !== gen) return diagnostics; // superseded by a newer edit
    this.collection.set(uri, diagnostics);
    return diagnostics;
  }

  private async diagnose(uri: vscode.Uri, text: string): Promise<vscode.Diagnostic[]> {
    const lines = lineStarts(text);
    const rangeOf = (offset: number, length: number) => new vscode.Range(positionAt(lines, offset), positionAt(lines, offset + Math.max(1, length)));
    if (!text.trim()) return [];
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      const d = new vscode.Diagnostic(rangeOf(0, 1), `the engine cannot read this file: not valid JSON (${(e as Error).message})`, vscode.DiagnosticSeverity.Error);
      d.source = DIAGNOSTIC_SOURCE;
      return [d];
    }
    let issues;
    try {
      issues = await checkConfig(raw, dirname(uri.fsPath), uri.fsPath);
    } catch (e) {
      this.log.error(`${uri.fsPath}: config check failed: ${(e as Error).message}`);
      return [];
    }
    return issues.map((i) => {
      const span = locatePointer(text, i.path);
      const where = span.exact || !i.path ? '' : `${i.path}: `;
      const d = new vscode.Diagnostic(
        rangeOf(span.offset, span.length),
        `${where}${i.message}`,
        i.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning,
      );
      d.source = DIAGNOSTIC_SOURCE;
      return d;
    });
  }
}

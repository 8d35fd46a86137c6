// Inline attention in report .txt editors: when a case has saved
// cross-attention, each word gets a background by its weight, and a hover
// gives the weight, the word's top patches (named by grid cell and side, each
// a link that opens the case viewer there) and a link that opens the case
// viewer at the word's peak. A toggle turns it off and on.
import * as vscode from 'vscode';
import { basename, dirname, extname } from 'node:path';
import { alignWords } from '../../../webview/common/align-words';
import { shadeLevels, topPatches } from '../../../webview/common/attention';
import { PATCH_AXES } from '../../../webview/common/patch-name';
import { readAttentionFile, wordWeightsOf, type AttentionFile } from './attention-file';
import { Disposable } from '../util/dispose';

const LEVELS = 5;

interface Found {
  runDir: string;
  caseId: string;
  attention: AttentionFile;
  ranges: { index: number; range: vscode.Range }[];
  weights: number[];
}

export class InlineAttention extends Disposable {
  private enabled = true;
  private readonly found = new Map<string, Found | null>();
  private editTimer: ReturnType<typeof setTimeout> | undefined;
  // theme colours contributed in package.json (mrcl.inlineAttention.level1…5: light, dark and high-contrast defaults)
  private readonly types = Array.from({ length: LEVELS }, (_, i) =>
    this._register(
      vscode.window.createTextEditorDecorationType({
        backgroundColor: new vscode.ThemeColor(`mrcl.inlineAttention.level${i + 1}`),
        borderRadius: '2px',
      }),
    ),
  );

  constructor() {
    super();
    this._register(vscode.window.onDidChangeVisibleTextEditors(() => void this.refresh()));
    this._register(vscode.window.onDidChangeActiveTextEditor(() => void this.refresh()));
    // an edited report: its words move, so they are aligned again (once typing pauses)
    this._register(
      vscode.workspace.onDidChangeTextDocument((e) => {
        if (!this.found.has(e.document.uri.fsPath)) return;
        this.found.delete(e.document.uri.fsPath);
        clearTimeout(this.editTimer);
        this.editTimer = setTimeout(() => void this.refresh(), 300);
      }),
    );
    // attention files written (pretraining finishing), changed or deleted after a report was opened
    const watcher = this._register(vscode.workspace.createFileSystemWatcher('**/pretrain/attention/*.json'));
    const forget = () => {
      this.found.clear();
      void this.refresh();
    };
    this._register(watcher.onDidCreate(forget));
    this._register(watcher.onDidChange(forget));
    this._register(watcher.onDidDelete(forget));
    this._register(new vscode.Disposable(() => clearTimeout(this.editTimer)));
    this._register(vscode.languages.registerHoverProvider({ scheme: 'file', pattern: '**/*.txt' }, { provideHover: (d, p) => this.hover(d, p) }));
    void this.refresh();
  }

  /**
   * The run and case of a report editor with saved attention: `arg` a Uri of
   * such a report (editor menus), or nothing (the palette) with one active.
   */
  targetOf(arg: unknown): { runDir: string; caseId: string } | undefined {
    const uri = arg instanceof vscode.Uri ? arg : arg === undefined ? vscode.window.activeTextEditor?.document.uri : undefined;
    const f = uri?.scheme === 'file' ? this.found.get(uri.fsPath) : undefined;
    return f ? { runDir: f.runDir, caseId: f.caseId } : undefined;
  }

  toggle(): boolean {
    this.enabled = !this.enabled;
    void this.refresh();
    return this.enabled;
  }

  /** The attention file of the report's case: pretrain/attention/<case>.json of the newest run holding one. */
  private async lookup(doc: vscode.TextDocument): Promise<Found | null> {
    const key = doc.uri.fsPath;
    if (this.found.has(key)) return this.found.get(key)!;
    const caseId = basename(key, extname(key));
    const hits = await vscode.workspace.findFiles(`**/pretrain/attention/${caseId}.json`, '**/node_modules/**', 20);
    let result: Found | null = null;
    const newest = hits.map((u) => u.fsPath).sort().pop(); // run folders end in a timestamp
    if (newest) {
      try {
        const attention = readAttentionFile(newest);
        const text = doc.getText();
        const ranges = alignWords(text, attention.words).map((r) => ({ index: r.index, range: new vscode.Range(doc.positionAt(r.start), doc.positionAt(r.end)) }));
        result = { runDir: dirname(dirname(dirname(newest))), caseId, attention, ranges, weights: wordWeightsOf(attention) };
      } catch (e) {
        void vscode.window.showWarningMessage(e instanceof Error ? e.message : String(e));
      }
    }
    this.found.set(key, result);
    return result;
  }

  private async refresh(): Promise<void> {
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document.uri.scheme !== 'file' || !editor.document.fileName.endsWith('.txt')) continue;
      const f = this.enabled ? await this.lookup(editor.document) : null;
      const buckets: vscode.Range[][] = this.types.map(() => []);
      if (f) {
        const levels = shadeLevels(f.weights);
        for (const r of f.ranges) {
          const l = levels[r.index]!;
          if (l > 0) buckets[Math.min(LEVELS - 1, Math.floor(l * LEVELS))]!.push(r.range);
        }
      }
      this.types.forEach((t, i) => editor.setDecorations(t, buckets[i]!));
    }
    const active = vscode.window.activeTextEditor?.document.uri;
    const found = active?.scheme === 'file' && this.found.get(active.fsPath) != null;
    void vscode.commands.executeCommand('setContext', 'mrcl.inlineAttention.found', found);
  }

  private async hover(doc: vscode.TextDocument, pos: vscode.Position): Promise<vscode.Hover | undefined> {
    if (!this.enabled) return undefined;
    const f = await this.lookup(doc);
    const hit = f?.ranges.find((r) => r.range.contains(pos));
    if (!f || !hit) return undefined;
    const a = f.attention;
    const p = a.patchGrid[0] * a.patchGrid[1] * a.patchGrid[2];
    const row = a.textToImage.subarray(hit.index * p, (hit.index + 1) * p);
    const link = (extra: { patch?: number }) => `command:mrcl.openCaseViewer?${encodeURIComponent(JSON.stringify([{ runDir: f.runDir, caseId: f.caseId, word: hit.index, ...extra }]))}`;
    const md = new vscode.MarkdownString(
      [
        `**${a.words[hit.index]}**: weight ${f.weights[hit.index]!.toFixed(4)}`,
        '',
        `Top patches of the ${a.patchGrid.join('×')} grid (${PATCH_AXES}):`,
        '',
        ...topPatches(row, a.patchGrid, 3).map((t) => `- [${t.name}](${link({ patch: t.patch })}) ${t.weight.toFixed(3)}`),
        '',
        `[Open the viewer here](${link({})})`,
      ].join('\n'),
    );
    md.isTrusted = { enabledCommands: ['mrcl.openCaseViewer'] };
    return new vscode.Hover(md, hit.range);
  }
}

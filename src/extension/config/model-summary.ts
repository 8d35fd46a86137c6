// The model summary of experiment configs in the editor: code lenses with
// the trainable and frozen parameters of each component (over the sections
// that configure them) and a read-only document with the whole table
// (Show Model Summary). The engine counts, in a child process
// (EngineQueryClient), for the editor's text as it is — saved or not —
// once typing pauses; counts are cached by content. In Restricted Mode
// nothing is counted: counting runs the engine on files the config names.
import * as vscode from 'vscode';
import { BoundedReadError, READ_LIMITS, readTextBounded } from '../../engine/io/bounded-read';
import { parse, type ParseError } from 'jsonc-parser';
import type { EngineQueryClient } from '../runs/engine-queries';
import { readSettings } from '../settings';
import { Disposable } from '../util/dispose';
import { isConfigPath } from './config-files';
import { SummaryCache, type SummaryResult, type SummaryState } from './summary-cache';
import { summaryLenses } from './summary-lenses';

export const SUMMARY_SCHEME = 'mrcl-model-summary';
const CONFIG_SELECTOR: vscode.DocumentSelector = [
  { scheme: 'file', pattern: '**/*.mrcl.json' },
  { scheme: 'file', pattern: '**/experiments/*.json' },
];

/** The read-only document showing a config's summary. */
export function summaryUri(config: string): vscode.Uri {
  const name = config.split(/[\\/]/).pop() ?? config;
  return vscode.Uri.from({ scheme: SUMMARY_SCHEME, path: `/${name} (model summary)`, query: config });
}

function isJson(text: string): boolean {
  const errors: ParseError[] = [];
  parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  return errors.length === 0;
}

export class ModelSummaries extends Disposable implements vscode.CodeLensProvider, vscode.TextDocumentContentProvider {
  readonly cache: SummaryCache;
  /** the last count that succeeded, per config: shown while an edit is recounted */
  private readonly lastDone = new Map<string, SummaryState & { kind: 'done' }>();
  private readonly lensesChanged = this._register(new vscode.EventEmitter<void>());
  private readonly docChanged = this._register(new vscode.EventEmitter<vscode.Uri>());
  readonly onDidChangeCodeLenses = this.lensesChanged.event;
  readonly onDidChange = this.docChanged.event;

  constructor(
    queries: EngineQueryClient,
    private readonly log: vscode.LogOutputChannel,
  ) {
    super();
    this.cache = this._register(
      new SummaryCache((config, text) =>
        queries.ask('modelSummary', { config, text }).catch((e: unknown) => {
          this.log.warn(`model summary of ${config}: ${e instanceof Error ? e.message : String(e)}`);
          throw e;
        }),
      ),
    );
    this._register(
      this.cache.onDidChange((config) => {
        this.lensesChanged.fire();
        const uri = summaryUri(config);
        if (vscode.workspace.textDocuments.some((d) => d.uri.toString() === uri.toString())) this.docChanged.fire(uri);
      }),
    );
    this._register(vscode.languages.registerCodeLensProvider(CONFIG_SELECTOR, this));
    this._register(vscode.workspace.registerTextDocumentContentProvider(SUMMARY_SCHEME, this));
    // a save is a chance to retry a failed count (a file the config names may have been fixed meanwhile)
    this._register(
      vscode.workspace.onDidSaveTextDocument((d) => {
        if (d.uri.scheme !== 'file' || !isConfigPath(d.uri.fsPath)) return;
        if (this.cache.peek(d.uri.fsPath, d.getText())?.kind === 'error') {
          this.cache.forget(d.uri.fsPath);
          this.lensesChanged.fire();
        }
      }),
    );
    this._register(vscode.workspace.onDidGrantWorkspaceTrust(() => this.lensesChanged.fire()));
    this._register(vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('mrcl.modelSummaryCodeLens') && this.lensesChanged.fire()));
  }

  /** The config's text: the editor's when it is open (saved or not), else the file's. */
  textOf(config: string): string {
    const open = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && d.uri.fsPath === config);
    if (open) return open.getText();
    try {
      return readTextBounded(config, { maxBytes: READ_LIMITS.config, what: 'config' });
    } catch (e) {
      if (e instanceof BoundedReadError) throw e;
      throw new Error(`${config}: cannot read config: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }

  /** The summary of the config as it is now (asks the engine unless counted already). */
  summaryOf(config: string): Promise<SummaryResult> {
    return this.cache.get(config, this.textOf(config));
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    if (!vscode.workspace.isTrusted || !readSettings().modelSummaryCodeLens || doc.uri.scheme !== 'file' || !isConfigPath(doc.uri.fsPath)) return [];
    const config = doc.uri.fsPath;
    const text = doc.getText();
    const last = this.lastDone.get(config);
    let state: SummaryState;
    if (!isJson(text)) {
      // mid-edit: nothing to count; the Problems panel says what is wrong
      if (!last) return [];
      state = { kind: 'pending' };
    } else {
      state = this.cache.schedule(config, text);
      if (state.kind === 'done') this.lastDone.set(config, state);
    }
    return summaryLenses(text, state, last).map((l) => {
      const range = new vscode.Range(doc.positionAt(l.offset), doc.positionAt(l.offset + l.length));
      return new vscode.CodeLens(range, { title: l.title, tooltip: l.tooltip, command: 'mrcl.showModelSummary', arguments: [doc.uri] });
    });
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const config = uri.query;
    const name = vscode.workspace.asRelativePath(config);
    const head = `Model summary of ${name}: trainable and frozen parameters per component, laid out as the paper's Table 7.`;
    try {
      const { table } = await this.summaryOf(config);
      return `${head}\n\n${table}\n`;
    } catch (e) {
      return `${head}\n\nNot counted: ${e instanceof Error ? e.message : String(e)}\n`;
    }
  }
}

// Import Dataset: asks for the source (a DICOM folder and its cases table, a
// MONAI datalist or a BIDS folder) and the output folder, runs the import in
// the engine worker (progress with Cancel, like every run), then opens the
// validation report the engine wrote beside the new manifest.
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { command, type CommandDef, type Services } from './define';
import { workspaceRoot } from './targets';
import { IMPORT_KINDS, importRequest, isImportArg, validationReportPath, type ImportArg } from '../runs/import-request';
import type { Job } from '../runs/job';

const TITLE = 'Import Dataset';

async function pickPath(root: string, title: string, folders: boolean, filters?: Record<string, string[]>): Promise<string | undefined> {
  const picked = await vscode.window.showOpenDialog({
    title,
    defaultUri: vscode.Uri.file(root),
    canSelectFiles: !folders,
    canSelectFolders: folders,
    canSelectMany: false,
    ...(filters ? { filters } : {}),
  });
  return picked?.[0]?.fsPath;
}

/** Asks for whatever `given` lacks; undefined when the user cancels. */
async function askImport(root: string, given: ImportArg): Promise<ImportArg | undefined> {
  const a: ImportArg = { ...given };
  if (!a.kind) {
    const kind = await vscode.window.showQuickPick(
      IMPORT_KINDS.map((k) => ({ label: k.label, detail: k.detail, source: k.kind })),
      { title: `${TITLE}: source`, placeHolder: 'What does the cohort look like now?' },
    );
    if (!kind) return undefined;
    a.kind = kind.source;
  }
  if (!a.source) {
    a.source =
      a.kind === 'monai'
        ? await pickPath(root, `${TITLE}: MONAI datalist`, false, { 'MONAI datalist': ['json'] })
        : await pickPath(root, a.kind === 'bids' ? `${TITLE}: BIDS folder` : `${TITLE}: DICOM folder (one study per case)`, true);
    if (!a.source) return undefined;
  }
  if (a.kind === 'dicom' && !a.table) {
    a.table = await pickPath(root, `${TITLE}: cases table`, false, { 'Cases table': ['csv'] });
    if (!a.table) return undefined;
  }
  if (!a.out) {
    a.out = await vscode.window.showInputBox({
      title: `${TITLE}: output`,
      prompt: 'Dataset folder to write, relative to the workspace (new, or an earlier import: only changed cases are copied again)',
      value: 'data/imported',
      validateInput: (v) => (v.trim() ? undefined : 'A folder is required'),
    });
    if (!a.out) return undefined;
  }
  return a;
}

/** Opens the import's validation report once the run has ended (done, or failed validation). */
async function openReport(s: Services, job: Job): Promise<void> {
  const settled = await s.manager.whenSettled(job.id);
  const report = validationReportPath(settled.request);
  if (settled.status === 'cancelled' || !report || !existsSync(report)) return;
  // a report from an earlier import is not this run's: only one written since the run started
  const { mtime } = await vscode.workspace.fs.stat(vscode.Uri.file(report));
  if (settled.startedAt !== undefined && mtime < settled.startedAt - 1000) return;
  await vscode.window.showTextDocument(vscode.Uri.file(report), { preview: false });
}

export const importCommands: CommandDef[] = [
  command('importDataset', async (s, arg) => {
    const root = workspaceRoot();
    // { kind, source, table, base, seriesFilter, out } from scripts and tests; the rest is asked
    const a = await askImport(root, isImportArg(arg) ? arg : {});
    if (!a) return undefined;
    const built = importRequest(a, root);
    if ('problem' in built) throw new Error(`${TITLE}: ${built.problem}`);
    const job = s.startRun(built.request, `${TITLE} (${a.kind}) → ${relative(root, built.request.out!) || built.request.out}`);
    if (job) void openReport(s, job).catch((e) => s.log.warn(`${TITLE}: cannot open the validation report: ${e instanceof Error ? e.message : String(e)}`));
    return job;
  }),
];

// Extension-host side of the webview check: does what the browser side asks
// (rpc.ts) — activate the extension, run commands, change settings, open
// files — until the browser writes its done file. It activates nothing by
// itself, so after a page reload the panels come back only through the
// extension's own activation events and serializers.
import * as vscode from 'vscode';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requestFile, responseFile, writeJsonAtomic, type SuiteRequest, type SuiteResponse } from './rpc';

const EXTENSION_ID = 'mri-report-cl.mri-report-cl';

async function serve(req: SuiteRequest): Promise<SuiteResponse['result']> {
  switch (req.kind) {
    case 'activate': {
      const ext = vscode.extensions.all.find((e) => e.id.toLowerCase() === EXTENSION_ID);
      if (!ext) throw new Error(`${EXTENSION_ID} is not installed`);
      await ext.activate();
      return null;
    }
    case 'command': {
      // commands that open panels return them: only plain values travel back
      const r: unknown = await vscode.commands.executeCommand(req.command, ...(req.args ?? []));
      return typeof r === 'string' || typeof r === 'number' || typeof r === 'boolean' ? r : null;
    }
    case 'setting':
      await vscode.workspace.getConfiguration().update(req.key, req.value, vscode.ConfigurationTarget.Global);
      return null;
    case 'open':
      await vscode.window.showTextDocument(vscode.Uri.file(req.path), { preview: false });
      return null;
    case 'openWith':
      await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(req.path), req.viewType);
      return null;
  }
}

export async function run(): Promise<void> {
  const ws = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
  const fx = JSON.parse(readFileSync(join(ws, 'panels-fixture.json'), 'utf8')) as { rpc: string; done: string };
  const end = Date.now() + 10 * 60_000;
  let n = 1;
  while (!existsSync(fx.done) && Date.now() < end) {
    if (existsSync(responseFile(fx.rpc, n))) {
      n++; // answered by the extension host before a reload
      continue;
    }
    if (!existsSync(requestFile(fx.rpc, n))) {
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    const req = JSON.parse(readFileSync(requestFile(fx.rpc, n), 'utf8')) as SuiteRequest;
    let res: SuiteResponse;
    try {
      res = { ok: true, result: await serve(req) };
    } catch (e) {
      res = { ok: false, error: e instanceof Error ? e.message : String(e) };
    }
    writeJsonAtomic(responseFile(fx.rpc, n), res);
    n++;
  }
}

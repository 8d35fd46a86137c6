// Options and HTML shared by every panel: which folders a webview may load
// from (the extension's dist/ and media/, plus the folders of the volumes it
// shows) and the page from the one HTML builder.
import * as vscode from 'vscode';
import { dirname } from 'node:path';
import { buildHtml } from './html';

export type PanelName = 'viewer' | 'report' | 'dashboard' | 'results';

export function resourceRoots(extensionUri: vscode.Uri, files: readonly string[] = []): vscode.Uri[] {
  const roots = [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')];
  for (const d of new Set(files.map((f) => dirname(f)))) roots.push(vscode.Uri.file(d));
  return roots;
}

export function setPanelHtml(webview: vscode.Webview, extensionUri: vscode.Uri, panel: PanelName, title: string, files: readonly string[] = []): void {
  webview.options = { enableScripts: true, localResourceRoots: resourceRoots(extensionUri, files) };
  const styles = ['media/webview.css', ...(panel === 'dashboard' ? ['dist/webview/dashboard.css'] : [])];
  webview.html = buildHtml(webview, {
    title,
    extensionUri,
    script: [`dist/webview/${panel}.js`],
    styles,
    niivue: panel === 'viewer',
    join: (base, ...seg) => vscode.Uri.joinPath(base, ...seg),
  });
}

/** A volume as a webview URL (never its bytes). */
export function volumeUrl(webview: vscode.Webview, path: string): string {
  return webview.asWebviewUri(vscode.Uri.file(path)).toString();
}

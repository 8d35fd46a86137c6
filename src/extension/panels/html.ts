// The one HTML builder for every webview: a strict CSP (default-src 'none'),
// a fresh nonce per load, scripts and styles only from the extension's own
// files through asWebviewUri. Takes only the two Webview members it needs,
// so tests call it without a vscode mock.
import { randomBytes } from 'node:crypto';
import type { Uri, Webview } from 'vscode';

export type HtmlWebview = Pick<Webview, 'cspSource' | 'asWebviewUri'>;

export interface HtmlOptions {
  title: string;
  /** extension root: scripts and styles are resolved under it */
  extensionUri: Uri;
  /** dist/webview/<panel>.js */
  script: string[];
  /** media/*.css (theme variables) */
  styles?: string[];
  /** the WebGL viewer (NiiVue) needs blob/data images, blob workers and volume fetches */
  niivue?: boolean;
  /** the panel's initial state, readable before the first message (JSON in a data attribute) */
  body?: string;
  /** joins path segments onto a Uri (vscode.Uri.joinPath; injected so the builder stays testable) */
  join: (base: Uri, ...segments: string[]) => Uri;
}

/** 32 random bytes, base64: unguessable and different on every load. */
export function makeNonce(): string {
  return randomBytes(32).toString('base64');
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The Content-Security-Policy for one load. */
export function contentSecurityPolicy(webview: HtmlWebview, nonce: string, niivue: boolean): string {
  const src = webview.cspSource;
  const parts = [
    "default-src 'none'",
    // theme CSS from the extension, plus inline style attributes the UI components set
    `style-src ${src} 'unsafe-inline'`,
    // codicons and component fonts
    `font-src ${src}`,
    `script-src 'nonce-${nonce}'`,
  ];
  if (niivue) {
    // NiiVue draws colour bars and fonts into data: and blob: images
    parts.push(`img-src ${src} data: blob:`);
    // NiiVue decompresses .nii.gz in a blob: worker
    parts.push(`worker-src blob:`);
    // the volumes themselves: asWebviewUri URLs fetched by NiiVue (and blob: for in-memory overlays)
    parts.push(`connect-src ${src} blob:`);
  } else {
    parts.push(`img-src ${src}`);
  }
  return parts.join('; ');
}

/** The page: CSP, styles, a root element and the panel's script, each carrying the nonce. */
export function buildHtml(webview: HtmlWebview, options: HtmlOptions, nonce = makeNonce()): string {
  const uri = (rel: string) => webview.asWebviewUri(options.join(options.extensionUri, ...rel.split('/'))).toString();
  const csp = contentSecurityPolicy(webview, nonce, options.niivue === true);
  const styles = (options.styles ?? []).map((s) => `<link rel="stylesheet" href="${escapeHtml(uri(s))}">`);
  const scripts = options.script.map((s) => `<script nonce="${nonce}" src="${escapeHtml(uri(s))}"></script>`);
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="UTF-8">',
    `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1.0">',
    `<title>${escapeHtml(options.title)}</title>`,
    ...styles,
    '</head>',
    '<body>',
    `<main id="root">${options.body ?? ''}</main>`,
    ...scripts,
    '</body>',
    '</html>',
  ].join('\n');
}

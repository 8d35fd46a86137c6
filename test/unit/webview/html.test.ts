import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Uri } from 'vscode';
import { buildHtml, contentSecurityPolicy, type HtmlOptions, type HtmlWebview } from '../../../src/extension/panels/html';

const CSP_SOURCE = 'https://file+.vscode-resource.vscode-cdn.net';
const fakeUri = (p: string) => ({ path: p, toString: () => p }) as unknown as Uri;
const webview: HtmlWebview = {
  cspSource: CSP_SOURCE,
  asWebviewUri: (u: Uri) => fakeUri(`${CSP_SOURCE}${(u as unknown as { path: string }).path}`),
};
const options = (niivue: boolean): HtmlOptions => ({
  title: 'Viewer <case>',
  extensionUri: fakeUri('/ext'),
  script: ['dist/webview/viewer.js'],
  styles: ['media/webview.css'],
  niivue,
  join: (base, ...seg) => fakeUri([(base as unknown as { path: string }).path, ...seg].join('/')),
});

function cspOf(html: string): string {
  const m = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html);
  assert.ok(m, 'the page has a CSP meta tag');
  return m[1]!.replace(/&#39;/g, "'");
}

test('CSP starts from default-src none and has no wildcard', () => {
  for (const niivue of [false, true]) {
    const csp = cspOf(buildHtml(webview, options(niivue)));
    assert.match(csp, /^default-src 'none'/);
    assert.doesNotMatch(csp, /\*/);
    assert.doesNotMatch(csp, /unsafe-eval/);
    assert.doesNotMatch(csp, /script-src[^;]*unsafe-inline/);
  }
});

test('only the NiiVue page gets blob/data images, blob workers and connect-src', () => {
  const plain = contentSecurityPolicy(webview, 'n', false);
  const gl = contentSecurityPolicy(webview, 'n', true);
  assert.doesNotMatch(plain, /blob:|data:|worker-src|connect-src/);
  assert.match(gl, new RegExp(`img-src ${CSP_SOURCE.replace(/[.+]/g, '\\$&')} data: blob:`));
  assert.match(gl, /worker-src blob:/);
  assert.match(gl, /connect-src [^;]*vscode-cdn\.net blob:/);
});

test('a fresh nonce on every load, carried by every script tag and the CSP', () => {
  const a = buildHtml(webview, options(true));
  const b = buildHtml(webview, options(true));
  const nonceOf = (h: string) => /script-src 'nonce-([^']+)'/.exec(cspOf(h))![1]!;
  assert.notEqual(nonceOf(a), nonceOf(b));
  assert.ok(nonceOf(a).length >= 32);
  const scripts = a.match(/<script[^>]*>/g) ?? [];
  assert.equal(scripts.length, 1);
  for (const s of scripts) assert.ok(s.includes(`nonce="${nonceOf(a)}"`), s);
});

test('scripts and styles come through asWebviewUri; the title is escaped', () => {
  const html = buildHtml(webview, options(false), 'fixed');
  assert.ok(html.includes(`src="${CSP_SOURCE}/ext/dist/webview/viewer.js"`));
  assert.ok(html.includes(`href="${CSP_SOURCE}/ext/media/webview.css"`));
  assert.ok(html.includes('<title>Viewer &lt;case&gt;</title>'));
  assert.ok(!html.includes('<case>'));
});

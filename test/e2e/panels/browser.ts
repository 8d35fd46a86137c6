// Browser-side helpers of the webview check: waiting on conditions (never
// on sleeps: the machine may be busy), finding webview frames, and reading
// the workbench DOM. Page code is passed as strings: it runs in the browser,
// whose DOM types the node tsconfig lacks.
import type { Frame, Page } from 'playwright-core';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until `ok` holds; the error names what was awaited and what was last seen. */
export async function waitFor<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const v = await probe();
      if (ok(v)) return v;
      last = JSON.stringify(v);
    } catch (e) {
      last = `error: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`;
    }
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs / 1000} s (last seen: ${last.slice(0, 300)})`);
    await sleep(250);
  }
}

/** The webview frame (webviews are two nested iframes) that has `selector`. */
export async function frameWith(page: Page, selector: string, timeoutMs: number): Promise<Frame> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    for (const f of page.frames()) if (await f.$(selector).catch(() => null)) return f;
    if (Date.now() > end) throw new Error(`no webview frame shows ${selector} within ${timeoutMs / 1000} s`);
    await sleep(500);
  }
}

/** The case viewers that have loaded, each as the word its overlay shows ('' for none). */
export async function loadedViewers(page: Page): Promise<string[]> {
  const words: string[] = [];
  for (const f of page.frames()) {
    const w = await f.$eval('body[data-loaded="true"]', (b) => b.dataset['word'] ?? '').catch(() => null);
    if (w !== null) words.push(w);
  }
  return words;
}

/** A value an earlier step found, or an error saying that step failed. */
export function must<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`no ${what}: an earlier step failed`);
  return value;
}

export interface Point {
  x: number;
  y: number;
}

/**
 * Centres of the inline-attention decorations in the visible text editors.
 * VS Code renders a decoration type's background as `.cdr.ced-<key>-…`
 * elements in the view overlays; ours are told apart by their colour
 * (src/extension/panels/inline-attention.ts: rgba(255, 140, 0, …)).
 */
export function attentionDecorations(page: Page): Promise<Point[]> {
  return page.evaluate<Point[]>(`(() => {
    const out = [];
    for (const el of document.querySelectorAll('.monaco-editor .view-overlays [class*="ced-"], .monaco-editor .view-lines [class*="ced-"]')) {
      if (!/^rgba\\(255, 140, 0,/.test(getComputedStyle(el).backgroundColor)) continue;
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.height > 0) out.push({ x: r.x + r.width / 2, y: r.y + r.height / 2 });
    }
    return out;
  })()`);
}

/** The text of the editor hovers that are showing. */
export function hoverText(page: Page): Promise<string> {
  return page.evaluate<string>(`[...document.querySelectorAll('.monaco-hover')]
    .filter((e) => !e.classList.contains('hidden') && e.getBoundingClientRect().height > 0)
    .map((e) => e.innerText).join('\\n')`);
}

/** The simple file dialog (a quick input): its path box's value, or null when it is not showing. */
export function quickInputValue(page: Page): Promise<string | null> {
  return page.evaluate<string | null>(`(() => {
    const w = document.querySelector('.quick-input-widget');
    if (!w || w.style.display === 'none' || w.getBoundingClientRect().height === 0) return null;
    const i = w.querySelector('.quick-input-box input');
    return i ? i.value : null;
  })()`);
}

/** The labels of the items the quick input (simple file dialog) lists. */
export function quickInputItems(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(`[...document.querySelectorAll('.quick-input-widget .quick-input-list .monaco-list-row')]
    .map((r) => (r.getAttribute('aria-label') || r.textContent || '').trim())`);
}

/** What the workbench has persisted (IndexedDB "vscode-web-state-db-*", flushed every few seconds), by database and key, for keys ending in `key`. */
function persistedState(page: Page, key: string): Promise<Record<string, string>> {
  return page.evaluate<Record<string, string>>(`(async () => {
    const out = {};
    for (const d of await indexedDB.databases()) {
      if (!d.name || !d.name.startsWith('vscode-web-state-db-')) continue;
      const db = await new Promise((res, rej) => { const r = indexedDB.open(d.name); r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
      for (const s of db.objectStoreNames) {
        const store = db.transaction(s).objectStore(s);
        const [keys, values] = await Promise.all([store.getAllKeys(), store.getAll()].map((r) => new Promise((res) => { r.onsuccess = () => res(r.result); })));
        keys.forEach((k, i) => { if (String(k).endsWith(${JSON.stringify(key)})) out[d.name + ' ' + String(k)] = String(values[i]); });
      }
      db.close();
    }
    return out;
  })()`);
}

interface GridNode {
  type: 'branch' | 'leaf';
  data: GridNode[] | { editors: { id: string; value: string }[]; mru: number[] };
}

/**
 * The editor groups as the workbench has persisted them (what a reload
 * restores): per group, its editors most recent first, each as a webview's
 * view type or else the editor's type id.
 */
export async function persistedGroups(page: Page): Promise<string[][]> {
  const raw = Object.values(await persistedState(page, 'memento/workbench.parts.editor'))[0];
  if (!raw) return [];
  const root = (JSON.parse(raw) as { 'editorpart.state'?: { serializedGrid?: { root: GridNode } } })['editorpart.state']?.serializedGrid?.root;
  const name = (e: { id: string; value: string }): string => {
    try {
      return (JSON.parse(e.value) as { providedId?: string }).providedId ?? e.id;
    } catch {
      return e.id;
    }
  };
  const groups: string[][] = [];
  const walk = (n: GridNode): void => {
    const d = n.data;
    if (Array.isArray(d)) d.forEach(walk);
    else groups.push(d.mru.map((i) => name(d.editors[i]!)));
  };
  if (root) walk(root);
  return groups;
}

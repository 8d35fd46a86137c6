// The longer webview checks, each as a person would do it in the browser:
// inline attention in a report editor (shading, hover, toggle), the results
// panel's CSV export and run comparison through VS Code's simple file
// dialog, and webviews following the colour theme. Expected values come
// from the engine's own renderers.
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { compareResults } from '../../../src/engine/results/compare';
import { readResults, renderCsv } from '../../../src/engine/results/render';
import { tableView } from '../../../webview/common/results-rows';
import { attentionDecorations, hoverText, quickInputItems, quickInputValue, waitFor } from './browser';
import type { SuiteClient } from './rpc';

// high contrast first, so that the light check sees a change even where light is the default
export const THEMES = [
  { name: 'Default High Contrast', bodyClass: 'vscode-high-contrast', tag: 'high-contrast' },
  { name: 'Default Light Modern', bodyClass: 'vscode-light', tag: 'light' },
] as const;

interface Look {
  /** the body's theme classes (VS Code sets them) */
  classes: string[];
  /** the body's background: media/webview.css takes it from the theme's --vscode-editor-background */
  background: string;
}

const look = (f: Frame): Promise<Look> =>
  f.evaluate<Look>(`({
    classes: [...document.body.classList].filter((c) => /^vscode-(light|dark|high-contrast)/.test(c)).sort(),
    background: getComputedStyle(document.body).backgroundColor,
  })`);
const TRANSPARENT = 'rgba(0, 0, 0, 0)';

/**
 * Switches to each of THEMES and waits until every frame's body has the
 * theme's class and a background of its own (not transparent, not the
 * previous theme's: the panel's CSS follows the theme), calls `shot`; then
 * back to the default theme.
 */
export async function eachTheme(suite: SuiteClient, frames: Frame[], shot: (tag: string) => Promise<void>): Promise<void> {
  const before = await Promise.all(frames.map(look));
  let last = before;
  for (const t of THEMES) {
    await suite.ask({ kind: 'setting', key: 'workbench.colorTheme', value: t.name });
    const now: Look[] = [];
    for (const [i, f] of frames.entries()) {
      const was = last[i]!.background;
      now.push(await waitFor(`webview body class "${t.bodyClass}" and a background other than ${was} with ${t.name}`, () => look(f), (l) => l.classes.includes(t.bodyClass) && l.background !== was && l.background !== TRANSPARENT));
    }
    last = now;
    await shot(t.tag);
  }
  await suite.ask({ kind: 'setting', key: 'workbench.colorTheme' });
  for (const [i, f] of frames.entries()) await waitFor('webview body as with the default theme', () => look(f), (l) => JSON.stringify(l) === JSON.stringify(before[i]));
}

/** Opens the report in a text editor: its words are shaded, the toggle clears and restores the shading. */
export async function checkInlineAttention(page: Page, suite: SuiteClient, reportPath: string, shot: (name: string) => Promise<void>): Promise<void> {
  await suite.ask({ kind: 'open', path: reportPath });
  const marks = await waitFor(`inline attention decorations in the editor of ${reportPath}`, () => attentionDecorations(page), (d) => d.length > 0, 60_000);
  await shot('inline-attention');
  const off = await suite.ask({ kind: 'command', command: 'mrcl.toggleInlineAttention' });
  if (off !== false) throw new Error(`mrcl.toggleInlineAttention returned ${String(off)}, expected false (off)`);
  await waitFor('no inline attention decorations once toggled off', () => attentionDecorations(page), (d) => d.length === 0);
  const on = await suite.ask({ kind: 'command', command: 'mrcl.toggleInlineAttention' });
  if (on !== true) throw new Error(`mrcl.toggleInlineAttention returned ${String(on)}, expected true (on)`);
  await waitFor(`the ${marks.length} decorations back once toggled on`, () => attentionDecorations(page), (d) => d.length === marks.length);
}

export interface HoverLink {
  /** the hover's first line: "<word>: weight <w>" */
  line: string;
  /** the word index its "Open the viewer here" link carries */
  word: number;
}

/** Hovers the first shaded word: the hover gives its weight and a viewer link for that word; clicks the link. */
export async function hoverAndOpenViewer(page: Page, words: string[], shot: (name: string) => Promise<void>): Promise<HoverLink> {
  const m = (await waitFor('a shaded word to hover', () => attentionDecorations(page), (d) => d.length > 0))[0]!;
  await page.mouse.move(m.x, m.y - 40);
  await page.mouse.move(m.x, m.y, { steps: 4 });
  const text = await waitFor('a hover with the weight and "Open the viewer here" over a shaded word', () => hoverText(page), (t) => /weight \d\.\d{4}/.test(t) && t.includes('Open the viewer here'));
  await shot('inline-hover');
  const line = text.split('\n')[0] ?? '';
  const link = page.locator('.monaco-hover a', { hasText: 'Open the viewer here' });
  const href = (await link.getAttribute('data-href')) ?? (await link.getAttribute('href')) ?? '';
  if (!href.startsWith('command:mrcl.openCaseViewer?')) throw new Error(`the hover link is "${href}"`);
  const [arg] = JSON.parse(decodeURIComponent(href.slice(href.indexOf('?') + 1))) as [{ word?: unknown }];
  const word = typeof arg?.word === 'number' ? arg.word : -1;
  if (!line.startsWith(`${words[word]}:`)) throw new Error(`the hover says "${line}" but its link carries word ${word} (${words[word]})`);
  await link.click();
  return { line, word };
}

const QUICK_INPUT = '.quick-input-widget .quick-input-box input';

/**
 * Enter in the simple file dialog until it closes: while it is still reading
 * the folder of the typed path it ignores Enter, or acts on the item that was
 * active before the list caught up (e.g. ".." moves to the parent folder), so
 * a press can be lost or misdirected; the typed path is then put back.
 */
async function acceptDialog(page: Page, value: string): Promise<void> {
  const seen: string[] = [];
  for (let i = 0; i < 5; i++) {
    await page.locator(QUICK_INPUT).press('Enter');
    const closed = await waitFor('the file dialog closing', () => quickInputValue(page), (x) => x === null, 4000).then(() => true, () => false);
    const now = closed ? null : await quickInputValue(page);
    if (now === null) return;
    if (now !== value) {
      seen.push(now);
      await page.locator(QUICK_INPUT).fill(value);
      await waitFor('the file dialog listing the typed file', () => quickInputItems(page), (items) => items.some((x) => x.startsWith(basename(value))), 10_000).catch(() => undefined);
    }
  }
  throw new Error(`the file dialog did not accept "${value}"${seen.length ? ` (it showed ${seen.map((s) => `"${s}"`).join(', ')} after Enter)` : ''}`);
}

/** CSV of table `tableId` through the save dialog's suggested path: the file is what the engine renders for it. */
export async function checkCsvExport(page: Page, results: Frame, resultsPath: string, tableId: string): Promise<void> {
  const target = join(dirname(resultsPath), `${tableId}.csv`);
  await results.click(`#csv-${tableId}`);
  await waitFor('the save dialog suggesting the table\'s file', () => quickInputValue(page), (v) => v === target);
  await acceptDialog(page, target);
  await waitFor(`${target} written`, async () => existsSync(target), (x) => x);
  const table = readResults(resultsPath).tables.find((t) => t.id === tableId);
  if (!table) throw new Error(`${resultsPath} has no table ${tableId}`);
  const want = renderCsv(table);
  const got = readFileSync(target, 'utf8');
  if (got !== want) {
    const i = [...want].findIndex((c, k) => got[k] !== c);
    throw new Error(`${target} differs from renderCsv at character ${i}: got ${JSON.stringify(got.slice(Math.max(0, i - 20), i + 40))}, want ${JSON.stringify(want.slice(Math.max(0, i - 20), i + 40))}`);
  }
  await waitFor('the "Saved …" status line', () => results.$eval('#status', (e) => e.textContent ?? ''), (t) => t === `Saved ${target}`);
}

const texts = (f: Frame, selector: string): Promise<string[]> => f.$$eval(selector, (es) => es.map((e) => e.textContent ?? ''));

/** Compare with another run (its results.json typed into the open dialog): the panel shows compareResults of both. */
export async function checkCompare(page: Page, results: Frame, resultsPath: string, otherPath: string): Promise<void> {
  await results.click('#compare');
  await waitFor('the open dialog', () => quickInputValue(page), (v) => v !== null);
  await page.locator(QUICK_INPUT).fill(otherPath);
  await waitFor('the open dialog listing the typed file', () => quickInputItems(page), (items) => items.some((x) => x.startsWith(basename(otherPath))));
  await acceptDialog(page, otherPath);
  const want = compareResults(readResults(resultsPath), readResults(otherPath));
  await waitFor('the comparison\'s title in the results panel', () => results.$eval('h1', (e) => e.textContent ?? ''), (t) => t === want.title);
  const source = await results.$eval('p.source', (e) => e.textContent ?? '');
  if (!source.includes(resultsPath) || !source.includes(otherPath)) throw new Error(`source line "${source}" does not name both runs`);
  for (const t of want.tables.map(tableView)) {
    const header = await texts(results, `#table-${t.id} thead th`);
    if (JSON.stringify(header) !== JSON.stringify(t.header)) throw new Error(`${t.id} header ${JSON.stringify(header)}, want ${JSON.stringify(t.header)}`);
    const rows = await results.$$eval(`#table-${t.id} tbody tr`, (trs) => trs.map((tr) => Array.from(tr.children, (c: { textContent: string | null }) => c.textContent ?? '')));
    const wantRows = t.rows.map((r) => r.map((c) => c.text));
    if (JSON.stringify(rows) !== JSON.stringify(wantRows)) throw new Error(`${t.id} rows ${JSON.stringify(rows)}, want ${JSON.stringify(wantRows)}`);
  }
  if (want.tables.length === 0) throw new Error('the fixture runs have no table in common');
}

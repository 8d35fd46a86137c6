// End-to-end check of the webviews in real VS Code (code-server + chromium,
// as test/e2e/driver.ts): a synthetic case with a fixture run; the viewer
// loads it (NiiVue, overlays), overlays are toggled, a word is clicked (and
// entered from the keyboard) in the report panel and the viewer's word
// overlay changes; the webviews follow the colour theme and come back after
// a reload through their serializers; inline attention shades the report in
// a text editor; the dashboard and the results panel (CSV export, comparison
// with a second run) show the run. The browser drives, the extension-host
// suite (suite.ts) does what it asks through files (rpc.ts). Screenshots and
// logs go to test-artifacts/e2e-panels/.
// Usage: node esbuild.mjs && bash scripts/package-vsix.sh && node --import tsx test/e2e/panels/driver.ts
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import * as esbuild from 'esbuild';
import { chromium, type Frame, type Page } from 'playwright-core';
import { frameWith, loadedViewers, must, persistedGroups, waitFor } from './browser';
import { checkCompare, checkCsvExport, checkInlineAttention, eachTheme, hoverAndOpenViewer } from './checks';
import { makePanelFixture, runIntoWorkspace } from './fixture';
import { SuiteClient } from './rpc';
import { freePort } from '../free-port';

const CODE_SERVER = process.env.MRCL_CODE_SERVER ?? resolve('.tools/code-server-4.100.3/node_modules/.bin/code-server');
const VSIX = resolve(process.env.MRCL_VSIX ?? 'out/mri-report-cl.vsix');
const ART = resolve('test-artifacts/e2e-panels');
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { publisher: string; name: string; version: string };
const log = (s: string) => console.log(`e2e-panels: ${s}`);

// WEBVIEWS_ONE_AT_A_TIME: code-server serves every webview from the
// workbench's origin, so all webviews share one service-worker scope, and two webviews
// loading at the same moment can leave one blank for good ("Found unexpected
// service worker controller … Waiting for controllerchange" in console.log;
// desktop VS Code gives each webview its own origin, microsoft/vscode#126444).
// So each panel here is opened, or shown after a reload, once the previous
// one has loaded.

// view types of src/extension/panels/{viewer,report}-panel.ts (not imported: those import vscode)
const CASE_VIEWER = 'mrcl.caseViewer';
const REPORT_PANEL = 'mrcl.reportAttention';

const wordOf = (f: Frame): Promise<string> => f.$eval('body', (b) => b.dataset['word'] ?? '');

async function main(): Promise<number> {
  if (!existsSync(CODE_SERVER) || !existsSync(VSIX)) throw new Error(`needs ${CODE_SERVER} and ${VSIX}`);
  const started = Date.now();
  rmSync(ART, { recursive: true, force: true });
  mkdirSync(ART, { recursive: true });
  const tmp = mkdtempSync(join(tmpdir(), 'mrcl-panels-'));
  const ud = join(tmp, 'ud');
  const ext = join(tmp, 'ext');
  const wsDir = join(tmp, 'ws');
  const env = { ...process.env, XDG_CONFIG_HOME: join(tmp, 'config'), XDG_DATA_HOME: join(tmp, 'data') };
  mkdirSync(join(ud, 'User'), { recursive: true });
  const settings = { 'workbench.startupEditor': 'none', 'git.enabled': false, 'remote.autoForwardPorts': false, 'extensions.autoUpdate': false, 'workbench.tips.enabled': false, 'telemetry.telemetryLevel': 'off' };
  writeFileSync(join(ud, 'User', 'settings.json'), JSON.stringify(settings));
  const inst = spawnSync(CODE_SERVER, ['--install-extension', VSIX, '--user-data-dir', ud, '--extensions-dir', ext], { env, encoding: 'utf8' });
  if (inst.status !== 0) throw new Error(`install failed: ${inst.stderr}`);
  const extDir = join(ext, `${pkg.publisher}.${pkg.name}-${pkg.version}`);
  const synth = spawnSync(process.execPath, ['bin/mrcl.js', 'synth', '--out', join(wsDir, 'cohort'), '--internal', '4', '--external', '0', '--shape', '24,24,16', '--seed', '3'], { encoding: 'utf8' });
  if (synth.status !== 0) throw new Error(`synth failed: ${synth.stderr}`);
  const fx = makePanelFixture(wsDir, join(tmp, 'runs'), join(wsDir, 'cohort', 'manifest.json'));
  const caseArg = { runDir: fx.runDir, caseId: fx.caseId };
  const done = join(tmp, 'done');
  const rpcDir = join(tmp, 'rpc');
  mkdirSync(rpcDir);
  writeFileSync(join(wsDir, 'panels-fixture.json'), JSON.stringify({ rpc: rpcDir, done }));
  const suite = new SuiteClient(rpcDir);
  const suiteJs = join(tmp, 'suite.js');
  await esbuild.build({ entryPoints: ['test/e2e/panels/suite.ts'], outfile: suiteJs, bundle: true, platform: 'node', format: 'cjs', external: ['vscode'], logLevel: 'warning' });

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = spawn(CODE_SERVER, ['--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--user-data-dir', ud, '--extensions-dir', ext], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout!.on('data', (d) => appendFileSync(join(ART, 'code-server.log'), d));
  server.stderr!.on('data', (d) => appendFileSync(join(ART, 'code-server.log'), d));
  let failed = 0;
  let pageRef: Page | undefined;
  const step = async (name: string, fn: () => Promise<void>) => {
    const t0 = Date.now();
    try {
      await fn();
      log(`ok - ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (e) {
      failed++;
      log(`not ok - ${name}: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`);
      await pageRef?.screenshot({ path: join(ART, `failed-${failed}.png`) }).catch(() => undefined);
      log(`  screenshot: ${join(ART, `failed-${failed}.png`)}`);
    }
  };
  const context = await chromium.launchPersistentContext(join(tmp, 'browser'), {
    executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1440, height: 900 },
    args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });
  try {
    await waitFor('code-server /healthz', () => fetch(`${base}/healthz`).then((r) => r.ok), (ok) => ok || server.exitCode !== null, 60_000);
    if (server.exitCode !== null) throw new Error(`code-server exited with code ${server.exitCode} (see ${ART}/code-server.log)`);
    const page = await context.newPage();
    pageRef = page;
    const shot = (name: string) => page.screenshot({ path: join(ART, `${name}.png`) }).then(() => undefined);
    page.on('console', (m) => appendFileSync(join(ART, 'console.log'), `[${m.type()}] ${m.text()}\n`));
    await page.exposeFunction('codeAutomationExit', () => undefined);
    await page.exposeFunction('codeAutomationLog', () => undefined);
    const host = base.replace(/^http:\/\//, '');
    const payload = [['extensionDevelopmentPath', `vscode-remote://${host}${extDir}`], ['extensionTestsPath', `vscode-remote://${host}${suiteJs}`], ['skipWelcome', 'true']];
    await page.goto(`${base}/?folder=${encodeURIComponent(wsDir)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);

    let viewer: Frame | undefined;
    let report: Frame | undefined;
    let results: Frame | undefined;
    await step('the viewer loads the case (NiiVue, no error)', async () => {
      await suite.ask({ kind: 'activate' }, 180_000);
      await suite.ask({ kind: 'command', command: 'mrcl.openCaseViewer', args: [caseArg] });
      const f = await frameWith(page, '#gl', 180_000);
      // a string: this code runs in the page, whose DOM types the node tsconfig lacks
      const gl = await f.evaluate<string>("(() => { const g = document.createElement('canvas').getContext('webgl2'); return g ? String(g.getParameter(g.VERSION)) : 'none'; })()");
      log(`  webview WebGL2: ${gl}`);
      viewer = await frameWith(page, 'body[data-loaded="true"]', 120_000);
      const err = await viewer.$eval('#status', (e) => (e.hasAttribute('hidden') ? '' : (e.textContent ?? ''))).catch(() => '');
      if (/error|fail/i.test(err)) throw new Error(err);
      await shot('01-viewer');
    });
    await step('live Dice is shown', async () => {
      const t = await must(viewer, 'viewer').$eval('#dice', (e) => e.textContent ?? '');
      if (!/Dice 2D [0-9.]+ .*3D [0-9.]+/.test(t)) throw new Error(`dice text: "${t}"`);
      log(`  ${t}`);
    });
    await step('toggling the Dice overlay and the mask changes the overlay state', async () => {
      const v = must(viewer, 'viewer');
      const before = await v.$eval('body', (b) => b.dataset['overlays'] ?? '');
      await v.click('#show-dice');
      await v.click('#show-mask');
      await waitFor(`overlays after toggling (before: ${before})`, async () => JSON.parse(await v.$eval('body', (b) => b.dataset['overlays'] ?? '{}')) as Record<string, unknown>, (o) => o['dice'] === true && o['mask'] === false, 10_000);
      await shot('02-dice-overlay');
    });
    await step('clicking a word in the report shows its patch map in the viewer', async () => {
      const v = must(viewer, 'viewer');
      // opened once the viewer has loaded: see WEBVIEWS_ONE_AT_A_TIME
      await suite.ask({ kind: 'command', command: 'mrcl.openReportAttention', args: [caseArg] });
      report = await frameWith(page, '#report .word', 60_000);
      await report.click('#report .word[data-index="2"]');
      await waitFor('the viewer\'s word overlay after clicking word 2', () => wordOf(v), (w) => w === '2', 20_000);
      const ov = JSON.parse(await v.$eval('body', (b) => b.dataset['overlays'] ?? '{}')) as Record<string, unknown>;
      if (typeof ov['word'] !== 'string' || !String(ov['word']).includes(fx.words[2]!)) throw new Error(`overlays ${JSON.stringify(ov)}`);
      await shot('03-word-overlay');
    });
    await step('clicking in the viewer shades the report by the patch under it', async () => {
      const canvas = await must(viewer, 'viewer').$('#gl');
      const box = await canvas!.boundingBox();
      await canvas!.click({ position: { x: box!.width * 0.3, y: box!.height * 0.4 } });
      await waitFor('the report caption naming a patch', () => must(report, 'report').$eval('#caption', (e) => e.textContent ?? ''), (c) => /patch \(\d+, \d+, \d+\) [a-z ]+ \(voxel \d+, \d+, \d+\)/.test(c), 20_000);
      const readout = await must(viewer, 'viewer').$eval('#readout', (e) => e.textContent ?? '');
      if (!/^voxel \(\d+, \d+, \d+\) · .* mm · image -?[\d.e+-]+ .*heatmap/.test(readout)) throw new Error(`crosshair readout "${readout}"`);
      await shot('04-patch-shading');
    });
    await step('the viewer switches the heatmap between arms and its colormap', async () => {
      const v = must(viewer, 'viewer');
      const before = await v.$eval('body', (b) => b.dataset['fold'] ?? '');
      if (!/pretrained[\\/]fold-0$/.test(before)) throw new Error(`first heatmap from "${before}", expected the proposed init`);
      const diceBefore = await v.$eval('#dice', (e) => e.textContent ?? '');
      const options = await v.$$eval('#heatmap-source option', (o) => o.map((x) => x.textContent ?? ''));
      if (options.join('|') !== 'pretrained · fold-0|random · fold-0') throw new Error(`heatmap sources ${JSON.stringify(options)}`);
      await v.selectOption('#heatmap-source', { label: 'random · fold-0' });
      await waitFor('the random arm\'s heatmap loaded', () => v.$eval('body', (b) => `${b.dataset['loaded']}|${b.dataset['fold'] ?? ''}`), (x) => /^true\|.*random[\\/]fold-0$/.test(x), 60_000);
      const diceAfter = await v.$eval('#dice', (e) => e.textContent ?? '');
      if (diceAfter === diceBefore) throw new Error(`live Dice unchanged after switching arms: ${diceAfter}`);
      await v.selectOption('#colormap', 'viridis');
      const cm = await v.$eval('body', (b) => b.dataset['colormap'] ?? '');
      if (cm !== 'viridis') throw new Error(`colormap "${cm}"`);
      await shot('04b-random-arm-viridis');
      await v.selectOption('#heatmap-source', { label: 'pretrained · fold-0' });
      await waitFor('the proposed arm\'s heatmap back', () => v.$eval('body', (b) => `${b.dataset['loaded']}|${b.dataset['fold'] ?? ''}`), (x) => /^true\|.*pretrained[\\/]fold-0$/.test(x), 60_000);
    });
    await step('Enter on a focused report word shows its patch map in the viewer', async () => {
      const r = must(report, 'report');
      const word = r.locator('#report .word[data-index="5"]');
      if ((await word.getAttribute('tabindex')) !== '0') throw new Error('word 5 is not focusable (tabindex 0)');
      await word.focus();
      const focused = await r.evaluate<string>("document.activeElement && document.activeElement.dataset ? (document.activeElement.dataset.index ?? '') : ''");
      if (focused !== '5') throw new Error(`focus is on "${focused}", not word 5`);
      await page.keyboard.press('Enter');
      await waitFor('the viewer\'s word overlay after Enter on word 5', () => wordOf(must(viewer, 'viewer')), (w) => w === '5', 20_000);
      const pressed = await r.$eval('#report .word[data-index="5"]', (e) => e.getAttribute('aria-pressed'));
      if (pressed !== 'true') throw new Error(`word 5 aria-pressed="${pressed}" after Enter`);
      // the panel re-renders on a selection: focus stays on the word, so Tab keeps moving from there
      const after = await r.evaluate<string>("(() => { const a = document.activeElement; return a ? `${a.tagName}:${a.getAttribute('data-index') ?? ''}` : 'none'; })()");
      if (after !== 'SPAN:5') throw new Error(`focus after Enter is on ${after}, not word 5`);
    });
    await step('the viewer and the report follow the light and high-contrast themes', async () => {
      await eachTheme(suite, [must(viewer, 'viewer'), must(report, 'report')], (tag) => shot(`05-viewer-report-${tag}`));
    });
    await step('after a reload the viewer and the report come back with the same case', async () => {
      const title = `${fx.caseId} · ${basename(fx.runDir)}`;
      // one editor group, the viewer in front: the report restores when its tab is shown (WEBVIEWS_ONE_AT_A_TIME)
      await suite.ask({ kind: 'command', command: 'workbench.action.joinAllGroups' });
      await page.locator('.tabs-container .tab', { hasText: title }).click();
      await waitFor('one editor group on screen', () => page.evaluate<number>("document.querySelectorAll('.part.editor .editor-group-container').length"), (n) => n === 1, 10_000);
      // the workbench saves its layout every few seconds, and only while its page has the focus:
      // a loaded machine can take the focus away (another window, a slow paint), so every probe
      // gives it back until the saved layout is the one on screen (state, not time)
      const saved = async () => {
        const focus = await page.evaluate<boolean>('document.hasFocus()');
        if (!focus) await page.bringToFront();
        return { focus, groups: await persistedGroups(page) };
      };
      await page.bringToFront();
      await waitFor('the workbench saving one editor group, the viewer in front', saved, ({ groups: g }) => g.length === 1 && g[0]![0] === CASE_VIEWER && g[0]!.includes(REPORT_PANEL), 120_000);
      await page.reload();
      viewer = report = undefined;
      // nothing asks the suite to activate the extension now: the panels' activation events and serializers must do it
      const v = await frameWith(page, 'body[data-loaded="true"]', 120_000);
      if ((await v.title()) !== title) throw new Error(`restored viewer shows "${await v.title()}", want "${title}"`);
      // the restored tabs appear once the workbench has laid out the restored group
      const reportTab = page.locator('.tabs-container .tab', { hasText: `Report attention · ${fx.caseId}` });
      await waitFor('the restored report tab', () => reportTab.count(), (n) => n === 1, 120_000);
      await reportTab.click();
      const r = await frameWith(page, '#report .word', 120_000);
      const h = await r.$eval('h2', (e) => e.textContent ?? '');
      if (!h.includes(fx.caseId)) throw new Error(`restored report header "${h}" does not name ${fx.caseId}`);
      viewer = v;
      report = r;
      await shot('06-restored');
    });
    await step('inline attention shades the report in a text editor; the toggle clears and restores it', async () => {
      await suite.ask({ kind: 'activate' }, 120_000); // a no-op when the restored panels activated it
      // the run appears in the workspace (as a run made there): its attention file is what inline attention looks up
      runIntoWorkspace(fx, wsDir);
      await checkInlineAttention(page, suite, fx.reportPath, (name) => shot(`07-${name}`));
    });
    await step('the inline hover gives the word\'s weight; its link opens the viewer at that word', async () => {
      const h = await hoverAndOpenViewer(page, fx.words, (name) => shot(`07-${name}`));
      log(`  hover: ${h.line}`);
      // the link names the workspace's copy of the run: a second viewer, at the word
      await waitFor(`a second viewer showing word ${h.word}`, () => loadedViewers(page), (w) => w.length === 2 && w.includes(String(h.word)), 120_000);
      await shot('08-viewer-from-hover');
    });
    await step('the dashboard restores the curves and fold AUCs from events.jsonl', async () => {
      // the case panels are done with: closing them (two WebGL viewers) keeps chromium's memory down
      await suite.ask({ kind: 'command', command: 'workbench.action.closeAllEditors' });
      await suite.ask({ kind: 'command', command: 'mrcl.openDashboard', args: [{ runDir: fx.runDir }] });
      const d = await frameWith(page, '#charts .chart canvas', 120_000);
      const rows = await d.$$eval('#folds tr', (r) => r.length);
      if (rows !== 2) throw new Error(`${rows - 1} fold rows`);
      await shot('09-dashboard');
    });
    await step('the results panel shows the tables with mean ± std', async () => {
      await suite.ask({ kind: 'command', command: 'mrcl.openResultsPanel', args: [{ runDir: fx.runDir }] });
      results = await frameWith(page, '#table-table1 td.stat', 120_000);
      const t = await results.$eval('#table-table1 td.stat', (e) => e.textContent ?? '');
      if (!/^0\.\d{3} ± 0\.\d{3}/.test(t)) throw new Error(`cell "${t}"`);
      await shot('10-results');
    });
    await step('the results panel follows the light and high-contrast themes', async () => {
      await eachTheme(suite, [must(results, 'results panel')], (tag) => shot(`11-results-${tag}`));
    });
    await step('CSV export of table1 writes what the engine renders for it', async () => {
      await checkCsvExport(page, must(results, 'results panel'), fx.resultsPath, 'table1');
    });
    await step('Compare with another run shows both runs side by side', async () => {
      await checkCompare(page, must(results, 'results panel'), fx.resultsPath, fx.otherResultsPath);
      await shot('12-compare');
    });
    await step('a .nii.gz opens in the read-only NIfTI editor (Open With)', async () => {
      await suite.ask({ kind: 'command', command: 'workbench.action.closeAllEditors' });
      const image = join(wsDir, 'cohort', 'images', `${fx.caseId}.nii.gz`);
      await suite.ask({ kind: 'openWith', path: image, viewType: 'mrcl.niftiViewer' });
      const v = await frameWith(page, 'body[data-loaded="true"]', 120_000);
      if ((await v.title()) !== `${fx.caseId}.nii.gz`) throw new Error(`editor shows "${await v.title()}"`);
      // one volume, no case: no overlays to switch, no Dice
      const extras = await v.evaluate<string>("[...['#heatmap-source', '#show-mask', '#show-heatmap', '#show-dice', '#show-word', '#threshold', '#colormap', '#largest'].filter((q) => document.querySelector(q)), document.querySelector('#dice')?.textContent ?? ''].join(' ').trim()");
      if (extras !== '') throw new Error(`a lone volume shows case controls: "${extras}"`);
      await shot('13-nifti-editor');
    });
  } finally {
    writeFileSync(done, '');
    await context.close().catch(() => undefined);
    server.kill('SIGTERM');
    rmSync(tmp, { recursive: true, force: true });
  }
  log(`${((Date.now() - started) / 1000).toFixed(0)} s; screenshots and logs in ${ART}`);
  console.log(`e2e-panels: ${failed === 0 ? 'all passed' : `${failed} failed`}`);
  return failed === 0 ? 0 : 1;
}

main().then((c) => process.exit(c), (e: unknown) => {
  console.error(`e2e-panels: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});

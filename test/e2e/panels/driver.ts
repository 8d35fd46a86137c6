// End-to-end check of the webviews in real VS Code (code-server + chromium,
// as test/e2e/driver.ts): a synthetic case with a fixture run; the viewer
// loads it (NiiVue, overlays), overlays are toggled, a word is clicked in
// the report panel and the viewer's word overlay changes. Screenshots go to
// test-artifacts/e2e-panels/.
// Usage: node esbuild.mjs && bash scripts/package-vsix.sh && node --import tsx test/e2e/panels/driver.ts
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as esbuild from 'esbuild';
import { chromium, type Frame, type Page } from 'playwright-core';
import { makePanelFixture } from './fixture';

const CODE_SERVER = process.env.MRCL_CODE_SERVER ?? resolve('.tools/code-server-4.100.3/node_modules/.bin/code-server');
const VSIX = resolve('out/mri-report-cl.vsix');
const ART = resolve('test-artifacts/e2e-panels');
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { publisher: string; name: string; version: string };
const log = (s: string) => console.log(`e2e-panels: ${s}`);

async function frameWith(page: Page, selector: string, timeoutMs: number): Promise<Frame> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    for (const f of page.frames()) if (await f.$(selector).catch(() => null)) return f;
    if (Date.now() > end) throw new Error(`no webview frame shows ${selector} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function main(): Promise<number> {
  if (!existsSync(CODE_SERVER) || !existsSync(VSIX)) throw new Error(`needs ${CODE_SERVER} and ${VSIX}`);
  rmSync(ART, { recursive: true, force: true });
  mkdirSync(ART, { recursive: true });
  const tmp = mkdtempSync(join(tmpdir(), 'mrcl-panels-'));
  const ud = join(tmp, 'ud');
  const ext = join(tmp, 'ext');
  const wsDir = join(tmp, 'ws');
  const env = { ...process.env, XDG_CONFIG_HOME: join(tmp, 'config'), XDG_DATA_HOME: join(tmp, 'data') };
  mkdirSync(join(ud, 'User'), { recursive: true });
  writeFileSync(join(ud, 'User', 'settings.json'), JSON.stringify({ 'workbench.startupEditor': 'none', 'git.enabled': false, 'remote.autoForwardPorts': false, 'extensions.autoUpdate': false }));
  const inst = spawnSync(CODE_SERVER, ['--install-extension', VSIX, '--user-data-dir', ud, '--extensions-dir', ext], { env, encoding: 'utf8' });
  if (inst.status !== 0) throw new Error(`install failed: ${inst.stderr}`);
  const extDir = join(ext, `${pkg.publisher}.${pkg.name}-${pkg.version}`);
  const synth = spawnSync(process.execPath, ['bin/mrcl.js', 'synth', '--out', join(wsDir, 'cohort'), '--internal', '4', '--external', '0', '--shape', '24,24,16', '--seed', '3'], { encoding: 'utf8' });
  if (synth.status !== 0) throw new Error(`synth failed: ${synth.stderr}`);
  const fx = makePanelFixture(wsDir, join(wsDir, 'cohort', 'manifest.json'));
  const done = join(tmp, 'done');
  writeFileSync(join(wsDir, 'panels-fixture.json'), JSON.stringify({ ...fx, done }));
  const suite = join(tmp, 'suite.js');
  await esbuild.build({ entryPoints: ['test/e2e/panels/suite.ts'], outfile: suite, bundle: true, platform: 'node', format: 'cjs', external: ['vscode'], logLevel: 'warning' });

  const port = 20000 + Math.floor(Math.random() * 20000);
  const base = `http://127.0.0.1:${port}`;
  const server = spawn(CODE_SERVER, ['--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--user-data-dir', ud, '--extensions-dir', ext], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  server.stderr!.on('data', (d) => appendFileSync(join(ART, 'code-server.log'), d));
  let failed = 0;
  let pageRef: Page | undefined;
  const step = async (name: string, fn: () => Promise<void>) => {
    try {
      await fn();
      log(`ok - ${name}`);
    } catch (e) {
      failed++;
      log(`not ok - ${name}: ${(e as Error).message.split('\n')[0]}`);
      await pageRef?.screenshot({ path: join(ART, `failed-${failed}.png`) }).catch(() => undefined);
    }
  };
  const context = await chromium.launchPersistentContext(join(tmp, 'browser'), {
    executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1440, height: 900 },
    args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });
  try {
    for (let i = 0; i < 120; i++) {
      if (await fetch(`${base}/healthz`).then((r) => r.ok).catch(() => false)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const page = await context.newPage();
    pageRef = page;
    page.on('console', (m) => appendFileSync(join(ART, 'console.log'), `[${m.type()}] ${m.text()}\n`));
    await page.exposeFunction('codeAutomationExit', () => undefined);
    await page.exposeFunction('codeAutomationLog', () => undefined);
    const host = base.replace(/^http:\/\//, '');
    const payload = [['extensionDevelopmentPath', `vscode-remote://${host}${extDir}`], ['extensionTestsPath', `vscode-remote://${host}${suite}`], ['skipWelcome', 'true']];
    await page.goto(`${base}/?folder=${encodeURIComponent(wsDir)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);

    let viewer: Frame | undefined;
    let report: Frame | undefined;
    await step('the viewer loads the case (NiiVue, no error)', async () => {
      const f = await frameWith(page, '#gl', 180_000);
      // a string: this code runs in the page, whose DOM types the node tsconfig lacks
      const gl = await f.evaluate<string>("(() => { const g = document.createElement('canvas').getContext('webgl2'); return g ? String(g.getParameter(g.VERSION)) : 'none'; })()");
      log(`  webview WebGL2: ${gl}`);
      viewer = await frameWith(page, 'body[data-loaded="true"]', 120_000);
      const err = await viewer.$eval('#status', (e) => (e.hasAttribute('hidden') ? '' : (e.textContent ?? ''))).catch(() => '');
      if (/error|fail/i.test(err)) throw new Error(err);
      await page.screenshot({ path: join(ART, '01-viewer.png') });
    });
    await step('live Dice is shown', async () => {
      const t = await viewer!.$eval('#dice', (e) => e.textContent ?? '');
      if (!/Dice 2D [0-9.]+ .*3D [0-9.]+/.test(t)) throw new Error(`dice text: "${t}"`);
      log(`  ${t}`);
    });
    await step('toggling the Dice overlay and the mask changes the overlay state', async () => {
      const before = await viewer!.$eval('body', (b) => b.dataset['overlays'] ?? '');
      await viewer!.click('#show-dice');
      await viewer!.click('#show-mask');
      await new Promise((r) => setTimeout(r, 500));
      const after = JSON.parse(await viewer!.$eval('body', (b) => b.dataset['overlays'] ?? '{}')) as Record<string, unknown>;
      if (after['dice'] !== true || after['mask'] !== false) throw new Error(`overlays ${before} → ${JSON.stringify(after)}`);
      await page.screenshot({ path: join(ART, '02-dice-overlay.png') });
    });
    await step('clicking a word in the report shows its patch map in the viewer', async () => {
      report = await frameWith(page, '#report .word', 60_000).catch(async (e: unknown) => {
        for (const f of page.frames()) {
          const t = await f.evaluate<string>("`${document.title} | ${document.body ? document.body.innerHTML.slice(0, 300) : ''}`").catch(() => '?');
          if (/Report|root/.test(t)) log(`  frame ${f.url().slice(0, 80)}: ${t}`);
        }
        throw e;
      });
      await report.click('#report .word[data-index="2"]');
      const end = Date.now() + 20_000;
      for (;;) {
        const w = await viewer!.$eval('body', (b) => b.dataset['word'] ?? '');
        if (w === '2') break;
        if (Date.now() > end) throw new Error(`viewer word overlay is "${w}"`);
        await new Promise((r) => setTimeout(r, 300));
      }
      const ov = JSON.parse(await viewer!.$eval('body', (b) => b.dataset['overlays'] ?? '{}')) as Record<string, unknown>;
      if (typeof ov['word'] !== 'string' || !String(ov['word']).includes(fx.words[2]!)) throw new Error(`overlays ${JSON.stringify(ov)}`);
      await page.screenshot({ path: join(ART, '03-word-overlay.png') });
    });
    await step('clicking in the viewer shades the report by the patch under it', async () => {
      const canvas = await viewer!.$('#gl');
      const box = await canvas!.boundingBox();
      await canvas!.click({ position: { x: (box!.width * 0.3), y: box!.height * 0.4 } });
      const end = Date.now() + 20_000;
      for (;;) {
        const cap = await report!.$eval('#caption', (e) => e.textContent ?? '');
        if (/patch \d+/.test(cap)) break;
        if (Date.now() > end) throw new Error(`caption "${cap}"`);
        await new Promise((r) => setTimeout(r, 300));
      }
      await page.screenshot({ path: join(ART, '04-patch-shading.png') });
    });
    writeFileSync(`${done}.phase2`, '');
    await step('the dashboard restores the curves and fold AUCs from events.jsonl', async () => {
      const d = await frameWith(page, '#charts .chart canvas', 120_000);
      const rows = await d.$$eval('#folds tr', (r) => r.length);
      if (rows !== 2) throw new Error(`${rows - 1} fold rows`);
      await page.screenshot({ path: join(ART, '05-dashboard.png') });
    });
    writeFileSync(`${done}.phase3`, '');
    await step('the results panel shows the tables with mean ± std', async () => {
      const r = await frameWith(page, '#table-table1 td.stat', 120_000);
      const t = await r.$eval('#table-table1 td.stat', (e) => e.textContent ?? '');
      if (!/^0\.\d{3} ± 0\.\d{3}/.test(t)) throw new Error(`cell "${t}"`);
      await page.screenshot({ path: join(ART, '06-results.png') });
    });
  } finally {
    writeFileSync(done, '');
    await context.close().catch(() => undefined);
    server.kill('SIGTERM');
    rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`e2e-panels: ${failed === 0 ? 'all passed' : `${failed} failed`}`);
  return failed === 0 ? 0 : 1;
}

main().then((c) => process.exit(c), (e: unknown) => {
  console.error(`e2e-panels: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});

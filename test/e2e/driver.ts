// Runs the end-to-end tests in real VS Code: code-server (installed by
// scripts/install-e2e-tools.sh) with the packaged VSIX installed, driven by
// Debian's chromium through playwright-core.
//   1. the extension-host suite (test/e2e/suite) through the workbench's
//      `payload` URL parameter, as VS Code's own browser tests do;
//   2. a browser-driven check as a person would do it: command palette →
//      command → the Experiments view shows the run, with screenshots in
//      test-artifacts/e2e/.
// Usage: node --import tsx test/e2e/driver.ts (scripts/e2e.sh does it all).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as esbuild from 'esbuild';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { uiCheck } from './ui-check';
import { tinyConfig } from './tiny-config';
import { freePort } from './free-port';

const CODE_SERVER = process.env.MRCL_CODE_SERVER ?? '';
const VSIX = resolve(process.env.MRCL_VSIX ?? 'out/mri-report-cl.vsix');
const CHROMIUM = process.env.MRCL_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = resolve('test-artifacts/e2e');
const SUITE_TIMEOUT_MS = 12 * 60_000;
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { publisher: string; name: string; version: string };
const EXT_FOLDER = `${pkg.publisher}.${pkg.name}-${pkg.version}`;

const log = (s: string) => console.log(`e2e: ${s}`);

async function waitHealthy(port: number, server: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (server.exitCode !== null) throw new Error(`code-server exited with code ${server.exitCode} (see ${ARTIFACTS}/code-server.log)`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`code-server did not answer /healthz within ${timeoutMs} ms`);
}

function mrcl(args: string[]): void {
  const r = spawnSync(process.execPath, ['bin/mrcl.js', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mrcl ${args.join(' ')} failed: ${r.stderr}`);
}

/** A workspace with a tiny synthetic cohort (seconds to train on), and optionally a config for it. */
function prepareWorkspace(dir: string, withConfig: boolean): void {
  mkdirSync(dir, { recursive: true });
  mrcl(['synth', '--out', join(dir, 'tiny-cohort'), '--internal', '16', '--external', '6', '--shape', '24,24,16', '--seed', '3']);
  if (withConfig) writeFileSync(join(dir, 'tiny.mrcl.json'), `${JSON.stringify(tinyConfig('tiny'), null, 2)}\n`);
}

async function buildSuite(out: string): Promise<void> {
  await esbuild.build({
    entryPoints: ['test/e2e/suite/index.ts'],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
    sourcemap: 'inline',
    logLevel: 'warning',
  });
}

async function launchBrowser(profile: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1440, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });
}

/** Console noise of an offline workbench that says nothing about the extension. */
function noise(text: string): boolean {
  return /vsda|marketplace|gallery|open-vsx|ERR_NAME_NOT_RESOLVED|Failed to load resource|update\.code\.visualstudio\.com/i.test(text);
}

const SUMMARY = /extension host: (\d+) passed, (\d+) failed, (\d+) skipped/;

/** Resolves with the suite's exit code: from the workbench, or from the summary line the suite writes last. */
async function extensionHostSuite(context: BrowserContext, base: string, workspace: string, extDir: string, suite: string, report: string, screenshot = '00-extension-tests.png'): Promise<number> {
  const page = await context.newPage();
  const exited = new Promise<number>((res) => {
    void page.exposeFunction('codeAutomationExit', (code: number) => res(code));
    // the workbench's exit after the tests can stall on shutdown in the web; the report is enough
    const timer = setInterval(() => {
      const m = existsSync(report) ? SUMMARY.exec(readFileSync(report, 'utf8')) : null;
      if (m) {
        clearInterval(timer);
        setTimeout(() => res(m[2] === '0' ? 0 : 1), 3000);
      }
    }, 500);
  });
  await page.exposeFunction('codeAutomationLog', (type: string, args: unknown[]) => {
    const line = `[${type}] ${args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}`;
    appendFileSync(join(ARTIFACTS, 'extension-host.log'), `${line}\n`);
    if (line.includes('[e2e]')) console.log(line.slice(line.indexOf('[e2e]')));
  });
  page.on('console', (m) => {
    if (!noise(m.text())) appendFileSync(join(ARTIFACTS, 'browser-console.log'), `[${m.type()}] ${m.text()}\n`);
  });
  const host = base.replace(/^http:\/\//, '');
  const payload = [
    ['extensionDevelopmentPath', `vscode-remote://${host}${extDir}`],
    ['extensionTestsPath', `vscode-remote://${host}${suite}`],
    ['skipWelcome', 'true'],
  ];
  await page.goto(`${base}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
  const timeout = new Promise<number>((res) =>
    setTimeout(() => {
      log(`the extension-host suite did not finish within ${SUITE_TIMEOUT_MS / 1000} s`);
      res(124);
    }, SUITE_TIMEOUT_MS).unref(),
  );
  const code = await Promise.race([exited, timeout]);
  await page.screenshot({ path: join(ARTIFACTS, screenshot) }).catch(() => undefined);
  await page.close().catch(() => undefined);
  return code;
}

const BASE_SETTINGS = {
  'workbench.startupEditor': 'none',
  'git.enabled': false,
  'remote.autoForwardPorts': false,
  'extensions.autoUpdate': false,
  'workbench.tips.enabled': false,
  'telemetry.telemetryLevel': 'off',
};

interface Server {
  base: string;
  stop(): Promise<void>;
}

/** A code-server on a free port; `trust: false` keeps workspace trust on (folders open in Restricted Mode). */
async function startServer(ud: string, ext: string, env: NodeJS.ProcessEnv, trust: boolean, logName: string): Promise<Server> {
  const port = await freePort();
  const args = ['--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check', '--user-data-dir', ud, '--extensions-dir', ext];
  if (trust) args.push('--disable-workspace-trust');
  const server = spawn(CODE_SERVER, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const serverLog = join(ARTIFACTS, logName);
  server.stdout!.on('data', (d) => appendFileSync(serverLog, d));
  server.stderr!.on('data', (d) => appendFileSync(serverLog, d));
  const stop = async () => {
    server.kill('SIGTERM');
    await new Promise((r) => (server.exitCode !== null ? r(undefined) : server.once('exit', r)));
  };
  try {
    await waitHealthy(port, server);
  } catch (e) {
    await stop();
    throw e;
  }
  return { base: `http://127.0.0.1:${port}`, stop };
}

function userData(dir: string, settings: Record<string, unknown>): string {
  mkdirSync(join(dir, 'User'), { recursive: true });
  writeFileSync(join(dir, 'User', 'settings.json'), JSON.stringify({ ...BASE_SETTINGS, ...settings }, null, 2));
  return dir;
}

function readSummary(report: string, copyTo: string): RegExpExecArray | null {
  const lines = existsSync(report) ? readFileSync(report, 'utf8') : '';
  writeFileSync(copyTo, lines);
  return SUMMARY.exec(lines);
}

async function main(): Promise<number> {
  if (!CODE_SERVER || !existsSync(CODE_SERVER)) throw new Error(`code-server not found (MRCL_CODE_SERVER=${CODE_SERVER}); run scripts/install-e2e-tools.sh`);
  if (!existsSync(VSIX)) throw new Error(`${VSIX} not found; run scripts/package-vsix.sh`);
  rmSync(ARTIFACTS, { recursive: true, force: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  const tmp = mkdtempSync(join(tmpdir(), 'mrcl-e2e-'));
  const ext = join(tmp, 'extensions');
  const ud = userData(join(tmp, 'user-data'), {});
  const report = join(tmp, 'report.txt');
  const env = { ...process.env, XDG_CONFIG_HOME: join(tmp, 'config'), XDG_DATA_HOME: join(tmp, 'data'), MRCL_E2E_REPORT: report };

  log(`installing ${VSIX}`);
  const inst = spawnSync(CODE_SERVER, ['--install-extension', VSIX, '--user-data-dir', ud, '--extensions-dir', ext], { env, encoding: 'utf8' });
  if (inst.status !== 0) throw new Error(`code-server --install-extension failed: ${inst.stderr || inst.stdout}`);
  const extDir = join(ext, EXT_FOLDER);
  if (!existsSync(join(extDir, 'dist', 'worker.js'))) throw new Error(`${extDir}/dist/worker.js missing after install`);

  const suite = join(tmp, 'suite', 'index.js');
  await buildSuite(suite);
  const ws1 = join(tmp, 'ws-extension-tests');
  const ws2 = join(tmp, 'ws-ui');
  const ws3 = join(tmp, 'ws-untrusted');
  prepareWorkspace(ws1, false);
  prepareWorkspace(ws2, true);
  prepareWorkspace(ws3, true);

  let context: BrowserContext | undefined;
  const servers: Server[] = [];
  try {
    const server = await startServer(ud, ext, env, true, 'code-server.log');
    servers.push(server);
    log(`code-server ${server.base} ready`);
    context = await launchBrowser(join(tmp, 'browser'));

    log('extension-host suite…');
    const code = await extensionHostSuite(context, server.base, ws1, extDir, suite, report);
    const summary = readSummary(report, join(ARTIFACTS, 'extension-tests.txt'));
    if (!summary) log(`the suite wrote no summary (exit code ${code}); see ${ARTIFACTS}/extension-host.log`);

    log('browser check…');
    const page: Page = await context.newPage();
    const ui = await uiCheck(page, server.base, ws2, ARTIFACTS, log);
    await page.close().catch(() => undefined);

    log('restricted mode (untrusted workspace)…');
    const report2 = join(tmp, 'report-untrusted.txt');
    const ud2 = userData(join(tmp, 'user-data-untrusted'), { 'security.workspace.trust.startupPrompt': 'never', 'security.workspace.trust.banner': 'never' });
    const env2 = { ...env, MRCL_E2E_SUITE: 'untrusted', MRCL_E2E_REPORT: report2 };
    const untrusted = await startServer(ud2, ext, env2, false, 'code-server-untrusted.log');
    servers.push(untrusted);
    const code2 = await extensionHostSuite(context, untrusted.base, ws3, extDir, suite, report2, '11-untrusted.png');
    const summary2 = readSummary(report2, join(ARTIFACTS, 'extension-tests-untrusted.txt'));

    const count = (m: RegExpExecArray | null, i: number, missing: number) => (m ? Number(m[i]) : missing);
    const passed = count(summary, 1, 0) + ui.passed + count(summary2, 1, 0);
    const failed = count(summary, 2, 1) + ui.failed + count(summary2, 2, 1) + (code !== 0 && summary?.[2] === '0' ? 1 : 0) + (code2 !== 0 && summary2?.[2] === '0' ? 1 : 0);
    const skipped = count(summary, 3, 0) + count(summary2, 3, 0);
    log(`screenshots and logs in ${ARTIFACTS}`);
    console.log(`e2e: ${passed} passed, ${failed} failed, ${skipped} skipped`);
    return failed === 0 ? 0 : 1;
  } finally {
    await context?.close().catch(() => undefined);
    for (const s of servers) await s.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`e2e: ${e instanceof Error ? e.message : String(e)}`);
    console.log('e2e: 0 passed, 1 failed');
    process.exit(1);
  },
);

// The browser-driven check, as a person would do it: the command palette →
// an MRI-Report CL command → the Experiments view shows the run. Each step
// leaves a screenshot in test-artifacts/e2e/.
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';

export interface UiResult {
  passed: number;
  failed: number;
}

const RUN_TIMEOUT_MS = 5 * 60_000;

async function palette(page: Page, command: string, shot: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input').first();
  await input.waitFor({ state: 'visible', timeout: 15_000 });
  await input.fill(`>${command}`);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: command }).first();
  await row.waitFor({ state: 'visible', timeout: 15_000 });
  await page.screenshot({ path: shot });
  await page.keyboard.press('Enter');
}

/** Drags the side bar's edge so tree descriptions fit in the screenshots. */
async function widenSideBar(page: Page, width: number): Promise<void> {
  const bar = await page.locator('.part.sidebar').first().boundingBox();
  if (!bar || bar.width >= width) return;
  const x = bar.x + bar.width;
  const y = bar.y + bar.height / 2;
  await page.mouse.move(x - 1, y);
  await page.mouse.down();
  await page.mouse.move(bar.x + width, y, { steps: 8 });
  await page.mouse.up();
}

/** The Experiments view, opened from the activity bar. */
async function openView(page: Page): Promise<Locator> {
  const pane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: /experiments/i }) }).first();
  if (!(await pane.isVisible().catch(() => false))) {
    await page.locator('.activitybar [aria-label^="MRI-Report CL"]').first().click({ timeout: 15_000 });
  }
  await pane.waitFor({ state: 'visible', timeout: 15_000 });
  await widenSideBar(page, 560);
  return pane;
}

/** Waits until a tree row with `label` shows `status` in its text; returns it. */
async function waitRow(pane: Locator, label: string | RegExp, status: RegExp, timeoutMs: number, onSeen?: () => Promise<void>): Promise<Locator> {
  const row = pane.locator('.monaco-list-row', { hasText: label }).first();
  await row.waitFor({ state: 'visible', timeout: timeoutMs });
  if (onSeen) await onSeen();
  const end = Date.now() + timeoutMs;
  for (;;) {
    const text = (await row.textContent()) ?? '';
    if (status.test(text)) return row;
    if (/failed/.test(text) && !status.test('failed')) throw new Error(`"${text}" failed`);
    if (Date.now() > end) throw new Error(`row "${text}" did not reach ${status} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function uiCheck(page: Page, base: string, workspace: string, artifacts: string, log: (s: string) => void): Promise<UiResult> {
  const result: UiResult = { passed: 0, failed: 0 };
  const shot = (name: string) => join(artifacts, name);
  const step = async (name: string, fn: () => Promise<void>) => {
    try {
      await fn();
      result.passed++;
      log(`ok - browser: ${name}`);
    } catch (e) {
      result.failed++;
      log(`not ok - browser: ${name}: ${(e as Error).message.split('\n')[0]}`);
      await page.screenshot({ path: shot(`failed-${name.replace(/\W+/g, '-')}.png`) }).catch(() => undefined);
    }
  };

  await step('the workbench opens with the extension active (status bar item)', async () => {
    await page.goto(`${base}/?folder=${encodeURIComponent(workspace)}`);
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
    await page.locator('.statusbar', { hasText: 'MRCL' }).waitFor({ state: 'visible', timeout: 60_000 });
    await page.screenshot({ path: shot('01-workbench.png') });
  });

  await step('palette → Generate Synthetic Cohort → the job shows done in the Experiments view', async () => {
    await palette(page, 'MRI-Report CL: Generate Synthetic Cohort', shot('02-palette-synth.png'));
    const input = page.locator('.quick-input-widget input').first();
    for (let i = 0; (await input.inputValue()) !== 'synthetic-cohort'; i++) {
      if (i > 60) throw new Error(`the output-folder box shows "${await input.inputValue()}", expected the default "synthetic-cohort"`);
      await new Promise((r) => setTimeout(r, 250));
    }
    await page.screenshot({ path: shot('03-output-folder.png') });
    await input.press('Enter');
    // then the cohort size: Tiny keeps the job short
    const tiny = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Tiny' }).first();
    await tiny.waitFor({ state: 'visible', timeout: 15_000 });
    await tiny.click();
    const pane = await openView(page);
    await waitRow(pane, 'Synthetic cohort → synthetic-cohort', /done$/, RUN_TIMEOUT_MS, () => page.screenshot({ path: shot('04-synth-running.png') }).then(() => undefined));
    await page.screenshot({ path: shot('05-synth-done.png') });
  });

  await step('palette → Run Experiment → the run shows done with its AUC under the experiment', async () => {
    await palette(page, 'MRI-Report CL: Run Experiment', shot('06-palette-run.png'));
    const pick = page.locator('.quick-input-list .monaco-list-row', { hasText: 'tiny.mrcl.json' }).first();
    await pick.waitFor({ state: 'visible', timeout: 15_000 });
    await page.screenshot({ path: shot('07-pick-config.png') });
    await page.keyboard.press('Enter');
    const pane = await openView(page);
    await pane.locator('.monaco-list-row', { hasText: /^tiny/ }).first().waitFor({ state: 'visible', timeout: 30_000 });
    const run = await waitRow(pane, /tiny-\d{8}-\d{6}/, /done · AUC \d\.\d{3}/, RUN_TIMEOUT_MS, () => page.screenshot({ path: shot('08-run-running.png') }).then(() => undefined));
    await page.screenshot({ path: shot('09-run-done.png') });
    await run.click();
    await pane.locator('.monaco-list-row', { hasText: 'pretrain' }).first().waitFor({ state: 'visible', timeout: 15_000 });
    await page.screenshot({ path: shot('10-run-stages.png') });
  });
  return result;
}

// A small sequential test harness for the extension host (no test framework
// is loaded into VS Code): each case runs in order, its result is logged and
// written to $MRCL_E2E_REPORT, and run() rejects when any case failed — the
// workbench then exits with a non-zero code.
import { appendFileSync } from 'node:fs';

export interface TestCase {
  name: string;
  fn: () => Promise<void> | void;
}

export class Skipped extends Error {}

/** Ends the current case as skipped, with the reason in the report. */
export function skip(reason: string): never {
  throw new Skipped(reason);
}

function report(line: string): void {
  console.log(`[e2e] ${line}`);
  const file = process.env.MRCL_E2E_REPORT;
  if (file) appendFileSync(file, `${line}\n`);
}

export async function runCases(cases: readonly TestCase[]): Promise<void> {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const c of cases) {
    const t0 = Date.now();
    try {
      await c.fn();
      passed++;
      report(`ok - ${c.name} (${Date.now() - t0} ms)`);
    } catch (e) {
      if (e instanceof Skipped) {
        skipped++;
        report(`skip - ${c.name}: ${e.message}`);
      } else {
        failed++;
        const err = e instanceof Error ? (e.stack ?? e.message) : String(e);
        report(`not ok - ${c.name} (${Date.now() - t0} ms)\n${err.split('\n').map((l) => `    ${l}`).join('\n')}`);
      }
    }
  }
  report(`extension host: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  if (failed) throw new Error(`${failed} end-to-end test(s) failed`);
}

/** Polls `probe` until it returns a value (not undefined/false) or the time is up. */
export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 250): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

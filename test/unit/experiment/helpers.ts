import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { synthesizeCohort } from '../../../src/engine/synth/cohort';
import type { ExperimentConfigInput } from '../../../src/shared/config';
import { TINY as TINY_E2E } from '../../e2e/tiny-config';

/**
 * A tiny but complete configuration: every stage runs in seconds on the cpu
 * backend. The end-to-end tests' one, on ./cohort and with every default
 * initialisation.
 */
const { initializations: _everyDefault, ...finetune } = TINY_E2E.finetune;
export const TINY: ExperimentConfigInput = { ...TINY_E2E, name: 'tiny', data: { ...TINY_E2E.data, manifest: 'cohort/manifest.json' }, finetune };

export async function tinyWorkspace(overrides: ExperimentConfigInput = {}, cohort = { internal: 16, external: 6 }): Promise<{ dir: string; configPath: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-exp-'));
  await synthesizeCohort({ out: join(dir, 'cohort'), internal: cohort.internal, external: cohort.external, shape: [24, 24, 16], seed: 3 });
  const config = deepMerge(TINY, overrides);
  const configPath = join(dir, 'tiny.mrcl.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  return { dir, configPath };
}

function deepMerge<T>(a: T, b: unknown): T {
  if (b === undefined) return a;
  if (typeof a !== 'object' || a === null || Array.isArray(a) || typeof b !== 'object' || b === null || Array.isArray(b)) return b as T;
  const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
  for (const [k, v] of Object.entries(b)) out[k] = deepMerge(out[k], v);
  return out as T;
}

/** The run folder a CLI child creates under `outDir`, once its events show a training step (rejects if the child exits first). */
export function firstStepRun(outDir: string, child: ChildProcess): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const dirs = existsSync(outDir) ? readdirSync(outDir) : [];
      const events = dirs.length ? join(outDir, dirs[0]!, 'events.jsonl') : '';
      if (events && existsSync(events) && readFileSync(events, 'utf8').includes('"type":"step"')) {
        clearInterval(timer);
        resolve(join(outDir, dirs[0]!));
      }
    }, 20);
    child.on('exit', () => {
      clearInterval(timer);
      reject(new Error('the run ended before it could be stopped'));
    });
  });
}

import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { synthesizeCohort } from '../../../src/engine/synth/cohort';
import type { ExperimentConfigInput } from '../../../src/shared/config';

/** A tiny but complete configuration: every stage runs in seconds on the cpu backend. */
export const TINY: ExperimentConfigInput = {
  name: 'tiny',
  data: { manifest: 'cohort/manifest.json', shape: [24, 24, 16] },
  tokenizer: { vocabSize: 400 },
  image: { width: 2 },
  text: { layers: 1, hidden: 16, heads: 2, intermediate: 32, attentionWindow: 16, maxWords: 32 },
  heads: { globalDim: 16, localDim: 8 },
  pretrain: { epochs: 1, batchSize: 6 },
  finetune: { epochs: 1, batchSize: 6, folds: 2, warmupEpochs: 0 },
};

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

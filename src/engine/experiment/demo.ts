// The demo: a synthetic cohort and the whole experiment on it, at a scale
// that finishes in minutes on a laptop CPU (documented in the README).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExperimentConfigInput } from '../../shared/config';
import type { EngineEvent } from '../../shared/events';
import type { RunOutcome } from '../../shared/protocol';
import { synthesizeCohort } from '../synth/cohort';
import { resolveConfig } from '../config/resolve';
import { runStudy } from './study';

export const DEMO_SHAPE: [number, number, number] = [64, 64, 40];

export const DEMO_CONFIG: ExperimentConfigInput = {
  name: 'demo',
  data: { manifest: 'cohort/manifest.json', shape: DEMO_SHAPE },
  tokenizer: { vocabSize: 800 },
  image: { width: 8 },
  text: { layers: 1, hidden: 32, heads: 2, intermediate: 64, attentionWindow: 32, maxWords: 64 },
  heads: { globalDim: 64, localDim: 32 },
  pretrain: { epochs: 8, batchSize: 8, stepSize: 4, gamma: 0.8 },
  finetune: { epochs: 6, batchSize: 8, warmupEpochs: 2, stepSize: 2, gamma: 0.5 },
  outDir: 'runs',
};

export async function runDemo(out: string, ctx: { signal?: AbortSignal; emit: (e: EngineEvent) => void; onRunDir?: (dir: string) => void }): Promise<RunOutcome> {
  mkdirSync(out, { recursive: true });
  ctx.emit({ type: 'log', level: 'info', message: `synthesising a cohort in ${join(out, 'cohort')}` });
  await synthesizeCohort({ out: join(out, 'cohort'), internal: 40, external: 12, shape: DEMO_SHAPE, seed: 42 });
  const config = resolveConfig(DEMO_CONFIG, 'demo config');
  const configPath = join(out, 'demo.mrcl.json');
  writeFileSync(configPath, `${JSON.stringify(DEMO_CONFIG, null, 2)}\n`);
  ctx.emit({ type: 'log', level: 'info', message: `config: ${configPath}` });
  return runStudy({ kind: 'experiment', config, baseDir: out, signal: ctx.signal, emit: ctx.emit, onRunDir: ctx.onRunDir });
}

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
import { setBackend } from '../backend';
import { encoderGrids } from '../networks/resnet3d';

/**
 * Two scales: with fast kernels (native oneDNN or libtensorflow) the
 * synthetic cohort's full 64×64×40 grid and width 8; on the pure-JS cpu
 * backend, where a 3D convolution is two orders of magnitude slower (and a
 * dilated one runs as several undilated ones over padded phases), a
 * 32×32×24 grid and width 4. Both at output stride 8 (layer3 and layer4
 * dilated): at stride 32 a 64×64×40 volume has a 2×2×2 attention grid, on
 * which every thresholded map is nearly the whole volume and Dice measures
 * nothing; at stride 8 it is the paper's 8×8×5 (4×4×3 at 32×32×24).
 */
export function demoScale(fastKernels: boolean): { shape: [number, number, number]; width: number } {
  return fastKernels ? { shape: [64, 64, 40], width: 8 } : { shape: [32, 32, 24], width: 4 };
}

export const DEMO_CONFIG: ExperimentConfigInput = {
  name: 'demo',
  data: { manifest: 'cohort/manifest.json', shape: [64, 64, 40] },
  tokenizer: { vocabSize: 800 },
  image: { width: 8, outputStride: 8 },
  text: { layers: 1, hidden: 32, heads: 2, intermediate: 64, attentionWindow: 32, maxWords: 160 },
  heads: { globalDim: 64, localDim: 32 },
  pretrain: { epochs: 8, batchSize: 8, stepSize: 4, gamma: 0.8 },
  finetune: { epochs: 6, batchSize: 8, warmupEpochs: 2, stepSize: 2, gamma: 0.5 },
  // the paper's rule (min–max, 0.01) keeps ~95% of the volume for a model
  // trained this briefly (the tables warn about it); the top 5% are a map
  // whose Dice can tell a focused model from an unfocused one
  explain: { rule: 'topPercent', topPercent: 5 },
  outDir: 'runs',
};

export async function runDemo(out: string, ctx: { signal?: AbortSignal; emit: (e: EngineEvent) => void; onRunDir?: (dir: string) => void }): Promise<RunOutcome> {
  mkdirSync(out, { recursive: true });
  const backend = await setBackend(undefined, { training: true });
  const fast = backend.name === 'tensorflow' || Boolean(backend.native?.active);
  const scale = demoScale(fast);
  const input: ExperimentConfigInput = { ...DEMO_CONFIG, data: { ...DEMO_CONFIG.data, shape: scale.shape }, image: { ...DEMO_CONFIG.image, width: scale.width } };
  const grids = encoderGrids(scale.shape, 8);
  ctx.emit({ type: 'log', level: 'info', message: `demo scale: ${scale.shape.join('×')} voxels, width ${scale.width} (${fast ? 'fast kernels' : 'pure-JS kernels'})` });
  ctx.emit({
    type: 'log',
    level: 'info',
    message: `explainability: output stride 8 (dilated layer3/layer4) gives a ${grids.layer4.join('×')} attention grid; at stride 32 it would be ${encoderGrids(scale.shape, 32).layer4.join('×')}, too coarse for Dice to mean anything`,
  });
  ctx.emit({
    type: 'log',
    level: 'info',
    message: "explainability: maps keep their top 5% voxels (explain.rule 'topPercent'); the paper's rule (min–max, > 0.01) keeps nearly the whole volume for a model trained this briefly",
  });
  ctx.emit({ type: 'log', level: 'info', message: `synthesising a cohort in ${join(out, 'cohort')}` });
  await synthesizeCohort({ out: join(out, 'cohort'), internal: 40, external: 12, shape: scale.shape, seed: 42 });
  const config = resolveConfig(input, 'demo config');
  const configPath = join(out, 'demo.mrcl.json');
  writeFileSync(configPath, `${JSON.stringify(input, null, 2)}\n`);
  ctx.emit({ type: 'log', level: 'info', message: `config: ${configPath}` });
  return runStudy({ kind: 'experiment', config, baseDir: out, signal: ctx.signal, emit: ctx.emit, onRunDir: ctx.onRunDir });
}

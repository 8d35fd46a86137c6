// Resumable checkpoints: the model's state dict (PyTorch layout, so PyTorch
// reads it), the optimizer's moments, and the loop state (epoch, step, RNG,
// dropout counters) — written into a temp folder that is renamed into place,
// then the `latest` pointer is replaced. A kill at any point leaves either
// the previous checkpoint or the new one, never half of one.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../backend';
import type { ExperimentConfig } from '../../shared/config';
import { readSafetensors, writeSafetensors } from '../io/safetensors';
import { rawToTensor, type RawTensor } from '../io/raw-tensor';
import { writeFileAtomic } from '../io/atomic';
import { Module, torchStateDict, loadTorchState } from '../networks/module';
import type { AdamW, AdamWState } from './adamw';
import { readJson, writeJsonAtomic } from './run-folder';

export interface LoopState {
  epoch: number;
  /** steps done within `epoch` (0 at an epoch boundary) */
  stepInEpoch: number;
  globalStep: number;
  rng: number;
  dropoutCalls: number[];
  /** anything else a loop wants back (e.g. best metric) */
  extra?: Record<string, unknown>;
}

interface CheckpointMeta {
  format: 'mrcl-checkpoint-1';
  loop: LoopState;
  optimizer: Omit<AdamWState, 'variables'> & { variables: { name: string; shape: number[]; step: number }[] };
}

function float32(data: number[] | Float32Array, shape: number[]): RawTensor {
  return { dtype: 'float32', shape, data: data instanceof Float32Array ? data : Float32Array.from(data) } as RawTensor;
}

/** Writes the model weights as safetensors with the resolved config in its metadata. */
export function saveModelWeights(path: string, model: Module, config?: ExperimentConfig, extra: Record<string, string> = {}): void {
  const state = torchStateDict(model);
  try {
    writeSafetensors(path, state, { format: 'pt', ...(config ? { config: JSON.stringify(config) } : {}), ...extra });
  } finally {
    for (const t of state.values()) t.dispose();
  }
}

/** Loads weights written by saveModelWeights (strict unless told otherwise). */
export function loadModelWeights(path: string, model: Module, options: { strict?: boolean; prefix?: string } = {}): void {
  const file = readSafetensors(path);
  const state = new Map<string, tf.Tensor>();
  try {
    for (const [name, raw] of file.tensors) {
      if (options.prefix && !name.startsWith(options.prefix)) continue;
      const key = options.prefix ? name.slice(options.prefix.length) : name;
      state.set(key, rawToTensor(raw, name, path));
    }
    loadTorchState(model, state, { strict: options.strict ?? true, source: path });
  } finally {
    for (const t of state.values()) t.dispose();
  }
}

export function saveCheckpoint(dir: string, name: string, model: Module, optimizer: AdamW, loop: LoopState, config: ExperimentConfig): string {
  mkdirSync(dir, { recursive: true });
  const final = join(dir, name);
  const tmp = join(dir, `.${name}.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  saveModelWeights(join(tmp, 'model.safetensors'), model, config);
  const opt = optimizer.getState();
  const moments = new Map<string, RawTensor>();
  opt.variables.forEach((v, i) => {
    if (v.m.length) {
      moments.set(`m.${i}`, float32(v.m, v.shape));
      moments.set(`v.${i}`, float32(v.v, v.shape));
    }
  });
  writeSafetensors(join(tmp, 'optimizer.safetensors'), moments);
  const meta: CheckpointMeta = {
    format: 'mrcl-checkpoint-1',
    loop,
    optimizer: { ...opt, variables: opt.variables.map((v) => ({ name: v.name, shape: v.shape, step: v.step })) },
  };
  writeJsonAtomic(join(tmp, 'state.json'), meta);
  rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  writeFileAtomic(join(dir, 'latest'), [Buffer.from(`${name}\n`)]);
  pruneCheckpoints(dir, name, 2);
  return final;
}

function pruneCheckpoints(dir: string, keep: string, count: number): void {
  const all = readdirSync(dir)
    .filter((n) => n.startsWith('step-'))
    .sort();
  for (const n of all.slice(0, Math.max(0, all.length - count))) {
    if (n !== keep) rmSync(join(dir, n), { recursive: true, force: true });
  }
}

/** The folder `latest` points at, or undefined when there is no checkpoint yet. */
export function latestCheckpoint(dir: string): string | undefined {
  const pointer = join(dir, 'latest');
  if (!existsSync(pointer)) return undefined;
  const name = readFileSync(pointer, 'utf8').trim();
  const path = join(dir, name);
  if (!existsSync(join(path, 'state.json'))) throw new Error(`${pointer}: points at ${name}, which is missing or incomplete`);
  return path;
}


/** Restores model, optimizer and loop state from a checkpoint folder. */
export function loadCheckpoint(path: string, model: Module, optimizer: AdamW): LoopState {
  loadModelWeights(join(path, 'model.safetensors'), model);
  const meta = readJson<CheckpointMeta>(join(path, 'state.json'));
  if (meta.format !== 'mrcl-checkpoint-1') throw new Error(`${path}: unknown checkpoint format ${String(meta.format)}`);
  const moments = readSafetensors(join(path, 'optimizer.safetensors')).tensors;
  const state: AdamWState = {
    ...meta.optimizer,
    variables: meta.optimizer.variables.map((v, i) => {
      const m = moments.get(`m.${i}`);
      const vv = moments.get(`v.${i}`);
      return { ...v, m: m ? Array.from(m.data as Float32Array) : [], v: vv ? Array.from(vv.data as Float32Array) : [] };
    }),
  };
  optimizer.setState(state);
  return meta.loop;
}

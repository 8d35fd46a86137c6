// Resumable checkpoints: the model's state dict (PyTorch layout, so PyTorch
// reads it), the optimizer's moments, and the loop state (epoch, step, RNG,
// dropout counters) — written into a temp folder that is renamed into place,
// then the `latest` pointer is replaced. A kill at any point leaves either
// the previous checkpoint or the new one, never half of one; resuming takes
// the newest one that loads (restoreCheckpoint) and says when it fell back.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { READ_LIMITS, readTextBounded } from '../io/bounded-read';
import { join } from 'node:path';
import { tf } from '../backend';
import type { ExperimentConfig } from '../../shared/config';
import { readSafetensors, writeSafetensors } from '../io/safetensors';
import { rawToTensor, type RawTensor } from '../io/raw-tensor';
import { writeFileAtomic } from '../io/atomic';
import { escapeNonPrintable, quoteForMessage } from '../util/quote';
import { Module, torchStateDict, loadTorchState } from '../networks/module';
import type { AdamW, AdamWState } from './adamw';
import { readJson, writeJsonAtomic } from './run-folder';
import { writeEncoderMetadata } from './encoder-metadata';

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
  cleanTempCheckpoints(dir);
  const final = join(dir, name);
  const tmp = join(dir, `.${name}.tmp-${process.pid}`);
  mkdirSync(tmp);
  try {
    writeCheckpointFiles(tmp, model, optimizer, loop, config);
  } catch (e) {
    // a full disk (ENOSPC) or any other failure leaves no temp folder behind
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  rmSync(final, { recursive: true, force: true });
  renameSync(tmp, final);
  writeFileAtomic(join(dir, 'latest'), [Buffer.from(`${name}\n`)]);
  pruneCheckpoints(dir, name, 2);
  return final;
}

/**
 * Removes temp folders and files of checkpoint writes that never finished
 * (a kill or a full disk mid-write). Only the unit's one writer (its lock)
 * writes here, so every one found is stale.
 */
export function cleanTempCheckpoints(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const stale = names.filter((n) => /^\.step-\d+\.tmp-\d+$/.test(n) || /^\.latest\.\d+\.[0-9a-f]+\.tmp$/.test(n));
  for (const n of stale) rmSync(join(dir, n), { recursive: true, force: true });
  return stale;
}

function writeCheckpointFiles(tmp: string, model: Module, optimizer: AdamW, loop: LoopState, config: ExperimentConfig): void {
  saveModelWeights(join(tmp, 'model.safetensors'), model, config);
  // every model a run trains holds the image encoder as image_encoder.*
  writeEncoderMetadata(tmp, config);
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
}

function pruneCheckpoints(dir: string, keep: string, count: number): void {
  const all = readdirSync(dir)
    .filter((n) => n.startsWith('step-'))
    .sort();
  for (const n of all.slice(0, Math.max(0, all.length - count))) {
    if (n !== keep) rmSync(join(dir, n), { recursive: true, force: true });
  }
}

/**
 * Restores the newest checkpoint that loads: the one `latest` points at,
 * else the other complete ones, newest first. One that cannot be read (a
 * corrupt file, a missing part, a bad pointer) is reported through `warn`,
 * renamed corrupt-step-N (kept for a look, never pruned as the newest) and
 * the previous one is used. Undefined when there is no checkpoint; an error
 * listing each failure when none loads.
 */
export function restoreCheckpoint(dir: string, model: Module, optimizer: AdamW, warn: (message: string) => void): { path: string; state: LoopState } | undefined {
  const gone = cleanTempCheckpoints(dir);
  if (gone.length) warn(`${dir}: removed ${gone.length} unfinished checkpoint write(s): ${gone.join(', ')}`);
  const pointer = join(dir, 'latest');
  const candidates: string[] = [];
  const failures: string[] = [];
  if (existsSync(pointer)) {
    let name = '';
    try {
      name = readTextBounded(pointer, { maxBytes: READ_LIMITS.small, what: 'checkpoint pointer' }).trim();
    } catch (e) {
      failures.push((e as Error).message);
    }
    if (/^step-\d+$/.test(name)) candidates.push(name);
    else if (name) failures.push(`${pointer}: not a checkpoint name: ${quoteForMessage(name)}`);
  }
  let steps: string[] = [];
  try {
    steps = readdirSync(dir).filter((n) => /^step-\d+$/.test(n)).sort().reverse();
  } catch {
    // no checkpoint folder yet
  }
  for (const n of steps) if (!candidates.includes(n)) candidates.push(n);
  if (!candidates.length && !failures.length) return undefined;
  for (const name of candidates) {
    const path = join(dir, name);
    try {
      if (!existsSync(join(path, 'state.json'))) throw new Error(`${path}: missing or incomplete (no state.json)`);
      const state = loadCheckpoint(path, model, optimizer);
      if (failures.length) warn(`${dir}: fell back to the checkpoint ${name}: ${failures.join('; ')}`);
      return { path, state };
    } catch (e) {
      const why = escapeNonPrintable((e as Error).message);
      failures.push(why.startsWith(path) ? why : `${path}: ${why}`);
      if (existsSync(path)) {
        try {
          renameSync(path, join(dir, `corrupt-${name}`));
        } catch {
          // left in place; the next resume reports it again
        }
      }
    }
  }
  throw new Error(`${dir}: no checkpoint can be restored:\n  ${failures.join('\n  ')}`);
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

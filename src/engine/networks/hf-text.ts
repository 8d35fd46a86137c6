// Loads a HuggingFace Longformer folder (e.g. Clinical-Longformer):
// config.json, weights (pytorch_model.bin or model.safetensors) and the
// tokenizer (tokenizer.json or vocab.json + merges.txt).
// follows: METHOD.md §3
import { existsSync, statSync } from 'node:fs';
import { BoundedReadError, READ_LIMITS, readTextBounded } from '../io/bounded-read';
import { join } from 'node:path';
import { loadTorchCheckpoint } from '../io/torch-checkpoint';
import { readSafetensors } from '../io/safetensors';
import { rawToTensor, type RawTensor } from '../io/raw-tensor';
import { loadTokenizer, type ReportTokenizer } from '../text/tokenizer';
import { loadTorchState } from './module';
import { LongformerEncoder, type TextEncoderOptions } from './longformer';

export interface HfTextEncoder {
  encoder: LongformerEncoder;
  tokenizer: ReportTokenizer;
  /** the weight file read */
  weights: string;
  /** checkpoint entries not part of LongformerModel (LM head, pooler, position_ids buffer), left out */
  ignored: string[];
}

/** HF's base-model prefix in task checkpoints (LongformerForMaskedLM etc.). */
const PREFIX = 'longformer.';

/**
 * Picks LongformerModel's entries from a checkpoint's names: with a
 * `longformer.` prefix present, only prefixed names count (stripped; the
 * rest are task heads), and the pooler and the position_ids buffer are
 * never loaded.
 */
export function selectLongformerKeys(names: readonly string[]): { keep: Map<string, string>; ignored: string[] } {
  const prefixed = names.some((n) => n.startsWith(PREFIX));
  const keep = new Map<string, string>();
  const ignored: string[] = [];
  for (const n of names) {
    const own = prefixed ? (n.startsWith(PREFIX) ? n.slice(PREFIX.length) : null) : n;
    if (own === null || own.startsWith('pooler.') || own.endsWith('position_ids')) ignored.push(n);
    else keep.set(own, n);
  }
  return { keep, ignored };
}

/** A model folder's JSON file (config.json), bounded as a config; an unreadable or invalid one is an error naming it. */
export function readModelConfig(path: string): unknown {
  let text: string;
  try {
    text = readTextBounded(path, { maxBytes: READ_LIMITS.config, what: 'model config' });
  } catch (e) {
    if (e instanceof BoundedReadError) throw e;
    throw new Error(`${path}: cannot read (${(e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

/** model.safetensors when present, else pytorch_model.bin. */
function readWeights(dir: string): { path: string; tensors: Map<string, RawTensor> } {
  const st = join(dir, 'model.safetensors');
  const bin = join(dir, 'pytorch_model.bin');
  if (existsSync(st)) return { path: st, tensors: readSafetensors(st).tensors };
  if (existsSync(bin)) return { path: bin, tensors: loadTorchCheckpoint(bin).tensors };
  for (const sharded of ['pytorch_model.bin.index.json', 'model.safetensors.index.json']) {
    if (existsSync(join(dir, sharded))) throw new Error(`${join(dir, sharded)}: sharded checkpoints are not supported; merge the shards into one file`);
  }
  throw new Error(`${dir}: holds neither model.safetensors nor pytorch_model.bin`);
}

/**
 * A LongformerEncoder with the folder's weights, and its tokenizer. The
 * encoder's `globalCls`, `trainableLayers` and `maxWords` come from `options`.
 */
export async function loadHfTextEncoder(dir: string, options: Omit<TextEncoderOptions, 'init'> = {}): Promise<HfTextEncoder> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`${dir}: not a folder (expected a HuggingFace model folder)`);
  const configPath = join(dir, 'config.json');
  if (!existsSync(configPath)) throw new Error(`${dir}: config.json is missing`);
  const configJson = readModelConfig(configPath);
  // shape checks first: a bad config fails before any weight is read
  const probe = LongformerEncoder.fromHfConfig(configJson, configPath, { ...options, init: 'zeros', seed: 0 });
  let tokenizer: ReportTokenizer;
  let weights: string;
  let ignored: string[];
  try {
    tokenizer = loadTokenizer(dir);
    const c = probe.config;
    if (tokenizer.vocabSize > c.vocabSize) {
      throw new Error(`${dir}: the tokenizer has ${tokenizer.vocabSize} ids but the model's vocabulary (config.json vocab_size) is ${c.vocabSize}`);
    }
    if (tokenizer.padId !== c.padTokenId) {
      throw new Error(`${dir}: the tokenizer's pad id ${tokenizer.padId} differs from config.json pad_token_id ${c.padTokenId}`);
    }
    const file = readWeights(dir);
    weights = file.path;
    const sel = selectLongformerKeys([...file.tensors.keys()]);
    ignored = sel.ignored;
    const own = new Map(probe.stateEntries());
    const perms = probe.torchPermutations();
    const missing = [...own.keys()].filter((n) => !sel.keep.has(n));
    const unexpected = [...sel.keep.keys()].filter((n) => !own.has(n));
    const problems = [
      ...(missing.length ? [`missing keys: ${missing.join(', ')}`] : []),
      ...(unexpected.length ? [`unexpected keys: ${unexpected.join(', ')}`] : []),
    ];
    for (const [name, v] of own) {
      const key = sel.keep.get(name);
      if (key === undefined) continue;
      const got = file.tensors.get(key)!.shape;
      const p = perms.get(name);
      const want = p ? p.map((axis) => v.shape[axis]!) : v.shape;
      if (got.length !== want.length || got.some((d, i) => d !== want[i])) {
        problems.push(`${key}: shape [${got.join(',')}] does not match the model's [${want.join(',')}] (PyTorch layout)`);
      }
    }
    if (problems.length) throw new Error(`${weights}: cannot load: ${problems.join('; ')}`);
    // one tensor at a time: peak memory stays near model + file, not model + file + a converted copy
    for (const [name, key] of sel.keep) {
      const t = rawToTensor(file.tensors.get(key)!, key, weights);
      try {
        loadTorchState(probe, new Map([[name, t]]), { strict: false, source: weights });
      } finally {
        t.dispose();
      }
      file.tensors.delete(key);
    }
  } catch (e) {
    probe.dispose();
    throw e;
  }
  return { encoder: probe, tokenizer, weights, ignored };
}

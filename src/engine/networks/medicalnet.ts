// Loads a MedicalNet checkpoint (Chen et al. 2019, `resnet_10.pth`,
// `resnet_18.pth`, `resnet_34.pth`: {'state_dict': {'module.conv1.weight', …}})
// into a ResNet3dEncoder. Also loads a full checkpoint of this encoder saved
// by PyTorch under the same names (with `self_attention.*`).
//
// follows: METHOD.md §2 (MedicalNet checkpoints load unchanged)
import { tf } from '../backend';
import { rawToTensor } from '../io/raw-tensor';
import { loadTorchCheckpoint } from '../io/torch-checkpoint';
import { loadTorchState } from './module';
import { resnet3dFromConfig, type ResNet3dEncoder } from './resnet3d';
import type { ImageConfig } from '../../shared/config';

export interface LoadMedicalNetOptions {
  /** error on missing or unexpected keys, listing them all (default true) */
  strict?: boolean;
}

export interface LoadMedicalNetResult {
  /** encoder keys given a value from the checkpoint */
  loaded: string[];
  /** encoder keys the checkpoint lacks but may lack: the self-attention block, old BN counters */
  keptInitial: string[];
  /** checkpoint keys that are not the encoder's: the segmentation head (`conv_seg.*`), and with strict=false any others */
  ignored: string[];
}

/** MedicalNet's segmentation head: in every released checkpoint, never part of the encoder. */
const IGNORED_PREFIXES = ['conv_seg.'];

/**
 * Assigns a state dict (PyTorch names and layout, `module.` prefixes allowed)
 * to the encoder. Every shape is checked; `source` names the file in errors.
 */
export function loadMedicalNetState(
  encoder: ResNet3dEncoder,
  state: ReadonlyMap<string, tf.Tensor>,
  source: string,
  options: LoadMedicalNetOptions = {},
): LoadMedicalNetResult {
  const strict = options.strict ?? true;
  const renamed = new Map<string, tf.Tensor>();
  const ignored: string[] = [];
  for (const [key, t] of state) {
    const name = key.startsWith('module.') ? key.slice('module.'.length) : key;
    if (IGNORED_PREFIXES.some((p) => name.startsWith(p))) {
      ignored.push(key);
      continue;
    }
    if (renamed.has(name)) throw new Error(`${source}: key "${name}" appears both with and without the "module." prefix`);
    renamed.set(name, t);
  }
  const own = encoder.stateEntries().map(([n]) => n);
  const ownSet = new Set(own);
  const hasAttention = [...renamed.keys()].some((k) => k.startsWith('self_attention.'));
  // MedicalNet never had the self-attention block, nor (image.attentionRegisters) its registers; checkpoints older than PyTorch 0.4.1 have no BN counters
  const mayLack = (k: string) =>
    (!hasAttention && k.startsWith('self_attention.')) || k.startsWith('self_attention.register_') || k.endsWith('.num_batches_tracked');
  const absent = own.filter((k) => !renamed.has(k));
  const missing = absent.filter((k) => !mayLack(k));
  const unexpected = [...renamed.keys()].filter((k) => !ownSet.has(k));
  if (!renamed.size) throw new Error(`${source}: no tensors found (is it a MedicalNet checkpoint?)`);
  if (strict && (missing.length || unexpected.length)) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing keys (${missing.length}): ${missing.join(', ')}`);
    if (unexpected.length) parts.push(`unexpected keys (${unexpected.length}): ${unexpected.join(', ')}`);
    throw new Error(
      `${source}: does not match a ResNet-${encoder.depth}-${encoder.shortcut} of width ${encoder.width}${encoder.selfAttention ? ' with self-attention' : ''}: ${parts.join('; ')}`,
    );
  }
  const usable = new Map([...renamed].filter(([k]) => ownSet.has(k)));
  // checks every shape (all problems in one error) and assigns in the engine's layout
  loadTorchState(encoder, usable, { strict: false, source });
  return {
    loaded: own.filter((k) => usable.has(k)),
    keptInitial: absent,
    ignored: [...ignored, ...unexpected],
  };
}

/** Reads a MedicalNet (or this encoder's PyTorch) checkpoint file into `encoder`. */
export function loadMedicalNet(encoder: ResNet3dEncoder, path: string, options: LoadMedicalNetOptions = {}): LoadMedicalNetResult {
  // the reader finds the state dict under 'state_dict' (MedicalNet) or at the top
  const ckpt = loadTorchCheckpoint(path);
  const state = new Map<string, tf.Tensor>();
  try {
    for (const [name, raw] of ckpt.tensors) state.set(name, rawToTensor(raw, name, path));
    return loadMedicalNetState(encoder, state, path, options);
  } finally {
    tf.dispose([...state.values()]);
  }
}

/**
 * Loads `path` into a zero-initialised encoder of the `image` config and
 * discards it: throws, naming the file and every mismatch, when the
 * checkpoint cannot initialise that encoder (wrong depth, width, shortcut,
 * a corrupt file). `mrcl config check` and every run's preflight call it, so
 * a bad checkpoint fails before any training starts.
 */
export function checkMedicalNetCheckpoint(image: ImageConfig, path: string): LoadMedicalNetResult {
  const encoder = resnet3dFromConfig(image, 0, 'zeros');
  try {
    return loadMedicalNet(encoder, path);
  } finally {
    encoder.dispose();
  }
}

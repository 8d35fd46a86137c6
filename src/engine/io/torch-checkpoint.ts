// Reads PyTorch checkpoints (.pth/.pt/.bin) without executing anything:
// the zip format of torch >= 1.6 (<archive>/data.pkl + <archive>/data/<key>)
// and the legacy format (magic, protocol and sys-info pickles, the object
// pickle, the storage keys, then each storage as int64 numel + raw bytes).
// Pickles go through the restricted unpickler with torch-globals' allow-list;
// tensors are materialised from their storages only when selected, with
// offsets, strides and shared storages honoured.
import { closeSync } from 'node:fs';
import { BoundedReadError, openRegularFile } from './bounded-read';
import { PickleTruncatedError, PyDict, PyTuple, typeName, unpickle, type PyValue } from './pickle';
import { allocRaw, bytesAs, checkedNumel, ITEM_SIZE, type RawData, type RawDtype, type RawTensor } from './raw-tensor';
import { asIndex, findTorchGlobal, StorageRef, StorageType, TensorRef } from './torch-globals';
import { readExactly, ZipReader } from './zip-reader';

export type TorchScalar = number | bigint | string | boolean | null;

export interface TorchCheckpoint {
  path: string;
  format: 'zip' | 'legacy';
  /** the state dict, flattened to dotted names, in file order */
  tensors: Map<string, RawTensor>;
  /** top-level key the state dict came from ('state_dict', 'model', ...), or null when the file is the state dict */
  stateDictKey: string | null;
  /** plain scalar entries next to the state dict (e.g. MedicalNet's 'ecpoch') */
  metadata: Record<string, TorchScalar>;
  /** state-dict entries that are not tensors, left out */
  skipped: string[];
}

export interface LoadTorchCheckpointOptions {
  /**
   * Most bytes of tensor data to materialise. Stride-0 (expanded) views can
   * make a small file describe huge tensors; the default, 4 × the file size
   * + 64 MiB, lets every honest checkpoint through.
   */
  maxBytes?: number;
  /** removed from the start of every name that has it, e.g. 'module.' (DataParallel) */
  stripPrefix?: string;
}

/** Keys that conventionally hold the state dict inside a training checkpoint. */
const STATE_DICT_KEYS = ['state_dict', 'model_state_dict', 'model'];
/**
 * Largest object pickle read (zip data.pkl, or the legacy header pickles):
 * a state dict's pickle is kilobytes to a few MiB; a deflated data.pkl could
 * otherwise claim a gigabyte from a file of one megabyte (docs/formats.md).
 */
export const MAX_PICKLE_BYTES = 64 * 1024 * 1024;
const MAX_ENTRIES = 1_000_000;

interface Source {
  format: 'zip' | 'legacy';
  root: PyValue;
  /** all bytes of a storage, checked to be numel × item size */
  readStorage(ref: StorageRef): Uint8Array;
  close(): void;
}

/** Builds the persistent_load hook; records every storage named so the formats can check their records. */
function storageLoader(format: 'zip' | 'legacy', seen: Map<string, StorageRef>): (pid: PyValue) => PyValue {
  return (pid) => {
    if (!(pid instanceof PyTuple)) throw new Error(`persistent id is a ${typeName(pid)}, not a tuple`);
    const [tag, type, key, , numel, view] = pid.items;
    const tagText = tag instanceof Uint8Array ? Buffer.from(tag).toString('latin1') : tag;
    if (tagText !== 'storage') throw new Error(`unsupported persistent id "${String(tagText)}" (only storages are loaded)`);
    const arity = format === 'zip' ? 5 : 6;
    if (pid.items.length !== arity) throw new Error(`storage persistent id has ${pid.items.length} fields, expected ${arity}`);
    if (!(type instanceof StorageType)) throw new Error(`storage type is ${typeName(type ?? null)}`);
    if (typeof key !== 'string' || key.length === 0 || key.length > 256) throw new Error('storage key must be a short string');
    const n = asIndex(numel, `numel of storage "${key}"`);
    const nbytes = n * ITEM_SIZE[type.dtype];
    if (!Number.isSafeInteger(nbytes)) throw new Error(`storage "${key}" claims ${n} elements`);
    const prev = seen.get(key);
    if (prev && (prev.dtype !== type.dtype || prev.numel !== n)) {
      throw new Error(`storage "${key}" is named both as ${prev.numel} × ${prev.dtype} and ${n} × ${type.dtype}`);
    }
    const ref = prev ?? new StorageRef(key, type.dtype, n);
    seen.set(key, ref);
    if (view === undefined || view === null) return ref;
    // legacy storage views: (view_key, offset, numel) in elements of the root storage
    if (!(view instanceof PyTuple) || view.items.length !== 3) throw new Error(`storage "${key}" has malformed view metadata`);
    const offset = asIndex(view.items[1], `view offset in storage "${key}"`);
    const size = asIndex(view.items[2], `view size in storage "${key}"`);
    if (offset + size > n) throw new Error(`storage view [${offset}, ${offset + size}) lies outside storage "${key}" of ${n} elements`);
    return new StorageRef(key, type.dtype, n, { offset, numel: size });
  };
}

function openZip(path: string): Source {
  const zip = ZipReader.open(path);
  try {
    const pkls = [...zip.entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
    if (pkls.length !== 1) {
      throw new Error(`${path}: zip archive has ${pkls.length === 0 ? 'no' : 'several'} <archive>/data.pkl records; not a torch.save checkpoint`);
    }
    const prefix = pkls[0].slice(0, -'data.pkl'.length);
    if (zip.entries.has(`${prefix}byteorder`)) {
      const order = Buffer.from(zip.read(`${prefix}byteorder`, 16)).toString('latin1').trim();
      if (order !== 'little') throw new Error(`${path}: byte order "${order}" is not supported (only little-endian checkpoints)`);
    }
    const seen = new Map<string, StorageRef>();
    const pickle = zip.read(pkls[0], MAX_PICKLE_BYTES);
    const { value } = unpickle(pickle, {
      file: `${path} (${pkls[0]})`,
      findClass: findTorchGlobal,
      persistentLoad: storageLoader('zip', seen),
    });
    return {
      format: 'zip',
      root: value,
      readStorage(ref) {
        const name = `${prefix}data/${ref.key}`;
        const entry = zip.entries.get(name);
        if (!entry) throw new Error(`${path}: storage record "${name}" is missing`);
        const nbytes = ref.numel * ITEM_SIZE[ref.dtype];
        if (entry.size !== nbytes) throw new Error(`${path}: storage record "${name}" holds ${entry.size} bytes, expected ${nbytes} (${ref.numel} × ${ref.dtype})`);
        return zip.read(name);
      },
      close: () => zip.close(),
    };
  } catch (e) {
    zip.close();
    throw e;
  }
}

const MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

function openLegacy(path: string, fd: number, size: number): Source {
  // The pickles come first and their length is unknown: parse growing prefixes.
  for (let len = Math.min(size, 1 << 20); ; len = Math.min(size, len * 2)) {
    const bytes = readExactly(fd, 0, len, path);
    try {
      return parseLegacy(path, fd, size, bytes);
    } catch (e) {
      if (!(e instanceof PickleTruncatedError) || len >= size) throw e;
      if (len >= MAX_PICKLE_BYTES) throw new Error(`${path}: the checkpoint's pickles run past ${MAX_PICKLE_BYTES} bytes (the limit for a state dict's pickle); refusing it`);
    }
  }
}

function parseLegacy(path: string, fd: number, size: number, bytes: Uint8Array): Source {
  const refuse = (findClass: string, name: string): never => {
    throw new Error(`unexpected global "${findClass}.${name}" in the checkpoint header`);
  };
  let pos = 0;
  const next = (what: string, opts: Partial<Parameters<typeof unpickle>[1]> = {}): PyValue => {
    const r = unpickle(bytes, { file: `${path} (${what})`, start: pos, findClass: refuse, ...opts });
    pos = r.end;
    return r.value;
  };
  const magic = next('magic number');
  if (magic !== MAGIC) throw new Error(`${path}: not a PyTorch checkpoint (bad magic number)`);
  const protocol = next('protocol version');
  if (protocol !== LEGACY_PROTOCOL) throw new Error(`${path}: unsupported legacy checkpoint protocol ${String(protocol)}`);
  const sysInfo = next('system info');
  if (sysInfo instanceof PyDict && sysInfo.get('little_endian') === false) {
    throw new Error(`${path}: big-endian legacy checkpoints are not supported`);
  }
  const seen = new Map<string, StorageRef>();
  const root = next('object pickle', { findClass: findTorchGlobal, persistentLoad: storageLoader('legacy', seen) });
  const keys = next('storage keys');
  if (!Array.isArray(keys) || !keys.every((k): k is string => typeof k === 'string')) {
    throw new Error(`${path}: storage key list is malformed`);
  }
  // Each storage: int64 element count, then the elements; walk the headers only.
  const dataAt = new Map<string, number>();
  let at = pos;
  for (const key of keys) {
    const ref = seen.get(key);
    if (!ref) throw new Error(`${path}: storage "${key}" is listed but never used`);
    if (at + 8 > size) throw new Error(`${path}: file ends before storage "${key}" (truncated?)`);
    const numel = new DataView(readExactly(fd, at, 8, path).buffer).getBigInt64(0, true);
    if (numel !== BigInt(ref.numel)) throw new Error(`${path}: storage "${key}" record holds ${numel} elements, expected ${ref.numel}`);
    const nbytes = ref.numel * ITEM_SIZE[ref.dtype];
    if (at + 8 + nbytes > size) throw new Error(`${path}: file ends inside storage "${key}" (truncated?)`);
    dataAt.set(key, at + 8);
    at += 8 + nbytes;
  }
  return {
    format: 'legacy',
    root,
    readStorage(ref) {
      const start = dataAt.get(ref.key);
      if (start === undefined) throw new Error(`${path}: storage record "${ref.key}" is missing`);
      return readExactly(fd, start, ref.numel * ITEM_SIZE[ref.dtype], path);
    },
    close: () => undefined, // the caller owns fd
  };
}

function isScalar(v: PyValue): v is TorchScalar {
  return v === null || ['number', 'bigint', 'string', 'boolean'].includes(typeof v);
}

/** Picks the state dict out of the top-level object and flattens nested dicts to dotted names. */
function select(path: string, root: PyValue): Omit<TorchCheckpoint, 'path' | 'format' | 'tensors'> & { refs: Map<string, TensorRef> } {
  if (!(root instanceof PyDict)) throw new Error(`${path}: top-level object is a ${typeName(root)}, not a dict of tensors`);
  let stateDictKey: string | null = null;
  for (const k of STATE_DICT_KEYS) {
    if (root.get(k) instanceof PyDict) {
      stateDictKey = k;
      break;
    }
  }
  const meta: [string, TorchScalar][] = [];
  if (stateDictKey !== null) {
    for (const [k, v] of root.entries()) if (typeof k === 'string' && k !== stateDictKey && isScalar(v)) meta.push([k, v]);
  }
  const metadata = Object.fromEntries(meta); // own properties even for "__proto__"
  const refs = new Map<string, TensorRef>();
  const skipped: string[] = [];
  let seen = 0;
  const visit = (d: PyDict, prefix: string, depth: number): void => {
    if (depth > 32) throw new Error(`${path}: dicts nested more than 32 deep under "${prefix}"`);
    for (const [k, v] of d.entries()) {
      // a dict reachable through many paths would otherwise be walked exponentially often
      if (++seen > MAX_ENTRIES) throw new Error(`${path}: state dict has more than ${MAX_ENTRIES} entries`);
      const name = prefix + (typeof k === 'string' ? k : String(k));
      if (typeof k === 'string' && v instanceof TensorRef) refs.set(name, v);
      else if (typeof k === 'string' && v instanceof PyDict) visit(v, `${name}.`, depth + 1);
      else skipped.push(name);
    }
  };
  visit(stateDictKey === null ? root : (root.get(stateDictKey) as PyDict), '', 0);
  if (refs.size === 0) {
    const keys = [...root.entries()].map(([k]) => String(k)).slice(0, 10);
    throw new Error(`${path}: no tensors found (top-level keys: ${keys.join(', ') || 'none'})`);
  }
  return { stateDictKey, metadata, skipped, refs };
}

/** Copies one (possibly strided) view out of its storage. */
function materialize(name: string, t: TensorRef, storage: RawData): RawData {
  const { shape, stride } = t;
  const numel = checkedNumel(shape);
  const out = allocRaw(t.storage.dtype, numel);
  if (numel === 0) return out;
  const base = (t.storage.view?.offset ?? 0) + t.offset;
  const limit = t.storage.view ? t.storage.view.offset + t.storage.view.numel : t.storage.numel;
  let last = base;
  for (let d = 0; d < shape.length; d++) last += (shape[d] - 1) * stride[d];
  if (!Number.isSafeInteger(last) || last >= limit) {
    throw new Error(`"${name}" (offset ${t.offset}, size [${shape.join(', ')}], stride [${stride.join(', ')}]) reaches past its storage of ${limit} elements`);
  }
  const src = storage as Float64Array; // same element kind as `out`; indexing only
  const dst = out as Float64Array;
  let contiguous = true;
  for (let d = shape.length - 1, expect = 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expect) contiguous = false;
    expect *= shape[d];
  }
  if (contiguous) {
    dst.set(src.subarray(base, base + numel));
    return out;
  }
  // odometer over the index space, C order
  const idx = new Array<number>(shape.length).fill(0);
  let p = base;
  for (let n = 0; n < numel; n++) {
    dst[n] = src[p];
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) {
        p += stride[d];
        break;
      }
      idx[d] = 0;
      p -= (shape[d] - 1) * stride[d];
    }
  }
  return out;
}

function detect(path: string, head: Uint8Array, size: number): 'zip' | 'legacy' {
  if (size === 0) throw new Error(`${path}: empty file`);
  if (head[0] === 0x50 && head[1] === 0x4b) return 'zip';
  if (head[0] === 0x80) return 'legacy';
  if (size >= 262 && Buffer.from(head.subarray(257, 262)).toString('latin1') === 'ustar') {
    throw new Error(`${path}: tar-based PyTorch checkpoints (PyTorch < 0.1.10) are not supported`);
  }
  if (head.length >= 9 && head[8] === 0x7b) throw new Error(`${path}: this looks like a safetensors file; read it with readSafetensors`);
  throw new Error(`${path}: not a PyTorch checkpoint (unknown file signature)`);
}

/** Materialises every selected tensor; storages are read once and dropped after their last tensor. */
function materializeAll(path: string, refs: Map<string, TensorRef>, src: Source, limit: number, strip?: string): Map<string, RawTensor> {
  let budget = limit;
  // storages count too: a one-element view of a deflated storage that claims
  // a gigabyte would otherwise inflate it whole
  let storageBudget = limit;
  const uses = new Map<string, number>();
  for (const r of refs.values()) uses.set(r.storage.key, (uses.get(r.storage.key) ?? 0) + 1);
  const cache = new Map<string, RawData>();
  const tensors = new Map<string, RawTensor>();
  for (const [name, ref] of refs) {
    const dtype: RawDtype = ref.storage.dtype;
    const nbytes = checkedNumel(ref.shape) * ITEM_SIZE[dtype];
    if (nbytes > budget) throw new Error(`${path}: "${name}" [${ref.shape.join(', ')}] would pass the limit of ${limit} bytes of tensor data (maxBytes)`);
    budget -= nbytes;
    let storage = cache.get(ref.storage.key);
    if (!storage) {
      const storageBytes = ref.storage.numel * ITEM_SIZE[dtype];
      if (storageBytes > storageBudget) {
        throw new Error(`${path}: storage "${ref.storage.key}" of "${name}" holds ${storageBytes} bytes, past the limit of ${limit} bytes of tensor data (maxBytes)`);
      }
      storageBudget -= storageBytes;
      storage = bytesAs(dtype, src.readStorage(ref.storage));
      cache.set(ref.storage.key, storage);
    }
    const data = materialize(name, ref, storage);
    const left = (uses.get(ref.storage.key) ?? 1) - 1;
    uses.set(ref.storage.key, left);
    if (left === 0) cache.delete(ref.storage.key);
    const key = strip && name.startsWith(strip) ? name.slice(strip.length) : name;
    if (tensors.has(key)) throw new Error(`two tensors map to "${key}" after stripping "${strip}"`);
    tensors.set(key, { dtype, shape: [...ref.shape], data } as RawTensor);
  }
  return tensors;
}

/** Reads the state dict of a PyTorch checkpoint; see TorchCheckpoint. Throws naming the file on anything malformed or disallowed. */
export function loadTorchCheckpoint(path: string, options: LoadTorchCheckpointOptions = {}): TorchCheckpoint {
  let fd: number;
  let size: number;
  try {
    ({ fd, size } = openRegularFile(path, 'checkpoint'));
  } catch (e) {
    if (e instanceof BoundedReadError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `${path}: file not found` : `${path}: cannot open (${(e as Error).message})`);
  }
  let src: Source | undefined;
  try {
    const head = readExactly(fd, 0, Math.min(size, 512), path);
    const format = detect(path, head, size);
    src = format === 'zip' ? openZip(path) : openLegacy(path, fd, size);
    const { refs, ...rest } = select(path, src.root);
    const limit = options.maxBytes ?? 4 * size + 64 * 1024 * 1024;
    const tensors = materializeAll(path, refs, src, limit, options.stripPrefix);
    return { path, format: src.format, tensors, ...rest };
  } catch (e) {
    // every message names the file (fs errors such as EISDIR included)
    const msg = (e as Error).message;
    throw msg.startsWith(path) ? e : new Error(`${path}: ${msg}`);
  } finally {
    src?.close();
    closeSync(fd);
  }
}

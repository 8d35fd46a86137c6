// safetensors read/write (https://huggingface.co/docs/safetensors): an
// 8-byte little-endian header length, a JSON header mapping names to
// {dtype, shape, data_offsets} (plus optional "__metadata__" of strings),
// then the tensor bytes. Reading checks the header the way the reference
// implementation does: offsets inside the buffer, tensors back to back with
// no holes or overlaps, sizes equal to numel × item size.
import { closeSync } from 'node:fs';
import { BoundedReadError, openRegularFile } from './bounded-read';
import type { tf } from '../backend';
import { writeFileAtomic } from './atomic';
import { bytesAs, checkedNumel, dataMatchesDtype, ITEM_SIZE, rawBytes, type RawDtype, type RawTensor } from './raw-tensor';
import { readExactly } from './zip-reader';

export interface SafetensorsFile {
  tensors: Map<string, RawTensor>;
  metadata: Record<string, string>;
}

const TO_RAW: Readonly<Record<string, RawDtype>> = {
  F64: 'float64',
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
};
const FROM_RAW = Object.fromEntries(Object.entries(TO_RAW).map(([k, v]) => [v, k])) as Record<RawDtype, string>;
/** Rank in the reference implementation's Dtype enum; it writes tensors by descending rank. */
const RANK: Readonly<Record<RawDtype, number>> = {
  bool: 0,
  uint8: 1,
  int8: 2,
  int16: 3,
  float16: 4,
  bfloat16: 5,
  int32: 6,
  float32: 7,
  float64: 8,
  int64: 9,
};

/** The reference implementation's limit; real headers are a few hundred KB at most. */
const MAX_HEADER_BYTES = 100_000_000;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface Slot {
  name: string;
  dtype: RawDtype;
  shape: number[];
  begin: number;
  end: number;
}

function parseHeader(path: string, json: unknown, bufferSize: number): { slots: Slot[]; metadata: Record<string, string> } {
  const fail = (msg: string): never => {
    throw new Error(`${path}: safetensors header: ${msg}`);
  };
  if (!isRecord(json)) return fail('is not a JSON object');
  const meta: [string, string][] = [];
  const slots: Slot[] = [];
  for (const [name, v] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (!isRecord(v)) fail('"__metadata__" is not an object');
      for (const [k, s] of Object.entries(v as Record<string, unknown>)) {
        if (typeof s !== 'string') fail(`metadata "${k}" is not a string`);
        meta.push([k, s as string]);
      }
      continue;
    }
    if (!isRecord(v)) return fail(`"${name}" is not an object`);
    const { dtype, shape, data_offsets: offsets } = v;
    if (typeof dtype !== 'string' || !Object.hasOwn(TO_RAW, dtype)) fail(`"${name}" has unsupported dtype ${JSON.stringify(dtype)}`);
    if (!Array.isArray(shape) || shape.length > 64) return fail(`"${name}" has no valid shape`);
    if (!Array.isArray(offsets) || offsets.length !== 2) return fail(`"${name}" has no valid data_offsets`);
    const [begin, end] = offsets as unknown[];
    if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || (begin as number) < 0 || (end as number) < (begin as number)) {
      fail(`"${name}" has bad data_offsets [${String(begin)}, ${String(end)}]`);
    }
    let numel = 0;
    try {
      numel = checkedNumel(shape as number[]);
    } catch (e) {
      fail(`"${name}": ${(e as Error).message}`);
    }
    const raw = TO_RAW[dtype as string];
    const nbytes = numel * ITEM_SIZE[raw];
    if ((end as number) - (begin as number) !== nbytes) {
      fail(`"${name}" spans ${(end as number) - (begin as number)} bytes but shape [${shape.join(', ')}] × ${dtype} needs ${nbytes}`);
    }
    slots.push({ name, dtype: raw, shape: [...(shape as number[])], begin: begin as number, end: end as number });
  }
  // Tensors must tile the data buffer exactly (no holes, no overlaps).
  const sorted = [...slots].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const s of sorted) {
    if (s.begin !== at) fail(`"${s.name}" starts at ${s.begin}, expected ${at} (${s.begin < at ? 'overlapping' : 'a hole in the'} data)`);
    at = s.end;
  }
  if (at !== bufferSize) fail(`tensors cover ${at} bytes but the data section holds ${bufferSize} (truncated or trailing data)`);
  // fromEntries defines own properties, so a "__proto__" key stays data
  return { slots, metadata: Object.fromEntries(meta) };
}

/** Reads a .safetensors file; throws naming the file on a malformed header or data section. */
export function readSafetensors(path: string): SafetensorsFile {
  let fd: number;
  let size: number;
  try {
    ({ fd, size } = openRegularFile(path, 'safetensors file'));
  } catch (e) {
    if (e instanceof BoundedReadError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `${path}: file not found` : `${path}: cannot open (${(e as Error).message})`);
  }
  try {
    if (size < 8) throw new Error(`${path}: too short for a safetensors file (${size} bytes)`);
    const n = new DataView(readExactly(fd, 0, 8, path).buffer).getBigUint64(0, true);
    if (n > BigInt(Math.min(MAX_HEADER_BYTES, size - 8))) {
      throw new Error(`${path}: safetensors header length ${n} is impossible for a ${size}-byte file (not a safetensors file, or truncated)`);
    }
    const headerLen = Number(n);
    const headerBytes = readExactly(fd, 8, headerLen, path);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
    } catch (e) {
      throw new Error(`${path}: safetensors header is not valid UTF-8 JSON (${(e as Error).message})`);
    }
    const dataStart = 8 + headerLen;
    const { slots, metadata } = parseHeader(path, json, size - dataStart);
    const tensors = new Map<string, RawTensor>();
    for (const s of slots) {
      const bytes = readExactly(fd, dataStart + s.begin, s.end - s.begin, path);
      tensors.set(s.name, { dtype: s.dtype, shape: s.shape, data: bytesAs(s.dtype, bytes) } as RawTensor);
    }
    return { tensors, metadata };
  } catch (e) {
    const msg = (e as Error).message;
    throw msg.startsWith(path) ? e : new Error(`${path}: ${msg}`);
  } finally {
    closeSync(fd);
  }
}

function fromTf(name: string, t: tf.Tensor): RawTensor {
  if (t.isDisposed) throw new Error(`"${name}" is a disposed tensor`);
  const shape = [...t.shape];
  switch (t.dtype) {
    case 'float32':
      return { dtype: 'float32', shape, data: t.dataSync() as Float32Array };
    case 'int32':
      return { dtype: 'int32', shape, data: t.dataSync() as Int32Array };
    case 'bool':
      return { dtype: 'bool', shape, data: Uint8Array.from(t.dataSync() as ArrayLike<number>) };
    default:
      throw new Error(`"${name}" has dtype ${t.dtype}, which safetensors cannot store`);
  }
}

/**
 * Writes tensors (tf.Tensors or raw tensors, e.g. from torchStateDict or a
 * loaded checkpoint) and optional string metadata to `path`, atomically.
 * Layout follows the reference writer byte for byte: tensors sorted by
 * dtype (widest first) then name, so every tensor is aligned to its item
 * size; the header is space-padded so the data starts on an 8-byte boundary.
 */
export function writeSafetensors(
  path: string,
  tensors: ReadonlyMap<string, tf.Tensor | RawTensor>,
  metadata?: Record<string, string>,
): void {
  const fail = (msg: string): never => {
    throw new Error(`${path}: cannot write safetensors: ${msg}`);
  };
  const raws: [string, RawTensor][] = [];
  for (const [name, t] of tensors) {
    if (name.length === 0 || name === '__metadata__') fail(`invalid tensor name "${name}"`);
    // a raw tensor holds a typed array in `data`; a tf.Tensor (of any tfjs copy) has a data() method
    const isRaw = ArrayBuffer.isView((t as RawTensor).data);
    let raw: RawTensor;
    try {
      raw = isRaw ? (t as RawTensor) : fromTf(name, t as tf.Tensor);
    } catch (e) {
      return fail((e as Error).message);
    }
    if (!Object.hasOwn(FROM_RAW, raw.dtype)) fail(`"${name}" has unsupported dtype ${String(raw.dtype)}`);
    if (!dataMatchesDtype(raw.dtype, raw.data)) fail(`"${name}" is ${raw.dtype} but its data is a ${raw.data.constructor.name}`);
    let numel = 0;
    try {
      numel = checkedNumel(raw.shape);
    } catch (e) {
      fail(`"${name}": ${(e as Error).message}`);
    }
    if (raw.data.length !== numel) fail(`"${name}" has ${raw.data.length} values for shape [${raw.shape.join(', ')}]`);
    raws.push([name, raw]);
  }
  const header: [string, unknown][] = [];
  if (metadata) {
    for (const [k, v] of Object.entries(metadata)) if (typeof v !== 'string') fail(`metadata "${k}" is not a string`);
    header.push(['__metadata__', metadata]);
  }
  raws.sort(([a, ra], [b, rb]) => RANK[rb.dtype] - RANK[ra.dtype] || Buffer.compare(Buffer.from(a), Buffer.from(b)));
  let offset = 0;
  const chunks: Uint8Array[] = [];
  for (const [name, raw] of raws) {
    const bytes = rawBytes(raw.data);
    header.push([name, { dtype: FROM_RAW[raw.dtype], shape: raw.shape, data_offsets: [offset, offset + bytes.byteLength] }]);
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(Object.fromEntries(header));
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf-8');
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  try {
    writeFileAtomic(path, [len, headerBytes, ...chunks]);
  } catch (e) {
    fail((e as Error).message);
  }
}

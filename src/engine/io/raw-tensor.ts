// Tensors as read from weight files, before they become tf.Tensors: the
// stored dtype is kept (float16/bfloat16 as raw 16-bit patterns, int64 as
// BigInt64Array) so files can be inspected and re-written losslessly.
import { tf } from '../backend';

export type RawDtype = 'float64' | 'float32' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

export interface RawDataOf {
  float64: Float64Array;
  float32: Float32Array;
  /** IEEE half bit patterns */
  float16: Uint16Array;
  /** bfloat16 bit patterns (the top half of a float32) */
  bfloat16: Uint16Array;
  int64: BigInt64Array;
  int32: Int32Array;
  int16: Int16Array;
  int8: Int8Array;
  uint8: Uint8Array;
  /** 0 or 1 per element */
  bool: Uint8Array;
}

export type RawData = RawDataOf[RawDtype];

/** A dense row-major (C order) tensor; `data.length` is the product of `shape`. */
export type RawTensor = { [D in RawDtype]: { dtype: D; shape: number[]; data: RawDataOf[D] } }[RawDtype];

export const ITEM_SIZE: Readonly<Record<RawDtype, number>> = {
  float64: 8,
  float32: 4,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

const CTORS = {
  float64: Float64Array,
  float32: Float32Array,
  float16: Uint16Array,
  bfloat16: Uint16Array,
  int64: BigInt64Array,
  int32: Int32Array,
  int16: Int16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  bool: Uint8Array,
} as const;

/**
 * Views little-endian bytes as `dtype` elements (copying when the bytes are
 * not aligned for it). The typed arrays use the host byte order; every
 * platform Node ships for is little-endian, which raw-tensor assumes.
 */
export function bytesAs<D extends RawDtype>(dtype: D, bytes: Uint8Array): RawDataOf[D] {
  const size = ITEM_SIZE[dtype];
  if (bytes.byteLength % size !== 0) throw new Error(`${bytes.byteLength} bytes is not a whole number of ${dtype} elements`);
  const src = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
  return new CTORS[dtype](src.buffer as ArrayBuffer, src.byteOffset, src.byteLength / size) as RawDataOf[D];
}

/** Whether `data` is the typed array `dtype` is stored in (e.g. BigInt64Array for int64). */
export function dataMatchesDtype(dtype: RawDtype, data: unknown): boolean {
  return Object.hasOwn(CTORS, dtype) && data instanceof CTORS[dtype];
}

export function allocRaw<D extends RawDtype>(dtype: D, length: number): RawDataOf[D] {
  return new CTORS[dtype](length) as RawDataOf[D];
}

/** The raw little-endian bytes behind `data` (no copy). */
export function rawBytes(data: RawData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Product of a shape, refusing negative, fractional or unsafe results. */
export function checkedNumel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new Error(`bad dimension ${String(d)} in shape [${shape.join(', ')}]`);
    n *= d;
    if (!Number.isSafeInteger(n)) throw new Error(`shape [${shape.join(', ')}] has too many elements`);
  }
  return n;
}

/** IEEE 754 half → float32 (exact: every half is a float32). */
export function halfToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) out[i] = sign * frac * 2 ** -24;
    else if (exp === 0x1f) out[i] = frac ? NaN : sign * Infinity;
    else out[i] = sign * (1024 + frac) * 2 ** (exp - 25);
  }
  return out;
}

/** bfloat16 → float32: the 16 bits are the top half of the float32. */
export function bfloat16ToFloat32(bits: Uint16Array): Float32Array {
  const u = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) u[i] = bits[i] << 16;
  return new Float32Array(u.buffer);
}

function toInt32(t: RawTensor, name: string, source: string): Int32Array {
  if (t.dtype !== 'int64') return Int32Array.from(t.data as ArrayLike<number>);
  const out = new Int32Array(t.data.length);
  for (let i = 0; i < t.data.length; i++) {
    const v = t.data[i];
    if (v < -2147483648n || v > 2147483647n) {
      throw new Error(`${source}: "${name}" holds int64 value ${v} at index ${i}, which does not fit in int32`);
    }
    out[i] = Number(v);
  }
  return out;
}

/**
 * One raw tensor as a tf.Tensor: floating types become float32, integer
 * types int32 (int64 range-checked), bool stays bool.
 */
export function rawToTensor(t: RawTensor, name = 'tensor', source = 'weights'): tf.Tensor {
  const shape = [...t.shape];
  switch (t.dtype) {
    case 'float32':
      return tf.tensor(t.data, shape, 'float32');
    case 'float64':
      return tf.tensor(Float32Array.from(t.data), shape, 'float32');
    case 'float16':
      return tf.tensor(halfToFloat32(t.data), shape, 'float32');
    case 'bfloat16':
      return tf.tensor(bfloat16ToFloat32(t.data), shape, 'float32');
    case 'bool':
      return tf.tensor(t.data, shape, 'bool');
    default:
      return tf.tensor(toInt32(t, name, source), shape, 'int32');
  }
}

/** Every tensor of a weight file as tf.Tensors (all disposed again if one fails). */
export function checkpointToTensors(tensors: ReadonlyMap<string, RawTensor>, source = 'weights'): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  try {
    for (const [name, t] of tensors) out.set(name, rawToTensor(t, name, source));
  } catch (e) {
    for (const t of out.values()) t.dispose();
    throw e;
  }
  return out;
}

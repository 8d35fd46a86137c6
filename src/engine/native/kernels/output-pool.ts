// Recycled output arrays for the native kernels. Every native kernel hands
// back a freshly allocated Float32Array; its memory lives outside V8's heap,
// and each 64 MB of it allocated since the last collection makes V8 start a
// full mark-compact ("external memory pressure"): a training step that
// allocates a few hundred MB of outputs spends about a tenth of its time in
// those collections. A training step allocates the same sizes step after
// step, so an output array whose tensor has been disposed is kept, by size,
// and handed to the next kernel that asks for that size.
//
// An array is recycled only when nothing else can still see it: it was
// allocated here, it became the values of exactly one tensor record of the
// cpu backend (a second record of the same array, or a view of its memory,
// marks it shared for good), it was never read out (readSync/read return the
// backend's own array, which a caller may keep), and that record has been
// deleted (the last reference of its data id disposed). Recycled arrays keep
// their old contents: every caller overwrites its whole output (as with
// Buffer.allocUnsafeSlow, which allocates them). The pool holds its arrays
// through weak references, so it keeps nothing alive: an array no kernel
// asked for again before the next collection is freed as it would have been
// without the pool. It refers to at most MAX_POOLED_BYTES of arrays.

/** The part of MathBackendCPU the pool hooks into. */
interface CpuBackendHooks {
  data: { get(dataId: object): { values?: unknown } | undefined; has(dataId: object): boolean };
  write(values: unknown, shape: number[], dtype: string): object;
  move(dataId: object, values: unknown, shape: number[], dtype: string, refCount: number): void;
  disposeData(dataId: object, force?: boolean): boolean;
  readSync(dataId: object): unknown;
  read(dataId: object): Promise<unknown>;
}

export const MAX_POOLED_BYTES = 256 * 1024 * 1024;

const pool = new Map<number, WeakRef<Float32Array>[]>();
let pooledBytes = 0;
let limitBytes = MAX_POOLED_BYTES;
let active = false;
/** buffers allocated here */
const ours = new WeakSet<ArrayBufferLike>();
/** buffers that are the values of one live tensor record */
const held = new WeakSet<ArrayBufferLike>();
/** buffers seen by more than one record, as a view, or read out: never recycled */
const shared = new WeakSet<ArrayBufferLike>();
const hooked = new WeakSet<object>();

/** An array of n floats whose contents the caller fully overwrites. */
export function takeOutput(n: number): Float32Array {
  if (n === 0) return new Float32Array(0);
  const list = active ? pool.get(n) : undefined;
  while (list?.length) {
    pooledBytes -= n * 4;
    const a = list.pop()!.deref();
    if (a) return a;
  }
  const buf = Buffer.allocUnsafeSlow(n * 4);
  const a = new Float32Array(buf.buffer, buf.byteOffset, n);
  ours.add(a.buffer);
  return a;
}

function isOurs(values: unknown): values is Float32Array {
  return values instanceof Float32Array && ours.has(values.buffer);
}

function stored(values: unknown): void {
  if (!isOurs(values)) return;
  const buf = values.buffer;
  if (held.has(buf) || values.byteOffset !== 0 || values.byteLength !== buf.byteLength) shared.add(buf);
  else held.add(buf);
}

function readOut(values: unknown): void {
  if (isOurs(values)) shared.add(values.buffer);
}

function released(values: unknown): void {
  if (!isOurs(values)) return;
  const buf = values.buffer;
  if (!held.has(buf)) return;
  held.delete(buf);
  if (!active || shared.has(buf) || pooledBytes + buf.byteLength > limitBytes) return;
  const ref = new WeakRef(values);
  const list = pool.get(values.length);
  if (list) list.push(ref);
  else pool.set(values.length, [ref]);
  pooledBytes += buf.byteLength;
}

/**
 * Hooks the cpu backend's record keeping (write, move, disposeData,
 * readSync, read) so disposed output arrays return to the pool; idempotent
 * per backend; the pool holds at most maxBytes. The hooks only observe: every call goes on to the backend's
 * own method with the same arguments and returns its result.
 */
export function enableOutputPool(backend: unknown, maxBytes = MAX_POOLED_BYTES): void {
  const b = backend as CpuBackendHooks;
  active = true;
  limitBytes = maxBytes;
  if (hooked.has(b)) return;
  hooked.add(b);
  const write = b.write.bind(b);
  const move = b.move.bind(b);
  const disposeData = b.disposeData.bind(b);
  const readSync = b.readSync.bind(b);
  const read = b.read.bind(b);
  b.write = (values, shape, dtype) => {
    stored(values);
    return write(values, shape, dtype);
  };
  b.move = (dataId, values, shape, dtype, refCount) => {
    stored(values);
    move(dataId, values, shape, dtype, refCount);
  };
  b.disposeData = (dataId, force) => {
    const values = b.data.get(dataId)?.values;
    const result = disposeData(dataId, force);
    if (values !== undefined && !b.data.has(dataId)) released(values);
    return result;
  };
  b.readSync = (dataId) => {
    readOut(b.data.get(dataId)?.values);
    return readSync(dataId);
  };
  b.read = (dataId) => {
    readOut(b.data.get(dataId)?.values);
    return read(dataId);
  };
}

/** Stops recycling and empties the pool (the hooks stay, observing only). */
export function disableOutputPool(): void {
  active = false;
  pool.clear();
  pooledBytes = 0;
}

/** Arrays the pool refers to and their bytes (some may have been collected since). */
export function outputPoolSize(): { arrays: number; bytes: number } {
  let arrays = 0;
  for (const l of pool.values()) arrays += l.length;
  return { arrays, bytes: pooledBytes };
}

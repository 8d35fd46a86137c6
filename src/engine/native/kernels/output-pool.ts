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
// Buffer.allocUnsafeSlow, which allocates them). The pool holds at most
// MAX_POOLED_BYTES and at most POOL_LARGEST_ARRAYS of the largest array
// released (poolCapacity), and empties itself once no kernel has taken an array
// from it for IDLE_MS (a timer that keeps no process alive), so a finished
// training phase leaves nothing behind. A recyclable array the pool has no
// room for, and every array an emptied pool lets go, is freed at once
// (detached through the addon's freeArray) rather than at V8's next
// collection: the width 64, batch 4 pretraining step's peak RSS 1,104–1,117
// → 869–891 MB, the `loop` at width 8 583–587 → 534–557 MB, the same step
// times. (Freeing the pool's oldest arrays whenever a kernel misses it, so
// that it never adds to the peak, went further — 793–802 and 453–456 MB —
// but each miss is then a new allocation, V8's external-memory collections
// came back and the width 64 step was 10–25 % slower.) (Weak references would keep nothing
// alive at all, but V8 keeps every WeakRef target alive until the end of
// the current job, and a training step is one job: arrays that passed
// through the pool then piled up until the step ended, hundreds of MB more
// peak RSS at width 64.) MRCL_OUTPUT_POOL_MB sets the limit: a larger pool
// recycles more of a wide model's large activations (the width 64, batch 4
// pretraining step: 430–477 ms with 64 MB, 431–435 with 128, 380–430 with
// 256, 538 without) at the cost of peak RSS (970–1,101, 996–1,166,
// 1,181–1,390 and 936–944 MB).

/** The part of MathBackendCPU the pool hooks into. */
interface CpuBackendHooks {
  data: { get(dataId: object): { values?: unknown } | undefined; has(dataId: object): boolean };
  write(values: unknown, shape: number[], dtype: string): object;
  move(dataId: object, values: unknown, shape: number[], dtype: string, refCount: number): void;
  disposeData(dataId: object, force?: boolean): boolean;
  readSync(dataId: object): unknown;
  read(dataId: object): Promise<unknown>;
}

export const MAX_POOLED_BYTES = 128 * 1024 * 1024;
export const IDLE_MS = 2000;
/**
 * The pool holds at most this many of the largest recyclable arrays released
 * since it was enabled (never less than MIN_POOL_BYTES, never more than the
 * limit): room to recycle a handful of a step's largest outputs, so a model
 * with small activations gets a small pool. Measured (AMD VM, idle): the
 * largest output is 10.5 MB for the `loop` at width 8 (a 52 MB pool: peak
 * RSS 524 → 486–498 MB, the step as fast or faster) and 28 MB for the width
 * 64, batch 4 pretraining step (the full 128 MB; a pool of a quarter of the
 * live outputs' peak, 34 MB there, made that step 12 % slower).
 */
export const POOL_LARGEST_ARRAYS = 5;
export const MIN_POOL_BYTES = 16 * 1024 * 1024;

const pool = new Map<number, Float32Array[]>();
let pooledBytes = 0;
let limitBytes = MAX_POOLED_BYTES;
let largestArrays = POOL_LARGEST_ARRAYS;
let idleMs = IDLE_MS;
/** the largest recyclable array released since the pool was enabled (bytes) */
let largest = 0;
let active = false;
/** arrays taken from the pool so far, and the timer that empties an idle pool */
let takes = 0;
let idleTimer: NodeJS.Timeout | undefined;
/** buffers allocated here */
const ours = new WeakSet<ArrayBufferLike>();
/** buffers that are the values of one live tensor record */
const held = new WeakSet<ArrayBufferLike>();
/** buffers seen by more than one record, as a view, or read out: never recycled */
const shared = new WeakSet<ArrayBufferLike>();
const hooked = new WeakSet<object>();
/** frees an array's memory now (the addon's freeArray); without it a dropped array waits for the collector */
let freeArray: ((buffer: ArrayBufferLike) => boolean) | undefined;

/** An array of n floats whose contents the caller fully overwrites. */
export function takeOutput(n: number): Float32Array {
  if (n === 0) return new Float32Array(0);
  const pooled = active ? pool.get(n)?.pop() : undefined;
  if (pooled) {
    pooledBytes -= pooled.byteLength;
    takes++;
    return pooled;
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

/** The most the pool may hold now: room for POOL_LARGEST_ARRAYS of the largest array released, within [MIN_POOL_BYTES, limit]. */
export function poolCapacity(): number {
  return Math.min(limitBytes, Math.max(MIN_POOL_BYTES, largestArrays * largest));
}

function readOut(values: unknown): void {
  if (isOurs(values)) shared.add(values.buffer);
}

function released(values: unknown): void {
  if (!isOurs(values)) return;
  const buf = values.buffer;
  if (!held.has(buf)) return;
  held.delete(buf);
  if (!active || shared.has(buf)) return;
  if (buf.byteLength > largest) largest = buf.byteLength;
  // nothing can see it any more: pool it, or free it now
  if (pooledBytes + buf.byteLength > poolCapacity()) {
    freeArray?.(buf);
    return;
  }
  const list = pool.get(values.length);
  if (list) list.push(values);
  else pool.set(values.length, [values]);
  pooledBytes += buf.byteLength;
  if (!idleTimer) watchIdle(takes);
}

/** Empties the pool when no array was taken from it since the last look. */
function watchIdle(seen: number): void {
  idleTimer = setTimeout(() => {
    idleTimer = undefined;
    if (takes === seen) emptyPool();
    else watchIdle(takes);
  }, idleMs);
  idleTimer.unref();
}

function emptyPool(): void {
  if (freeArray) for (const list of pool.values()) for (const a of list) freeArray(a.buffer);
  pool.clear();
  pooledBytes = 0;
}

/**
 * Hooks the cpu backend's record keeping (write, move, disposeData,
 * readSync, read) so disposed output arrays return to the pool; idempotent
 * per backend; the pool holds at most maxBytes and empties itself after
 * idleAfterMs without a take; it holds at most `poolArrays` of the largest
 * array released (poolCapacity). `free` (the addon's freeArray), when given,
 * frees the recyclable arrays the pool lets go at once. The hooks only
 * observe: every call goes on to the backend's own method with the same
 * arguments and returns its result.
 */
export function enableOutputPool(
  backend: unknown,
  maxBytes = MAX_POOLED_BYTES,
  idleAfterMs = IDLE_MS,
  free?: (buffer: ArrayBufferLike) => boolean,
  poolArrays = POOL_LARGEST_ARRAYS,
): void {
  const b = backend as CpuBackendHooks;
  freeArray = free;
  active = true;
  limitBytes = maxBytes;
  largestArrays = poolArrays;
  // the largest array counts from here
  largest = 0;
  idleMs = idleAfterMs;
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
  emptyPool();
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = undefined;
}

/** Arrays the pool holds and their bytes. */
export function outputPoolSize(): { arrays: number; bytes: number } {
  let arrays = 0;
  for (const l of pool.values()) arrays += l.length;
  return { arrays, bytes: pooledBytes };
}

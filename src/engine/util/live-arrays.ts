// The memory a stretch of TF.js work really holds in arrays, for the
// benchmarks. tf.memory().numBytes and tf.profile's peakBytes count the
// bytes of every tensor record, so a reshape, a clone kept for a gradient
// (an Identity per saved tensor) or an in-place optimizer output that shares
// its input's array counts that array again: for a pretraining step the
// profile's peak is nearly twice the arrays alive at once. This counts each
// ArrayBuffer once, while a data entry of the backend holds it.
//
// It observes the backend's data storage (`set` and `delete`, each passed on
// unchanged) from `start` to `stop`, so it sees the arrays written in that
// time; arrays that existed before are counted only when named at the start
// (`include`: e.g. every variable, which covers the weights and the AdamW
// moments), so an optimizer that hands a weight's own array back as its new
// value does not count it twice. Arrays the native kernels' output pool
// keeps for reuse are free memory to the backend and not counted here.
import * as tf from '@tensorflow/tfjs';

interface DataStorage {
  get(dataId: object): { values?: unknown } | undefined;
  set(dataId: object, value: { values?: unknown }): void;
  delete(dataId: object): boolean;
}

export interface LiveArrays {
  /** bytes of the distinct arrays still held, of those written since start and of the `include` tensors */
  readonly bytes: number;
  /** the most `bytes` has been since start (or the last resetPeak) */
  readonly peak: number;
  resetPeak(): void;
  /** puts the storage's own methods back */
  stop(): void;
}

function bufferOf(value: { values?: unknown } | undefined): ArrayBufferLike | null {
  const v = value?.values;
  return ArrayBuffer.isView(v) ? v.buffer : null;
}

/**
 * Starts counting the distinct arrays of `backend` (the active one by
 * default): those written from now on, and those of the `include` tensors.
 */
export function trackLiveArrays(backend: tf.KernelBackend = tf.backend(), include: readonly tf.Tensor[] = []): LiveArrays {
  const storage = (backend as unknown as { data?: DataStorage }).data;
  if (!storage || typeof storage.set !== 'function' || typeof storage.delete !== 'function') {
    throw new Error(`trackLiveArrays: backend "${tf.getBackend()}" keeps no data storage this can observe (the cpu backend does)`);
  }
  const owner = new Map<object, ArrayBufferLike>();
  // records per array, and its bytes when first held (a freed array's byteLength reads 0 later)
  const holders = new Map<ArrayBufferLike, { records: number; bytes: number }>();
  let bytes = 0;
  let peak = 0;
  const release = (dataId: object): void => {
    const buf = owner.get(dataId);
    if (!buf) return;
    owner.delete(dataId);
    const h = holders.get(buf)!;
    if (--h.records > 0) return;
    holders.delete(buf);
    bytes -= h.bytes;
  };
  const hold = (dataId: object, buf: ArrayBufferLike): void => {
    owner.set(dataId, buf);
    const h = holders.get(buf);
    if (h) {
      h.records++;
      return;
    }
    holders.set(buf, { records: 1, bytes: buf.byteLength });
    bytes += buf.byteLength;
    if (bytes > peak) peak = bytes;
  };
  for (const t of include) {
    if (t.isDisposed || owner.has(t.dataId)) continue;
    const buf = bufferOf(storage.get(t.dataId));
    if (buf) hold(t.dataId, buf);
  }
  const ownSet = Object.prototype.hasOwnProperty.call(storage, 'set');
  const ownDelete = Object.prototype.hasOwnProperty.call(storage, 'delete');
  const set = storage.set;
  const del = storage.delete;
  storage.set = function (dataId, value) {
    set.call(this, dataId, value);
    release(dataId);
    const buf = bufferOf(value);
    if (buf) hold(dataId, buf);
  };
  storage.delete = function (dataId) {
    const r = del.call(this, dataId);
    release(dataId);
    return r;
  };
  return {
    get bytes() {
      return bytes;
    },
    get peak() {
      return peak;
    },
    resetPeak() {
      peak = bytes;
    },
    stop() {
      if (ownSet) storage.set = set;
      else delete (storage as Partial<DataStorage>).set;
      if (ownDelete) storage.delete = del;
      else delete (storage as Partial<DataStorage>).delete;
    },
  };
}

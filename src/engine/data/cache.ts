// On-disk cache of preprocessed volumes. Each entry is one file named
// `<slot>-<key>.pv`: `slot` hashes (format version, absolute source path,
// parameters), `key` hashes the same plus the source's size and mtimeMs. A
// changed source gives a different key, so a stale entry is never read; it is
// deleted when its replacement is written. Entries are written atomically and
// carry their full key and a checksum: anything that does not verify is
// discarded and recomputed.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Affine, Volume } from '../io/volume';
import { writeFileAtomic } from '../io/atomic';
import { BoundedReadError, readFileBounded } from '../io/bounded-read';
import { dataPath } from '../io/safe-path';
import { preprocessVolume, type PreprocessOptions } from './preprocess';

/** Bump when the entry layout or the preprocessing itself changes meaning. */
export const CACHE_FORMAT_VERSION = 1;
const MAGIC = 'MRCLPV1\n';

interface EntryMeta {
  key: Record<string, unknown>;
  dims: [number, number, number];
  pixdim: [number, number, number];
  affine: Affine;
  sha1: string;
}

export interface CacheStats {
  hits: number;
  misses: number;
  /** Entries that existed but failed verification and were recomputed. */
  discarded: number;
}

const sha = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 24);

function dataBytes(data: Float32Array): Uint8Array {
  const out = new Uint8Array(data.length * 4);
  const view = new DataView(out.buffer);
  for (let n = 0; n < data.length; n++) view.setFloat32(4 * n, data[n]!, true);
  return out;
}

export class PreprocessCache {
  readonly dir: string;
  readonly stats: CacheStats = { hits: 0, misses: 0, discarded: 0 };

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  /** The preprocessed volume for `path` under `params`, from disk when a valid entry exists. */
  get(path: string, params: PreprocessOptions): Volume {
    const source = resolve(path);
    let st;
    try {
      st = statSync(source);
    } catch {
      throw new Error(`${path}: file not found`);
    }
    const p = {
      shape: [...params.shape],
      normalization: params.normalization ?? 'minmax',
      isMask: params.isMask ?? false,
      maxInflatedBytes: params.maxInflatedBytes ?? null,
    };
    const slot = sha(JSON.stringify({ v: CACHE_FORMAT_VERSION, source, p }));
    const key = { v: CACHE_FORMAT_VERSION, source, size: st.size, mtimeMs: st.mtimeMs, p };
    const name = `${slot}-${sha(JSON.stringify(key))}.pv`;
    const file = dataPath(this.dir, name);

    // an entry is its header, its JSON (a few KiB) and 4 bytes per voxel of the target shape
    const maxBytes = 12 + 1024 * 1024 + 4 * params.shape.reduce((a, b) => a * b, 1);
    const cached = this.read(file, key, maxBytes);
    if (cached) {
      this.stats.hits++;
      return cached;
    }
    this.stats.misses++;
    const vol = preprocessVolume(source, params);
    this.write(file, key, vol);
    this.removeOthers(slot, name);
    return vol;
  }

  /** A verified entry, or undefined (missing or discarded). */
  private read(file: string, key: Record<string, unknown>, maxBytes: number): Volume | undefined {
    let buf: Buffer;
    try {
      buf = readFileBounded(file, { maxBytes, what: 'cache entry' });
    } catch (e) {
      if (!(e instanceof BoundedReadError)) return undefined;
      buf = Buffer.alloc(0); // not a regular file or too large: discarded below
    }
    try {
      if (buf.toString('latin1', 0, 8) !== MAGIC) throw new Error('bad magic');
      const jsonLen = buf.readUInt32LE(8);
      const meta = JSON.parse(buf.toString('utf8', 12, 12 + jsonLen)) as EntryMeta;
      if (JSON.stringify(meta.key) !== JSON.stringify(key)) throw new Error('key mismatch');
      const start = 12 + jsonLen;
      const n = meta.dims[0] * meta.dims[1] * meta.dims[2];
      if (!(n > 0) || buf.length !== start + 4 * n) throw new Error('wrong length');
      const bytes = buf.subarray(start);
      if (createHash('sha1').update(bytes).digest('hex') !== meta.sha1) throw new Error('checksum mismatch');
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = bytes.readFloatLE(4 * i);
      return { data, dims: meta.dims, pixdim: meta.pixdim, affine: meta.affine };
    } catch {
      this.stats.discarded++;
      try {
        unlinkSync(file);
      } catch {
        // another process may have replaced or removed it already
      }
      return undefined;
    }
  }

  private write(file: string, key: Record<string, unknown>, vol: Volume): void {
    const bytes = dataBytes(vol.data);
    const meta: EntryMeta = {
      key,
      dims: vol.dims,
      pixdim: vol.pixdim,
      affine: vol.affine,
      sha1: createHash('sha1').update(bytes).digest('hex'),
    };
    const json = Buffer.from(JSON.stringify(meta), 'utf8');
    const head = Buffer.alloc(12);
    head.write(MAGIC, 0, 'latin1');
    head.writeUInt32LE(json.length, 8);
    try {
      mkdirSync(this.dir, { recursive: true });
      writeFileAtomic(file, [head, json, bytes]);
    } catch (e) {
      throw new Error(`preprocessed-volume cache ${this.dir}: cannot write ${file} (${(e as Error).message})`);
    }
  }

  /** Deletes superseded entries of the same source and parameters. */
  private removeOthers(slot: string, keep: string): void {
    for (const f of readdirSync(this.dir)) {
      if (f.startsWith(`${slot}-`) && f.endsWith('.pv') && f !== keep) {
        try {
          unlinkSync(dataPath(this.dir, f));
        } catch {
          // already gone
        }
      }
    }
  }
}

// NIfTI-1/2 reading (.nii, .nii.gz) into a Volume; writing lives in nifti-write.ts.
// Every size is checked against the header before anything large is
// allocated or inflated, and every failure names the file.
import { closeSync, readSync, statSync } from 'node:fs';
import { BoundedReadError, openRegularFile } from './bounded-read';
import type { Volume } from './volume';
import { elementReader } from './nifti-format';
import { cloneAffine } from './affine-math';
import { interpretHeader, parseRawHeader, type NiftiHeaderInfo } from './nifti-header';
import { gunzipBounded, gunzipPrefix, isGzip } from './gzip-bounded';

export { writeNifti } from './nifti-write';
export type { WriteNiftiOptions, WriteDatatype } from './nifti-write';
export type { NiftiHeaderInfo } from './nifti-header';
export type { NiftiDatatype } from './nifti-format';

export const DEFAULT_MAX_INFLATED_BYTES = 2048 * 1024 * 1024;
/**
 * Bytes a .nii.gz may inflate to past what its header implies (header,
 * extensions and voxels): room for trailing bytes some writers leave.
 */
export const GZIP_TRAILING_SLACK = 1024 * 1024;
/** 2^28 voxels = 1 GiB as Float32. */
export const DEFAULT_MAX_VOXELS = 2 ** 28;

export interface ReadNiftiHeaderOptions {
  /** Refuse a .nii.gz that inflates past this many bytes (default 2 GiB, config `data.maxInflatedMiB`). */
  maxInflatedBytes?: number;
  /** Refuse headers whose total voxel count (all frames) exceeds this (default 2^28). */
  maxVoxels?: number;
}

export interface ReadNiftiOptions extends ReadNiftiHeaderOptions {
  /**
   * For a 4D image (dim[4] > 1), the 0-based volume to return. Without it a
   * 4D image is an error: the engine expects 3D volumes.
   */
  frame?: number;
  /** NaN/±Inf voxels: 'error' (default), 'zero' (replace with 0) or 'keep'. */
  nonFinite?: 'error' | 'zero' | 'keep';
}

/** A Volume plus the header it came from. */
export interface NiftiVolume extends Volume {
  header: NiftiHeaderInfo;
}

function limitsOf(path: string, o: ReadNiftiHeaderOptions): { maxInflated: number; maxVoxels: number } {
  const maxInflated = o.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES;
  const maxVoxels = o.maxVoxels ?? DEFAULT_MAX_VOXELS;
  if (!(maxInflated > 0) || !(maxVoxels > 0)) throw new Error(`${path}: maxInflatedBytes and maxVoxels must be positive`);
  return { maxInflated, maxVoxels };
}

function fileSize(path: string): number {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new Error(code === 'ENOENT' ? `${path}: file not found` : `${path}: cannot read (${(e as Error).message})`);
  }
  if (!st.isFile()) throw new Error(`${path}: not a regular file`);
  return st.size;
}

function readRange(path: string, start: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let fd: number;
  try {
    fd = openRegularFile(path, 'image').fd;
  } catch (e) {
    if (e instanceof BoundedReadError) throw e;
    throw new Error(`${path}: cannot read (${(e as Error).message})`);
  }
  try {
    let got = 0;
    while (got < length) {
      const n = readSync(fd, out, got, length - got, start + got);
      if (n === 0) break;
      got += n;
    }
    return got === length ? out : out.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** Header bytes of a plain or gzipped file, from its first 64 KiB at most. */
function headerBytes(path: string, size: number): { bytes: Uint8Array; gzipped: boolean } {
  const head = readRange(path, 0, Math.min(size, 65536));
  if (!isGzip(head)) return { bytes: head, gzipped: false };
  return { bytes: gunzipPrefix(head, 540, path), gzipped: true };
}

function header(path: string, bytes: Uint8Array, maxVoxels: number): ReturnType<typeof interpretHeader> {
  return interpretHeader(parseRawHeader(bytes, path), path, { maxVoxels });
}

/** Reads and validates only the header: shape, voxel size, affine, datatype. */
export function readNiftiHeader(path: string, options: ReadNiftiHeaderOptions = {}): NiftiHeaderInfo {
  const { maxVoxels } = limitsOf(path, options);
  const size = fileSize(path);
  const { bytes } = headerBytes(path, size);
  const { datatypeInfo: _dt, ...info } = header(path, bytes, maxVoxels);
  return info;
}

/**
 * Reads a single-file NIfTI-1 or NIfTI-2 image (.nii or .nii.gz, either
 * endianness) as float32 with scl_slope/scl_inter applied and the affine
 * chosen as nibabel's get_best_affine.
 */
export function readNifti(path: string, options: ReadNiftiOptions = {}): NiftiVolume {
  const { maxInflated, maxVoxels } = limitsOf(path, options);
  const size = fileSize(path);
  const { bytes, gzipped } = headerBytes(path, size);
  const h = header(path, bytes, maxVoxels);
  const { datatypeInfo: dt, ...info } = h;

  let frame = 0;
  if (h.frames > 1) {
    if (options.frame === undefined) {
      throw new Error(`${path}: 4D image (${h.shape.join('×')}) where a 3D volume is expected; pass a frame to pick one`);
    }
    frame = options.frame;
  }
  if (options.frame !== undefined && !(Number.isInteger(options.frame) && options.frame >= 0 && options.frame < h.frames)) {
    throw new Error(`${path}: frame ${options.frame} is outside 0..${h.frames - 1}`);
  }

  const nvox = h.dims[0] * h.dims[1] * h.dims[2];
  const needed = h.voxOffset + nvox * h.frames * dt.bytes;
  const start = h.voxOffset + frame * nvox * dt.bytes;
  let data: Uint8Array;
  if (gzipped) {
    if (needed > maxInflated) {
      throw new Error(`${path}: header implies ${needed} bytes, more than maxInflatedBytes (${maxInflated})`);
    }
    // Inflate no more than the header implies (+ a little slack): a small
    // file claiming a small volume cannot make the reader inflate gigabytes.
    const limit = Math.min(needed + GZIP_TRAILING_SLACK, maxInflated);
    // gzip framing adds well under 1% to incompressible data
    if (size > limit + Math.ceil(limit / 100) + 65536) {
      throw new Error(`${path}: gzip file of ${size} bytes is larger than the ${needed} bytes its header implies could take`);
    }
    const all = gunzipBounded(readRange(path, 0, size), limit, path, `its header implies ${needed}`);
    if (all.length < needed) {
      throw new Error(`${path}: truncated: ${h.shape.join('×')} ${h.datatype} needs ${needed} bytes after inflation, file has ${all.length}`);
    }
    data = all.subarray(start, start + nvox * dt.bytes);
  } else {
    if (size < needed) {
      throw new Error(`${path}: truncated: ${h.shape.join('×')} ${h.datatype} at offset ${h.voxOffset} needs ${needed} bytes, file has ${size}`);
    }
    data = readRange(path, start, nvox * dt.bytes);
  }

  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const read = elementReader(dt.name, view, h.littleEndian);
  const out = new Float32Array(nvox);
  const { sclSlope: slope, sclInter: inter } = h;
  const scaled = slope !== 1 || inter !== 0;
  const policy = options.nonFinite ?? 'error';
  let bad = 0;
  let firstBad = -1;
  for (let n = 0; n < nvox; n++) {
    const raw = read(n * dt.bytes);
    const v = Math.fround(scaled ? raw * slope + inter : raw);
    if (!Number.isFinite(v)) {
      if (bad++ === 0) firstBad = n;
      out[n] = policy === 'zero' ? 0 : v;
    } else {
      out[n] = v;
    }
  }
  if (bad > 0 && policy === 'error') {
    const i = firstBad % h.dims[0];
    const j = Math.floor(firstBad / h.dims[0]) % h.dims[1];
    const k = Math.floor(firstBad / (h.dims[0] * h.dims[1]));
    throw new Error(`${path}: ${bad} voxel(s) are NaN or infinite (first at [${i}, ${j}, ${k}]); the image must hold finite values only: write it again with them replaced (e.g. by 0)`);
  }
  return { data: out, dims: [...h.dims], pixdim: [...h.pixdim], affine: cloneAffine(info.affine), header: info };
}

// NIfTI-1 writer: float32 volumes (uint8/int16 for masks and labels), qform
// and sform both set from the affine, gzip when the name ends in .gz, and an
// atomic replace of the target.
import { gzipSync } from 'node:zlib';
import { voxelCount, type Affine, type Volume } from './volume';
import { columnNorms, det3, isFiniteAffine, linearPart, matToQuat, polarOrthogonal, type Mat3 } from './affine-math';
import { NIFTI1_HEADER_SIZE, NIFTI1_MIN_VOX_OFFSET, datatypeByName } from './nifti-format';
import { writeFileAtomic } from './atomic';

export type WriteDatatype = 'float32' | 'uint8' | 'int16';

export interface WriteNiftiOptions {
  /** Stored voxel type (default float32). Integer types require integral, in-range values. */
  datatype?: WriteDatatype;
  /** Header `descrip` (at most 79 ASCII characters kept). */
  description?: string;
  /** qform_code and sform_code written (default 2, "aligned anatomical", as nibabel). */
  xformCode?: number;
}

const INT_RANGE: Record<'uint8' | 'int16', [number, number]> = { uint8: [0, 255], int16: [-32768, 32767] };

/** The qform parameters nibabel's Nifti1Header.set_qform derives from an affine. */
export interface QformParams {
  quatern: [number, number, number];
  offset: [number, number, number];
  zooms: [number, number, number];
  qfac: 1 | -1;
}

export function affineToQform(affine: Affine): QformParams {
  const zooms = columnNorms(affine);
  if (zooms.some((z) => z === 0)) throw new Error('affine has a zero column (singular)');
  const r = linearPart(affine).map((row) => row.map((v, j) => v / zooms[j]!)) as Mat3;
  let qfac: 1 | -1 = 1;
  if (det3(r) <= 0) {
    // a left-handed grid: store the flip of the third axis in qfac
    qfac = -1;
    for (const row of r) row[2] = -row[2];
  }
  const q = matToQuat(polarOrthogonal(r));
  return { quatern: [q[1], q[2], q[3]], offset: [affine[0][3], affine[1][3], affine[2][3]], zooms, qfac };
}

function checkVolume(path: string, v: Volume): void {
  const where = `writeNifti ${path}`;
  if (!Array.isArray(v.dims) || v.dims.length !== 3 || !v.dims.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new Error(`${where}: dims must be three positive integers, got ${JSON.stringify(v.dims)}`);
  }
  if (v.dims.some((d) => d > 32767)) throw new Error(`${where}: dims ${v.dims.join('×')} exceed NIfTI-1's limit of 32767 per axis`);
  if (!(v.data instanceof Float32Array)) throw new Error(`${where}: data must be a Float32Array`);
  if (v.data.length !== voxelCount(v.dims)) {
    throw new Error(`${where}: data has ${v.data.length} values but dims ${v.dims.join('×')} need ${voxelCount(v.dims)}`);
  }
  const a = v.affine;
  if (!isFiniteAffine(a)) throw new Error(`${where}: affine must be a 4×4 matrix of finite numbers`);
  if (a[3][0] !== 0 || a[3][1] !== 0 || a[3][2] !== 0 || a[3][3] !== 1) {
    throw new Error(`${where}: affine's last row must be [0, 0, 0, 1], got ${JSON.stringify(a[3])}`);
  }
  if (det3(linearPart(a)) === 0) throw new Error(`${where}: affine is singular`);
}

function encodeVoxels(path: string, data: Float32Array, dt: WriteDatatype): Uint8Array {
  if (dt === 'float32') {
    for (let n = 0; n < data.length; n++) {
      if (!Number.isFinite(data[n]!)) throw new Error(`writeNifti ${path}: voxel ${n} is ${data[n]}; only finite values are written`);
    }
    const out = new Uint8Array(data.length * 4);
    const view = new DataView(out.buffer);
    for (let n = 0; n < data.length; n++) view.setFloat32(n * 4, data[n]!, true);
    return out;
  }
  const [lo, hi] = INT_RANGE[dt];
  const bytes = dt === 'uint8' ? 1 : 2;
  const out = new Uint8Array(data.length * bytes);
  const view = new DataView(out.buffer);
  for (let n = 0; n < data.length; n++) {
    const v = data[n]!;
    if (!Number.isInteger(v) || v < lo || v > hi) {
      throw new Error(`writeNifti ${path}: voxel ${n} has value ${v}, not an integer in the ${dt} range [${lo}, ${hi}]`);
    }
    if (bytes === 1) view.setUint8(n, v);
    else view.setInt16(n * 2, v, true);
  }
  return out;
}

/** The 352-byte NIfTI-1 header (+ empty extension flag), little-endian. */
export function buildNifti1Header(volume: Volume, dt: WriteDatatype, description: string, xformCode: number): Uint8Array {
  const info = datatypeByName(dt)!;
  const buf = new Uint8Array(NIFTI1_MIN_VOX_OFFSET);
  const h = new DataView(buf.buffer);
  const q = affineToQform(volume.affine);
  h.setInt32(0, NIFTI1_HEADER_SIZE, true);
  buf[38] = 'r'.charCodeAt(0);
  const dim = [3, ...volume.dims, 1, 1, 1, 1];
  dim.forEach((d, i) => h.setInt16(40 + 2 * i, d, true));
  h.setInt16(70, info.code, true);
  h.setInt16(72, info.bytes * 8, true);
  const pixdim = [q.qfac, ...q.zooms, 1, 1, 1, 1];
  pixdim.forEach((p, i) => h.setFloat32(76 + 4 * i, p, true));
  h.setFloat32(108, NIFTI1_MIN_VOX_OFFSET, true);
  h.setFloat32(112, 1, true); // scl_slope
  h.setFloat32(116, 0, true); // scl_inter
  buf[123] = 2; // xyzt_units: mm
  const desc = description.replace(/[^\x20-\x7e]/g, '?').slice(0, 79);
  for (let i = 0; i < desc.length; i++) buf[148 + i] = desc.charCodeAt(i);
  h.setInt16(252, xformCode, true);
  h.setInt16(254, xformCode, true);
  q.quatern.forEach((v, i) => h.setFloat32(256 + 4 * i, v, true));
  q.offset.forEach((v, i) => h.setFloat32(268 + 4 * i, v, true));
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 4; c++) h.setFloat32(280 + 16 * r + 4 * c, volume.affine[r]![c]!, true);
  }
  buf.set([0x6e, 0x2b, 0x31, 0x00], 344); // "n+1\0"
  return buf;
}

/**
 * Writes `volume` as a single-file NIfTI-1 (.nii, or gzipped .nii.gz).
 * pixdim is written as the affine's column norms, as nibabel does, so the
 * qform reproduces the affine; `volume.pixdim` is not used.
 */
export function writeNifti(path: string, volume: Volume, options: WriteNiftiOptions = {}): void {
  const dt = options.datatype ?? 'float32';
  if (!datatypeByName(dt) || !(dt === 'float32' || dt === 'uint8' || dt === 'int16')) {
    throw new Error(`writeNifti ${path}: datatype must be float32, uint8 or int16, got ${String(dt)}`);
  }
  const code = options.xformCode ?? 2;
  if (!Number.isInteger(code) || code < 1 || code > 4) throw new Error(`writeNifti ${path}: xformCode must be 1..4, got ${code}`);
  checkVolume(path, volume);
  const header = buildNifti1Header(volume, dt, options.description ?? '', code);
  const voxels = encodeVoxels(path, volume.data, dt);
  if (/\.gz$/i.test(path)) {
    const whole = new Uint8Array(header.byteLength + voxels.byteLength);
    whole.set(header, 0);
    whole.set(voxels, header.byteLength);
    writeFileAtomic(path, [gzipSync(whole)]);
  } else {
    writeFileAtomic(path, [header, voxels]);
  }
}

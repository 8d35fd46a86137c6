// NIfTI-1/2 header parsing and validation, and the voxel-to-world affine
// chosen exactly as nibabel's Nifti1Header.get_best_affine: sform if
// sform_code ≠ 0, else qform if qform_code ≠ 0, else the pixdim-scaled
// "base" affine (x flipped, centred on the grid).
//
// Fields are parsed by nifti-reader-js; the checks and the interpretation
// (affine choice, scaling, limits) are ours so errors name the file.
import * as nifti from 'nifti-reader-js';
import type { Affine } from './volume';
import { quatToMat } from './affine-math';
import {
  NIFTI1_HEADER_SIZE,
  NIFTI1_MIN_VOX_OFFSET,
  NIFTI2_HEADER_SIZE,
  NIFTI2_MIN_VOX_OFFSET,
  SPATIAL_UNITS,
  UNSUPPORTED_DATATYPES,
  datatypeByCode,
  type DatatypeInfo,
  type NiftiDatatype,
} from './nifti-format';

/** Header fields as stored (after endianness), before any interpretation. */
export interface RawNiftiHeader {
  version: 1 | 2;
  littleEndian: boolean;
  dim: number[];
  pixdim: number[];
  datatypeCode: number;
  voxOffset: number;
  sclSlope: number;
  sclInter: number;
  qformCode: number;
  sformCode: number;
  quatern: [number, number, number];
  qoffset: [number, number, number];
  srow: [number[], number[], number[]];
  intentCode: number;
  intentName: string;
  description: string;
  xyztUnits: number;
}

/** The interpreted header: what readNiftiHeader returns and readNifti attaches. */
export interface NiftiHeaderInfo {
  version: 1 | 2;
  littleEndian: boolean;
  datatype: NiftiDatatype;
  datatypeCode: number;
  /** dim[1..dim[0]] as stored: the original shape, 4D and 2D included. */
  shape: number[];
  /** Spatial grid [nx, ny, nz] (1 for axes beyond dim[0]). */
  dims: [number, number, number];
  /** Voxel sizes, with nibabel's load-time fixes (0 → 1, negative → absolute). */
  pixdim: [number, number, number];
  /** Number of 3D volumes (dim[4], 1 for a 3D image). */
  frames: number;
  affine: Affine;
  affineSource: 'sform' | 'qform' | 'base';
  qformCode: number;
  sformCode: number;
  /** Scaling actually applied to stored values: value = raw·slope + inter. */
  sclSlope: number;
  sclInter: number;
  voxOffset: number;
  intentCode: number;
  intentName: string;
  description: string;
  spatialUnits: string;
}

function str(bytes: Uint8Array, start: number, len: number): string {
  let s = '';
  for (let i = start; i < start + len && bytes[i] !== 0; i++) s += String.fromCharCode(bytes[i]!);
  return s.replace(/[^\x20-\x7e]/g, '?').trim();
}

/** Detects version and endianness from sizeof_hdr; throws a clear error naming `file` otherwise. */
export function parseRawHeader(bytes: Uint8Array, file: string): RawNiftiHeader {
  if (bytes.length < 4) throw new Error(`${file}: not a NIfTI file (only ${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = view.getInt32(0, true);
  const be = view.getInt32(0, false);
  const size = [NIFTI1_HEADER_SIZE, NIFTI2_HEADER_SIZE].includes(le) ? le : be;
  const littleEndian = size === le;
  if (size !== NIFTI1_HEADER_SIZE && size !== NIFTI2_HEADER_SIZE) {
    throw new Error(`${file}: not a NIfTI file (sizeof_hdr is ${le}, expected 348 for NIfTI-1 or 540 for NIfTI-2)`);
  }
  if (bytes.length < size) throw new Error(`${file}: truncated NIfTI header (${bytes.length} of ${size} bytes)`);
  if (size === NIFTI1_HEADER_SIZE) {
    const magic = str(bytes, 344, 4);
    if (magic === 'ni1') throw new Error(`${file}: a .hdr/.img pair header; only single-file NIfTI (.nii/.nii.gz) is supported`);
    if (magic !== 'n+1') throw new Error(`${file}: not a NIfTI-1 file (magic is "${magic}", expected "n+1")`);
  } else {
    const magic = str(bytes, 4, 4);
    if (magic === 'ni2') throw new Error(`${file}: a NIfTI-2 .hdr/.img pair header; only single-file NIfTI is supported`);
    if (magic !== 'n+2') throw new Error(`${file}: not a NIfTI-2 file (magic is "${magic}", expected "n+2")`);
  }
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + size) as ArrayBuffer;
  let h: nifti.NIFTI1 | nifti.NIFTI2 | null;
  try {
    h = nifti.readHeader(buffer);
  } catch (e) {
    throw new Error(`${file}: unreadable NIfTI header: ${(e as Error).message}`);
  }
  if (!h) throw new Error(`${file}: not a NIfTI file`);
  for (const [i, v] of h.dims.entries()) {
    if (!Number.isSafeInteger(v)) throw new Error(`${file}: dim[${i}] holds an absurd value ${v}`);
  }
  if (!Number.isSafeInteger(h.vox_offset) && !Number.isFinite(h.vox_offset)) {
    throw new Error(`${file}: vox_offset holds an absurd value ${h.vox_offset}`);
  }
  // nifti-reader-js's NIFTI1.affine already prefers the qform when
  // qform_code > sform_code; nibabel prefers any sform, so srow is read raw.
  const srow =
    size === NIFTI1_HEADER_SIZE
      ? ([0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => view.getFloat32(280 + 16 * r + 4 * c, littleEndian))) as [number[], number[], number[]])
      : ([0, 1, 2].map((r) => h.affine[r]!.slice(0, 4)) as [number[], number[], number[]]);
  return {
    version: size === NIFTI1_HEADER_SIZE ? 1 : 2,
    littleEndian,
    dim: h.dims.slice(0, 8),
    pixdim: h.pixDims.slice(0, 8),
    datatypeCode: h.datatypeCode,
    voxOffset: h.vox_offset,
    sclSlope: h.scl_slope,
    sclInter: h.scl_inter,
    qformCode: h.qform_code,
    sformCode: h.sform_code,
    quatern: [h.quatern_b, h.quatern_c, h.quatern_d],
    qoffset: [h.qoffset_x, h.qoffset_y, h.qoffset_z],
    srow,
    intentCode: h.intent_code,
    intentName: cleanText(h.intent_name),
    description: cleanText(h.description),
    xyztUnits: h.xyzt_units,
  };
}

function cleanText(s: string): string {
  const nul = s.indexOf('\0');
  return (nul >= 0 ? s.slice(0, nul) : s).replace(/[^\x20-\x7e]/g, '?').trim();
}

export interface HeaderLimits {
  /** Largest voxel count (all frames) accepted before any allocation. */
  maxVoxels: number;
}

/** nibabel's get_qform: R(quaternion) · diag(pixdim[1], pixdim[2], qfac·pixdim[3]) + qoffset. */
function qformAffine(raw: RawNiftiHeader, zooms: [number, number, number], qfac: number, file: string): Affine {
  const [b, c, d] = raw.quatern;
  // fillpositive: w = sqrt(1 − |bcd|²), tolerating tiny negative rounding
  const eps = raw.version === 1 ? 1.1920928955078125e-7 : 2.220446049250313e-16;
  const w2 = 1 - (b * b + c * c + d * d);
  if (w2 < -3 * eps) throw new Error(`${file}: qform quaternion (b, c, d) = (${b}, ${c}, ${d}) has norm > 1`);
  const w = w2 < 0 ? 0 : Math.sqrt(w2);
  const r = quatToMat(w, b, c, d);
  const s = [zooms[0], zooms[1], zooms[2] * qfac];
  return [
    [r[0][0] * s[0]!, r[0][1] * s[1]!, r[0][2] * s[2]!, raw.qoffset[0]],
    [r[1][0] * s[0]!, r[1][1] * s[1]!, r[1][2] * s[2]!, raw.qoffset[1]],
    [r[2][0] * s[0]!, r[2][1] * s[1]!, r[2][2] * s[2]!, raw.qoffset[2]],
    [0, 0, 0, 1],
  ];
}

/** Validates shape, datatype, offsets and transforms; throws clear errors naming `file`. */
export function interpretHeader(raw: RawNiftiHeader, file: string, limits: HeaderLimits): NiftiHeaderInfo & { datatypeInfo: DatatypeInfo } {
  const ndim = raw.dim[0]!;
  if (!(ndim >= 1 && ndim <= 7)) throw new Error(`${file}: dim[0] is ${ndim}; it must be 1..7`);
  const shape = raw.dim.slice(1, ndim + 1);
  shape.forEach((n, i) => {
    if (!(n >= 1)) throw new Error(`${file}: dim[${i + 1}] is ${n}; dimensions must be positive`);
  });
  const total = shape.reduce((a, b) => a * b, 1);
  if (total > limits.maxVoxels) {
    throw new Error(`${file}: ${shape.join('×')} = ${total} voxels exceeds the limit of ${limits.maxVoxels} (maxVoxels)`);
  }
  const extra = shape.slice(4).findIndex((n) => n > 1);
  if (extra >= 0) throw new Error(`${file}: dim[${extra + 5}] is ${shape[extra + 4]}; images beyond 4D are not supported`);
  const dims: [number, number, number] = [shape[0] ?? 1, shape[1] ?? 1, shape[2] ?? 1];

  const dt = datatypeByCode(raw.datatypeCode);
  if (!dt) {
    const name = UNSUPPORTED_DATATYPES[raw.datatypeCode] ?? `code ${raw.datatypeCode}`;
    throw new Error(`${file}: unsupported NIfTI datatype ${name}; supported: uint8, int8, int16, uint16, int32, uint32, float32, float64`);
  }

  const minOffset = raw.version === 1 ? NIFTI1_MIN_VOX_OFFSET : NIFTI2_MIN_VOX_OFFSET;
  if (!Number.isFinite(raw.voxOffset) || raw.voxOffset < 0) throw new Error(`${file}: vox_offset ${raw.voxOffset} is invalid`);
  // nibabel's check_fix raises a too-small single-file offset to the minimum
  const voxOffset = Math.max(Math.floor(raw.voxOffset), minOffset);

  const pix = raw.pixdim.slice(1, 4).map((p, i) => {
    if (!Number.isFinite(p)) throw new Error(`${file}: pixdim[${i + 1}] is ${p}`);
    return p === 0 ? 1 : Math.abs(p); // nibabel check_fix
  }) as [number, number, number];
  const qfac = raw.pixdim[0] === -1 ? -1 : 1; // nibabel check_fix sets any other qfac to 1

  let affine: Affine;
  let affineSource: NiftiHeaderInfo['affineSource'];
  if (raw.sformCode !== 0) {
    affine = [...raw.srow.map((r) => [...r]), [0, 0, 0, 1]] as Affine;
    affineSource = 'sform';
  } else if (raw.qformCode !== 0) {
    affine = qformAffine(raw, pix, qfac, file);
    affineSource = 'qform';
  } else {
    // shape_zoom_affine(shape, zooms, x_flip=True) on the first min(ndim, 3) axes
    const z = [0, 1, 2].map((i) => (i < ndim ? pix[i]! : 1));
    z[0] = -z[0]!;
    const o = dims.map((n) => (n - 1) / 2);
    affine = [
      [z[0]!, 0, 0, -o[0]! * z[0]!],
      [0, z[1]!, 0, -o[1]! * z[1]!],
      [0, 0, z[2]!, -o[2]! * z[2]!],
      [0, 0, 0, 1],
    ];
    affineSource = 'base';
  }
  if (!affine.flat().every(Number.isFinite)) throw new Error(`${file}: the ${affineSource} affine holds non-finite values`);

  // nibabel get_slope_inter: slope 0 or non-finite means "no scaling"
  let sclSlope = 1;
  let sclInter = 0;
  if (raw.sclSlope !== 0 && Number.isFinite(raw.sclSlope)) {
    if (!Number.isFinite(raw.sclInter)) throw new Error(`${file}: scl_slope is ${raw.sclSlope} but scl_inter is ${raw.sclInter}`);
    sclSlope = raw.sclSlope;
    sclInter = raw.sclInter;
  }

  return {
    version: raw.version,
    littleEndian: raw.littleEndian,
    datatype: dt.name,
    datatypeCode: dt.code,
    datatypeInfo: dt,
    shape,
    dims,
    pixdim: [0, 1, 2].map((i) => (i < ndim ? pix[i]! : 1)) as [number, number, number],
    frames: shape[3] ?? 1,
    affine,
    affineSource,
    qformCode: raw.qformCode,
    sformCode: raw.sformCode,
    sclSlope,
    sclInter,
    voxOffset,
    intentCode: raw.intentCode,
    intentName: raw.intentName,
    description: raw.description,
    spatialUnits: SPATIAL_UNITS[raw.xyztUnits & 7] ?? 'unknown',
  };
}

// A minimal uncompressed NIfTI-1 (.nii) in memory, so overlays computed in
// the webview (the Dice labels, a word's patch map) load into NiiVue like
// files, on the grid and affine of the volume they belong to. Pure.

export interface NiftiSpec {
  dims: readonly [number, number, number];
  pixdim: readonly [number, number, number];
  /** voxel → world (RAS mm), 4×4 row-major rows; written as the sform (code 2) */
  affine: readonly (readonly number[])[];
  data: Float32Array | Uint8Array;
}

const HEADER = 348;
const OFFSET = 352;

export function niftiBytes(spec: NiftiSpec): ArrayBuffer {
  const [nx, ny, nz] = spec.dims;
  if (nx * ny * nz !== spec.data.length) throw new Error(`niftiBytes: ${spec.data.length} values do not fill ${spec.dims.join('×')}`);
  if (spec.affine.length < 3 || spec.affine.some((r) => r.length < 4)) throw new Error('niftiBytes: affine must be 4×4 (at least three rows of four)');
  const float = spec.data instanceof Float32Array;
  const bytesPer = float ? 4 : 1;
  const buf = new ArrayBuffer(OFFSET + spec.data.length * bytesPer);
  const v = new DataView(buf);
  v.setInt32(0, HEADER, true);
  const dim = [3, nx, ny, nz, 1, 1, 1, 1];
  dim.forEach((d, i) => v.setInt16(40 + 2 * i, d, true));
  v.setInt16(70, float ? 16 : 2, true); // datatype: FLOAT32 or UINT8
  v.setInt16(72, bytesPer * 8, true); // bitpix
  const pix = [1, spec.pixdim[0], spec.pixdim[1], spec.pixdim[2], 0, 0, 0, 0];
  pix.forEach((d, i) => v.setFloat32(76 + 4 * i, d, true));
  v.setFloat32(108, OFFSET, true); // vox_offset
  v.setFloat32(112, 1, true); // scl_slope
  v.setUint8(123, 10); // xyzt_units: mm, s
  v.setInt16(252, 0, true); // qform_code: none (the sform says it all)
  v.setInt16(254, 2, true); // sform_code: aligned anatomical
  for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) v.setFloat32(280 + 16 * r + 4 * c, spec.affine[r]![c]!, true);
  [0x6e, 0x2b, 0x31, 0].forEach((b, i) => v.setUint8(344 + i, b)); // "n+1\0"
  const body = new Uint8Array(buf, OFFSET);
  body.set(new Uint8Array(spec.data.buffer, spec.data.byteOffset, spec.data.byteLength));
  return buf;
}

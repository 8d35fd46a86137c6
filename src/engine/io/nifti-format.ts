// NIfTI-1/2 constants: header sizes, magic strings and the datatypes this
// engine reads and writes. Field offsets follow nifti1.h and nifti2.h.

export const NIFTI1_HEADER_SIZE = 348;
export const NIFTI2_HEADER_SIZE = 540;
/** Header + the 4-byte extension flag: the smallest legal vox_offset of a .nii. */
export const NIFTI1_MIN_VOX_OFFSET = 352;
export const NIFTI2_MIN_VOX_OFFSET = 544;

export type NiftiDatatype = 'uint8' | 'int8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32' | 'float64';

export interface DatatypeInfo {
  name: NiftiDatatype;
  code: number;
  bytes: number;
}

export const DATATYPES: readonly DatatypeInfo[] = [
  { name: 'uint8', code: 2, bytes: 1 },
  { name: 'int16', code: 4, bytes: 2 },
  { name: 'int32', code: 8, bytes: 4 },
  { name: 'float32', code: 16, bytes: 4 },
  { name: 'float64', code: 64, bytes: 8 },
  { name: 'int8', code: 256, bytes: 1 },
  { name: 'uint16', code: 512, bytes: 2 },
  { name: 'uint32', code: 768, bytes: 4 },
];

/** Names of the codes we refuse, for a readable error. */
export const UNSUPPORTED_DATATYPES: Readonly<Record<number, string>> = {
  0: 'unknown (0)',
  1: 'binary (1)',
  32: 'complex64 (32)',
  128: 'RGB24 (128)',
  1024: 'int64 (1024)',
  1280: 'uint64 (1280)',
  1536: 'float128 (1536)',
  1792: 'complex128 (1792)',
  2048: 'complex256 (2048)',
  2304: 'RGBA32 (2304)',
};

export function datatypeByCode(code: number): DatatypeInfo | undefined {
  return DATATYPES.find((d) => d.code === code);
}

export function datatypeByName(name: string): DatatypeInfo | undefined {
  return DATATYPES.find((d) => d.name === name);
}

/** Reads element `index` of a datatype from raw bytes (either endianness). */
export function elementReader(dt: NiftiDatatype, view: DataView, littleEndian: boolean): (byteOffset: number) => number {
  switch (dt) {
    case 'uint8':
      return (o) => view.getUint8(o);
    case 'int8':
      return (o) => view.getInt8(o);
    case 'int16':
      return (o) => view.getInt16(o, littleEndian);
    case 'uint16':
      return (o) => view.getUint16(o, littleEndian);
    case 'int32':
      return (o) => view.getInt32(o, littleEndian);
    case 'uint32':
      return (o) => view.getUint32(o, littleEndian);
    case 'float32':
      return (o) => view.getFloat32(o, littleEndian);
    case 'float64':
      return (o) => view.getFloat64(o, littleEndian);
  }
}

export const SPATIAL_UNITS: Readonly<Record<number, string>> = { 0: 'unknown', 1: 'm', 2: 'mm', 3: 'um' };

// A DICOM-SEG (dicom-seg.ts) as the case's tumour mask on the converted
// image's voxel grid: a NIfTI with the image's dimensions and affine.
//
// Segments: the segments whose label, description or segmented property type
// looks like a tumour (TUMOUR_LIKE: tumour, neoplasm, lesion, glioma, edema,
// necrosis, enhancing, GTV, ...) are used, united; when none does, all
// segments are. import.json records every segment and whether it was used.
//
// Resampling is nearest neighbour from the SEG's side: every segmented pixel
// (a BINARY bit set, a FRACTIONAL value > 0, a LABELMAP value naming a used
// segment) sets the image voxel whose centre its own centre is nearest to:
// world (LPS) = ImagePositionPatient + column·spacing·rowDir +
// row·spacing·colDir, flipped to RAS, then through the inverse of the image's
// affine and rounded. The SEG's planes must be parallel to the image's axes
// (within MAX_TILT_DEGREES); a SEG all of whose pixels fall outside the image
// is an error, one with some outside or with none at all a warning.
import { cloneAffine, columnNorms, inv3, linearPart, type Mat3 } from '../io/affine-math';
import { readNiftiHeader, writeNifti } from '../io/nifti';
import type { Affine } from '../io/volume';
import { findSegFile, readSeg, type Seg, type SegSegment, type Vec3 } from './dicom-seg';

/** Segment names taken for the tumour (any match in label, description or property type). */
export const TUMOUR_LIKE = /tumou?r|neoplas|lesion|\bmass\b|cancer|carcinom|glioma|glioblastom|astrocytom|ependymom|medulloblastom|metasta|\bgtv\b|enhanc|necro|o?edema/i;
/** The largest angle between a SEG plane's direction and the image axis it runs along. */
export const MAX_TILT_DEGREES = 0.5;

export interface SegSegmentRecord {
  number: number;
  label: string;
  used: boolean;
}

export interface SegMask {
  /** 0/1 per image voxel, i fastest (NIfTI order). */
  data: Uint8Array;
  /** Voxels set. */
  voxels: number;
  /** Segmented pixels of the used segments, and how many of them fell outside the image. */
  pixels: number;
  outside: number;
  segments: SegSegmentRecord[];
  /** Which rule chose the segments. */
  rule: 'tumour-like labels' | 'all segments';
  warnings: string[];
}

/** The SEG file read and what import.json records about it. */
export interface SegMaskResult extends Omit<SegMask, 'data'> {
  file: string;
}

function describe(s: SegSegment): string {
  return [s.label, s.description ?? '', s.type ?? ''].join(' ');
}

/** The segments to unite (see the file comment). */
export function chooseSegments(segments: readonly SegSegment[]): { used: Set<number>; rule: SegMask['rule'] } {
  const tumour = segments.filter((s) => TUMOUR_LIKE.test(describe(s)));
  if (tumour.length) return { used: new Set(tumour.map((s) => s.number)), rule: 'tumour-like labels' };
  return { used: new Set(segments.map((s) => s.number)), rule: 'all segments' };
}

const lpsToRas = (v: readonly number[]): Vec3 => [-v[0]!, -v[1]!, v[2]!];

function mul(m: Mat3, v: readonly number[]): Vec3 {
  return [0, 1, 2].map((r) => m[r]![0] * v[0]! + m[r]![1] * v[1]! + m[r]![2] * v[2]!) as Vec3;
}

/** Degrees between `dir` (unit, RAS) and the image axis nearest to it (either sense). */
function tilt(dir: Vec3, axes: readonly Vec3[]): number {
  const best = Math.max(...axes.map((a) => Math.abs(a[0] * dir[0] + a[1] * dir[1] + a[2] * dir[2])));
  return (Math.acos(Math.min(1, best)) * 180) / Math.PI;
}

/** Places the used segments of `seg` on the grid `dims`/`affine` (RAS) by nearest neighbour; pure (no files). */
export function segToGrid(seg: Seg, dims: readonly [number, number, number], affine: Affine): SegMask {
  const { used, rule } = chooseSegments(seg.segments);
  const L = linearPart(affine);
  const Linv = inv3(L);
  const t: Vec3 = [affine[0][3], affine[1][3], affine[2][3]];
  const norms = columnNorms(affine);
  const axes = [0, 1, 2].map((k) => [L[0][k] / norms[k], L[1][k] / norms[k], L[2][k] / norms[k]] as Vec3);
  const [nx, ny, nz] = dims;
  const data = new Uint8Array(nx * ny * nz);
  const labelmap = seg.type === 'LABELMAP';
  const perFrame = seg.rows * seg.columns;
  const checked = new Set<string>();
  let pixels = 0;
  let outside = 0;
  let voxels = 0;
  seg.frames.forEach((f, n) => {
    if (!labelmap && !used.has(f.segment!)) return;
    const key = [...f.rowDir, ...f.colDir].join(',');
    if (!checked.has(key)) {
      const worst = Math.max(tilt(lpsToRas(f.rowDir), axes), tilt(lpsToRas(f.colDir), axes));
      if (worst > MAX_TILT_DEGREES) {
        throw new Error(`${seg.file}: frame ${n + 1}'s orientation is not parallel to the image's axes (off by ${worst.toFixed(2)}°, at most ${MAX_TILT_DEGREES}°): the SEG was drawn on another series or plane`);
      }
      checked.add(key);
    }
    const p = lpsToRas(f.position);
    const base = mul(Linv, [p[0] - t[0], p[1] - t[1], p[2] - t[2]]);
    const du = mul(Linv, lpsToRas(f.rowDir.map((x) => x * f.spacing[1])));
    const dv = mul(Linv, lpsToRas(f.colDir.map((x) => x * f.spacing[0])));
    const first = n * perFrame;
    for (let r = 0; r < seg.rows; r++) {
      for (let c = 0; c < seg.columns; c++) {
        const v = seg.pixel(first + r * seg.columns + c);
        if (v === 0 || (labelmap && !used.has(v))) continue;
        pixels++;
        const i = Math.round(base[0] + c * du[0] + r * dv[0]);
        const j = Math.round(base[1] + c * du[1] + r * dv[1]);
        const k = Math.round(base[2] + c * du[2] + r * dv[2]);
        if (i < 0 || j < 0 || k < 0 || i >= nx || j >= ny || k >= nz) {
          outside++;
          continue;
        }
        const at = i + nx * (j + ny * k);
        if (data[at] === 0) voxels++;
        data[at] = 1;
      }
    }
  });
  const names = seg.segments.filter((s) => used.has(s.number)).map((s) => `${s.number} ${JSON.stringify(s.label)}`).join(', ');
  const warnings: string[] = [];
  if (pixels > 0 && outside === pixels) {
    throw new Error(`${seg.file}: the SEG lies outside the image: none of its ${pixels} segmented pixel(s) (segments ${names}) falls inside the image's ${dims.join('×')} grid; was it drawn on another study or frame of reference?`);
  }
  if (outside > 0) warnings.push(`${seg.file}: ${outside} of ${pixels} segmented pixel(s) fall outside the image and were dropped`);
  if (voxels === 0) warnings.push(`${seg.file}: the mask is empty after resampling: segment(s) ${names} hold no pixels`);
  const segments = seg.segments.map((s) => ({ number: s.number, label: s.label, used: used.has(s.number) }));
  return { data, voxels, pixels, outside, segments, rule, warnings };
}

/**
 * Reads the DICOM-SEG `source` (a file, or a folder holding exactly one),
 * resamples it onto the grid of the NIfTI `image` and writes the mask to
 * `out` (uint8 NIfTI, the image's dimensions and affine, written atomically).
 */
export function segMaskForImage(source: string, image: string, out: string): SegMaskResult {
  const file = findSegFile(source);
  const seg = readSeg(file);
  const h = readNiftiHeader(image);
  const { data, ...rest } = segToGrid(seg, h.dims, h.affine);
  const code = h.sformCode >= 1 && h.sformCode <= 4 ? h.sformCode : h.qformCode >= 1 && h.qformCode <= 4 ? h.qformCode : 1;
  writeNifti(out, { data: Float32Array.from(data), dims: [...h.dims], pixdim: columnNorms(h.affine), affine: cloneAffine(h.affine) }, { datatype: 'uint8', description: 'tumour mask from DICOM-SEG', xformCode: code });
  return { file, ...rest };
}

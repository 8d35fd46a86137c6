// Labelmaps as 3D Slicer segmentations (`.seg.nrrd`) and ITK-SNAP label
// description files, so the attention map and its Dice overlay open in the
// tools radiologists use with the right names and colours.
//
// Geometry. The NIfTI affine A maps voxel (i, j, k) to RAS+ world mm. NRRD's
// first axis is the fastest, as NIfTI's i, so the voxels are written in the
// same order; `space directions` are A's first three columns and `space
// origin` its last column, in the NRRD space: "left-posterior-superior"
// (default; what Slicer and ITK write) negates x and y, "right-anterior-
// superior" keeps them. Numbers are written with JavaScript's shortest
// round-trip form, so they read back exactly.
//
// One layer (a plain 3D labelmap, which ITK-SNAP opens too): a voxel holds
// one label. Slicer reads the segments' names and colours from the
// `SegmentN_*` fields; ITK-SNAP from the label description file beside it.
// Layout in docs/formats.md, "Attention segmentations".
import { gzipSync } from 'node:zlib';
import { writeFileAtomic } from '../io/atomic';
import { isFiniteAffine } from '../io/affine-math';
import { voxelCount, type Affine } from '../io/volume';

export interface Segment {
  /** Slicer segment id (no spaces) */
  id: string;
  /** shown name */
  name: string;
  /** RGB in [0, 1] */
  color: [number, number, number];
  /** voxel value of this segment, 1..255 */
  label: number;
}

export interface SegNrrdOptions {
  /** 'gzip' (default) or 'raw' */
  encoding?: 'gzip' | 'raw';
  /** NRRD space: 'LPS' (default, "left-posterior-superior") or 'RAS' ("right-anterior-superior") */
  space?: 'LPS' | 'RAS';
}

export interface LabelGrid {
  dims: [number, number, number];
  affine: Affine;
}

/** Labels of the attention segmentation (docs/formats.md). */
export const ATTENTION_SEGMENTS = {
  attention: { id: 'attention', name: 'attention', color: [1, 0.8, 0], label: 1 },
  tp: { id: 'true_positive', name: 'attention and tumour (TP)', color: [0.1, 0.8, 0.1], label: 1 },
  fp: { id: 'false_positive', name: 'attention outside the tumour (FP)', color: [0.9, 0.1, 0.1], label: 2 },
  fn: { id: 'false_negative', name: 'tumour without attention (FN)', color: [0.1, 0.3, 1], label: 3 },
} as const satisfies Record<string, Segment>;

/**
 * The labelmap of a binary attention map: label 1 "attention" without a
 * mask; with one, the Dice classes TP = 1, FP = 2, FN = 3 (the binary map is
 * then the voxels labelled 1 or 2). Both arrays in Volume order.
 */
export function attentionLabelmap(binary: Uint8Array, mask?: ArrayLike<number>, where = 'attentionLabelmap'): { labels: Uint8Array; segments: Segment[] } {
  const n = binary.length;
  const labels = new Uint8Array(n);
  if (mask === undefined) {
    for (let i = 0; i < n; i++) labels[i] = binary[i] ? 1 : 0;
    return { labels, segments: [{ ...ATTENTION_SEGMENTS.attention, color: [...ATTENTION_SEGMENTS.attention.color] }] };
  }
  if (mask.length !== n) throw new Error(`${where}: mask has ${mask.length} voxels, the binary map ${n}`);
  for (let i = 0; i < n; i++) {
    const b = binary[i] !== 0;
    const m = mask[i] !== 0;
    labels[i] = b && m ? 1 : b ? 2 : m ? 3 : 0;
  }
  const { tp, fp, fn } = ATTENTION_SEGMENTS;
  return { labels, segments: [tp, fp, fn].map((s) => ({ ...s, color: [...s.color] as [number, number, number] })) };
}

function num(x: number): string {
  return Object.is(x, -0) ? '0' : String(x);
}

function checkText(value: string, what: string, where: string): void {
  // eslint-disable-next-line no-control-regex
  if (!value || /[\u0000-\u001f\u007f]/.test(value)) throw new Error(`${where}: ${what} ${JSON.stringify(value)} must be non-empty without control characters`);
}

/** Bounding box [i0, i1, j0, j1, k0, k1] of the voxels holding `label`; Slicer's "0 -1 0 -1 0 -1" when none do. */
export function labelExtent(labels: Uint8Array, dims: readonly [number, number, number], label: number): number[] {
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-1, -1, -1];
  const [nx, ny] = dims;
  for (let n = 0; n < labels.length; n++) {
    if (labels[n] !== label) continue;
    const ijk = [n % nx, Math.floor(n / nx) % ny, Math.floor(n / (nx * ny))];
    for (let a = 0; a < 3; a++) {
      if (ijk[a]! < lo[a]!) lo[a] = ijk[a]!;
      if (ijk[a]! > hi[a]!) hi[a] = ijk[a]!;
    }
  }
  if (hi[0] === -1) return [0, -1, 0, -1, 0, -1];
  return [lo[0]!, hi[0]!, lo[1]!, hi[1]!, lo[2]!, hi[2]!];
}

/** The bytes of a `.seg.nrrd` holding `labels` (uint8, Volume order) on `grid`. */
export function segNrrdBytes(grid: LabelGrid, labels: Uint8Array, segments: readonly Segment[], options: SegNrrdOptions = {}, where = 'seg.nrrd'): Uint8Array {
  const { dims, affine } = grid;
  if (dims.length !== 3 || !dims.every((d) => Number.isInteger(d) && d > 0)) throw new Error(`${where}: dims must be three positive integers, got ${JSON.stringify(dims)}`);
  if (!(labels instanceof Uint8Array) || labels.length !== voxelCount(dims)) {
    throw new Error(`${where}: labels have ${labels?.length} values, the grid ${dims.join('×')} needs ${voxelCount(dims)}`);
  }
  if (!isFiniteAffine(affine)) throw new Error(`${where}: the affine holds a non-finite value`);
  const encoding = options.encoding ?? 'gzip';
  if (encoding !== 'gzip' && encoding !== 'raw') throw new Error(`${where}: encoding must be 'gzip' or 'raw', got ${String(encoding)}`);
  const space = options.space ?? 'LPS';
  if (space !== 'LPS' && space !== 'RAS') throw new Error(`${where}: space must be 'LPS' or 'RAS', got ${String(space)}`);
  const seen = new Set<number>();
  for (const s of segments) {
    checkText(s.id, 'segment id', where);
    checkText(s.name, 'segment name', where);
    if (/\s/.test(s.id)) throw new Error(`${where}: segment id ${JSON.stringify(s.id)} must not hold spaces`);
    if (!Number.isInteger(s.label) || s.label < 1 || s.label > 255 || seen.has(s.label)) throw new Error(`${where}: segment ${s.id}: label must be a distinct integer in 1..255, got ${s.label}`);
    if (s.color.length !== 3 || !s.color.every((c) => c >= 0 && c <= 1)) throw new Error(`${where}: segment ${s.id}: colour must be three numbers in [0, 1]`);
    seen.add(s.label);
  }
  for (let n = 0; n < labels.length; n++) {
    if (labels[n] !== 0 && !seen.has(labels[n]!)) throw new Error(`${where}: voxel ${n} holds label ${labels[n]}, which no segment names`);
  }
  const flip = space === 'LPS' ? [-1, -1, 1] : [1, 1, 1];
  const vec = (col: number) => `(${[0, 1, 2].map((r) => num(flip[r]! * affine[r]![col]!)).join(',')})`;
  const lines = [
    'NRRD0004',
    '# Complete NRRD file format specification at:',
    '# http://teem.sourceforge.net/nrrd/format.html',
    'type: unsigned char',
    'dimension: 3',
    `space: ${space === 'LPS' ? 'left-posterior-superior' : 'right-anterior-superior'}`,
    `sizes: ${dims.join(' ')}`,
    `space directions: ${vec(0)} ${vec(1)} ${vec(2)}`,
    'kinds: domain domain domain',
    'endian: little',
    `encoding: ${encoding}`,
    `space origin: ${vec(3)}`,
    'Segmentation_ContainedRepresentationNames:=Binary labelmap|',
    'Segmentation_MasterRepresentation:=Binary labelmap',
    'Segmentation_ReferenceImageExtentOffset:=0 0 0',
  ];
  segments.forEach((s, i) => {
    lines.push(
      `Segment${i}_Color:=${s.color.map(num).join(' ')}`,
      `Segment${i}_ColorAutoGenerated:=0`,
      `Segment${i}_Extent:=${labelExtent(labels, dims, s.label).join(' ')}`,
      `Segment${i}_ID:=${s.id}`,
      `Segment${i}_LabelValue:=${s.label}`,
      `Segment${i}_Layer:=0`,
      `Segment${i}_Name:=${s.name}`,
      `Segment${i}_NameAutoGenerated:=0`,
      `Segment${i}_Tags:=|`,
    );
  });
  const header = Buffer.from(`${lines.join('\n')}\n\n`, 'latin1');
  const body = encoding === 'gzip' ? gzipSync(labels) : labels;
  const out = new Uint8Array(header.byteLength + body.byteLength);
  out.set(header, 0);
  out.set(body, header.byteLength);
  return out;
}

/** Writes a `.seg.nrrd` atomically (see segNrrdBytes). */
export function writeSegNrrd(path: string, grid: LabelGrid, labels: Uint8Array, segments: readonly Segment[], options: SegNrrdOptions = {}): void {
  writeFileAtomic(path, [segNrrdBytes(grid, labels, segments, options, `writeSegNrrd ${path}`)]);
}

/** An ITK-SNAP label description file for `segments` (colours 0..255, label 0 "Clear Label"). */
export function itkSnapLabelText(segments: readonly Segment[]): string {
  const rows = [
    '################################################',
    '# ITK-SnAP Label Description File',
    '# File format:',
    '# IDX   -R-  -G-  -B-  -A--  VIS MSH  LABEL',
    '################################################',
    '    0     0    0    0        0  0  0    "Clear Label"',
  ];
  for (const s of segments) {
    checkText(s.name, 'segment name', 'itkSnapLabelText');
    if (s.name.includes('"')) throw new Error(`itkSnapLabelText: segment name ${JSON.stringify(s.name)} must not hold a double quote`);
    const [r, g, b] = s.color.map((c) => String(Math.round(c * 255)).padStart(5));
    rows.push(`${String(s.label).padStart(5)} ${r} ${g} ${b}        1  1  1    "${s.name}"`);
  }
  return `${rows.join('\n')}\n`;
}

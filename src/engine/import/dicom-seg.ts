// Reads a DICOM Segmentation (DICOM-SEG) instance with dcmjs's parser: its
// segments, each frame's plane (position, orientation, pixel spacing; DICOM
// LPS) and its pixels, decoded from 1-bit packed (BINARY) or 8-bit
// (FRACTIONAL, LABELMAP) pixel data. The mask column of `mrcl import --dicom`
// names either one SEG file or a folder holding exactly one; seg-mask.ts
// puts the frames onto the image's grid.
//
// Only geometry, segment numbers and labels are read out of the dataset:
// patient, study and person fields are never copied anywhere.
import { closeSync, readdirSync, readSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { data as dicomData, log as dicomLog } from 'dcmjs';
import { openRegularFile, readFileBounded } from '../io/bounded-read';

/** The largest SEG file read (a 1-bit SEG of a 512×512×200 volume with 10 segments is ~65 MiB). */
export const SEG_MAX_BYTES = 1024 * 1024 * 1024;
/** Files looked at in a mask folder before giving up. */
const MAX_FOLDER_FILES = 10_000;
/** Bytes read of each file of a mask folder to tell a SEG from other DICOM files. */
const PROBE_BYTES = 64 * 1024;

export const SEG_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.66.4';
/** Label Map Segmentation Storage: one frame per plane, a pixel's value is its segment number. */
export const LABELMAP_SEG_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.66.7';
const SEG_CLASSES = new Set([SEG_SOP_CLASS, LABELMAP_SEG_SOP_CLASS]);
/** Implicit and explicit VR little endian, deflated explicit VR little endian: pixel data stored as is. */
const NATIVE_SYNTAXES = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.1.99']);

dicomLog.setLevel('error'); // dcmjs's warnings would reach the terminal; problems are reported by the checks below

export type Vec3 = [number, number, number];

export interface SegSegment {
  number: number;
  /** SegmentLabel ("" when absent). */
  label: string;
  /** SegmentDescription and the segmented property type's meaning, when present. */
  description?: string;
  type?: string;
}

export interface SegFrame {
  /** The segment the frame belongs to (ReferencedSegmentNumber); undefined for a label map frame. */
  segment?: number;
  /** ImagePositionPatient: the centre of pixel (row 0, column 0), LPS mm. */
  position: Vec3;
  /** ImageOrientationPatient: unit directions of increasing column index and of increasing row index, LPS. */
  rowDir: Vec3;
  colDir: Vec3;
  /** PixelSpacing: [between rows, between columns] mm. */
  spacing: [number, number];
}

export interface Seg {
  file: string;
  rows: number;
  columns: number;
  /** BINARY, FRACTIONAL or LABELMAP (SegmentationType). */
  type: string;
  bitsAllocated: 1 | 8;
  segments: SegSegment[];
  frames: SegFrame[];
  /** The value of pixel (row r, column c) of frame f: pixel(f * rows * columns + r * columns + c). */
  pixel: (n: number) => number;
}

type Fields = Record<string, unknown>;

function bytesOf(buf: Buffer): ArrayBuffer {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

function isPart10(buf: Buffer): boolean {
  return buf.length >= 132 && buf.toString('latin1', 128, 132) === 'DICM';
}

function str(v: unknown): string {
  if (Array.isArray(v)) return v.length ? str(v[0]) : '';
  return typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : '';
}

function num(v: unknown): number | undefined {
  if (Array.isArray(v)) return v.length === 1 ? num(v[0]) : undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

function nums(v: unknown, count: number): number[] | undefined {
  const a = Array.isArray(v) ? v : [v];
  if (a.length !== count) return undefined;
  const out = a.map((x) => num(x));
  return out.every((x) => x !== undefined) ? (out as number[]) : undefined;
}

function item(v: unknown): Fields | undefined {
  const first = Array.isArray(v) ? v[0] : v;
  return first && typeof first === 'object' && !ArrayBuffer.isView(first) && !(first instanceof ArrayBuffer) ? (first as Fields) : undefined;
}

function items(v: unknown): Fields[] {
  return Array.isArray(v) ? v.filter((x): x is Fields => !!x && typeof x === 'object') : [];
}

/** Modality and SOP class of a parsed file, from the dataset or else the file meta group. */
function kindOf(meta: Fields, ds: Fields): { modality: string; sopClass: string } {
  return { modality: str(ds.Modality), sopClass: str(ds.SOPClassUID) || str(meta.MediaStorageSOPClassUID) };
}

function isSeg(kind: { modality: string; sopClass: string }): boolean {
  return kind.modality.toUpperCase() === 'SEG' || SEG_CLASSES.has(kind.sopClass);
}

function parse(file: string, buf: Buffer, untilModality: boolean): { meta: Fields; ds: Fields } {
  if (!isPart10(buf)) throw new Error(`${file}: not a DICOM file (no "DICM" after the 128-byte preamble)`);
  let dict;
  try {
    dict = dicomData.DicomMessage.readFile(bytesOf(buf), untilModality ? { untilTag: '00080060', includeUntilTagValue: true, stopOnGreaterTag: true } : {});
  } catch (e) {
    throw new Error(`${file}: cannot be read as DICOM, truncated or damaged (${(e as Error).message})`);
  }
  const { DicomMetaDictionary } = dicomData;
  return { meta: DicomMetaDictionary.naturalizeDataset(dict.meta), ds: DicomMetaDictionary.naturalizeDataset(dict.dict) };
}

function readPrefix(file: string, n: number): Buffer {
  const { fd } = openRegularFile(file, 'DICOM file');
  try {
    const buf = Buffer.alloc(n);
    let got = 0;
    while (got < n) {
      const k = readSync(fd, buf, got, n - got, got);
      if (k === 0) break;
      got += k;
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** Whether `file` is a DICOM-SEG, from its first bytes (the whole file only when those do not tell); undefined when it is no DICOM file. */
function probe(file: string): { seg: boolean; modality: string } | undefined {
  const attempt = (buf: Buffer): { seg: boolean; modality: string } | undefined => {
    try {
      const { meta, ds } = parse(file, buf, true);
      const kind = kindOf(meta, ds);
      return { seg: isSeg(kind), modality: kind.modality || '?' };
    } catch {
      return undefined;
    }
  };
  try {
    const head = readPrefix(file, PROBE_BYTES);
    if (!isPart10(head)) return undefined;
    const quick = attempt(head);
    if (quick || head.length < PROBE_BYTES) return quick ?? { seg: false, modality: 'unreadable' };
    // an element longer than the probe before Modality: the whole file decides
    return attempt(readFileBounded(file, { maxBytes: SEG_MAX_BYTES, what: 'DICOM file' })) ?? { seg: false, modality: 'unreadable' };
  } catch (e) {
    throw new Error(`${file}: cannot be read (${(e as Error).message})`);
  }
}

/**
 * The SEG file that the mask column names: `path` itself, or the one
 * DICOM-SEG instance below the folder `path` (other files are ignored;
 * none or several is an error naming the folder).
 */
export function findSegFile(path: string): string {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new Error(`${path}: DICOM-SEG file or folder not found`);
  }
  if (!st.isDirectory()) return path;
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (entry.name.startsWith('.')) continue;
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p); // a linked folder is not followed (no loops)
      else if (entry.isFile() || (entry.isSymbolicLink() && statSync(p, { throwIfNoEntry: false })?.isFile())) {
        if (files.length >= MAX_FOLDER_FILES) throw new Error(`${path}: more than ${MAX_FOLDER_FILES} files in the DICOM-SEG folder`);
        files.push(p);
      }
    }
  };
  walk(path);
  const segs: string[] = [];
  const others = new Map<string, number>();
  let notDicom = 0;
  for (const f of files) {
    const kind = probe(f);
    if (kind === undefined) notDicom++;
    else if (kind.seg) segs.push(f);
    else others.set(kind.modality, (others.get(kind.modality) ?? 0) + 1);
  }
  if (segs.length > 1) {
    throw new Error(`${path}: more than one DICOM-SEG in the folder (${segs.map((s) => relative(path, s)).join(', ')}); name one file in the mask column`);
  }
  if (segs.length === 0) {
    const seen = [...others].map(([m, n]) => `${n} ${m}`).join(', ');
    throw new Error(`${path}: no DICOM-SEG in the folder (${files.length} file(s)${seen ? `: DICOM ${seen}` : ''}${notDicom ? `, ${notDicom} not DICOM` : ''})`);
  }
  return segs[0]!;
}

function segmentOf(s: Fields): SegSegment | undefined {
  const number = num(s.SegmentNumber);
  if (number === undefined) return undefined;
  const out: SegSegment = { number, label: str(s.SegmentLabel) };
  const description = str(s.SegmentDescription);
  if (description) out.description = description;
  const type = str(item(s.SegmentedPropertyTypeCodeSequence)?.CodeMeaning);
  if (type) out.type = type;
  return out;
}

function unit(v: number[]): Vec3 {
  const n = Math.hypot(v[0]!, v[1]!, v[2]!);
  return [v[0]! / n, v[1]! / n, v[2]! / n];
}

/** Frame n's plane, from its own functional groups or else the shared ones. */
function frameOf(file: string, n: number, own: Fields, shared: Fields | undefined): SegFrame {
  const group = (name: string): Fields | undefined => item(own[name]) ?? item(shared?.[name]);
  const at = `${file}: frame ${n + 1}`;
  const position = nums(group('PlanePositionSequence')?.ImagePositionPatient, 3);
  if (!position) throw new Error(`${at} has no PlanePositionSequence ImagePositionPatient`);
  const iop = nums(group('PlaneOrientationSequence')?.ImageOrientationPatient, 6);
  if (!iop) throw new Error(`${at} has no PlaneOrientationSequence ImageOrientationPatient (per frame or shared)`);
  const spacing = nums(group('PixelMeasuresSequence')?.PixelSpacing, 2);
  if (!spacing || !(spacing[0]! > 0 && spacing[1]! > 0)) throw new Error(`${at} has no valid PixelMeasuresSequence PixelSpacing (per frame or shared)`);
  const row = iop.slice(0, 3);
  const col = iop.slice(3);
  if (!(Math.hypot(...row) > 0.5 && Math.hypot(...col) > 0.5)) throw new Error(`${at}: ImageOrientationPatient ${iop.join('\\')} is not two directions`);
  const frame: SegFrame = { position: position as Vec3, rowDir: unit(row), colDir: unit(col), spacing: spacing as [number, number] };
  const segment = num(item(own.SegmentIdentificationSequence)?.ReferencedSegmentNumber);
  if (segment !== undefined) frame.segment = segment;
  return frame;
}

/** Reads and checks the DICOM-SEG `file` (see the file comment); errors name the file and the problem. */
export function readSeg(file: string): Seg {
  let buf: Buffer;
  try {
    buf = readFileBounded(file, { maxBytes: SEG_MAX_BYTES, what: 'DICOM-SEG' });
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new Error(code === 'ENOENT' ? `${file}: DICOM-SEG file not found` : (e as Error).message);
  }
  const { meta, ds } = parse(file, buf, false);
  const kind = kindOf(meta, ds);
  if (!isSeg(kind)) throw new Error(`${file}: not a DICOM-SEG (Modality ${kind.modality || 'missing'}, SOP Class ${kind.sopClass || 'missing'})`);
  const syntax = str(meta.TransferSyntaxUID);
  if (!NATIVE_SYNTAXES.has(syntax)) {
    throw new Error(`${file}: transfer syntax ${syntax || 'missing'} (compressed or big endian) is not supported; store the SEG uncompressed (explicit VR little endian)`);
  }
  const rows = num(ds.Rows);
  const columns = num(ds.Columns);
  if (!(rows && columns && Number.isInteger(rows) && Number.isInteger(columns) && rows > 0 && columns > 0)) throw new Error(`${file}: no valid Rows/Columns`);
  const bits = num(ds.BitsAllocated);
  if (bits !== 1 && bits !== 8) throw new Error(`${file}: BitsAllocated ${bits ?? 'missing'} is not supported (1 for BINARY, 8 for FRACTIONAL or LABELMAP)`);
  if ((num(ds.SamplesPerPixel) ?? 1) !== 1) throw new Error(`${file}: SamplesPerPixel must be 1`);
  const type = str(ds.SegmentationType).toUpperCase() || (kind.sopClass === LABELMAP_SEG_SOP_CLASS ? 'LABELMAP' : 'BINARY');
  const segments = items(ds.SegmentSequence).map(segmentOf).filter((s): s is SegSegment => s !== undefined);
  if (segments.length === 0) throw new Error(`${file}: no segments (SegmentSequence is empty)`);
  const declared = num(ds.NumberOfFrames) ?? 0;
  const perFrame = items(ds.PerFrameFunctionalGroupsSequence);
  if (declared < 1 || perFrame.length === 0) throw new Error(`${file}: no frames (NumberOfFrames ${declared}, ${perFrame.length} per-frame functional groups)`);
  if (perFrame.length !== declared) throw new Error(`${file}: NumberOfFrames is ${declared} but ${perFrame.length} per-frame functional groups are given`);
  const shared = item(ds.SharedFunctionalGroupsSequence);
  const frames = perFrame.map((f, n) => frameOf(file, n, f, shared));
  const labelmap = type === 'LABELMAP';
  const known = new Set(segments.map((s) => s.number));
  frames.forEach((f, n) => {
    if (labelmap) return;
    if (f.segment === undefined) throw new Error(`${file}: frame ${n + 1} has no SegmentIdentificationSequence ReferencedSegmentNumber`);
    if (!known.has(f.segment)) throw new Error(`${file}: frame ${n + 1} refers to segment ${f.segment}, which SegmentSequence does not define`);
  });
  const chunks = Array.isArray(ds.PixelData) ? ds.PixelData : [];
  const parts = chunks.filter((c): c is ArrayBuffer => c instanceof ArrayBuffer);
  const total = parts.reduce((a, c) => a + c.byteLength, 0);
  const pixels = parts.length === 1 ? new Uint8Array(parts[0]!) : new Uint8Array(total);
  if (parts.length > 1) {
    let at = 0;
    for (const p of parts) {
      pixels.set(new Uint8Array(p), at);
      at += p.byteLength;
    }
  }
  const count = declared * rows * columns;
  const need = bits === 1 ? Math.ceil(count / 8) : count;
  if (total < need) {
    throw new Error(`${file}: truncated pixel data: ${total} bytes where ${declared} frame(s) of ${rows}×${columns} at ${bits} bit(s) need ${need}`);
  }
  // 1 bit: pixels follow each other across frames, least significant bit first (PS3.5 §8.1.1)
  const pixel = bits === 1 ? (n: number) => (pixels[n >> 3]! >> (n & 7)) & 1 : (n: number) => pixels[n]!;
  return { file, rows, columns, type, bitsAllocated: bits, segments, frames, pixel };
}

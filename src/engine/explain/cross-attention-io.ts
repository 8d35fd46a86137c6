// One case's cross-attention scores (METHOD.md §4) as a single JSON file the
// UI reads (docs/formats.md, "Cross-attention files"):
//
//   {
//     "format": "mri-report-cl.cross-attention", "version": 1,
//     "caseId": "case-001",
//     "words": ["mass", "in", "the", ...],            W words, report order
//     "patchGrid": [X3, Y3, Z3],                       layer3 grid, P3 = X3·Y3·Z3
//     "patchOrder": "(x*Y+y)*Z+z",                     patch index p of voxel (x, y, z)
//     "imageToText": { "shape": [P3, W], "dtype": "float32le", "base64": "..." },
//     "textToImage": { "shape": [W, P3], "dtype": "float32le", "base64": "..." },
//     "reference": { "image": "path/of/the/image.nii.gz" }      optional
//   }
//
// imageToText is S_A (row p: patch p's weights over the words, sums to 1, or
// 0 for a report without words); textToImage is S_B (row w: word w's
// weights over the patches, sums to 1, or 0 for a masked word). Arrays are
// row-major little-endian float32, base64-encoded. Unknown fields are
// ignored; a higher version is refused.
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../io/atomic';
import { BoundedReadError, readTextBounded } from '../io/bounded-read';
import { gridToVolumeOrder } from '../networks/image-input';
import type { Grid3 } from './attention-map';

export const CROSS_ATTENTION_FORMAT = 'mri-report-cl.cross-attention';
export const CROSS_ATTENTION_VERSION = 1;
const PATCH_ORDER = '(x*Y+y)*Z+z';
/** rows of a softmax sum to 1 within this (float32 over many terms) */
const SUM_TOLERANCE = 1e-3;
const DEFAULT_MAX_BYTES = 512 * 1024 * 1024;

export interface CrossAttentionRecord {
  caseId: string;
  /** the report's words (masked slots removed), W of them */
  words: string[];
  /** layer3 grid [X3, Y3, Z3]; patch p = (x·Y3 + y)·Z3 + z */
  patchGrid: Grid3;
  /** S_A [P3 × W] row-major: softmax over words per patch */
  imageToText: Float32Array;
  /** S_B [W × P3] row-major: softmax over patches per word */
  textToImage: Float32Array;
  /** the preprocessed or original image the patches map onto */
  reference?: { image: string };
}

export interface WordWeight {
  index: number;
  word: string;
  weight: number;
}

function fail(where: string, problem: string): never {
  throw new Error(`${where}: ${problem}`);
}

function isGrid(g: unknown): g is Grid3 {
  return Array.isArray(g) && g.length === 3 && g.every((d) => Number.isInteger(d) && d >= 1);
}

/** Checks a [rows × cols] score matrix: finite, in [0, 1], rows summing to 1 or 0. */
function checkScores(where: string, name: string, a: Float32Array, rows: number, cols: number, rowName: string): void {
  if (a.length !== rows * cols) fail(where, `${name} has ${a.length} values, expected ${rows}×${cols} = ${rows * cols}`);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let c = 0; c < cols; c++) {
      const v = a[r * cols + c]!;
      if (!Number.isFinite(v) || v < 0 || v > 1 + SUM_TOLERANCE) fail(where, `${name}[${r}, ${c}] is ${v}, not a weight in [0, 1]`);
      sum += v;
    }
    if (Math.abs(sum - 1) > SUM_TOLERANCE && Math.abs(sum) > SUM_TOLERANCE) {
      fail(where, `${name} row ${r} (${rowName} ${r}) sums to ${sum}, expected 1 (a softmax) or 0 (masked)`);
    }
  }
}

function checkRecord(where: string, r: CrossAttentionRecord): void {
  if (typeof r.caseId !== 'string' || r.caseId.length === 0) fail(where, 'caseId must be a non-empty string');
  if (!Array.isArray(r.words) || !r.words.every((w) => typeof w === 'string')) fail(where, 'words must be an array of strings');
  if (!isGrid(r.patchGrid)) fail(where, `patchGrid must be three positive integers, got ${JSON.stringify(r.patchGrid)}`);
  if (!(r.imageToText instanceof Float32Array) || !(r.textToImage instanceof Float32Array)) fail(where, 'imageToText and textToImage must be Float32Arrays');
  if (r.reference !== undefined && (typeof r.reference !== 'object' || r.reference === null || typeof r.reference.image !== 'string')) {
    fail(where, 'reference must be { image: string }');
  }
  const p = r.patchGrid[0] * r.patchGrid[1] * r.patchGrid[2];
  const w = r.words.length;
  checkScores(where, 'imageToText', r.imageToText, p, w, 'patch');
  checkScores(where, 'textToImage', r.textToImage, w, p, 'word');
}

function encode(a: Float32Array, shape: [number, number]): { shape: [number, number]; dtype: string; base64: string } {
  const bytes = new Uint8Array(a.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < a.length; i++) view.setFloat32(i * 4, a[i]!, true);
  return { shape, dtype: 'float32le', base64: Buffer.from(bytes).toString('base64') };
}

function decode(where: string, name: string, v: unknown, shape: [number, number]): Float32Array {
  if (typeof v !== 'object' || v === null) fail(where, `${name} is missing`);
  const o = v as Record<string, unknown>;
  if (o.dtype !== 'float32le') fail(where, `${name}.dtype must be "float32le", got ${JSON.stringify(o.dtype)}`);
  if (!Array.isArray(o.shape) || o.shape.length !== 2 || o.shape[0] !== shape[0] || o.shape[1] !== shape[1]) {
    fail(where, `${name}.shape is ${JSON.stringify(o.shape)}, expected [${shape.join(', ')}] from patchGrid and words`);
  }
  const s = o.base64;
  // Buffer's decoder skips bad characters silently: check the alphabet first
  if (typeof s !== 'string' || s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) fail(where, `${name}.base64 is not valid base64`);
  const bytes = Buffer.from(s, 'base64');
  const n = shape[0] * shape[1];
  if (bytes.length !== n * 4) fail(where, `${name} holds ${bytes.length} bytes, shape [${shape.join(', ')}] needs ${n * 4}`);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = bytes.readFloatLE(i * 4);
  return out;
}

/** Validates and writes `record` to `path` (a .json file) atomically; creates the folder if missing. */
export function saveCrossAttention(path: string, record: CrossAttentionRecord): void {
  const where = `saveCrossAttention ${path}`;
  checkRecord(where, record);
  const p = record.patchGrid[0] * record.patchGrid[1] * record.patchGrid[2];
  const w = record.words.length;
  const json = {
    format: CROSS_ATTENTION_FORMAT,
    version: CROSS_ATTENTION_VERSION,
    caseId: record.caseId,
    words: record.words,
    patchGrid: record.patchGrid,
    patchOrder: PATCH_ORDER,
    imageToText: encode(record.imageToText, [p, w]),
    textToImage: encode(record.textToImage, [w, p]),
    ...(record.reference ? { reference: { image: record.reference.image } } : {}),
  };
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, [Buffer.from(JSON.stringify(json), 'utf8')]);
}

/** Reads and validates a cross-attention file; every error names `path`. */
export function loadCrossAttention(path: string, options: { maxBytes?: number } = {}): CrossAttentionRecord {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  let size: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) fail(path, 'not a regular file');
    size = st.size;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') fail(path, 'file not found');
    if (code === undefined) throw e;
    fail(path, `cannot read (${(e as Error).message})`);
  }
  if (size > maxBytes) fail(path, `file of ${size} bytes exceeds the ${maxBytes}-byte limit for cross-attention files`);
  let json: unknown;
  try {
    // bounded again: the file may have been replaced since the stat
    json = JSON.parse(readTextBounded(path, { maxBytes, what: 'cross-attention file' }));
  } catch (e) {
    if (e instanceof BoundedReadError) throw e;
    fail(path, `not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail(path, 'expected a JSON object');
  const o = json as Record<string, unknown>;
  if (o.format !== CROSS_ATTENTION_FORMAT) fail(path, `not a cross-attention file (format is ${JSON.stringify(o.format)}, expected "${CROSS_ATTENTION_FORMAT}")`);
  if (!Number.isInteger(o.version) || (o.version as number) < 1) fail(path, `version must be a positive integer, got ${JSON.stringify(o.version)}`);
  if ((o.version as number) > CROSS_ATTENTION_VERSION) {
    fail(path, `version ${o.version} is newer than this reader's ${CROSS_ATTENTION_VERSION}; update mri-report-cl`);
  }
  if (o.patchOrder !== PATCH_ORDER) fail(path, `patchOrder must be "${PATCH_ORDER}", got ${JSON.stringify(o.patchOrder)}`);
  if (!isGrid(o.patchGrid)) fail(path, `patchGrid must be three positive integers, got ${JSON.stringify(o.patchGrid)}`);
  if (!Array.isArray(o.words) || !o.words.every((w) => typeof w === 'string')) fail(path, 'words must be an array of strings');
  const grid = o.patchGrid;
  const p = grid[0] * grid[1] * grid[2];
  const w = o.words.length;
  const record: CrossAttentionRecord = {
    caseId: o.caseId as string,
    words: o.words as string[],
    patchGrid: [grid[0], grid[1], grid[2]],
    imageToText: decode(path, 'imageToText', o.imageToText, [p, w]),
    textToImage: decode(path, 'textToImage', o.textToImage, [w, p]),
  };
  if (o.reference !== undefined) {
    const ref = o.reference as { image?: unknown } | null;
    if (typeof ref !== 'object' || ref === null || typeof ref.image !== 'string') fail(path, 'reference must be { "image": string }');
    record.reference = { image: ref.image };
  }
  checkRecord(path, record);
  return record;
}

function patchCount(record: CrossAttentionRecord): number {
  return record.patchGrid[0] * record.patchGrid[1] * record.patchGrid[2];
}

/** The patch index p = (x·Y3 + y)·Z3 + z of layer3 grid cell (x, y, z). */
export function patchIndex(grid: Grid3, x: number, y: number, z: number): number {
  if (![x, y, z].every((v, a) => Number.isInteger(v) && v >= 0 && v < grid[a]!)) {
    throw new Error(`patchIndex: (${x}, ${y}, ${z}) is outside the ${grid.join('×')} patch grid`);
  }
  return (x * grid[1] + y) * grid[2] + z;
}

/** The k words patch p attends to most (S_A row p), heaviest first; ties → earlier word first. */
export function topWordsForPatch(record: CrossAttentionRecord, p: number, k: number): WordWeight[] {
  const n = patchCount(record);
  if (!Number.isInteger(p) || p < 0 || p >= n) throw new Error(`topWordsForPatch ${record.caseId}: patch ${p} is outside 0..${n - 1}`);
  if (!Number.isInteger(k) || k < 0) throw new Error(`topWordsForPatch ${record.caseId}: k must be a non-negative integer, got ${k}`);
  const w = record.words.length;
  const row = record.imageToText.subarray(p * w, (p + 1) * w);
  const all = record.words.map((word, index) => ({ index, word, weight: row[index]! }));
  all.sort((a, b) => b.weight - a.weight || a.index - b.index);
  return all.slice(0, k);
}

/** Word w's weights over the patches (S_B row w) on the patch grid, Volume order (x fastest). */
export function patchMapForWord(record: CrossAttentionRecord, w: number): Float32Array {
  const nw = record.words.length;
  if (!Number.isInteger(w) || w < 0 || w >= nw) throw new Error(`patchMapForWord ${record.caseId}: word ${w} is outside 0..${nw - 1}`);
  const p = patchCount(record);
  return gridToVolumeOrder(record.textToImage.subarray(w * p, (w + 1) * p), record.patchGrid);
}

/**
 * Per word, the mean over patches of S_A's column: the share of the image's
 * attention the word receives. Over a report's words these sum to 1 (0 for
 * a report without words).
 */
export function wordWeights(record: CrossAttentionRecord): Float32Array {
  const w = record.words.length;
  const p = patchCount(record);
  const sums = new Float64Array(w);
  for (let r = 0; r < p; r++) for (let c = 0; c < w; c++) sums[c] += record.imageToText[r * w + c]!;
  return Float32Array.from(sums, (s) => s / p);
}

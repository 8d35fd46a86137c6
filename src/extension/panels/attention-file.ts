// Reads a cross-attention file (docs/formats.md "Cross-attention files")
// without the engine: the extension host must not load TF.js to show it.
// Checks what the panels rely on; every error names the file.
import { statSync } from 'node:fs';
import { readTextBounded } from '../../engine/io/bounded-read';
import { decodeFloat32Base64, patchRowToVolumeOrder, type Grid3 } from '../../../webview/common/attention';

const FORMAT = 'mri-report-cl.cross-attention';
const MAX_BYTES = 512 * 1024 * 1024;

export interface AttentionFile {
  path: string;
  caseId: string;
  words: string[];
  patchGrid: [number, number, number];
  /** S_A [P3 × W] */
  imageToText: Float32Array;
  /** S_B [W × P3] */
  textToImage: Float32Array;
  reference?: string;
}

export function readAttentionFile(path: string): AttentionFile {
  const fail = (problem: string): never => {
    throw new Error(`${path}: ${problem}`);
  };
  let text = '';
  try {
    if (statSync(path).size > MAX_BYTES) fail(`larger than ${MAX_BYTES} bytes`);
    text = readTextBounded(path, { maxBytes: MAX_BYTES, what: 'cross-attention file' });
  } catch (e) {
    if ((e as Error).message.startsWith(path)) throw e;
    fail((e as { code?: string }).code === 'ENOENT' ? 'file not found' : `cannot read (${(e as Error).message})`);
  }
  let o: Record<string, unknown> = {};
  try {
    o = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    fail(`not valid JSON (${(e as Error).message})`);
  }
  if (typeof o !== 'object' || o === null || o.format !== FORMAT) fail(`not a cross-attention file (format must be "${FORMAT}")`);
  if (typeof o.version !== 'number' || o.version > 1) fail(`version ${JSON.stringify(o.version)} is not supported (1 is)`);
  const g = o.patchGrid;
  if (!Array.isArray(g) || g.length !== 3 || !g.every((d) => Number.isInteger(d) && d >= 1)) fail('patchGrid must be three positive integers');
  if (!Array.isArray(o.words) || !o.words.every((w) => typeof w === 'string')) fail('words must be an array of strings');
  const grid = g as [number, number, number];
  const words = o.words as string[];
  const p = grid[0] * grid[1] * grid[2];
  const matrix = (name: string, rows: number, cols: number): Float32Array => {
    const m = o[name] as { shape?: unknown; dtype?: unknown; base64?: unknown } | undefined;
    if (!m || m.dtype !== 'float32le' || typeof m.base64 !== 'string') fail(`${name} must be { dtype: "float32le", base64 }`);
    const shape = m!.shape;
    if (!Array.isArray(shape) || shape[0] !== rows || shape[1] !== cols) fail(`${name}.shape must be [${rows}, ${cols}]`);
    return decodeFloat32Base64(m!.base64 as string, rows * cols, `${path} ${name}`);
  };
  const ref = (o.reference as { image?: unknown } | undefined)?.image;
  return {
    path,
    caseId: typeof o.caseId === 'string' ? o.caseId : '',
    words,
    patchGrid: grid,
    imageToText: matrix('imageToText', p, words.length),
    textToImage: matrix('textToImage', words.length, p),
    ...(typeof ref === 'string' ? { reference: ref } : {}),
  };
}

/** Per word: the mean over patches of S_A's column (sums to 1 over the words). */
export function wordWeightsOf(a: AttentionFile): number[] {
  const w = a.words.length;
  const p = a.imageToText.length / Math.max(1, w);
  const sums = new Float64Array(w);
  for (let r = 0; r < p; r++) for (let c = 0; c < w; c++) sums[c] += a.imageToText[r * w + c]!;
  return Array.from(sums, (s) => s / p);
}

/** S_A row p: patch p's weights over the words. */
export function patchWordWeights(a: AttentionFile, patch: number): number[] {
  const w = a.words.length;
  return Array.from(a.imageToText.subarray(patch * w, (patch + 1) * w));
}

/** S_B row w in Volume order on the patch grid. */
export function wordPatchMap(a: AttentionFile, word: number): Float32Array {
  const p = a.patchGrid[0] * a.patchGrid[1] * a.patchGrid[2];
  if (!Number.isInteger(word) || word < 0 || word >= a.words.length) throw new Error(`${a.path}: word ${word} is outside 0..${a.words.length - 1}`);
  return patchRowToVolumeOrder(a.textToImage.subarray(word * p, (word + 1) * p), a.patchGrid as Grid3);
}

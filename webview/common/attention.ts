// Cross-attention view logic (docs/formats.md "Cross-attention files"),
// dependency-free so the report webview, the viewer webview and the
// extension host share it: base64 float32 decoding, top-k words and
// patches, word shading, the patch under a viewer voxel and the patch map
// upsampled onto the image grid.
import { patchCell, patchName, type GridCell } from './patch-name';

export type Grid3 = readonly [number, number, number];

export interface WordWeight {
  index: number;
  word: string;
  weight: number;
}

/** Little-endian float32 from standard base64 (atob in browsers, Buffer-free). */
export function decodeFloat32Base64(base64: string, expected: number, where: string): Float32Array {
  if (base64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) throw new Error(`${where}: not valid base64`);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const pad = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
  const nBytes = (base64.length / 4) * 3 - pad;
  if (nBytes !== expected * 4) throw new Error(`${where}: holds ${nBytes} bytes, expected ${expected * 4} (${expected} float32 values)`);
  const bytes = new Uint8Array(nBytes);
  let o = 0;
  for (let i = 0; i < base64.length; i += 4) {
    const n = (alphabet.indexOf(base64[i]!) << 18) | (alphabet.indexOf(base64[i + 1]!) << 12) | (Math.max(0, alphabet.indexOf(base64[i + 2]!)) << 6) | Math.max(0, alphabet.indexOf(base64[i + 3]!));
    if (o < nBytes) bytes[o++] = (n >> 16) & 255;
    if (o < nBytes) bytes[o++] = (n >> 8) & 255;
    if (o < nBytes) bytes[o++] = n & 255;
  }
  const view = new DataView(bytes.buffer);
  const out = new Float32Array(expected);
  for (let i = 0; i < expected; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** The k heaviest words, heaviest first; ties → the earlier word. */
export function topK(words: readonly string[], weights: ArrayLike<number>, k: number): WordWeight[] {
  if (weights.length !== words.length) throw new Error(`topK: ${words.length} words but ${weights.length} weights`);
  if (!Number.isInteger(k) || k < 0) throw new Error(`topK: k must be a non-negative integer, got ${k}`);
  const all = words.map((word, index) => ({ index, word, weight: weights[index]! }));
  all.sort((a, b) => b.weight - a.weight || a.index - b.index);
  return all.slice(0, k);
}

export interface PatchWeight {
  /** p = (x·Y + y)·Z + z */
  patch: number;
  cell: GridCell;
  /** "(3, 5, 1) anterior inferior" (patch-name.ts) */
  name: string;
  weight: number;
}

/** The k heaviest patches of a row in patch order (a word's S_B row), heaviest first, named; ties → the lower index. */
export function topPatches(row: ArrayLike<number>, grid: Grid3, k: number): PatchWeight[] {
  const n = grid[0] * grid[1] * grid[2];
  if (row.length !== n) throw new Error(`topPatches: ${row.length} values do not fill the ${grid.join('×')} grid`);
  const ids = Array.from({ length: n }, (_, i) => String(i));
  return topK(ids, row, Math.min(k, n)).map((t) => ({ patch: t.index, cell: patchCell(t.index, grid), name: patchName(t.index, grid), weight: t.weight }));
}

export type ShadeScale = 'range' | 'max';

/**
 * Shading strength in [0, 1] of each word. `range` (default): min–max over
 * the report, so the words that stand out do even when attention is nearly
 * uniform (as it often is); `max`: weight / max weight. Equal weights shade
 * alike (1, or 0 when all are 0). Non-finite or negative weights count as 0.
 */
export function shadeLevels(weights: ArrayLike<number>, scale: ShadeScale = 'range'): Float32Array {
  const clean = Float32Array.from({ length: weights.length }, (_, i) => {
    const w = weights[i]!;
    return Number.isFinite(w) && w > 0 ? w : 0;
  });
  const { min, max } = shadeRange(clean, scale);
  const out = new Float32Array(clean.length);
  if (max === 0) return out;
  for (let i = 0; i < clean.length; i++) out[i] = max === min ? 1 : (clean[i]! - min) / (max - min);
  return out;
}

/** The weights the lightest and the strongest shade stand for (the legend's ends). */
export function shadeRange(weights: ArrayLike<number>, scale: ShadeScale = 'range'): { min: number; max: number } {
  let min = Infinity;
  let max = 0;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i]!;
    const v = Number.isFinite(w) && w > 0 ? w : 0;
    if (v > max) max = v;
    if (v < min) min = v;
  }
  if (weights.length === 0) return { min: 0, max: 0 };
  return { min: scale === 'max' ? 0 : min, max };
}

/** CSS background of a word: the theme's highlight colour at alpha = level·maxAlpha (two decimals). */
export function shadeCss(level: number, rgb: readonly [number, number, number] = [255, 140, 0], maxAlpha = 0.85): string {
  const a = Math.round(Math.min(1, Math.max(0, level)) * maxAlpha * 100) / 100;
  return `rgba(${rgb[0]}, ${rgb[1]}, ${rgb[2]}, ${a})`;
}

/**
 * The layer3 patch under image voxel (i, j, k): per axis the nearest patch
 * centre under the display convention of the patch maps (align corners:
 * patch x sits at voxel x·(n − 1)/(G − 1)), i.e. round(i·(G − 1)/(n − 1));
 * 0 on an axis of size 1. Returns the grid cell and p = (x·Y3 + y)·Z3 + z.
 */
export function patchUnderVoxel(voxel: Grid3, dims: Grid3, grid: Grid3): { cell: [number, number, number]; patch: number } {
  const cell = [0, 0, 0] as [number, number, number];
  for (let a = 0; a < 3; a++) {
    const n = dims[a]!;
    const g = grid[a]!;
    const v = voxel[a]!;
    if (!Number.isInteger(v) || v < 0 || v >= n) throw new Error(`patchUnderVoxel: voxel (${voxel.join(', ')}) is outside the ${dims.join('×')} image`);
    cell[a] = n > 1 && g > 1 ? Math.round((v * (g - 1)) / (n - 1)) : 0;
  }
  return { cell, patch: (cell[0] * grid[1] + cell[1]) * grid[2] + cell[2] };
}

/** Trilinear resize with align corners (as PyTorch's F.interpolate), Volume order (x fastest). */
export function upsampleAlignCorners(values: ArrayLike<number>, from: Grid3, to: Grid3): Float32Array {
  if (values.length !== from[0] * from[1] * from[2]) throw new Error(`upsampleAlignCorners: ${values.length} values do not fill ${from.join('×')}`);
  let cur = Float64Array.from(values as ArrayLike<number>);
  const dims = [from[0], from[1], from[2]];
  for (let axis = 0; axis < 3; axis++) {
    const inSize = dims[axis]!;
    const size = to[axis]!;
    const out = dims.slice();
    out[axis] = size;
    const next = new Float64Array(out[0]! * out[1]! * out[2]!);
    const sIn = [1, dims[0]!, dims[0]! * dims[1]!];
    const sOut = [1, out[0]!, out[0]! * out[1]!];
    const [oa, ob] = [0, 1, 2].filter((a) => a !== axis) as [number, number];
    const scale = size > 1 ? (inSize - 1) / (size - 1) : 0;
    for (let b = 0; b < out[ob]!; b++) {
      for (let a = 0; a < out[oa]!; a++) {
        const baseIn = a * sIn[oa]! + b * sIn[ob]!;
        const baseOut = a * sOut[oa]! + b * sOut[ob]!;
        for (let o = 0; o < size; o++) {
          const s = scale * o;
          const lo = Math.min(Math.floor(s), inSize - 1);
          const hi = lo < inSize - 1 ? lo + 1 : lo;
          const t = Math.min(Math.max(s - lo, 0), 1);
          const v0 = cur[baseIn + lo * sIn[axis]!]!;
          const v1 = cur[baseIn + hi * sIn[axis]!]!;
          next[baseOut + o * sOut[axis]!] = v0 + t * (v1 - v0);
        }
      }
    }
    cur = next;
    dims[axis] = size;
  }
  return Float32Array.from(cur);
}

/** Patch-order row (z fastest, as the file) → Volume order (x fastest). */
export function patchRowToVolumeOrder(row: ArrayLike<number>, grid: Grid3): Float32Array {
  const [nx, ny, nz] = grid;
  if (row.length !== nx * ny * nz) throw new Error(`patchRowToVolumeOrder: ${row.length} values do not fill ${grid.join('×')}`);
  const out = new Float32Array(row.length);
  for (let i = 0; i < nx; i++) for (let j = 0; j < ny; j++) for (let k = 0; k < nz; k++) out[i + nx * (j + ny * k)] = row[(i * ny + j) * nz + k]!;
  return out;
}

// What a binary attention map's Dice can mean: how much of the volume the
// map covers, the Dice any map reaches by covering everything (the floor),
// and the best Dice a map made of whole layer4 grid cells can reach (the
// bound). A map that covers the whole volume scores the floor whatever the
// model; a grid too coarse for the tumour cannot score much above it.
//   foreground fraction = |B| / |V|
//   whole-volume floor  = Dice(V, M) = 2|M| / (|M| + |V|)         (3D)
//                         2|M_k| / (|M_k| + |slice|)               (2D, slice k)
//   grid-cell bound     = max over unions S of grid cells of Dice(S, M)
// A grid cell is the block of image voxels the encoder's layer4 position
// covers: along an axis of N voxels and g grid positions, voxel i lies in
// cell floor(i·g/N). The best union is found exactly: Dice(S, M) =
// 2Σm / (Σs + |M|) over the chosen cells (m mask voxels, s voxels each) is
// largest for a prefix of the cells sorted by m/s, highest first
// (Dinkelbach: a cell is worth taking iff m/s exceeds half the optimum).
// Smoothed Dice (explain.smooth) adds 1 above and below, as everywhere.
// follows: METHOD.md §7 (degenerate maps)
// Pure (no TF.js): the results tables import the limits below.
import { diceFromCounts } from '../metrics/dice';

type Grid3 = [number, number, number];

function checkGrid(dims: readonly number[], what: string): void {
  if (!Array.isArray(dims) || dims.length !== 3 || !dims.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new Error(`${what} must be three positive integers, got ${JSON.stringify(dims)}`);
  }
}

/** Below this layer4 grid (any axis), a map cannot localise a tumour: the paper's 8×8×5 halved. */
export const MIN_ATTENTION_GRID: Grid3 = [4, 4, 3];
/** Maps covering more than this fraction of the volume on average get a warning. */
export const MAX_FOREGROUND_FRACTION = 0.5;

/** Is `grid` smaller than MIN_ATTENTION_GRID along any axis? */
export function gridTooCoarse(grid: readonly number[]): boolean {
  return grid.some((g, a) => g < MIN_ATTENTION_GRID[a]!);
}

/** Voxels above threshold over all voxels (0 for an empty map). */
export function foregroundFraction(binary: ArrayLike<number>): number {
  if (binary.length === 0) return 0;
  let n = 0;
  for (let i = 0; i < binary.length; i++) if (binary[i] !== 0) n++;
  return n / binary.length;
}

/** Dice of the map that covers all `total` voxels against a mask of `maskCount` voxels. */
export function wholeMapDice(maskCount: number, total: number, smooth = false): number {
  return diceFromCounts(maskCount, total, maskCount, { smooth });
}

/** Best Dice of a union of cells, each given as [voxels s, mask voxels m]; the empty union included. */
function bestUnionDice(cells: { s: number; m: number }[], maskCount: number, smooth: boolean): number {
  const order = cells.filter((c) => c.s > 0).sort((a, b) => b.m / b.s - a.m / a.s);
  let best = diceFromCounts(0, 0, maskCount, { smooth });
  let s = 0;
  let m = 0;
  for (const c of order) {
    s += c.s;
    m += c.m;
    best = Math.max(best, diceFromCounts(m, s, maskCount, { smooth }));
  }
  return best;
}

/** Cell index of each voxel along an axis of `n` voxels split into `g` cells. */
function axisCells(n: number, g: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor((i * g) / n);
  return out;
}

export interface CellBounds {
  /** best 3D Dice of a union of whole grid cells */
  bound3d: number;
  /** best 2D Dice on axial slice `slice` of a union of whole grid cells (their x–y blocks) */
  bound2d: number;
}

/**
 * The grid-cell bounds of a non-empty Volume-ordered binary mask on `dims`,
 * for the layer4 `grid`; 2D on axial slice `slice`.
 */
export function gridCellBounds(mask: ArrayLike<number>, dims: Grid3, grid: Grid3, slice: number, smooth = false): CellBounds {
  checkGrid(dims, 'gridCellBounds: dims');
  checkGrid(grid, 'gridCellBounds: grid');
  const [nx, ny, nz] = dims;
  if (mask.length !== nx * ny * nz) throw new Error(`gridCellBounds: mask has ${mask.length} voxels, ${dims.join('×')} needs ${nx * ny * nz}`);
  if (!Number.isInteger(slice) || slice < 0 || slice >= nz) throw new Error(`gridCellBounds: slice ${slice} is not in 0..${nz - 1}`);
  const [gx, gy, gz] = grid;
  const cx = axisCells(nx, gx);
  const cy = axisCells(ny, gy);
  const cz = axisCells(nz, gz);
  const cells3 = Array.from({ length: gx * gy * gz }, () => ({ s: 0, m: 0 }));
  const cells2 = Array.from({ length: gx * gy }, () => ({ s: 0, m: 0 }));
  let total3 = 0;
  let total2 = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      const row = nx * (j + ny * k);
      for (let i = 0; i < nx; i++) {
        const plane = cx[i]! + gx * cy[j]!;
        const c3 = cells3[plane + gx * gy * cz[k]!]!;
        const t = mask[row + i] !== 0 ? 1 : 0;
        c3.s++;
        c3.m += t;
        total3 += t;
        if (k === slice) {
          const c2 = cells2[plane]!;
          c2.s++;
          c2.m += t;
          total2 += t;
        }
      }
    }
  }
  return { bound3d: bestUnionDice(cells3, total3, smooth), bound2d: bestUnionDice(cells2, total2, smooth) };
}

/**
 * The top `percent` % of voxels by value: n = ⌈percent/100 · |V|⌉ voxels,
 * and every voxel tied with the n-th highest value too, so the map does not
 * depend on voxel order (a constant map is all foreground).
 */
export function topPercentBinary(values: ArrayLike<number>, percent: number): Uint8Array {
  if (!(percent > 0 && percent <= 100)) throw new Error(`topPercentBinary: percent must be in (0, 100], got ${percent}`);
  const out = new Uint8Array(values.length);
  if (values.length === 0) return out;
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  // the 1e-9 keeps float noise (e.g. 10 % of 30 = 3.0000000000000004) from adding a voxel
  const n = Math.min(values.length, Math.max(1, Math.ceil((percent / 100) * values.length - 1e-9)));
  const cutoff = sorted[values.length - n]!;
  for (let i = 0; i < values.length; i++) out[i] = values[i]! >= cutoff ? 1 : 0;
  return out;
}

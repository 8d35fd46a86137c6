// One case's explainability evaluation: layer4 attention → map → image grid
// → [0, 1] → binary, and its overlap with the tumour mask.
//   3D Dice: binary vs mask over the whole volume.
//   2D Dice: on the axial slice (fixed third index k; axial once the volume
//   is RAS) where the mask's area is largest; ties → the lowest k, as
//   numpy's argmax in the authors' evaluation.
// Binarisation is strict, value > threshold, as the authors' code.
// follows: METHOD.md §7
import { dice } from '../metrics/dice';
import { attentionMap, checkGrid, type Grid3 } from './attention-map';
import { upsampleAlignCorners } from './upsample';

export interface ExplainOptions {
  /** one case's layer4 self-attention [P, P], rows = queries (see attentionMap) */
  attention: Float32Array | readonly number[];
  /** the layer4 grid [X4, Y4, Z4] */
  grid: Grid3;
  /** the preprocessed image's grid [X, Y, Z] the map is upsampled to */
  imageDims: Grid3;
  /** voxels with heatmap > threshold are foreground (default 0.01, config `explain.threshold`) */
  threshold?: number;
  /**
   * Min–max normalise the upsampled map to [0, 1] before thresholding
   * (default true). A constant map has no contrast and becomes all zeros
   * (the authors' 0/0 would give NaN, which no threshold passes either).
   * false: keep and threshold the raw attention, as the authors' code.
   */
  normalize?: boolean;
  /** Dice as (2I + 1)/(P + T + 1) (the authors' code; default false) */
  smooth?: boolean;
  /** tumour mask on the image grid, Volume order (x fastest); non-zero = tumour */
  mask?: ArrayLike<number>;
  /** names the case in error messages */
  caseId?: string;
}

export interface ExplainResult {
  /** the map on the image grid, Volume order: in [0, 1] when normalised, else raw attention */
  heatmap: Float32Array;
  /** 1 where heatmap > threshold */
  binary: Uint8Array;
  /** 3D Dice with the mask; absent without a mask or with an empty one */
  dice3d?: number;
  /** 2D Dice on `slice`; absent without a mask or with an empty one */
  dice2d?: number;
  /** axial index k where the mask's area is largest (lowest k on ties) */
  slice?: number;
  /** the mask's voxel count on `slice` */
  sliceArea?: number;
  /** why dice3d/dice2d are absent although a mask was given */
  diceSkipped?: string;
}

/** Foreground voxels per axial slice k of a Volume-ordered mask. */
export function axialAreas(mask: ArrayLike<number>, dims: Grid3): number[] {
  const plane = dims[0] * dims[1];
  const areas: number[] = [];
  for (let k = 0; k < dims[2]; k++) {
    let a = 0;
    for (let n = k * plane; n < (k + 1) * plane; n++) if (mask[n] !== 0) a++;
    areas.push(a);
  }
  return areas;
}

/** The axial slice with the largest mask area (lowest k on ties), or undefined for an empty mask. */
export function largestAreaSlice(mask: ArrayLike<number>, dims: Grid3): { slice: number; area: number } | undefined {
  const areas = axialAreas(mask, dims);
  let best = 0;
  for (let k = 1; k < areas.length; k++) if (areas[k]! > areas[best]!) best = k;
  return areas[best]! > 0 ? { slice: best, area: areas[best]! } : undefined;
}

/** Min–max scales in place to [0, 1]; a constant array becomes zeros. */
function minMaxInPlace(v: Float32Array): void {
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of v) {
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  const range = hi - lo;
  if (!(range > 0)) {
    v.fill(0);
    return;
  }
  for (let n = 0; n < v.length; n++) v[n] = (v[n]! - lo) / range;
}

function maskBytes(mask: ArrayLike<number>, count: number, where: string): Uint8Array {
  if (mask.length !== count) throw new Error(`${where}: mask has ${mask.length} voxels, the image grid needs ${count}`);
  const out = new Uint8Array(count);
  for (let n = 0; n < count; n++) {
    const v = Number(mask[n]);
    if (Number.isNaN(v)) throw new Error(`${where}: mask voxel ${n} is NaN`);
    out[n] = v !== 0 ? 1 : 0;
  }
  return out;
}

export function explainCase(options: ExplainOptions): ExplainResult {
  const where = options.caseId === undefined ? 'explainCase' : `explainCase ${options.caseId}`;
  const threshold = options.threshold ?? 0.01;
  if (!Number.isFinite(threshold)) throw new Error(`${where}: threshold must be a finite number, got ${threshold}`);
  checkGrid(options.imageDims, `${where}: imageDims`);
  let map: Float32Array;
  try {
    map = attentionMap(options.attention, options.grid);
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`);
  }
  const dims = options.imageDims;
  const count = dims[0] * dims[1] * dims[2];
  const mask = options.mask === undefined ? undefined : maskBytes(options.mask, count, where);

  const heatmap = upsampleAlignCorners(map, options.grid, dims);
  if (options.normalize ?? true) minMaxInPlace(heatmap);
  const binary = new Uint8Array(count);
  for (let n = 0; n < count; n++) binary[n] = heatmap[n]! > threshold ? 1 : 0;

  const result: ExplainResult = { heatmap, binary };
  if (mask === undefined) return result;
  const largest = largestAreaSlice(mask, dims);
  if (largest === undefined) {
    // Dice against "no tumour" says nothing about localisation; leave it out
    // rather than report dice's both-empty convention (1) or 0.
    result.diceSkipped = 'the mask is empty (no tumour voxels)';
    return result;
  }
  const smooth = options.smooth ?? false;
  const plane = dims[0] * dims[1];
  const from = largest.slice * plane;
  result.dice3d = dice(binary, mask, { smooth });
  result.dice2d = dice(binary.subarray(from, from + plane), mask.subarray(from, from + plane), { smooth });
  result.slice = largest.slice;
  result.sliceArea = largest.area;
  return result;
}

// One case's explainability evaluation: layer4 attention → map → image grid
// → [0, 1] → binary, and its overlap with the tumour mask. explainMap takes
// any map on a grid (Grad-CAM, occlusion: grad-cam.ts, occlusion.ts), so
// every method is binarised and scored the same way.
//   3D Dice: binary vs mask over the whole volume.
//   2D Dice: on the axial slice (fixed third index k; axial once the volume
//   is RAS) where the mask's area is largest; ties → the lowest k, as
//   numpy's argmax in the authors' evaluation.
// Binarisation (explain.rule): 'normalized' (the paper's: min–max to [0, 1],
// then value > threshold), 'raw' (the authors' code: raw value > threshold;
// strict, as their code) or 'topPercent' (the k % highest voxels, ties at the
// cut included). Beside the Dice: the map's foreground fraction, the Dice of
// the whole-volume map (floor), the best whole-grid-cell Dice (bound), and
// the threshold-free mass and pointing measures of the heatmap (mass.ts).
// follows: METHOD.md §7
import { dice } from '../metrics/dice';
import { attentionMap, checkGrid, type Grid3 } from './attention-map';
import { foregroundFraction, gridCellBounds, topPercentBinary, wholeMapDice } from './coverage';
import { upsampleAlignCorners } from './upsample';
import { mapMass } from './mass';

/** How a heatmap becomes a binary map (config `explain.rule`). */
export type ThresholdRule = 'normalized' | 'raw' | 'topPercent';

export interface ExplainOptions {
  /** one case's layer4 self-attention [P, P], rows = queries (see attentionMap) */
  attention: Float32Array | readonly number[];
  /** the layer4 grid [X4, Y4, Z4] */
  grid: Grid3;
  /** the preprocessed image's grid [X, Y, Z] the map is upsampled to */
  imageDims: Grid3;
  /** rules 'normalized' and 'raw': voxels with heatmap > threshold are foreground (default 0.01, config `explain.threshold`) */
  threshold?: number;
  /**
   * 'normalized' (default): min–max normalise the upsampled map to [0, 1],
   * then threshold. A constant map has no contrast and becomes all zeros
   * (the authors' 0/0 would give NaN, which no threshold passes either).
   * 'raw': threshold the raw attention, as the authors' code.
   * 'topPercent': the `topPercent` % highest voxels (heatmap normalised as
   * 'normalized', which does not change the order).
   */
  rule?: ThresholdRule;
  /** rule 'topPercent': the percentage of voxels kept, in (0, 100] (default 5) */
  topPercent?: number;
  /** the former option: false is rule 'raw', true 'normalized' (used only when `rule` is not given) */
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
  /** 1 where the rule makes a voxel foreground */
  binary: Uint8Array;
  /** foreground voxels / all voxels of `binary` */
  foreground: number;
  /** the rule that made `binary` */
  rule: ThresholdRule;
  /** 3D Dice with the mask; absent without a mask or with an empty one */
  dice3d?: number;
  /** 2D Dice on `slice`; absent without a mask or with an empty one */
  dice2d?: number;
  /** axial index k where the mask's area is largest (lowest k on ties) */
  slice?: number;
  /** the mask's voxel count on `slice` */
  sliceArea?: number;
  /** 3D Dice of the whole-volume map with the mask, 2|M|/(|M|+|V|): the floor any map reaches by covering everything */
  floor3d?: number;
  /** 2D Dice of the whole-slice map on `slice`, 2|M_k|/(|M_k|+|slice|) */
  floor2d?: number;
  /** best 3D Dice of a map made of whole layer4 grid cells (coverage.ts) */
  bound3d?: number;
  /** best 2D Dice on `slice` of a map made of whole layer4 grid cells */
  bound2d?: number;
  /** threshold-free (mass.ts): share of the heatmap's mass on the tumour, the flat map's share, the peak's hit; absent when dice3d is */
  mass3d?: number;
  massFloor3d?: number;
  pointing?: 0 | 1;
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

/** The rule of `explain` options or config: `rule`, else the former `normalize` (false → 'raw'), else 'normalized'. */
export function thresholdRule(explain: { rule?: ThresholdRule; normalize?: boolean }): ThresholdRule {
  return explain.rule ?? (explain.normalize === false ? 'raw' : 'normalized');
}

export interface MapExplainOptions extends Omit<ExplainOptions, 'attention' | 'grid'> {
  /** a heatmap on `grid`, Volume order (x fastest): an attention map, a Grad-CAM or occlusion map */
  map: ArrayLike<number>;
  /** the grid `map` is on; upsampled from it to imageDims (equal dims: used as it is) */
  grid: Grid3;
  /** the layer4 grid of the grid-cell bound (default `grid`): the same for every method of a case */
  cellGrid?: Grid3;
}

/** explainMap for a layer4 self-attention matrix: its column means (attentionMap) on the layer4 grid. */
export function explainCase(options: ExplainOptions): ExplainResult {
  const where = options.caseId === undefined ? 'explainCase' : `explainCase ${options.caseId}`;
  let map: Float32Array;
  try {
    map = attentionMap(options.attention, options.grid);
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`);
  }
  const { attention: _attention, ...rest } = options;
  return explainMap({ ...rest, map }, where);
}

/**
 * Any heatmap on a grid → image grid → binary by the rule → foreground, Dice,
 * floor and bound: the evaluation every explanation method shares.
 */
export function explainMap(options: MapExplainOptions, name?: string): ExplainResult {
  const where = name ?? (options.caseId === undefined ? 'explainMap' : `explainMap ${options.caseId}`);
  const threshold = options.threshold ?? 0.01;
  if (!Number.isFinite(threshold)) throw new Error(`${where}: threshold must be a finite number, got ${threshold}`);
  const rule = thresholdRule(options);
  if (rule !== 'normalized' && rule !== 'raw' && rule !== 'topPercent') throw new Error(`${where}: unknown rule ${JSON.stringify(rule)}`);
  const percent = options.topPercent ?? 5;
  if (rule === 'topPercent' && !(percent > 0 && percent <= 100)) throw new Error(`${where}: topPercent must be in (0, 100], got ${percent}`);
  checkGrid(options.imageDims, `${where}: imageDims`);
  checkGrid(options.grid, `${where}: grid`);
  const cellGrid = options.cellGrid ?? options.grid;
  checkGrid(cellGrid, `${where}: cellGrid`);
  const dims = options.imageDims;
  const count = dims[0] * dims[1] * dims[2];
  const mask = options.mask === undefined ? undefined : maskBytes(options.mask, count, where);

  let heatmap: Float32Array;
  try {
    heatmap = upsampleAlignCorners(options.map, options.grid, dims);
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`);
  }
  if (rule !== 'raw') minMaxInPlace(heatmap);
  let binary: Uint8Array;
  if (rule === 'topPercent') binary = topPercentBinary(heatmap, percent);
  else {
    binary = new Uint8Array(count);
    for (let n = 0; n < count; n++) binary[n] = heatmap[n]! > threshold ? 1 : 0;
  }

  const result: ExplainResult = { heatmap, binary, foreground: foregroundFraction(binary), rule };
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
  let maskCount = 0;
  for (let n = 0; n < count; n++) maskCount += mask[n]!;
  result.floor3d = wholeMapDice(maskCount, count, smooth);
  result.floor2d = wholeMapDice(largest.area, plane, smooth);
  const bounds = gridCellBounds(mask, dims, cellGrid, largest.slice, smooth);
  result.bound3d = bounds.bound3d;
  result.bound2d = bounds.bound2d;
  // the heatmap as the rule saw it: min–max scaled, or raw for rule 'raw'
  const mass = mapMass(heatmap, mask, where)!;
  result.mass3d = mass.mass3d;
  result.massFloor3d = mass.massFloor3d;
  result.pointing = mass.pointing;
  return result;
}

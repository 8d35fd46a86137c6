// Dice overlay and Dice scores of a binarised attention map against a tumour
// mask, both on the same grid in Volume order (i fastest). Pure: used by the
// viewer webview and by unit tests.
// follows: docs/formats.md "Attention heatmaps" (binary = value > threshold;
// 3D Dice over the volume; 2D Dice on the axial slice k where the mask's
// area is largest, the lowest k on ties)

export type Dims3 = readonly [number, number, number];

/** Labels of the Dice overlay. */
export const DICE_LABEL = { none: 0, truePositive: 1, falsePositive: 2, falseNegative: 3 } as const;

/** value > threshold (strict, as the engine's binary maps); NaN is never above. */
export function binarize(values: ArrayLike<number>, threshold: number): Uint8Array {
  if (!Number.isFinite(threshold)) throw new Error(`binarize: threshold must be a finite number, got ${threshold}`);
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i]! > threshold ? 1 : 0;
  return out;
}

function checkSameSize(where: string, a: ArrayLike<number>, b: ArrayLike<number>, dims?: Dims3): void {
  if (a.length !== b.length) throw new Error(`${where}: the map has ${a.length} voxels, the mask ${b.length}; they must share one grid`);
  if (dims && dims[0] * dims[1] * dims[2] !== a.length) throw new Error(`${where}: dims ${dims.join('×')} do not match ${a.length} voxels`);
}

/** Per voxel: 1 true positive (map and mask), 2 false positive (map only), 3 false negative (mask only), else 0. */
export function classifyDice(binary: ArrayLike<number>, mask: ArrayLike<number>): Uint8Array {
  checkSameSize('classifyDice', binary, mask);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) {
    const p = binary[i]! > 0;
    const t = mask[i]! > 0;
    out[i] = p && t ? DICE_LABEL.truePositive : p ? DICE_LABEL.falsePositive : t ? DICE_LABEL.falseNegative : DICE_LABEL.none;
  }
  return out;
}

/** 2I / (P + T); null when both are empty (no Dice to give). */
function dice(intersection: number, predicted: number, truth: number): number | null {
  const denom = predicted + truth;
  return denom === 0 ? null : (2 * intersection) / denom;
}

/** The axial slice k (third index) with the largest mask area, the lowest k on ties; undefined for an empty mask. */
export function largestMaskSlice(mask: ArrayLike<number>, dims: Dims3): number | undefined {
  const [nx, ny, nz] = dims;
  if (nx * ny * nz !== mask.length) throw new Error(`largestMaskSlice: dims ${dims.join('×')} do not match ${mask.length} voxels`);
  let best = -1;
  let bestArea = 0;
  const plane = nx * ny;
  for (let k = 0; k < nz; k++) {
    let area = 0;
    for (let o = k * plane; o < (k + 1) * plane; o++) if (mask[o]! > 0) area++;
    if (area > bestArea) {
      bestArea = area;
      best = k;
    }
  }
  return best < 0 ? undefined : best;
}

export interface DiceScores {
  /** null for an empty mask (the engine gives no Dice then) */
  dice3d: number | null;
  dice2d: number | null;
  /** the axial slice the 2D Dice is taken on */
  slice: number | undefined;
}

/** 3D Dice and 2D Dice (on the largest mask slice) of a binary map against the mask. */
export function diceScores(binary: ArrayLike<number>, mask: ArrayLike<number>, dims: Dims3): DiceScores {
  checkSameSize('diceScores', binary, mask, dims);
  const slice = largestMaskSlice(mask, dims);
  if (slice === undefined) return { dice3d: null, dice2d: null, slice };
  let i3 = 0, p3 = 0, t3 = 0, i2 = 0, p2 = 0, t2 = 0;
  const plane = dims[0] * dims[1];
  for (let o = 0; o < binary.length; o++) {
    const p = binary[o]! > 0 ? 1 : 0;
    const t = mask[o]! > 0 ? 1 : 0;
    i3 += p & t;
    p3 += p;
    t3 += t;
    if (Math.floor(o / plane) === slice) {
      i2 += p & t;
      p2 += p;
      t2 += t;
    }
  }
  return { dice3d: dice(i3, p3, t3), dice2d: dice(i2, p2, t2), slice };
}

/** The largest float32 below `x` (x > −∞): a strict threshold that keeps every value ≥ x. */
function float32Below(x: number): number {
  const f = new Float32Array([x]);
  const i = new Int32Array(f.buffer);
  if (f[0]! === 0) return -1.401298464324817e-45;
  if (f[0]! > 0) i[0]! -= 1;
  else i[0]! += 1;
  return f[0]!;
}

/**
 * The threshold t for which binarize(values, t) keeps the ⌈k/100·n⌉
 * highest values and every value tied with the last of them: the engine's
 * explain.rule 'topPercent' (src/engine/explain/coverage.ts) as a slider
 * position.
 */
export function topPercentThreshold(values: ArrayLike<number>, percent: number): number {
  if (!(percent > 0 && percent <= 100)) throw new Error(`topPercentThreshold: percent must be in (0, 100], got ${percent}`);
  if (values.length === 0) return 0;
  const sorted = Float32Array.from(values).sort();
  const k = Math.min(values.length, Math.max(1, Math.ceil((percent / 100) * values.length)));
  return float32Below(sorted[values.length - k]!);
}

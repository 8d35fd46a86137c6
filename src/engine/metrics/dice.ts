// Dice overlap of two binary masks of the same length (any non-zero value
// counts as foreground):
//   dice = 2·|A∩B| / (|A| + |B|)        both empty → 1 (the maps agree: nothing)
//   smooth: (2·|A∩B| + 1) / (|A| + |B| + 1)   (the authors' code; both empty → 1)
// diceFromCounts is the same formula on counts (the whole-volume floor and the
// grid-cell bound of explain/coverage.ts use it).
// follows: METHOD.md §7 (3D / 2D Dice, explain.smooth)

export interface DiceOptions {
  /** add 1 to numerator and denominator */
  smooth?: boolean;
}

type Mask = ArrayLike<number | boolean>;

/** Dice from counts: |A∩B| = intersection, |A| = sizeA, |B| = sizeB (same conventions as dice). */
export function diceFromCounts(intersection: number, sizeA: number, sizeB: number, options: DiceOptions = {}): number {
  if (options.smooth) return (2 * intersection + 1) / (sizeA + sizeB + 1);
  return sizeA + sizeB === 0 ? 1 : (2 * intersection) / (sizeA + sizeB);
}

export function dice(a: Mask, b: Mask, options: DiceOptions = {}): number {
  if (a.length !== b.length) throw new Error(`dice: masks differ in size (${a.length} vs ${b.length} voxels)`);
  let inter = 0;
  let sizeA = 0;
  let sizeB = 0;
  for (let i = 0; i < a.length; i++) {
    const x = Number(a[i]);
    const y = Number(b[i]);
    if (Number.isNaN(x) || Number.isNaN(y)) throw new Error(`dice: voxel ${i} is NaN`);
    const fa = x !== 0;
    const fb = y !== 0;
    if (fa) sizeA++;
    if (fb) sizeB++;
    if (fa && fb) inter++;
  }
  return diceFromCounts(inter, sizeA, sizeB, options);
}

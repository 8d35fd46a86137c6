// Threshold-free localisation of a heatmap: how much of the map's mass lies
// on the tumour, and whether its peak does. Dice needs a binary map, and the
// rule that makes it (top 5 %, a threshold) decides much of the score; these
// two read the heatmap itself, so a map that moves towards the tumour shows
// it even where its top 5 % still misses.
//   mass in tumour  = Σ h·m / Σ h   (h clipped at 0; the energy-based
//                     pointing game of Score-CAM, Wang et al. 2020)
//   flat-map mass   = |M| / |V|     (what a map without contrast scores: the
//                     floor; a map with no mass at all is given this value)
//   pointing hit    = 1 when the map's highest voxel (the first in Volume
//                     order on ties) is a tumour voxel (the pointing game,
//                     Zhang et al. 2018, without tolerance); a map with no
//                     contrast points nowhere: 0
// Pure (no TF.js).
// follows: METHOD.md §7 (threshold-free map measures)

export interface MapMass {
  /** share of the map's mass on tumour voxels, in [0, 1] */
  mass3d: number;
  /** the tumour's share of the volume: the mass of a flat map */
  massFloor3d: number;
  /** 1 when the map's peak voxel is a tumour voxel, else 0 */
  pointing: 0 | 1;
}

/**
 * The mass and pointing measures of `heatmap` against `mask` (same length,
 * Volume order, non-zero = tumour); undefined for an empty mask (nothing to
 * point at). `where` names the case in errors.
 */
export function mapMass(heatmap: ArrayLike<number>, mask: ArrayLike<number>, where = 'mapMass'): MapMass | undefined {
  const n = heatmap.length;
  if (mask.length !== n) throw new Error(`${where}: the mask has ${mask.length} voxels, the heatmap ${n}`);
  let total = 0;
  let inside = 0;
  let tumour = 0;
  let peak = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = heatmap[i]!;
    if (!Number.isFinite(v)) throw new Error(`${where}: heatmap voxel ${i} is ${v}`);
    const m = mask[i] !== 0;
    if (m) tumour++;
    if (v > hi) {
      hi = v;
      peak = i;
    }
    if (v < lo) lo = v;
    if (v > 0) {
      total += v;
      if (m) inside += v;
    }
  }
  if (tumour === 0) return undefined;
  const massFloor3d = tumour / n;
  return {
    mass3d: total > 0 ? inside / total : massFloor3d,
    massFloor3d,
    pointing: hi > lo && mask[peak] !== 0 ? 1 : 0,
  };
}

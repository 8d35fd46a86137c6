// Reorientation to RAS+ by the nearest axis permutation and flips, exactly
// as nibabel's as_closest_canonical (io_orientation + apply_orientation):
// voxel data are only permuted and mirrored, never interpolated.
import type { Affine, Volume } from '../io/volume';
import { columnNorms, linearPart, mulAffine, polarOrthogonal, type Mat3 } from '../io/affine-math';

/** For each voxel axis: the world axis (0 = R, 1 = A, 2 = S) it maps to and whether it points backwards (-1). */
export type Orientation = [[number, 1 | -1], [number, 1 | -1], [number, 1 | -1]];

/**
 * nibabel.orientations.io_orientation: take the rotation nearest to the
 * affine's (column-normalised) linear part, then give each voxel axis in turn
 * the world axis its column points along most, removing that world axis from
 * later choices (so ties resolve deterministically, first axis first).
 */
export function ioOrientation(affine: Affine): Orientation {
  const zooms = columnNorms(affine).map((z) => (z === 0 ? 1 : z));
  const rs = linearPart(affine).map((row) => row.map((v, j) => v / zooms[j]!)) as Mat3;
  let r: Mat3;
  try {
    r = polarOrthogonal(rs);
  } catch {
    throw new Error(`affine ${JSON.stringify(affine)} is singular; cannot determine the voxel orientation`);
  }
  const out: [number, 1 | -1][] = [];
  for (let inAx = 0; inAx < 3; inAx++) {
    const col = [r[0][inAx], r[1][inAx], r[2][inAx]];
    if (col.every((v) => Math.abs(v) <= 1e-8)) {
      throw new Error(`affine ${JSON.stringify(affine)}: voxel axis ${inAx} has no world direction`);
    }
    let outAx = 0;
    for (let w = 1; w < 3; w++) if (Math.abs(col[w]!) > Math.abs(col[outAx]!)) outAx = w;
    out.push([outAx, col[outAx]! < 0 ? -1 : 1]);
    r[outAx] = [0, 0, 0];
  }
  return out as Orientation;
}

/**
 * Returns `volume` with its voxel axes permuted/flipped so that i, j, k run
 * closest to R, A, S, and the affine updated so every voxel keeps its world
 * position (nibabel: affine · inv_ornt_aff(ornt, shape)). A volume already in
 * RAS+ order is returned as a copy.
 */
// follows: METHOD.md §1 (image row: reoriented to RAS)
export function toCanonical(volume: Volume): Volume {
  const ornt = ioOrientation(volume.affine);
  const n = volume.dims;
  const inStride = [1, n[0], n[0] * n[1]];
  const outDims: [number, number, number] = [0, 0, 0];
  const outPix: [number, number, number] = [0, 0, 0];
  // per output axis: the input stride to step by (negative when flipped)
  const step = [0, 0, 0];
  let start = 0;
  // M maps output voxel coordinates to input ones: in_a = f·out_o (+ n_a − 1 if flipped)
  const m: Affine = [
    [0, 0, 0, 0],
    [0, 0, 0, 0],
    [0, 0, 0, 0],
    [0, 0, 0, 1],
  ];
  for (let a = 0; a < 3; a++) {
    const [o, f] = ornt[a]!;
    outDims[o] = n[a]!;
    outPix[o] = volume.pixdim[a]!;
    step[o] = f * inStride[a]!;
    if (f === -1) start += (n[a]! - 1) * inStride[a]!;
    m[a]![o] = f;
    m[a]![3] = f === -1 ? n[a]! - 1 : 0;
  }
  const src = volume.data;
  const out = new Float32Array(src.length);
  let p = 0;
  for (let k = 0; k < outDims[2]; k++) {
    for (let j = 0; j < outDims[1]; j++) {
      let q = start + k * step[2]! + j * step[1]!;
      for (let i = 0; i < outDims[0]; i++, q += step[0]!) out[p++] = src[q]!;
    }
  }
  return { data: out, dims: outDims, pixdim: outPix, affine: mulAffine(volume.affine, m) };
}

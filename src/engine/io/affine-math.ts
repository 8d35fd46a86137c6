// Small dense linear algebra for 3×3 rotations and 4×4 affines, in float64.
// NIfTI's qform is a quaternion + voxel sizes + qfac; these helpers convert
// between that and a matrix the way nibabel does (nibabel.quaternions,
// Nifti1Header.get_qform/set_qform).
import type { Affine } from './volume';

export type Mat3 = [[number, number, number], [number, number, number], [number, number, number]];

export function det3(m: Mat3): number {
  return (
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
    m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
    m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
  );
}

/** Inverse of a 3×3 matrix; throws on a singular one. */
export function inv3(m: Mat3): Mat3 {
  const d = det3(m);
  if (!Number.isFinite(d) || d === 0) throw new Error('matrix is singular');
  const c = (r0: number, c0: number, r1: number, c1: number): number => m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];
  return [
    [c(1, 1, 2, 2) / d, -c(0, 1, 2, 2) / d, c(0, 1, 1, 2) / d],
    [-c(1, 0, 2, 2) / d, c(0, 0, 2, 2) / d, -c(0, 0, 1, 2) / d],
    [c(1, 0, 2, 1) / d, -c(0, 0, 2, 1) / d, c(0, 0, 1, 1) / d],
  ];
}

export function transpose3(m: Mat3): Mat3 {
  return [
    [m[0][0], m[1][0], m[2][0]],
    [m[0][1], m[1][1], m[2][1]],
    [m[0][2], m[1][2], m[2][2]],
  ];
}

/**
 * Orthogonal factor U of the polar decomposition M = U·H (the orthogonal
 * matrix nearest to M; equals P·Qᵀ of the SVD M = P·S·Qᵀ, which is what
 * nibabel computes). Scaled Newton iteration U ← (ζU + U⁻ᵀ/ζ)/2 (Higham),
 * quadratically convergent for a non-singular M.
 */
export function polarOrthogonal(m: Mat3): Mat3 {
  let u: Mat3 = m.map((r) => [...r]) as Mat3;
  for (let iter = 0; iter < 100; iter++) {
    const uit = transpose3(inv3(u));
    const f = (x: Mat3): number => Math.sqrt(x.flat().reduce((s, v) => s + v * v, 0));
    const zeta = Math.sqrt(f(uit) / f(u));
    let change = 0;
    const next = u.map((r, i) =>
      r.map((v, j) => {
        const n = 0.5 * (zeta * v + uit[i]![j]! / zeta);
        change = Math.max(change, Math.abs(n - v));
        return n;
      }),
    ) as Mat3;
    u = next;
    if (change < 1e-15) break;
  }
  return u;
}

/** nibabel.quaternions.quat2mat for q = [w, x, y, z] (need not be unit). */
export function quatToMat(w: number, x: number, y: number, z: number): Mat3 {
  const nq = w * w + x * x + y * y + z * z;
  if (nq < 2.220446049250313e-16) {
    return [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ];
  }
  const s = 2 / nq;
  const X = x * s, Y = y * s, Z = z * s;
  const wX = w * X, wY = w * Y, wZ = w * Z;
  const xX = x * X, xY = x * Y, xZ = x * Z;
  const yY = y * Y, yZ = y * Z, zZ = z * Z;
  return [
    [1 - (yY + zZ), xY - wZ, xZ + wY],
    [xY + wZ, 1 - (xX + zZ), yZ - wX],
    [xZ - wY, yZ + wX, 1 - (xX + yY)],
  ];
}

/**
 * Unit quaternion [w, x, y, z] of a proper rotation matrix, with w ≥ 0
 * (nibabel's mat2quat convention). Shepperd's method: pick the largest
 * diagonal term to avoid cancellation.
 */
export function matToQuat(r: Mat3): [number, number, number, number] {
  const tr = r[0][0] + r[1][1] + r[2][2];
  let q: [number, number, number, number];
  if (tr > 0) {
    const s = 2 * Math.sqrt(1 + tr);
    q = [0.25 * s, (r[2][1] - r[1][2]) / s, (r[0][2] - r[2][0]) / s, (r[1][0] - r[0][1]) / s];
  } else if (r[0][0] > r[1][1] && r[0][0] > r[2][2]) {
    const s = 2 * Math.sqrt(1 + r[0][0] - r[1][1] - r[2][2]);
    q = [(r[2][1] - r[1][2]) / s, 0.25 * s, (r[0][1] + r[1][0]) / s, (r[0][2] + r[2][0]) / s];
  } else if (r[1][1] > r[2][2]) {
    const s = 2 * Math.sqrt(1 + r[1][1] - r[0][0] - r[2][2]);
    q = [(r[0][2] - r[2][0]) / s, (r[0][1] + r[1][0]) / s, 0.25 * s, (r[1][2] + r[2][1]) / s];
  } else {
    const s = 2 * Math.sqrt(1 + r[2][2] - r[0][0] - r[1][1]);
    q = [(r[1][0] - r[0][1]) / s, (r[0][2] + r[2][0]) / s, (r[1][2] + r[2][1]) / s, 0.25 * s];
  }
  const n = Math.hypot(...q);
  const sign = q[0] < 0 ? -1 : 1;
  return q.map((v) => (sign * v) / n) as [number, number, number, number];
}

export function linearPart(a: Affine): Mat3 {
  return [
    [a[0][0], a[0][1], a[0][2]],
    [a[1][0], a[1][1], a[1][2]],
    [a[2][0], a[2][1], a[2][2]],
  ];
}

/** Euclidean norms of the first three columns (voxel sizes of an affine). */
export function columnNorms(a: Affine): [number, number, number] {
  const n = (j: number): number => Math.hypot(a[0][j]!, a[1][j]!, a[2][j]!);
  return [n(0), n(1), n(2)];
}

export function mulAffine(a: Affine, b: Affine): Affine {
  const out = [0, 1, 2, 3].map((i) => [0, 1, 2, 3].map((j) => a[i]![0]! * b[0][j]! + a[i]![1]! * b[1][j]! + a[i]![2]! * b[2][j]! + a[i]![3]! * b[3][j]!));
  return out as Affine;
}

export function isFiniteAffine(a: readonly (readonly number[])[]): boolean {
  return a.length === 4 && a.every((r) => r.length === 4 && r.every((v) => Number.isFinite(v)));
}

export function cloneAffine(a: Affine): Affine {
  return a.map((r) => [...r]) as Affine;
}

// The in-memory 3D volume every part of the engine exchanges.

/** 4×4 voxel-to-world matrix, row-major: world = A · [i, j, k, 1]ᵀ (mm, RAS+). */
export type Affine = [
  [number, number, number, number],
  [number, number, number, number],
  [number, number, number, number],
  [number, number, number, number],
];

/**
 * A 3D scalar volume. Axis order is NIfTI's: `data[i + nx * (j + ny * k)]`
 * is voxel (i, j, k), i fastest. After `toCanonical()` i, j, k point to
 * R, A, S (RAS+).
 */
export interface Volume {
  data: Float32Array;
  /** [nx, ny, nz] */
  dims: [number, number, number];
  /** voxel size in mm [dx, dy, dz] */
  pixdim: [number, number, number];
  affine: Affine;
}

export function identityAffine(pixdim: [number, number, number] = [1, 1, 1]): Affine {
  return [
    [pixdim[0], 0, 0, 0],
    [0, pixdim[1], 0, 0],
    [0, 0, pixdim[2], 0],
    [0, 0, 0, 1],
  ];
}

export function voxelCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

// The voxel grid of every synthetic image: a fixed field of view that
// covers a child's head, divided into the requested number of voxels, RAS+
// axes, world origin at the volume centre. The default 64×64×40 grid gives
// 2.8 × 3.4 × 3.6 mm voxels.
import type { Affine } from '../io/volume';
import type { Vec3 } from './math';

/** Field of view (mm) along x (R), y (A), z (S). */
export const HEAD_FOV_MM: Readonly<Vec3> = [179.2, 217.6, 144];

export interface Grid {
  dims: [number, number, number];
  pixdim: [number, number, number];
  affine: Affine;
}

export function headGrid(shape: readonly [number, number, number]): Grid {
  const dims: [number, number, number] = [shape[0], shape[1], shape[2]];
  const pixdim = dims.map((n, a) => HEAD_FOV_MM[a] / n) as [number, number, number];
  const o = dims.map((n, a) => -pixdim[a] * ((n - 1) / 2)) as [number, number, number];
  return {
    dims,
    pixdim,
    affine: [
      [pixdim[0], 0, 0, o[0]],
      [0, pixdim[1], 0, o[1]],
      [0, 0, pixdim[2], o[2]],
      [0, 0, 0, 1],
    ],
  };
}

/** World coordinate (mm) of voxel index `i` along axis `a`. */
export function worldAt(g: Grid, a: 0 | 1 | 2, i: number): number {
  return g.affine[a][3] + g.pixdim[a] * i;
}

/**
 * Visits every voxel of `g` in storage order (x fastest, then y, then z) with
 * its centre's world coordinates and its flat index; renderers that draw
 * noise rely on this order.
 */
export function forEachVoxel(g: Grid, visit: (p: Vec3, n: number) => void): void {
  const [nx, ny, nz] = g.dims;
  for (let k = 0; k < nz; k++) {
    const z = worldAt(g, 2, k);
    for (let j = 0; j < ny; j++) {
      const y = worldAt(g, 1, j);
      for (let i = 0; i < nx; i++) visit([worldAt(g, 0, i), y, z], i + nx * (j + ny * k));
    }
  }
}

/** The voxel index range [lo, hi] along axis `a` whose centres lie within [w0, w1] mm, clamped to the grid. */
export function indexRange(g: Grid, a: 0 | 1 | 2, w0: number, w1: number): [number, number] {
  const lo = Math.max(0, Math.ceil((w0 - g.affine[a][3]) / g.pixdim[a]));
  const hi = Math.min(g.dims[a] - 1, Math.floor((w1 - g.affine[a][3]) / g.pixdim[a]));
  return [lo, hi];
}

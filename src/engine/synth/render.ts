// Rasterises one case onto the head grid: the binary tumour mask first
// (cheap, so a tumour that breaks the label rules can be redrawn), then
// the acquired image.
import type { Rng } from '../util/rng';
import type { SynthLocation } from './labels';
import { componentSizes } from './components';
import { forEachVoxel, indexRange, worldAt, type Grid } from './grid';
import { lerp, type Vec3 } from './math';
import type { HeadPose, Phantom, Plane } from './phantom';
import { acquire, type ScannerSpec } from './scanner';
import { EDEMA_SIGNAL, type Tumour } from './tumour';

/** Voxel-index bounding box [lo, hi] per axis of everything the tumour can touch. */
function tumourBox(pose: HeadPose, tumour: Tumour, grid: Grid): [number, number][] {
  const c = pose.worldFromTemplate(tumour.spec.centre);
  const r = tumour.extent * Math.max(...pose.size) + 1;
  return ([0, 1, 2] as const).map((a) => indexRange(grid, a, c[a] - r, c[a] + r));
}

export function rasterizeMask(pose: HeadPose, tumour: Tumour, grid: Grid): Uint8Array {
  const [nx, ny, nz] = grid.dims;
  const mask = new Uint8Array(nx * ny * nz);
  const [[i0, i1], [j0, j1], [k0, k1]] = tumourBox(pose, tumour, grid);
  for (let k = k0; k <= k1; k++) {
    const z = worldAt(grid, 2, k);
    for (let j = j0; j <= j1; j++) {
      const y = worldAt(grid, 1, j);
      for (let i = i0; i <= i1; i++) {
        if (tumour.contains(pose.templateFromWorld([worldAt(grid, 0, i), y, z]))) mask[i + nx * (j + ny * k)] = 1;
      }
    }
  }
  return mask;
}

/** Measurements of a mask, in world millimetres. */
export interface MaskStats {
  voxels: number;
  /** bounding-box extent along the image axes x (R–L), y (A–P), z (S–I), mm */
  extentMm: Vec3;
  volumeMl: number;
  centroid: Vec3;
  components: number;
  /** smallest and largest signed distance of a mask voxel to the tentorium (> 0 supratentorial) */
  tentoriumRange: [number, number];
}

export function maskStats(mask: Uint8Array, grid: Grid, tentorium: Plane): MaskStats {
  const [nx, ny, nz] = grid.dims;
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  const sum = [0, 0, 0];
  let voxels = 0;
  let dmin = Infinity;
  let dmax = -Infinity;
  const { point, normal } = tentorium;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        if (!mask[i + nx * (j + ny * k)]) continue;
        voxels++;
        const idx = [i, j, k];
        const p = [worldAt(grid, 0, i), worldAt(grid, 1, j), worldAt(grid, 2, k)];
        for (let a = 0; a < 3; a++) {
          lo[a] = Math.min(lo[a], idx[a]);
          hi[a] = Math.max(hi[a], idx[a]);
          sum[a] += p[a];
        }
        const d = (p[0] - point[0]) * normal[0] + (p[1] - point[1]) * normal[1] + (p[2] - point[2]) * normal[2];
        dmin = Math.min(dmin, d);
        dmax = Math.max(dmax, d);
      }
    }
  }
  const [dx, dy, dz] = grid.pixdim;
  return {
    voxels,
    extentMm: voxels ? [(hi[0] - lo[0] + 1) * dx, (hi[1] - lo[1] + 1) * dy, (hi[2] - lo[2] + 1) * dz] : [0, 0, 0],
    volumeMl: (voxels * dx * dy * dz) / 1000,
    centroid: voxels ? [sum[0] / voxels, sum[1] / voxels, sum[2] / voxels] : [NaN, NaN, NaN],
    components: componentSizes(mask, grid.dims).length,
    tentoriumRange: [dmin, dmax],
  };
}

/**
 * Why a mask does not fit its location class, or null when it does: it
 * must be one non-empty connected region, entirely above the tentorium
 * (supratentorial), entirely below (infratentorial) or on both sides
 * (transtentorial).
 */
export function maskProblem(stats: MaskStats, location: SynthLocation): string | null {
  if (stats.voxels === 0) return 'empty mask';
  if (stats.components !== 1) return `${stats.components} separate regions`;
  const [dmin, dmax] = stats.tentoriumRange;
  if (location === 'supratentorial' && dmin <= 0) return 'reaches below the tentorium';
  if (location === 'infratentorial' && dmax >= 0) return 'reaches above the tentorium';
  if (location === 'transtentorial' && !(dmin < 0 && dmax > 0)) return 'does not cross the tentorium';
  return null;
}

/**
 * The stored image (integral values for int16) of phantom + tumour through a
 * scanner; with `tumour` null, the same phantom and scanner without the
 * tumour's signal, oedema and mass effect.
 */
export function renderImage(phantom: Phantom, tumour: Tumour | null, scanner: ScannerSpec, grid: Grid, noise: Rng): Float32Array {
  const [nx, ny, nz] = grid.dims;
  const out = new Float32Array(nx * ny * nz);
  forEachVoxel(grid, (p, n) => {
    const q = phantom.pose.templateFromWorld(p);
    if (!tumour) {
      out[n] = acquire(scanner, phantom.sample(q, q).value, p, noise);
      return;
    }
    const t = tumour.sample(q);
    const tissue = phantom.sample(q, tumour.displace(q));
    let v = tissue.value;
    if (t.edema > 0) v = lerp(v, EDEMA_SIGNAL, t.edema * tissue.parenchyma);
    if (t.weight > 0) v = lerp(v, t.value, t.weight);
    out[n] = acquire(scanner, v, p, noise);
  });
  return out;
}

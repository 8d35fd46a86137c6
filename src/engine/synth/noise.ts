// Smooth random texture for the phantom: value noise on a coarse lattice,
// interpolated with a smoothstep so there are no blocky edges. A lattice
// (rather than summed sines) keeps it cheap and free of periodic patterns.
import type { Rng } from '../util/rng';

export class ValueNoise {
  private readonly values: Float32Array;
  private readonly n: number;
  private readonly origin: number;

  /**
   * @param spacing lattice step in mm (the texture's feature size)
   * @param extent the field covers [-extent, extent]³ mm; outside it is clamped
   */
  constructor(rng: Rng, readonly spacing: number, extent = 130) {
    this.n = Math.ceil((2 * extent) / spacing) + 2;
    this.origin = -extent;
    this.values = new Float32Array(this.n * this.n * this.n);
    for (let i = 0; i < this.values.length; i++) this.values[i] = rng.next() * 2 - 1;
  }

  /** A value in [-1, 1] at (x, y, z) mm. */
  at(x: number, y: number, z: number): number {
    const n = this.n;
    const fx = clampIndex((x - this.origin) / this.spacing, n);
    const fy = clampIndex((y - this.origin) / this.spacing, n);
    const fz = clampIndex((z - this.origin) / this.spacing, n);
    const ix = Math.floor(fx);
    const iy = Math.floor(fy);
    const iz = Math.floor(fz);
    const tx = smooth(fx - ix);
    const ty = smooth(fy - iy);
    const tz = smooth(fz - iz);
    const v = this.values;
    const b = ix + n * (iy + n * iz);
    const nn = n * n;
    const c00 = v[b] + (v[b + 1] - v[b]) * tx;
    const c10 = v[b + n] + (v[b + n + 1] - v[b + n]) * tx;
    const c01 = v[b + nn] + (v[b + nn + 1] - v[b + nn]) * tx;
    const c11 = v[b + nn + n] + (v[b + nn + n + 1] - v[b + nn + n]) * tx;
    const c0 = c00 + (c10 - c00) * ty;
    const c1 = c01 + (c11 - c01) * ty;
    return c0 + (c1 - c0) * tz;
  }
}

function smooth(t: number): number {
  return t * t * (3 - 2 * t);
}

function clampIndex(f: number, n: number): number {
  // keep f in [0, n-2] so f+1 stays in the lattice
  return f < 0 ? 0 : f > n - 2.000001 ? n - 2.000001 : f;
}

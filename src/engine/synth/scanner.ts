// The acquisition: how relative FLAIR signal becomes stored intensities.
// The internal cohort has one well-behaved scanner; the external cohort
// (the paper's Dataset 2: other scanners, later years) differs by a global
// intensity scale and offset, a smooth multiplicative bias field, more
// noise and a small change of head pose.
// follows: METHOD.md §1 (cohorts); paper "Datasets", Dataset 2
import type { Rng } from '../util/rng';
import { rotationDeg, type Mat3, type Vec3 } from './math';

export type Cohort = 'internal' | 'external';

export interface ScannerSpec {
  /** stored units per unit of relative signal */
  gain: number;
  /** added to every voxel, stored units */
  offset: number;
  /** Rician noise σ, in relative-signal units */
  noise: number;
  /** bias field log-amplitude coefficients: 1, x, y, z, x², y², z², xy, yz (coordinates / 100 mm) */
  bias: number[];
  /** extra head pose the scanner's positioning adds */
  poseRotation: Mat3;
  poseShift: Vec3;
}

function signed(rng: Rng, lo: number, hi: number): number {
  return (rng.next() < 0.5 ? -1 : 1) * rng.uniform(lo, hi);
}

export function sampleScanner(rng: Rng, cohort: Cohort): ScannerSpec {
  if (cohort === 'internal') {
    return {
      gain: 1000 * rng.uniform(0.95, 1.05),
      offset: 0,
      noise: rng.uniform(0.01, 0.016),
      bias: [0, ...Array.from({ length: 8 }, () => rng.uniform(-0.04, 0.04))],
      poseRotation: rotationDeg(0, 0, 0),
      poseShift: [0, 0, 0],
    };
  }
  // darker or brighter than the internal scanner, never the same
  const gain = 1000 * (rng.next() < 0.5 ? rng.uniform(0.55, 0.75) : rng.uniform(1.3, 1.6));
  return {
    gain,
    offset: rng.uniform(40, 120),
    noise: rng.uniform(0.028, 0.04),
    bias: [0, ...Array.from({ length: 3 }, () => rng.uniform(-0.3, 0.3)), ...Array.from({ length: 5 }, () => rng.uniform(-0.25, 0.25))],
    poseRotation: rotationDeg(signed(rng, 2, 6), signed(rng, 1, 4), signed(rng, 2, 6)),
    poseShift: [signed(rng, 2, 7), signed(rng, 2, 7), signed(rng, 1, 4)],
  };
}

/** Multiplicative bias at world point p (mm). */
export function biasAt(s: ScannerSpec, p: Vec3): number {
  const x = p[0] / 100;
  const y = p[1] / 100;
  const z = p[2] / 100;
  const b = s.bias;
  return Math.exp(b[0] + b[1] * x + b[2] * y + b[3] * z + b[4] * x * x + b[5] * y * y + b[6] * z * z + b[7] * x * y + b[8] * y * z);
}

/**
 * Stored intensity for relative signal `v` at world point p: bias, Rician
 * noise (magnitude of a complex signal with Gaussian noise in both
 * channels), gain and offset, rounded into int16 range.
 */
export function acquire(s: ScannerSpec, v: number, p: Vec3, rng: Rng): number {
  const m = v * biasAt(s, p);
  const re = m + rng.normal(0, s.noise);
  const im = rng.normal(0, s.noise);
  const out = Math.round(s.gain * Math.sqrt(re * re + im * im) + s.offset);
  return out < 0 ? 0 : out > 32767 ? 32767 : out;
}

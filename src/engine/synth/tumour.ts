// One tumour per case: an anatomically placed, lobulated ellipsoid whose
// size, margin and signal depend on the genetic marker, the way pLGG
// imaging phenotypes do: BRAF fusion (pilocytic-like) → larger, sharply
// marginated, cyst with a bright mural nodule; V600E → solid,
// heterogeneous, infiltrative margin, oedema and mass effect; "other" in
// between.
//
// The tumour region is star-shaped about its centre (the radius depends
// only on the direction) intersected with convex compartments that contain
// the centre, so it is connected by construction.
// follows: METHOD.md §1 (location classes); paper "Datasets"
import type { Rng } from '../util/rng';
import type { SynthLocation, SynthMarker } from './labels';
import { ValueNoise } from './noise';
import { ellipsoidSdf, inside, lerp, matTVec, normalize, norm, rotationDeg, sub, type Mat3, type Vec3 } from './math';
import { TEMPLATE, ellipsoidDistance, tentoriumDistance } from './phantom';

export type SiteName =
  | 'frontal'
  | 'parietal'
  | 'temporal'
  | 'occipital'
  | 'thalamic'
  | 'cerebellar'
  | 'vermian'
  | 'brainstem'
  | 'incisural'
  | 'vermian-incisural'
  | 'mesencephalic';

export interface Site {
  name: SiteName;
  location: SynthLocation;
  /** template centre for a right-sided tumour (x mirrored for left) */
  centre: Vec3;
  /** midline structures have no side */
  lateral: boolean;
  /** relative size (deep and brainstem tumours are smaller) */
  size: number;
  /** chance of obstructive hydrocephalus for a tumour here (before size) */
  hydrocephalus: number;
}

// Supratentorial sites sit well above the tentorium plane, infratentorial
// ones well below, transtentorial ones are centred on it (their z is replaced
// by the plane's height at that point).
export const SITES: readonly Site[] = [
  { name: 'frontal', location: 'supratentorial', centre: [28, 42, 22], lateral: true, size: 1, hydrocephalus: 0.03 },
  { name: 'parietal', location: 'supratentorial', centre: [32, -22, 32], lateral: true, size: 1, hydrocephalus: 0.03 },
  { name: 'temporal', location: 'supratentorial', centre: [46, 6, 6], lateral: true, size: 0.9, hydrocephalus: 0.03 },
  { name: 'occipital', location: 'supratentorial', centre: [24, -56, 14], lateral: true, size: 0.9, hydrocephalus: 0.03 },
  { name: 'thalamic', location: 'supratentorial', centre: [11, -8, 7], lateral: true, size: 0.75, hydrocephalus: 0.4 },
  { name: 'cerebellar', location: 'infratentorial', centre: [24, -46, -38], lateral: true, size: 0.95, hydrocephalus: 0.45 },
  { name: 'vermian', location: 'infratentorial', centre: [0, -44, -30], lateral: false, size: 0.9, hydrocephalus: 0.75 },
  { name: 'brainstem', location: 'infratentorial', centre: [0, -12, -38], lateral: false, size: 0.65, hydrocephalus: 0.3 },
  { name: 'incisural', location: 'transtentorial', centre: [0, -26, 0], lateral: false, size: 0.85, hydrocephalus: 0.55 },
  { name: 'vermian-incisural', location: 'transtentorial', centre: [0, -40, 0], lateral: false, size: 0.9, hydrocephalus: 0.55 },
  { name: 'mesencephalic', location: 'transtentorial', centre: [9, -13, 0], lateral: true, size: 0.75, hydrocephalus: 0.5 },
];

export interface CystSpec {
  centre: Vec3;
  radius: number;
}

/** Everything that decides a tumour's shape and signal, in template mm. */
export interface TumourSpec {
  site: SiteName;
  location: SynthLocation;
  side: 'right' | 'left' | 'midline';
  centre: Vec3;
  /** semi-axes of the base ellipsoid */
  radii: Vec3;
  /** base ellipsoid orientation */
  rotation: Mat3;
  /** relative radius modulation by direction (0 = smooth ellipsoid) */
  lobulation: number;
  /** soft margin width in mm: sharp (≈1) = well circumscribed, wide = infiltrative */
  margin: number;
  /** relative FLAIR signal of the solid part */
  solidSignal: number;
  /** amplitude of the solid part's signal texture */
  heterogeneity: number;
  cyst: CystSpec | null;
  /** bright solid nodule in the cyst wall */
  nodule: CystSpec | null;
  /** width (mm) of FLAIR-bright oedema around the tumour; 0 for none */
  edema: number;
  /** peak displacement (mm) of the surrounding brain */
  massEffect: number;
  hydrocephalus: boolean;
  /** the fourth ventricle is compressed by the mass */
  fourthVentricleEffaced: boolean;
}

interface MarkerStyle {
  radius: [number, number];
  lobulation: [number, number];
  margin: [number, number];
  signal: number;
  heterogeneity: [number, number];
  cyst: number;
  nodule: number;
  edema: number;
  edemaWidth: [number, number];
  massEffect: [number, number];
}

export const MARKER_STYLE: Readonly<Record<SynthMarker, MarkerStyle>> = {
  fusion: { radius: [17, 26], lobulation: [0.02, 0.05], margin: [0.8, 1.2], signal: 0.86, heterogeneity: [0.015, 0.04], cyst: 0.85, nodule: 0.9, edema: 0.1, edemaWidth: [3, 5], massEffect: [1.5, 4.5] },
  v600e: { radius: [12, 19], lobulation: [0.15, 0.24], margin: [2.5, 4], signal: 0.8, heterogeneity: [0.09, 0.15], cyst: 0.12, nodule: 0, edema: 0.7, edemaWidth: [5, 9], massEffect: [3.5, 6.5] },
  other: { radius: [13, 21], lobulation: [0.08, 0.13], margin: [1.5, 2.5], signal: 0.83, heterogeneity: [0.045, 0.08], cyst: 0.35, nodule: 0.4, edema: 0.3, edemaWidth: [4, 7], massEffect: [1.5, 4.5] },
};

/** Signal of cyst fluid (proteinaceous, not fully suppressed), the cyst wall and the mural nodule. */
export const CYST_SIGNAL = 0.3;
export const RIM_SIGNAL = 0.88;
export const NODULE_SIGNAL = 0.96;
export const EDEMA_SIGNAL = 0.74;

function u(rng: Rng, [lo, hi]: readonly [number, number]): number {
  return rng.uniform(lo, hi);
}

/** Height of the tentorium plane at (x, y), template mm. */
function tentoriumZ(x: number, y: number): number {
  const { point, normal } = TEMPLATE.tentorium;
  return point[2] - (normal[0] * (x - point[0]) + normal[1] * (y - point[1])) / normal[2];
}

export function sampleTumour(rng: Rng, location: SynthLocation, marker: SynthMarker): TumourSpec {
  const sites = SITES.filter((s) => s.location === location);
  const site = sites[rng.int(sites.length)];
  const style = MARKER_STYLE[marker];
  const side = site.lateral ? (rng.next() < 0.5 ? 'right' : 'left') : 'midline';
  const sx = side === 'left' ? -1 : 1;
  const centre: Vec3 = [site.centre[0] * sx + rng.uniform(-4, 4), site.centre[1] + rng.uniform(-5, 5), site.centre[2] + rng.uniform(-4, 4)];
  if (!site.lateral) centre[0] = rng.uniform(-2.5, 2.5);
  // transtentorial: straddle the plane, slightly off it either way
  if (location === 'transtentorial') centre[2] = tentoriumZ(centre[0], centre[1]) + rng.uniform(-3, 3);

  const r = u(rng, style.radius) * site.size;
  const radii: Vec3 = [r * rng.uniform(0.82, 1.18), r * rng.uniform(0.82, 1.18), r * rng.uniform(0.82, 1.18)];
  const rotation = rotationDeg(rng.uniform(-35, 35), rng.uniform(-35, 35), rng.uniform(-35, 35));
  const lobulation = u(rng, style.lobulation);

  let cyst: CystSpec | null = null;
  let nodule: CystSpec | null = null;
  if (rng.next() < style.cyst) {
    const dir = normalize([rng.normal(), rng.normal(), rng.normal()]);
    const rmin = Math.min(...radii) * (1 - lobulation);
    const big = marker === 'fusion';
    // the cyst stays inside the smallest radius of the lobulated tumour
    const off = (big ? 0.14 : 0.28) * rmin;
    const cr = (big ? 0.78 : 0.45) * rmin;
    cyst = { centre: [centre[0] + dir[0] * off, centre[1] + dir[1] * off, centre[2] + dir[2] * off], radius: cr };
    if (rng.next() < style.nodule) {
      // mural nodule on the wall opposite the cyst's offset
      const nd = 0.62 * rmin;
      nodule = { centre: [centre[0] - dir[0] * nd, centre[1] - dir[1] * nd, centre[2] - dir[2] * nd], radius: 0.3 * rmin };
    }
  }
  const edema = rng.next() < style.edema ? u(rng, style.edemaWidth) : 0;
  const massEffect = u(rng, style.massEffect) * Math.min(1.2, r / 18);
  const hydroChance = site.hydrocephalus * Math.min(1.3, r / 17);
  const hydrocephalus = rng.next() < hydroChance;
  const fv = TEMPLATE.fourthVentricle.c;
  const fourthVentricleEffaced = location !== 'supratentorial' && norm(sub(centre, fv)) < r + 10;
  return {
    site: site.name,
    location,
    side,
    centre,
    radii,
    rotation,
    lobulation,
    margin: u(rng, style.margin),
    solidSignal: style.signal + rng.uniform(-0.03, 0.03),
    heterogeneity: u(rng, style.heterogeneity),
    cyst,
    nodule,
    edema,
    massEffect,
    hydrocephalus,
    fourthVentricleEffaced,
  };
}

/** What the tumour contributes at one template point. */
export interface TumourSample {
  /** hard membership used for the mask */
  inMask: boolean;
  /** soft membership used for the image */
  weight: number;
  /** signal of the tumour tissue here */
  value: number;
  /** soft membership of the surrounding oedema (outside the tumour) */
  edema: number;
}

/** Stretches the shape noise to use the full range; clamped to ±1 so the radius stays within 1 ± lobulation. */
const LOBE_GAIN = 1.6;

const OUTSIDE: TumourSample = { inMask: false, weight: 0, value: 0, edema: 0 };

/** Evaluates a TumourSpec on template points; holds its noise fields. */
export class Tumour {
  private readonly shape: ValueNoise;
  private readonly texture: ValueNoise;
  private readonly rmean: number;
  /** beyond this distance from the centre nothing (not even oedema) is drawn */
  private readonly reach: number;

  constructor(
    readonly spec: TumourSpec,
    rng: Rng,
  ) {
    this.shape = new ValueNoise(rng.fork('shape'), 22, 60);
    this.texture = new ValueNoise(rng.fork('texture'), 3.5, 60);
    const [a, b, c] = spec.radii;
    this.rmean = (a + b + c) / 3;
    this.reach = Math.max(a, b, c) * (1 + spec.lobulation) + spec.edema + 4 * spec.margin + 6;
  }

  /** Signed distance (mm, < 0 inside) to the compartment the tumour must stay in. */
  compartment(q: Vec3): number {
    const margin = TEMPLATE.csfThickness + 1;
    switch (this.spec.location) {
      case 'supratentorial':
        return Math.max(ellipsoidDistance(TEMPLATE.cerebrum, q) + margin, 1.5 - tentoriumDistance(q));
      case 'infratentorial':
        return Math.max(ellipsoidDistance(TEMPLATE.posteriorFossa, q) + margin, tentoriumDistance(q) + 1.5);
      case 'transtentorial':
        return Math.min(ellipsoidDistance(TEMPLATE.cerebrum, q), ellipsoidDistance(TEMPLATE.posteriorFossa, q)) + margin;
    }
  }

  /** Lobulated "distance" (mm, < 0 inside): scaled ellipsoid radius minus a direction-dependent bump. */
  private body(q: Vec3): number {
    const s = this.spec;
    const d = matTVec(s.rotation, sub(q, s.centre));
    const ux = d[0] / s.radii[0];
    const uy = d[1] / s.radii[1];
    const uz = d[2] / s.radii[2];
    const rho = Math.sqrt(ux * ux + uy * uy + uz * uz);
    if (rho < 1e-9) return -this.rmean;
    // the bump depends on the direction only, so the region stays star-shaped
    const n = this.shape.at((ux / rho) * 40, (uy / rho) * 40, (uz / rho) * 40) * LOBE_GAIN;
    const bump = 1 + s.lobulation * Math.max(-1, Math.min(1, n));
    return (rho / bump - 1) * this.rmean;
  }

  /** Mask membership only (no signal): cheaper, for the first pass. */
  contains(q: Vec3): boolean {
    if (norm(sub(q, this.spec.centre)) > this.reach) return false;
    return this.body(q) < 0 && this.compartment(q) < 0;
  }

  /** Distance from the centre (template mm) beyond which `sample` is empty. */
  get extent(): number {
    return this.reach;
  }

  sample(q: Vec3): TumourSample {
    const s = this.spec;
    if (norm(sub(q, s.centre)) > this.reach) return OUTSIDE;
    const dBody = this.body(q);
    const dComp = this.compartment(q);
    const inMask = dBody < 0 && dComp < 0;
    const weight = inside(dBody, s.margin * 0.5) * inside(dComp, 0.6);
    const edemaZone = s.edema > 0 ? inside(dBody - s.edema, 2) * (1 - inside(dBody, s.margin * 0.5)) * inside(dComp - s.edema, 2) : 0;
    if (weight < 1e-4) return { inMask, weight: 0, value: 0, edema: edemaZone };

    let value = s.solidSignal + s.heterogeneity * this.texture.at(q[0], q[1], q[2]);
    if (s.cyst) {
      const c = s.cyst;
      const dc = ellipsoidSdf(q[0] - c.centre[0], q[1] - c.centre[1], q[2] - c.centre[2], c.radius, c.radius, c.radius);
      value = lerp(value, CYST_SIGNAL, inside(dc, 0.7));
      value = lerp(value, RIM_SIGNAL, 0.7 * Math.exp(-((dc - 0.8) ** 2) / 1.2));
    }
    if (s.nodule) {
      const n = s.nodule;
      const dn = ellipsoidSdf(q[0] - n.centre[0], q[1] - n.centre[1], q[2] - n.centre[2], n.radius, n.radius, n.radius);
      value = lerp(value, NODULE_SIGNAL, inside(dn, 1));
    }
    return { inMask, weight, value, edema: edemaZone };
  }

  /**
   * Mass effect: the brain at q shows what was at q − u(q), u pointing away
   * from the centre, fading with distance; |du/dr| < 1 keeps it a fold-free
   * displacement.
   */
  displace(q: Vec3): Vec3 {
    const s = this.spec;
    const d = sub(q, s.centre);
    const r = norm(d);
    if (r < 1e-6 || s.massEffect <= 0) return q;
    const L = 1.7 * this.rmean;
    const g = s.massEffect * Math.exp(-((r / L) ** 2)) * Math.min(1, r / (0.5 * this.rmean));
    return [q[0] - (d[0] / r) * g, q[1] - (d[1] / r) * g, q[2] - (d[2] / r) * g];
  }

  /** Displacement (mm) of the midline at the tumour's level: the reported midline shift. */
  midlineShift(): number {
    const s = this.spec;
    if (s.side === 'midline' || s.location !== 'supratentorial') return 0;
    const q: Vec3 = [0, s.centre[1], s.centre[2]];
    return Math.abs(this.displace(q)[0] - q[0]);
  }
}

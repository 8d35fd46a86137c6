// A FLAIR-like child-head phantom built from soft-edged ellipsoids: scalp,
// skull, subarachnoid CSF, cortex with gyral texture, white matter, deep
// grey nuclei, lateral/third/fourth ventricles, cerebellum and brainstem in
// a posterior fossa bounded above by a tentorium plane.
//
// Anatomy lives in "template" millimetres (a ~8-year-old head, origin near
// the centre of the brain, +x right, +y anterior, +z superior). A case is
// the template scaled per axis (age, shape) and posed (rotation + shift)
// into world RAS millimetres.
import type { Rng } from '../util/rng';
import { ValueNoise } from './noise';
import { add, ellipsoidSdf, inside, lerp, matTVec, matVec, normalize, rotationDeg, sub, type Mat3, type Vec3 } from './math';

/** Relative FLAIR signal of each tissue (white matter ≈ 0.46). */
export const SIGNAL = {
  air: 0,
  scalp: 0.62,
  bone: 0.06,
  csf: 0.09,
  grey: 0.57,
  white: 0.46,
  deepGrey: 0.53,
  cerebellum: 0.51,
  cerebellarWhite: 0.45,
  brainstem: 0.47,
  dura: 0.14,
  periventricular: 0.76,
} as const;

interface Ellipsoid {
  c: Vec3;
  r: Vec3;
}

/** Template compartments (mm). */
export const TEMPLATE = {
  cerebrum: { c: [0, 0, 6], r: [62, 80, 54] } as Ellipsoid,
  posteriorFossa: { c: [0, -34, -36], r: [52, 40, 28] } as Ellipsoid,
  brainstem: { c: [0, -12, -34], r: [12, 12, 30] } as Ellipsoid,
  /**
   * The tentorium cerebelli as a plane: through this point, rising 14°
   * anteriorly (low at the occipital bone, high at the incisura). Signed
   * distance > 0 is the supratentorial side.
   */
  tentorium: { point: [0, -38, -14] as Vec3, normal: normalize([0, -0.25, 1]) },
  fourthVentricle: { c: [0, -30, -30], r: [6, 3.5, 7] } as Ellipsoid,
  /** CSF between brain and skull (mm). */
  csfThickness: 3,
  boneThickness: 4.5,
  scalpThickness: 4.5,
} as const;

const LATERAL_VENTRICLE: Ellipsoid = { c: [8, 4, 14], r: [5, 24, 7] };
const THIRD_VENTRICLE: Ellipsoid = { c: [0, -4, 2], r: [2, 11, 7] };
const THALAMUS: Ellipsoid = { c: [11, -8, 5], r: [9, 13, 8] };
const BASAL_GANGLIA: Ellipsoid = { c: [20, 8, 6], r: [7, 14, 9] };
const CEREBELLAR_WHITE: Ellipsoid = { c: [18, -42, -34], r: [13, 11, 9] };

/** Per-case anatomy and pose. */
export interface PhantomSpec {
  /** per-axis scale of the template (age and head shape) */
  size: Vec3;
  /** head pose: world = rotation · (size ⊙ q) + shift */
  rotation: Mat3;
  shift: Vec3;
  /** lateral/third ventricle enlargement (1 = normal; hydrocephalus > 1.4) */
  ventricleScale: number;
  /** fourth ventricle size (1 = normal; < 1 when effaced by a mass) */
  fourthVentricleScale: number;
  /** transependymal FLAIR hyperintensity around enlarged ventricles */
  periventricularEdema: boolean;
}

/** A small pose and per-axis size drawn around an age-dependent head size. */
export function samplePhantomSpec(rng: Rng, ageYears: number): Omit<PhantomSpec, 'ventricleScale' | 'fourthVentricleScale' | 'periventricularEdema'> {
  const base = 0.86 + 0.012 * ageYears;
  const size: Vec3 = [0, 1, 2].map(() => base * rng.uniform(0.97, 1.03)) as Vec3;
  const rotation = rotationDeg(rng.uniform(-3, 3), rng.uniform(-2, 2), rng.uniform(-3, 3));
  const shift: Vec3 = [rng.uniform(-4, 4), rng.uniform(-4, 4), rng.uniform(-8, -2)];
  return { size, rotation, shift };
}

/** A plane in world millimetres; `normal` is a unit vector to the supratentorial side. */
export interface Plane {
  point: Vec3;
  normal: Vec3;
}

/** Signed distance (template mm) to the tentorium plane; > 0 supratentorial. */
export function tentoriumDistance(q: Vec3): number {
  const { point, normal } = TEMPLATE.tentorium;
  return (q[0] - point[0]) * normal[0] + (q[1] - point[1]) * normal[1] + (q[2] - point[2]) * normal[2];
}

function sdf(e: Ellipsoid, x: number, y: number, z: number): number {
  return ellipsoidSdf(x - e.c[0], y - e.c[1], z - e.c[2], e.r[0], e.r[1], e.r[2]);
}

/** Polynomial smooth minimum: the union of two shapes with a rounded (k mm) seam instead of a notch. */
export function smoothMin(a: number, b: number, k: number): number {
  const h = Math.max(k - Math.abs(a - b), 0) / k;
  return Math.min(a, b) - (h * h * k) / 4;
}

/** Signed distance (mm, < 0 inside) to the intracranial space: cerebrum ∪ posterior fossa ∪ brainstem. */
export function intracranialSdf(q: Vec3): number {
  const [x, y, z] = q;
  return smoothMin(smoothMin(sdf(TEMPLATE.cerebrum, x, y, z), sdf(TEMPLATE.posteriorFossa, x, y, z), 16), sdf(TEMPLATE.brainstem, x, y, z), 6);
}

export function ellipsoidDistance(e: Ellipsoid, q: Vec3): number {
  return sdf(e, q[0], q[1], q[2]);
}

/** The phantom's compartments, as `Phantom.tissue` names them (no tumour: it has none). */
export const TISSUES = ['air', 'scalp', 'bone', 'csf', 'ventricle', 'dura', 'grey', 'deepGrey', 'white', 'cerebellum', 'cerebellarWhite', 'brainstem'] as const;
export type Tissue = (typeof TISSUES)[number];

/** What the phantom looks like at one point. */
export interface TissueSample {
  /** relative FLAIR signal */
  value: number;
  /** how much of the point is brain parenchyma (not CSF, bone, scalp or air) */
  parenchyma: number;
}

/** A case's head placement: world = rotation · (size ⊙ q) + shift. */
export class HeadPose {
  constructor(
    readonly size: Vec3,
    readonly rotation: Mat3,
    readonly shift: Vec3,
  ) {}

  /** World mm → template mm. */
  templateFromWorld(p: Vec3): Vec3 {
    const l = matTVec(this.rotation, sub(p, this.shift));
    return [l[0] / this.size[0], l[1] / this.size[1], l[2] / this.size[2]];
  }

  /** Template mm → world mm. */
  worldFromTemplate(q: Vec3): Vec3 {
    const s = this.size;
    return add(matVec(this.rotation, [q[0] * s[0], q[1] * s[1], q[2] * s[2]]), this.shift);
  }

  /** The tentorium plane in world coordinates (same sign convention as `tentoriumDistance`). */
  tentoriumWorld(): Plane {
    const { point, normal } = TEMPLATE.tentorium;
    const s = this.size;
    // n·(q − p0) = 0 with q = l / s becomes (n / s)·(l − s ⊙ p0) = 0
    const nl = normalize([normal[0] / s[0], normal[1] / s[1], normal[2] / s[2]]);
    return { point: this.worldFromTemplate(point), normal: matVec(this.rotation, nl) };
  }
}

export class Phantom {
  readonly pose: HeadPose;
  private readonly gyri: ValueNoise;
  private readonly sulci: ValueNoise;
  private readonly folia: ValueNoise;
  private readonly texture: ValueNoise;
  private readonly vScale: Vec3;
  private readonly v3Scale: Vec3;

  constructor(
    readonly spec: PhantomSpec,
    rng: Rng,
  ) {
    this.pose = new HeadPose(spec.size, spec.rotation, spec.shift);
    this.gyri = new ValueNoise(rng.fork('gyri'), 9);
    this.sulci = new ValueNoise(rng.fork('sulci'), 6);
    this.folia = new ValueNoise(rng.fork('folia'), 3.5, 90);
    this.texture = new ValueNoise(rng.fork('texture'), 5);
    const v = spec.ventricleScale;
    // ventricles balloon mostly sideways and up-down when they enlarge
    this.vScale = [v, 1 + 0.35 * (v - 1), v];
    this.v3Scale = [1 + 1.5 * (v - 1), 1, v];
  }

  /**
   * Tissue at template point q. `qd` is the same point with the tumour's
   * mass effect applied: inner structures are read there, while the skull
   * and the compartments (which a mass does not move) are read at q.
   */
  sample(q: Vec3, qd: Vec3): TissueSample {
    const w = 0.9; // edge width, mm: soft partial-volume boundaries
    const [x, y, z] = q;
    const dIc = intracranialSdf(q);
    const { csfThickness: csfT, boneThickness: boneT, scalpThickness: scalpT } = TEMPLATE;
    if (dIc > boneT + scalpT + 4 * w) return { value: SIGNAL.air, parenchyma: 0 };

    let v: number = SIGNAL.air;
    v = lerp(v, SIGNAL.scalp, inside(dIc - boneT - scalpT, w));
    v = lerp(v, SIGNAL.bone, inside(dIc - boneT, w));
    v = lerp(v, SIGNAL.csf, inside(dIc, w));
    const brain = inside(dIc + csfT, w);
    if (brain < 1e-4) return { value: v, parenchyma: 0 };

    const dTent = tentoriumDistance(q);
    const dPf = sdf(TEMPLATE.posteriorFossa, x, y, z);
    const infra = inside(dTent, w) * inside(dPf, w);

    const [xd, yd, zd] = qd;
    let b = infra < 0.999 ? this.cerebral(q, qd, dTent, dPf) : 0;
    if (infra > 0.001) b = lerp(b, this.infratentorial(qd), infra);

    // ventricles (CSF) and, with hydrocephalus, the bright rim around them
    const vs = this.vScale;
    const L = LATERAL_VENTRICLE;
    const lat = Math.min(
      ellipsoidSdf(xd - L.c[0], yd - L.c[1], zd - L.c[2], L.r[0] * vs[0], L.r[1] * vs[1], L.r[2] * vs[2]),
      ellipsoidSdf(xd + L.c[0], yd - L.c[1], zd - L.c[2], L.r[0] * vs[0], L.r[1] * vs[1], L.r[2] * vs[2]),
    );
    const t = this.v3Scale;
    const third = ellipsoidSdf(xd - THIRD_VENTRICLE.c[0], yd - THIRD_VENTRICLE.c[1], zd - THIRD_VENTRICLE.c[2], THIRD_VENTRICLE.r[0] * t[0], THIRD_VENTRICLE.r[1] * t[1], THIRD_VENTRICLE.r[2] * t[2]);
    const dv = Math.min(lat, third);
    if (this.spec.periventricularEdema) b = lerp(b, SIGNAL.periventricular, inside(dv - 3, 1.2) * (1 - inside(dv, w)));
    const fv = TEMPLATE.fourthVentricle;
    const f = this.spec.fourthVentricleScale;
    const d4 = ellipsoidSdf(xd - fv.c[0], yd - fv.c[1], zd - fv.c[2], fv.r[0] * f, fv.r[1] * f, fv.r[2] * f);
    const ventricle = Math.max(inside(dv, w), inside(d4, w * 0.7));
    b = lerp(b, SIGNAL.csf, ventricle);
    let csfInside = ventricle;

    // the tentorium itself: a thin dark dural sheet over the cerebellum
    const dura = inside(Math.abs(dTent) - 0.9, 0.5) * inside(dPf + 2, w);
    b = lerp(b, SIGNAL.dura, dura);
    csfInside = Math.max(csfInside, dura);

    // mild tissue texture (field inhomogeneity at the smallest scale)
    b *= 1 + 0.035 * this.texture.at(xd, yd, zd);
    v = lerp(v, b, brain);
    return { value: v, parenchyma: brain * (1 - csfInside) };
  }

  /**
   * The tissue at template point q (`qd` as in `sample`) without partial
   * volume: the compartment whose blend weight in `sample` exceeds ½, taken
   * in the same order, so the last one over ½ wins. Mirrors `sample`,
   * `cerebral` and `infratentorial` step for step (keep them in step); no
   * random draws, so a case's map depends only on its anatomy.
   */
  tissue(q: Vec3, qd: Vec3): Tissue {
    const w = 0.9;
    const [x, y, z] = q;
    const dIc = intracranialSdf(q);
    const { csfThickness: csfT, boneThickness: boneT, scalpThickness: scalpT } = TEMPLATE;
    let t: Tissue = 'air';
    if (inside(dIc - boneT - scalpT, w) > 0.5) t = 'scalp';
    if (inside(dIc - boneT, w) > 0.5) t = 'bone';
    if (inside(dIc, w) > 0.5) t = 'csf';
    if (inside(dIc + csfT, w) <= 0.5) return t;

    const dTent = tentoriumDistance(q);
    const dPf = sdf(TEMPLATE.posteriorFossa, x, y, z);
    const [xd, yd, zd] = qd;
    let b: Tissue = inside(dTent, w) * inside(dPf, w) > 0.5 ? this.infratentorialTissue(qd) : this.cerebralTissue(q, qd, dTent, dPf);

    const vs = this.vScale;
    const L = LATERAL_VENTRICLE;
    const lat = Math.min(
      ellipsoidSdf(xd - L.c[0], yd - L.c[1], zd - L.c[2], L.r[0] * vs[0], L.r[1] * vs[1], L.r[2] * vs[2]),
      ellipsoidSdf(xd + L.c[0], yd - L.c[1], zd - L.c[2], L.r[0] * vs[0], L.r[1] * vs[1], L.r[2] * vs[2]),
    );
    const v3 = this.v3Scale;
    const third = ellipsoidSdf(xd - THIRD_VENTRICLE.c[0], yd - THIRD_VENTRICLE.c[1], zd - THIRD_VENTRICLE.c[2], THIRD_VENTRICLE.r[0] * v3[0], THIRD_VENTRICLE.r[1] * v3[1], THIRD_VENTRICLE.r[2] * v3[2]);
    // the periventricular rim stays the tissue it is in (oedematous white matter)
    const fv = TEMPLATE.fourthVentricle;
    const f = this.spec.fourthVentricleScale;
    const d4 = ellipsoidSdf(xd - fv.c[0], yd - fv.c[1], zd - fv.c[2], fv.r[0] * f, fv.r[1] * f, fv.r[2] * f);
    if (Math.max(inside(Math.min(lat, third), w), inside(d4, w * 0.7)) > 0.5) b = 'ventricle';
    if (inside(Math.abs(dTent) - 0.9, 0.5) * inside(dPf + 2, w) > 0.5) b = 'dura';
    return b;
  }

  private cerebralTissue(q: Vec3, qd: Vec3, dTent: number, dPf: number): Tissue {
    const w = 0.9;
    const [xd, yd, zd] = qd;
    const dC = sdf(TEMPLATE.cerebrum, q[0], q[1], q[2]);
    const thick = 4.2 + 1.6 * this.gyri.at(xd, yd, zd);
    const surface = inside(-(dC + TEMPLATE.csfThickness + thick), w);
    const tent = inside(dTent - thick - 1, w) * inside(dPf + 4, 3);
    let t: Tissue = Math.max(surface, tent) > 0.5 ? 'grey' : 'white';
    if (0.8 * inside(0.45 - this.sulci.at(xd, yd, zd), 0.08) * surface > 0.5) t = 'csf';
    const ax = Math.abs(xd);
    const deep = Math.max(
      inside(ellipsoidSdf(ax - THALAMUS.c[0], yd - THALAMUS.c[1], zd - THALAMUS.c[2], THALAMUS.r[0], THALAMUS.r[1], THALAMUS.r[2]), 1.5),
      inside(ellipsoidSdf(ax - BASAL_GANGLIA.c[0], yd - BASAL_GANGLIA.c[1], zd - BASAL_GANGLIA.c[2], BASAL_GANGLIA.r[0], BASAL_GANGLIA.r[1], BASAL_GANGLIA.r[2]), 1.5),
    );
    if (deep > 0.5) t = 'deepGrey';
    if (inside(sdf(TEMPLATE.brainstem, xd, yd, zd), w) > 0.5) t = 'brainstem';
    const fissureZone = Math.max(inside(22 - zd, 2), inside(yd + 42, 3), inside(54 - yd, 3));
    if (0.6 * inside(Math.abs(xd) - 0.8, 0.4) * fissureZone > 0.5) t = 'csf';
    return t;
  }

  private infratentorialTissue(qd: Vec3): Tissue {
    const [xd, yd, zd] = qd;
    const ax = Math.abs(xd);
    let t: Tissue = 'cerebellum';
    if (inside(ellipsoidSdf(ax - CEREBELLAR_WHITE.c[0], yd - CEREBELLAR_WHITE.c[1], zd - CEREBELLAR_WHITE.c[2], CEREBELLAR_WHITE.r[0], CEREBELLAR_WHITE.r[1], CEREBELLAR_WHITE.r[2]), 2) > 0.5) t = 'cerebellarWhite';
    if (inside(sdf(TEMPLATE.brainstem, xd, yd, zd), 0.9) > 0.5) t = 'brainstem';
    return t;
  }

  private cerebral(q: Vec3, qd: Vec3, dTent: number, dPf: number): number {
    const w = 0.9;
    const [xd, yd, zd] = qd;
    const dC = sdf(TEMPLATE.cerebrum, q[0], q[1], q[2]);
    const thick = 4.2 + 1.6 * this.gyri.at(xd, yd, zd);
    // cortex along the convexity and along the upper surface of the tentorium
    const surface = inside(-(dC + TEMPLATE.csfThickness + thick), w);
    const tent = inside(dTent - thick - 1, w) * inside(dPf + 4, 3);
    const cortex = Math.max(surface, tent);
    let b = lerp(SIGNAL.white, SIGNAL.grey, cortex);
    // sulci: CSF clefts inside the cortical ribbon
    const cleft = inside(0.45 - this.sulci.at(xd, yd, zd), 0.08) * surface;
    b = lerp(b, SIGNAL.csf, 0.8 * cleft);
    // deep grey nuclei (paired)
    const ax = Math.abs(xd);
    const deep = Math.max(
      inside(ellipsoidSdf(ax - THALAMUS.c[0], yd - THALAMUS.c[1], zd - THALAMUS.c[2], THALAMUS.r[0], THALAMUS.r[1], THALAMUS.r[2]), 1.5),
      inside(ellipsoidSdf(ax - BASAL_GANGLIA.c[0], yd - BASAL_GANGLIA.c[1], zd - BASAL_GANGLIA.c[2], BASAL_GANGLIA.r[0], BASAL_GANGLIA.r[1], BASAL_GANGLIA.r[2]), 1.5),
    );
    b = lerp(b, SIGNAL.deepGrey, deep);
    // the brainstem runs up through the incisura into the diencephalon
    b = lerp(b, SIGNAL.brainstem, inside(sdf(TEMPLATE.brainstem, xd, yd, zd), w));
    // interhemispheric fissure above the corpus callosum and between the occipital poles
    const fissureZone = Math.max(inside(22 - zd, 2), inside(yd + 42, 3), inside(54 - yd, 3));
    b = lerp(b, SIGNAL.csf, 0.6 * inside(Math.abs(xd) - 0.8, 0.4) * fissureZone);
    return b;
  }

  private infratentorial(qd: Vec3): number {
    const [xd, yd, zd] = qd;
    const ax = Math.abs(xd);
    // folia: fine alternating grey/white striation of the cerebellar cortex
    let b = SIGNAL.cerebellum + 0.04 * this.folia.at(xd, yd, zd);
    const core = inside(ellipsoidSdf(ax - CEREBELLAR_WHITE.c[0], yd - CEREBELLAR_WHITE.c[1], zd - CEREBELLAR_WHITE.c[2], CEREBELLAR_WHITE.r[0], CEREBELLAR_WHITE.r[1], CEREBELLAR_WHITE.r[2]), 2);
    b = lerp(b, SIGNAL.cerebellarWhite, core);
    b = lerp(b, SIGNAL.brainstem, inside(sdf(TEMPLATE.brainstem, xd, yd, zd), 0.9));
    return b;
  }
}

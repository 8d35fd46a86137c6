// Small fixed-size vector and matrix helpers for the phantom geometry.
// Plain tuples keep the per-voxel loops allocation-light and readable.

export type Vec3 = [number, number, number];
/** 3×3 rotation, row-major. */
export type Mat3 = [Vec3, Vec3, Vec3];

export function add(a: Vec3, b: Vec3): Vec3 {
  return [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
}

export function sub(a: Vec3, b: Vec3): Vec3 {
  return [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
}

export function scale(a: Vec3, s: number): Vec3 {
  return [a[0] * s, a[1] * s, a[2] * s];
}

export function dot(a: Vec3, b: Vec3): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

export function norm(a: Vec3): number {
  return Math.sqrt(dot(a, a));
}

export function normalize(a: Vec3): Vec3 {
  const n = norm(a);
  return n > 0 ? scale(a, 1 / n) : [0, 0, 1];
}

export function matVec(m: Mat3, v: Vec3): Vec3 {
  return [dot(m[0], v), dot(m[1], v), dot(m[2], v)];
}

/** mᵀ·v: the inverse rotation. */
export function matTVec(m: Mat3, v: Vec3): Vec3 {
  return [
    m[0][0] * v[0] + m[1][0] * v[1] + m[2][0] * v[2],
    m[0][1] * v[0] + m[1][1] * v[1] + m[2][1] * v[2],
    m[0][2] * v[0] + m[1][2] * v[1] + m[2][2] * v[2],
  ];
}

export function matMul(a: Mat3, b: Mat3): Mat3 {
  const r: Mat3 = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) r[i][j] = a[i][0] * b[0][j] + a[i][1] * b[1][j] + a[i][2] * b[2][j];
  return r;
}

/** Rotation about x (pitch), then y (roll), then z (yaw); angles in degrees. */
export function rotationDeg(pitch: number, roll: number, yaw: number): Mat3 {
  const [a, b, c] = [pitch, roll, yaw].map((d) => (d * Math.PI) / 180);
  const rx: Mat3 = [
    [1, 0, 0],
    [0, Math.cos(a), -Math.sin(a)],
    [0, Math.sin(a), Math.cos(a)],
  ];
  const ry: Mat3 = [
    [Math.cos(b), 0, Math.sin(b)],
    [0, 1, 0],
    [-Math.sin(b), 0, Math.cos(b)],
  ];
  const rz: Mat3 = [
    [Math.cos(c), -Math.sin(c), 0],
    [Math.sin(c), Math.cos(c), 0],
    [0, 0, 1],
  ];
  return matMul(rz, matMul(ry, rx));
}

/** Logistic step: 1 well inside (d ≪ 0), 0 well outside, 0.5 on the surface; w is the edge width in mm. */
export function inside(d: number, w: number): number {
  const t = d / w;
  if (t > 12) return 0;
  if (t < -12) return 1;
  return 1 / (1 + Math.exp(t));
}

/**
 * Approximate signed distance (mm, negative inside) to an axis-aligned
 * ellipsoid with radii r, for a point p already relative to its centre:
 * (ρ − 1)/|∇ρ|, exact on the surface and good near it, which is all a
 * soft edge needs.
 */
export function ellipsoidSdf(px: number, py: number, pz: number, rx: number, ry: number, rz: number): number {
  const ux = px / rx;
  const uy = py / ry;
  const uz = pz / rz;
  const rho = Math.sqrt(ux * ux + uy * uy + uz * uz);
  if (rho < 1e-9) return -Math.min(rx, ry, rz);
  const gx = ux / rx;
  const gy = uy / ry;
  const gz = uz / rz;
  const g = Math.sqrt(gx * gx + gy * gy + gz * gz) / rho;
  return (rho - 1) / g;
}

export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

export function lerp(a: number, b: number, t: number): number {
  return a + (b - a) * t;
}

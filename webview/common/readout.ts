// The viewer's crosshair readout: voxel coordinates of the background image,
// millimetres, and each shown volume's value there under its role's name.

export interface LocationValue {
  name: string;
  value: number;
}

export interface Readout {
  voxel: [number, number, number];
  mm?: ArrayLike<number>;
  /** per volume, in the viewer's order */
  values: LocationValue[];
}

const num = (v: number) => (Number.isInteger(v) ? String(v) : Math.abs(v) >= 1000 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : v.toFixed(3));

/**
 * "voxel (12, 30, 8) · 4.0, -12.5, 20.0 mm · image 0.532 · heatmap 0.118 · mask 1".
 * `label` names the i-th volume (by position: an image and its mask often
 * share a file name); undefined leaves it out.
 */
export function formatReadout(r: Readout, label: (name: string, index: number) => string | undefined = (n) => n): string {
  const parts = [`voxel (${r.voxel.join(', ')})`];
  if (r.mm && r.mm.length >= 3) parts.push(`${[r.mm[0]!, r.mm[1]!, r.mm[2]!].map((v) => v.toFixed(1)).join(', ')} mm`);
  for (const [i, v] of r.values.entries()) {
    const name = label(v.name, i);
    if (name !== undefined && Number.isFinite(v.value)) parts.push(`${name} ${num(v.value)}`);
  }
  return parts.join(' · ');
}

// The paper's Figure 3 for this study: one external case, its MRI slice
// through the mask's largest cross-section, the mask outline, and each
// arm's attention heatmap laid over the slice (random / MedicalNet / CL),
// as one SVG with the pixels embedded as PNG data URIs.
// The case is chosen without looking at any model's output: among the
// external cases every arm has a heatmap for (first fold where all have
// one), the one with the median tumour size (lower median; ties by id).
// The size order is read from predictions.csv's floor3d = 2|M|/(|M|+|V|),
// which grows with |M|; where a case lacks it, from the masks themselves.
// follows: paper Figure 3; METHOD.md §7 (2D Dice on the largest mask slice)
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { readNifti } from '../io/nifti';
import { caseFile } from '../io/safe-path';
import { openDataset } from '../training/dataset';
import { evaluationMasks } from '../explain/masks';
import { resolveIn } from '../config/resolve';
import type { Prediction } from '../training/finetune';
import { xml } from './svg';
import { armLabelOf, type RunData } from './run-data';

export const PANEL_ARMS = ['random', 'medicalnet', 'pretrained'] as const;

export interface PanelChoice {
  caseId: string;
  fold: number;
  arms: string[];
  /** each arm's heatmap file */
  heatmaps: string[];
  /** each arm's prediction row for the case in that fold */
  rows: Prediction[];
}

/** The case, fold and arms of the panel, or a reason why there is none. */
export function choosePanelCase(run: RunData, sizeOf?: (caseId: string) => number): PanelChoice | string {
  const arms = PANEL_ARMS.filter((a) => run.units.some((u) => u.arm === a && u.predictions));
  if (arms.length === 0) return 'no arm of the experiment has predictions';
  const folds = [...new Set(run.units.map((u) => u.fold))].sort((a, b) => a - b);
  for (const fold of folds) {
    const units = arms.map((a) => run.units.find((u) => u.arm === a && u.fold === fold));
    if (units.some((u) => !u?.predictions)) continue;
    const rowsOf = units.map((u) => new Map(u!.predictions!.filter((p) => p.cohort === 'external' && p.dice3d !== null).map((p) => [p.id, p])));
    const heat = (i: number, id: string) => caseFile(join(units[i]!.dir, 'heatmaps'), id, '.heatmap.nii.gz', units[i]!.dir);
    const ids = [...rowsOf[0]!.keys()].filter((id) => rowsOf.every((m) => m.has(id)) && units.every((_, i) => existsSync(heat(i, id))));
    if (ids.length === 0) continue;
    const size = (id: string): number => {
      const f = rowsOf[rowsOf.length - 1]!.get(id)!.floor3d;
      if (f !== null && !sizeOf) return f / (2 - f); // |M| / |V|, increasing in floor3d
      if (!sizeOf) return Number.NaN;
      return sizeOf(id);
    };
    let sizes = ids.map((id) => ({ id, s: size(id) }));
    if (sizes.some((x) => Number.isNaN(x.s))) {
      if (!sizeOf) return 'the tumour sizes of the external cases are unknown (no floor3d in predictions.csv and no masks)';
      sizes = ids.map((id) => ({ id, s: sizeOf(id) }));
    }
    sizes.sort((a, b) => a.s - b.s || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const caseId = sizes[Math.floor((sizes.length - 1) / 2)]!.id;
    return { caseId, fold, arms: [...arms], heatmaps: units.map((_, i) => heat(i, caseId)), rows: rowsOf.map((m) => m.get(caseId)!) };
  }
  return 'no external case has a heatmap and a mask Dice in every arm of one fold';
}

/** The axial slice k with the largest mask area (lowest k on ties), as the 2D Dice takes it. */
export function largestMaskSlice(mask: ArrayLike<number>, dims: readonly [number, number, number]): number {
  const [nx, ny, nz] = dims;
  let best = 0;
  let bestArea = -1;
  for (let k = 0; k < nz; k++) {
    let area = 0;
    for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) if (mask[i + nx * (j + ny * k)]) area++;
    if (area > bestArea) {
      best = k;
      bestArea = area;
    }
  }
  return best;
}

/** A jet-like colour map on [0, 1]. */
function heatColour(t: number): [number, number, number] {
  const c = (x: number) => Math.round(255 * Math.max(0, Math.min(1, x)));
  return [c(1.5 - Math.abs(4 * t - 3)), c(1.5 - Math.abs(4 * t - 2)), c(1.5 - Math.abs(4 * t - 1))];
}

/** One slice as an RGB PNG data URI, rows from top (anterior) to bottom; `heat` in [0, 1] blended over the grey image. */
function slicePng(grey: Float32Array, nx: number, ny: number, heat?: Float32Array): string {
  const png = new PNG({ width: nx, height: ny });
  const data = png.data; // RGBA
  for (let row = 0; row < ny; row++) {
    for (let i = 0; i < nx; i++) {
      const src = i + nx * (ny - 1 - row);
      const g = grey[src]! * 255;
      let rgb: [number, number, number] = [g, g, g];
      if (heat) {
        const h = heat[src]!;
        const a = 0.6 * h;
        const hc = heatColour(h);
        rgb = [(1 - a) * g + a * hc[0], (1 - a) * g + a * hc[1], (1 - a) * g + a * hc[2]];
      }
      const o = (row * nx + i) * 4;
      for (let ch = 0; ch < 3; ch++) data[o + ch] = Math.round(Math.max(0, Math.min(255, rgb[ch]!)));
      data[o + 3] = 255;
    }
  }
  // written as 8-bit RGB (colour type 2), no alpha
  return `data:image/png;base64,${PNG.sync.write(png, { colorType: 2 }).toString('base64')}`;
}

/** The mask's boundary on one slice as an SVG path (unit squares, display rows). */
function outlinePath(mask: Uint8Array, nx: number, ny: number, x0: number, y0: number, s: number): string {
  const at = (i: number, row: number) => i >= 0 && i < nx && row >= 0 && row < ny && mask[i + nx * (ny - 1 - row)] === 1;
  const d: string[] = [];
  for (let row = 0; row < ny; row++) {
    for (let i = 0; i < nx; i++) {
      if (!at(i, row)) continue;
      const x = x0 + i * s;
      const y = y0 + row * s;
      if (!at(i, row - 1)) d.push(`M${x} ${y}h${s}`);
      if (!at(i, row + 1)) d.push(`M${x} ${y + s}h${s}`);
      if (!at(i - 1, row)) d.push(`M${x} ${y}v${s}`);
      if (!at(i + 1, row)) d.push(`M${x + s} ${y}v${s}`);
    }
  }
  return d.join('');
}

function sliceOf(data: ArrayLike<number>, dims: readonly [number, number, number], k: number): Float32Array {
  const [nx, ny] = dims;
  const out = new Float32Array(nx * ny);
  for (let p = 0; p < nx * ny; p++) out[p] = data[p + nx * ny * k]!;
  return out;
}

function scaled(v: Float32Array): Float32Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of v) {
    lo = Math.min(lo, x);
    hi = Math.max(hi, x);
  }
  return hi > lo ? v.map((x) => (x - lo) / (hi - lo)) : new Float32Array(v.length);
}

export interface PanelResult {
  svg: string;
  caption: string;
  caseId: string;
}

/** Figure 3 of the experiment run, or a reason (string) why it cannot be drawn. */
export function figure3Panel(run: RunData): PanelResult | string {
  const config = run.config;
  if (!config?.data?.manifest) return `${join(run.dir, 'config.json')} names no manifest`;
  const manifestPath = resolveIn('/', config.data.manifest);
  if (!existsSync(manifestPath)) return `the run's manifest ${manifestPath} is not there`;
  const ds = openDataset(config, '/');
  const masks = evaluationMasks(config, manifestPath);
  const byId = new Map(ds.manifest.cases.map((c) => [c.id, c]));
  const maskOf = (id: string) => {
    const c = byId.get(id);
    return c ? masks.get(c) : undefined;
  };
  let choice = choosePanelCase(run);
  if (typeof choice === 'string' && choice.startsWith('the tumour sizes')) choice = choosePanelCase(run, (id) => {
      let n = 0;
      for (const v of maskOf(id) ?? []) n += v;
      return n;
    });
  if (typeof choice === 'string') return choice;
  const c = byId.get(choice.caseId);
  if (!c) return `case ${choice.caseId} is not in the manifest ${manifestPath}`;
  const image = ds.image(c);
  const mask = maskOf(c.id);
  if (!mask) return `case ${c.id} has no mask`;
  const dims = image.dims;
  const [nx, ny] = dims;
  const k = largestMaskSlice(mask, dims);
  const grey = scaled(sliceOf(image.data, dims, k));
  const m2 = Uint8Array.from(sliceOf(mask, dims, k), (v) => (v ? 1 : 0));
  const s = Math.max(1, Math.floor(200 / Math.max(nx, ny)));
  const w = nx * s;
  const h = ny * s;
  const gap = 16;
  const titles = ['MRI slice and tumour mask', ...choice.arms.map((a) => armLabelOf(run, a))];
  const uris = [slicePng(grey, nx, ny)];
  choice.heatmaps.forEach((path) => {
    const v = readNifti(path);
    if (v.dims.join('×') !== dims.join('×')) throw new Error(`${path}: heatmap grid ${v.dims.join('×')} differs from the preprocessed image's ${dims.join('×')}`);
    uris.push(slicePng(grey, nx, ny, scaled(sliceOf(v.data, dims, k))));
  });
  const width = titles.length * (w + gap) + gap;
  const height = h + 74;
  const body: string[] = [];
  titles.forEach((t, p) => {
    const x = gap + p * (w + gap);
    const row = p === 0 ? undefined : choice.rows[p - 1]!;
    body.push(`<g class="panel" data-title="${xml(t)}"${row ? ` data-dice2d="${row.dice2d ?? ''}" data-dice3d="${row.dice3d ?? ''}"` : ''}>`);
    body.push(`<text x="${x + w / 2}" y="18" text-anchor="middle" font-size="12">${xml(t)}</text>`);
    body.push(`<image x="${x}" y="28" width="${w}" height="${h}" preserveAspectRatio="none" style="image-rendering:pixelated" href="${uris[p]}"/>`);
    body.push(`<path d="${outlinePath(m2, nx, ny, x, 28, s)}" fill="none" stroke="#00ff00" stroke-width="1"/>`);
    if (row) body.push(`<text x="${x + w / 2}" y="${h + 46}" text-anchor="middle" font-size="11">Dice 2D ${row.dice2d === null ? 'n/a' : `${(row.dice2d * 100).toFixed(1)}%`}, 3D ${row.dice3d === null ? 'n/a' : `${(row.dice3d * 100).toFixed(1)}%`}</text>`);
    body.push('</g>');
  });
  const caption = `External case ${c.id} (median tumour size among the external cases with a heatmap in every arm), fold ${choice.fold} models, axial slice k = ${k} of ${dims[2]} (largest mask cross-section); green: mask outline; colour: attention heatmap (min–max scaled on the slice), right of the patient on the right, anterior up.`;
  body.push(`<text x="${gap}" y="${h + 66}" font-size="10" fill="#555555">${xml(`Case ${c.id}, fold ${choice.fold}, slice k = ${k}; green: mask outline.`)}</text>`);
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<title>${xml(`Attention maps on external case ${c.id}`)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
  return { svg, caption, caseId: c.id };
}

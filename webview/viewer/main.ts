// MRI viewer webview: NiiVue with the case's overlays (mask, heatmap with
// colormap/opacity/threshold, Dice labels, a word's patch map), layouts,
// crosshair readout (with the patch under it, named by grid cell and side,
// while a word's map is shown), window/level, radiological toggle and live Dice.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import { Niivue, NVImage, SLICE_TYPE } from '@niivue/niivue';
import { Channel, h, showStatus } from '../common/messaging';
import { binarize, classifyDice, diceScores, largestMaskSlice, topPercentThreshold } from '../common/dice';
import { patchUnderVoxel, upsampleAlignCorners } from '../common/attention';
import { patchName, patchVoxel } from '../common/patch-name';
import { niftiBytes } from '../common/nifti-bytes';
import { fetchWithProgress, progressText } from '../common/fetch-progress';
import { formatReadout } from '../common/readout';
import type { HeatmapColormap, PatchOverlay, Vec3, ViewerLayout, ViewerLoad, ViewerProtocol } from '../../src/shared/webview-protocol';

interface ViewerState {
  runDir?: string;
  caseId?: string;
  fold?: string;
  layout: ViewerLayout;
  radiological: boolean;
  threshold: number;
  /** the user moved the threshold slider (a top-k % run's cut no longer applies) */
  thresholdMoved?: boolean;
  opacity: number;
  colormap?: HeatmapColormap;
  show: Record<'mask' | 'heatmap' | 'dice' | 'word', boolean>;
}

const LAYOUTS: Record<ViewerLayout, SLICE_TYPE> = {
  axial: SLICE_TYPE.AXIAL,
  coronal: SLICE_TYPE.CORONAL,
  sagittal: SLICE_TYPE.SAGITTAL,
  multiplanar: SLICE_TYPE.MULTIPLANAR,
  render: SLICE_TYPE.RENDER,
};
// Dice labels 1/2/3: true positive green, false positive red, false negative blue
const DICE_LUT = { R: [0, 0, 255, 0], G: [0, 200, 0, 120], B: [0, 0, 0, 255], A: [0, 255, 255, 255], I: [0, 1, 2, 3], labels: ['', 'true positive', 'false positive', 'false negative'] };

let load: ViewerLoad | undefined;
let nv: Niivue | undefined;
const byRole = new Map<string, NVImage>();
let diceVol: NVImage | undefined;
let wordVol: NVImage | undefined;
/** the word map shown (re-applied after a reload of the volumes; one that arrives before the first load waits) */
let word: PatchOverlay | null = null;
/** a patch to put the crosshair on once the volumes have loaded */
let pendingPatch: { cell: Vec3; grid: Vec3 } | null = null;
let loaded = false;
const COLORMAPS: HeatmapColormap[] = ['hot', 'warm', 'plasma', 'viridis', 'inferno', 'jet'];

const channel = new Channel<ViewerProtocol, ViewerState>({
  load: (l) => void open(l).catch((e) => channel.reportError(e)),
  patchOverlay: (p) => {
    word = p;
    if (loaded) void showWord(p).catch((e) => channel.reportError(e));
  },
  goTo: ({ voxel }) => goTo(voxel),
  goToPatch: (p) => {
    if (loaded) goToPatch(p);
    else pendingPatch = p;
  },
});

const st = (): ViewerState => ({
  layout: 'multiplanar',
  radiological: false,
  threshold: load?.threshold ?? 0.01,
  opacity: load?.opacity ?? 0.5,
  show: { mask: load?.showMask ?? true, heatmap: true, dice: false, word: true },
  ...channel.state,
});

const canvas = h('canvas', { id: 'gl', tabindex: 0, 'aria-label': 'MRI slices' });
const readout = h('div', { id: 'readout', role: 'status', 'aria-live': 'polite' });
const diceText = h('div', { id: 'dice' });
const controls = h('div', { id: 'controls', role: 'toolbar', 'aria-label': 'Viewer controls' });

function button(label: string, onclick: () => void, id?: string): HTMLElement {
  const b = h('vscode-button', { secondary: true, ...(id ? { id } : {}) }, label);
  b.addEventListener('click', onclick);
  return b;
}

function slider(id: string, label: string, min: number, max: number, step: number, value: number, oninput: (v: number) => void): HTMLElement {
  const input = h('input', { id, type: 'range', min, max, step, value, 'aria-label': label });
  const out = h('output', { for: id }, String(value));
  input.addEventListener('input', () => {
    out.textContent = input.value;
    oninput(Number(input.value));
  });
  return h('label', { class: 'slider' }, label, input, out);
}

function select(id: string, label: string, options: { value: string; label: string }[], value: string, onchange: (v: string) => void): HTMLElement {
  const el = h('select', { id, 'aria-label': label }, ...options.map((o) => h('option', { value: o.value, ...(o.value === value ? { selected: true } : {}) }, o.label)));
  el.addEventListener('change', () => onchange((el as HTMLSelectElement).value));
  return h('label', { class: 'select' }, label, el);
}

/** The heatmap's colormap: the user's choice in this panel, else the setting. */
function heatColormap(): HeatmapColormap {
  return channel.state.colormap ?? load?.colormap ?? 'hot';
}

function toggle(key: keyof ViewerState['show'], label: string): HTMLElement {
  const input = h('input', { type: 'checkbox', id: `show-${key}`, checked: st().show[key] });
  input.addEventListener('change', () => {
    channel.setState({ show: { ...st().show, [key]: input.checked } });
    applyOverlays();
  });
  return h('label', { class: 'toggle' }, input, label);
}

function buildControls(): void {
  const s = st();
  // only the controls of what this panel shows: a lone volume (Open With) has no overlays
  const has = new Set(load?.volumes.map((v) => v.role) ?? []);
  const mask = has.has('mask');
  const heat = has.has('heatmap');
  controls.replaceChildren(
    ...(['axial', 'coronal', 'sagittal', 'multiplanar', 'render'] as ViewerLayout[]).map((l) => button(l === 'render' ? '3D' : l, () => setLayout(l), `layout-${l}`)),
    button('Radiological', () => {
      channel.setState({ radiological: !st().radiological });
      nv?.setRadiologicalConvention(st().radiological);
    }, 'radiological'),
    ...(mask ? [button('Largest tumour slice', goLargest, 'largest'), toggle('mask', 'Mask')] : []),
    ...(heat ? [toggle('heatmap', 'Heatmap')] : []),
    ...(heat && mask ? [toggle('dice', 'Dice overlay')] : []),
    ...(load?.caseId !== undefined ? [toggle('word', 'Word map')] : []),
    ...(heat ? heatmapControls(s) : []),
    slider('window', 'Window', 0.05, 2, 0.05, 1, (v) => windowLevel(v, undefined)),
    slider('level', 'Level', -1, 1, 0.05, 0, (v) => windowLevel(undefined, v)),
  );
}

function heatmapControls(s: ViewerState): HTMLElement[] {
  return [
    slider('threshold', 'Threshold', 0, 1, 0.005, s.threshold, (v) => {
      channel.setState({ threshold: v, thresholdMoved: true });
      updateDice();
    }),
    select('colormap', 'Colormap', COLORMAPS.map((c) => ({ value: c, label: c })), heatColormap(), (v) => {
      channel.setState({ colormap: v as HeatmapColormap });
      const heat = byRole.get('heatmap');
      if (heat && nv) nv.setColormap(heat.id, v);
      document.body.dataset['colormap'] = v;
    }),
    ...(load && load.heatmaps && load.heatmaps.length > 1
      ? [select('heatmap-source', 'Heatmap of', load.heatmaps.map((x) => ({ value: x.fold, label: x.label })), load.fold ?? '', (v) => channel.post('chooseHeatmap', { fold: v }))]
      : []),
    slider('opacity', 'Opacity', 0, 1, 0.05, s.opacity, (v) => {
      channel.setState({ opacity: v });
      applyOverlays();
    }),
  ];
}

let win = 1;
let lev = 0;
function windowLevel(w: number | undefined, l: number | undefined): void {
  const img = byRole.get('image');
  if (!nv || !img) return;
  if (w !== undefined) win = w;
  if (l !== undefined) lev = l;
  const lo = img.global_min ?? 0;
  const hi = img.global_max ?? 1;
  const centre = lo + (hi - lo) * (0.5 + lev / 2);
  const width = (hi - lo) * win;
  img.cal_min = centre - width / 2;
  img.cal_max = centre + width / 2;
  nv.updateGLVolume();
}

function setLayout(l: ViewerLayout): void {
  channel.setState({ layout: l });
  nv?.setSliceType(LAYOUTS[l]);
}

function dimsOf(v: NVImage): Vec3 {
  const d = v.hdr!.dims;
  return [d[1]!, d[2]!, d[3]!];
}

function goTo(voxel: Vec3): void {
  const img = byRole.get('image');
  if (!nv || !img) return;
  const frac = nv.vox2frac([voxel[0], voxel[1], voxel[2]] as unknown as Parameters<Niivue['vox2frac']>[0]);
  nv.scene.crosshairPos = frac;
  nv.drawScene();
  nv.createOnLocationChange();
}

/** The crosshair to the centre of a patch, placed on the image as the patch maps are. */
function goToPatch(p: { cell: Vec3; grid: Vec3 }): void {
  const img = byRole.get('image');
  if (img) goTo(patchVoxel(p.cell, p.grid, dimsOf(img)));
}

function goLargest(): void {
  const mask = byRole.get('mask');
  if (!mask?.img) return showStatus({ kind: 'info', message: 'This case has no tumour mask.' });
  const dims = dimsOf(mask);
  const k = largestMaskSlice(mask.img, dims);
  if (k === undefined) return showStatus({ kind: 'info', message: 'The tumour mask is empty.' });
  const img = byRole.get('image');
  const frac = nv!.vox2frac([Math.floor(dims[0] / 2), Math.floor(dims[1] / 2), k] as unknown as Parameters<Niivue['vox2frac']>[0], img ? nv!.volumes.indexOf(mask) : 0);
  nv!.scene.crosshairPos = frac;
  nv!.drawScene();
  nv!.createOnLocationChange();
  setLayout(st().layout === 'render' ? 'axial' : st().layout);
}

/** A NiiVue volume from NIfTI bytes (.nii or .nii.gz, told by the name). */
function nvImage(bytes: ArrayBuffer, name: string, colormap: string, opacity: number): Promise<NVImage> {
  return NVImage.new(bytes, name, colormap, opacity, null, NaN, NaN, false, 0.02, false, false, '', 0, 0 as never, NaN, NaN, false, null, 0, null);
}

async function memoryVolume(ref: NVImage, data: Float32Array | Uint8Array, name: string): Promise<NVImage> {
  const hdr = ref.hdr!;
  const buf = niftiBytes({ dims: dimsOf(ref), pixdim: [hdr.pixDims[1]!, hdr.pixDims[2]!, hdr.pixDims[3]!], affine: hdr.affine, data });
  return nvImage(buf, name, 'gray', 1);
}

/** Live Dice of the thresholded heatmap against the mask (same grid only), and the Dice overlay. */
async function rebuildDice(): Promise<void> {
  const heat = byRole.get('heatmap');
  const mask = byRole.get('mask');
  if (!nv || !heat?.img || !mask?.img) {
    diceText.textContent = engineDiceText();
    return;
  }
  const dims = dimsOf(heat);
  if (mask.img.length !== heat.img.length || dimsOf(mask).some((d, i) => d !== dims[i])) {
    diceText.textContent = `${engineDiceText()} (the mask and heatmap grids differ: live Dice needs the preprocessed mask)`;
    return;
  }
  const bin = binarize(heat.img, st().threshold);
  const d = diceScores(bin, mask.img, dims);
  const f = (x: number | null) => (x === null ? 'n/a' : x.toFixed(3));
  const rule = load?.topPercent !== undefined && !st().thresholdMoved ? ` (the top ${load.topPercent}% of the map, as the run)` : '';
  diceText.textContent = `Dice 2D ${f(d.dice2d)} (slice ${d.slice ?? '–'}) · 3D ${f(d.dice3d)} at threshold ${Number(st().threshold.toPrecision(4))}${rule}`;
  diceText.dataset['dice3d'] = String(d.dice3d);
  if (diceVol) nv.removeVolume(diceVol);
  diceVol = await memoryVolume(heat, classifyDice(bin, mask.img), 'dice.nii');
  diceVol.setColormapLabel(DICE_LUT);
  nv.addVolume(diceVol);
  applyOverlays();
}

let diceTimer: ReturnType<typeof setTimeout> | undefined;
/** The heatmap is painted where it passes the threshold (what the Dice binarises), coloured by value. */
function paintFrom(heat: NVImage): void {
  heat.cal_min = Math.min(st().threshold, (heat.cal_max ?? 1) * 0.999);
}

function updateDice(): void {
  const heat = byRole.get('heatmap');
  if (heat && nv) {
    paintFrom(heat);
    nv.updateGLVolume();
  }
  clearTimeout(diceTimer);
  diceTimer = setTimeout(() => void rebuildDice().catch((e) => channel.reportError(e)), 120);
}

function engineDiceText(): string {
  const d = load?.engineDice;
  if (!d) return '';
  const f = (x: number | null) => (x === null ? 'n/a' : x.toFixed(3));
  return `Engine Dice 2D ${f(d.dice2d)} · 3D ${f(d.dice3d)}`;
}

function applyOverlays(): void {
  if (!nv) return;
  const s = st();
  const set = (v: NVImage | undefined, on: boolean, opacity: number) => {
    if (!v) return;
    const i = nv!.volumes.indexOf(v);
    if (i >= 0) nv!.setOpacity(i, on ? opacity : 0);
  };
  set(byRole.get('mask'), s.show.mask, 0.6);
  set(byRole.get('heatmap'), s.show.heatmap, s.opacity);
  set(diceVol, s.show.dice, 0.7);
  set(wordVol, s.show.word, s.opacity);
  document.body.dataset['overlays'] = JSON.stringify({ ...s.show, word: s.show.word && wordVol !== undefined ? (wordVol.name ?? 'word') : false });
  nv.updateGLVolume();
}

/** The voxel of a volume's largest value (x fastest). */
function peakVoxel(values: ArrayLike<number>, dims: Vec3): Vec3 {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return [best % dims[0], Math.floor(best / dims[0]) % dims[1], Math.floor(best / (dims[0] * dims[1]))];
}

async function showWord(p: PatchOverlay | null): Promise<void> {
  if (!nv) return;
  if (wordVol) nv.removeVolume(wordVol);
  wordVol = undefined;
  if (p) {
    const img = byRole.get('image')!;
    const values = upsampleAlignCorners(p.values, p.grid, dimsOf(img));
    let max = 0;
    for (const v of values) if (v > max) max = v;
    wordVol = await memoryVolume(img, values, `word ${p.index} ${p.word}.nii`);
    if (p.focus) goTo(peakVoxel(values, dimsOf(img)));
    wordVol.colormap = 'warm';
    wordVol.cal_min = max * 0.2;
    wordVol.cal_max = max || 1;
    nv.addVolume(wordVol);
  }
  document.body.dataset['word'] = p ? String(p.index) : '';
  applyOverlays();
}

async function open(l: ViewerLoad): Promise<void> {
  if (load && JSON.stringify(load) === JSON.stringify(l)) return; // a repeated answer to a repeated `ready`
  load = l;
  document.body.dataset['loaded'] = 'false';
  channel.setState({ threshold: channel.state.threshold ?? l.threshold, ...(l.restore ? { runDir: l.restore.runDir, caseId: l.restore.caseId, fold: l.restore.fold } : {}) });
  buildControls();
  showStatus({ kind: 'progress', message: `Loading ${l.volumes.map((v) => v.name).join(', ')}…` });
  if (!nv) {
    nv = new Niivue({ backColor: [0, 0, 0, 1], show3Dcrosshair: true, isResizeCanvas: true, loadingText: 'loading...' });
    await nv.attachToCanvas(canvas);
  }
  nv.onLocationChange = (loc: unknown) => {
    const d = loc as { vox?: ArrayLike<number>; mm?: ArrayLike<number>; values?: { name: string; value: number }[] };
    const img = byRole.get('image');
    if (!d.vox || !img) return;
    const voxel: Vec3 = [Math.round(d.vox[0]!), Math.round(d.vox[1]!), Math.round(d.vox[2]!)];
    // each volume under its role (NiiVue's values follow its volume order); the Dice labels and word map by what they show
    const role = new Map<NVImage, string>([...byRole].map(([r, v]) => [v, r]));
    if (diceVol) role.set(diceVol, 'dice label');
    if (wordVol) role.set(wordVol, 'word map');
    const shown = nv!.volumes;
    const text = formatReadout({ voxel, ...(d.mm ? { mm: d.mm } : {}), values: d.values ?? [] }, (_n, i) => (shown[i] ? role.get(shown[i]!) : undefined));
    // the patch under the crosshair, on the grid of the word map shown
    const patch = word && wordVol ? ` · patch ${patchName(patchUnderVoxel(voxel, dimsOf(img), word.grid).cell, word.grid)}` : '';
    readout.textContent = text + patch;
    readout.dataset['voxel'] = voxel.join(',');
    channel.post('pointSelected', { voxel, dims: dimsOf(img) });
  };
  const s = st();
  const colour: Record<string, string> = { image: 'gray', mask: 'green', heatmap: heatColormap(), binary: 'red' };
  const order = l.volumes.filter((v) => v.role !== 'binary');
  // every volume is replaced: the Dice and word overlays are rebuilt below
  loaded = false;
  diceVol = undefined;
  wordVol = undefined;
  // fetched here (from their webview URLs) so large volumes show byte progress; a failure names the file
  const images: NVImage[] = [];
  for (const v of order) {
    const bytes = await fetchWithProgress(v.url, v.name, (p) => showStatus({ kind: 'progress', message: progressText(p) }));
    showStatus({ kind: 'progress', message: `Decoding ${v.name}…` });
    images.push(await nvImage(bytes, v.name, colour[v.role]!, v.role === 'image' ? 1 : s.opacity));
  }
  for (const old of [...nv.volumes]) nv.removeVolume(old);
  for (const img of images) nv.addVolume(img);
  byRole.clear();
  order.forEach((v, i) => byRole.set(v.role, images[i]!));
  const heat = byRole.get('heatmap');
  if (heat) {
    // a run that keeps its top k % voxels: the slider starts at that cut (what the engine's Dice used), unless moved
    if (l.topPercent !== undefined && heat.img && !channel.state.thresholdMoved) {
      channel.setState({ threshold: topPercentThreshold(heat.img, l.topPercent) });
      buildControls(); // the slider shows the cut
    }
    heat.cal_max = Math.max(heat.global_max ?? 1, 1e-6);
    paintFrom(heat);
  }
  nv.setRadiologicalConvention(s.radiological);
  nv.setSliceType(LAYOUTS[s.layout]);
  await rebuildDice();
  loaded = true;
  if (word) await showWord(word);
  if (pendingPatch) goToPatch(pendingPatch);
  pendingPatch = null;
  applyOverlays();
  showStatus(null);
  document.body.dataset['loaded'] = 'true';
  document.body.dataset['fold'] = l.fold ?? '';
  document.body.dataset['colormap'] = heatColormap();
}

document.getElementById('root')!.append(h('header', {}, controls), h('div', { id: 'canvas-wrap' }, canvas), h('footer', {}, readout, diceText));
canvas.addEventListener('keydown', (e) => {
  // arrow keys step the crosshair through slices when the canvas has focus
  const step: Record<string, Vec3> = { ArrowUp: [0, 0, 1], ArrowDown: [0, 0, -1], ArrowLeft: [-1, 0, 0], ArrowRight: [1, 0, 0] };
  const d = step[e.key];
  if (d && nv) {
    nv.moveCrosshairInVox(d[0], d[1], d[2]);
    e.preventDefault();
  }
});
channel.start();

// Report attention webview: the cleaned report with each word shaded by its
// weight (whole image, or the patch under the viewer's crosshair), a legend,
// the top-k words; clicking (or Enter on) a word shows its patch map in the
// viewer and lists its top patches, each named by grid cell and side; choosing
// one moves the viewer's crosshair there.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import { Channel, h } from '../common/messaging';
import { shadeCss, shadeLevels, shadeRange, topK, type ShadeScale } from '../common/attention';
import { PATCH_AXES, patchName } from '../common/patch-name';
import type { PatchShading, ReportLoad, ReportProtocol, WordPatches } from '../../src/shared/webview-protocol';

interface ReportState {
  runDir?: string;
  caseId?: string;
  selected: number | null;
  scale?: ShadeScale;
}

let load: ReportLoad | undefined;
let weights: number[] = [];
let caption = 'whole image';
/** the patch shading the words (under the viewer's crosshair), if any */
let shading: PatchShading | null = null;
/** the chosen word's top patches */
let patches: WordPatches | null = null;

const channel = new Channel<ReportProtocol, ReportState>({
  load: (l) => {
    load = l;
    channel.setState({ runDir: l.restore.runDir, caseId: l.restore.caseId });
    weights = l.weights;
    caption = 'whole image';
    shading = null;
    patches = null;
    render();
  },
  patchWeights: (p) => {
    if (!load) return;
    shading = p;
    weights = p ? p.weights : load.weights;
    caption = p ? `patch ${patchName(p.cell, p.grid)} (voxel ${p.voxel.join(', ')})` : 'whole image';
    render();
  },
  wordPatches: (p) => {
    patches = p;
    render();
  },
});

const root = document.getElementById('root')!;

function select(i: number | null): void {
  channel.setState({ selected: i });
  channel.post('wordSelected', i === null ? null : { index: i });
  render();
}

/** How weights map to shades: min–max over this report, or share of the strongest word. */
function scaleChoice(scale: ShadeScale): HTMLElement {
  const el = h(
    'select',
    { id: 'scale', 'aria-label': 'Shading scale' },
    h('option', { value: 'range', ...(scale === 'range' ? { selected: true } : {}) }, 'lowest to highest word'),
    h('option', { value: 'max', ...(scale === 'max' ? { selected: true } : {}) }, 'zero to highest word'),
  );
  el.addEventListener('change', () => {
    channel.setState({ scale: (el as HTMLSelectElement).value as ShadeScale });
    render();
  });
  return el;
}

function render(): void {
  if (!load) return;
  const scale = channel.state.scale ?? 'range';
  const levels = shadeLevels(weights, scale);
  const ends = shadeRange(weights, scale);
  const selected = channel.state.selected ?? null;
  const words = load.words.map((w, i) =>
    h(
      'span',
      {
        class: `word${i === selected ? ' selected' : ''}`,
        tabindex: 0,
        role: 'button',
        'aria-pressed': String(i === selected),
        'data-index': i,
        title: `${w}: ${(weights[i] ?? 0).toFixed(4)}`,
        style: `background:${shadeCss(levels[i]!)}`,
        onclick: () => select(i === selected ? null : i),
        onkeydown: (e: Event) => {
          const k = (e as KeyboardEvent).key;
          if (k === 'Enter' || k === ' ') {
            e.preventDefault();
            select(i === selected ? null : i);
          }
        },
      },
      w,
    ),
  );
  const spaced: (Node | string)[] = [];
  words.forEach((w, i) => spaced.push(...(i ? [' ', w] : [w])));
  const top = topK(load.words, weights, load.topK).map((t) =>
    h('li', {}, h('a', { href: '#', onclick: (e: Event) => (e.preventDefault(), select(t.index)) }, t.word), ` ${t.weight.toFixed(4)}`),
  );
  const legend = h(
    'div',
    { class: 'legend', id: 'legend', 'aria-label': 'Shading legend' },
    `${ends.min.toFixed(4)} `,
    ...[0, 0.25, 0.5, 0.75, 1].map((l) => h('span', { class: 'swatch', style: `background:${shadeCss(l)}` })),
    ` ${ends.max.toFixed(4)} `,
    scaleChoice(scale),
  );
  const wordPatches = patches
    ? [
        h('h3', {}, `Top patches of “${patches.word}”`),
        h('p', { class: 'axes' }, `${patches.grid.join('×')} grid; ${PATCH_AXES}`),
        h(
          'ol',
          { id: 'top-patches' },
          ...patches.patches.map((t) =>
            h(
              'li',
              shading?.patch === t.patch ? { class: 'current', 'aria-current': 'true' } : {},
              h('a', { href: '#', 'data-patch': t.patch, title: 'Show this patch in the viewer', onclick: (e: Event) => (e.preventDefault(), channel.post('patchChosen', { patch: t.patch })) }, t.name),
              ` ${t.weight.toFixed(4)}`,
            ),
          ),
        ),
      ]
    : [];
  const open = h('vscode-button', { id: 'open-viewer' }, 'Open in viewer');
  open.addEventListener('click', () => channel.post('openViewer', {}));
  // re-rendering replaces the words: keep keyboard focus on the word that had it
  const focused = (document.activeElement as HTMLElement | null)?.closest?.('#report .word')?.getAttribute('data-index');
  root.replaceChildren(
    h('h2', {}, `Report attention · ${load.caseId}`),
    h('p', { id: 'caption' }, `Shaded by: ${caption}`),
    legend,
    h('p', { id: 'report', class: 'report' }, ...spaced),
    h('h3', {}, `Top ${load.topK} words`),
    h('ol', { id: 'topk' }, ...top),
    ...wordPatches,
    open,
  );
  if (focused !== null && focused !== undefined) root.querySelector<HTMLElement>(`#report .word[data-index="${focused}"]`)?.focus();
}

channel.start();

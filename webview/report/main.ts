// Report attention webview: the cleaned report with each word shaded by its
// weight (whole image, or the patch under the viewer's crosshair), a legend,
// the top-k words; clicking (or Enter on) a word shows its patch map in the
// viewer.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import { Channel, h } from '../common/messaging';
import { shadeCss, shadeLevels, shadeRange, topK, type ShadeScale } from '../common/attention';
import type { ReportLoad, ReportProtocol } from '../../src/shared/webview-protocol';

interface ReportState {
  runDir?: string;
  caseId?: string;
  selected: number | null;
  scale?: ShadeScale;
}

let load: ReportLoad | undefined;
let weights: number[] = [];
let caption = 'whole image';

const channel = new Channel<ReportProtocol, ReportState>({
  load: (l) => {
    load = l;
    channel.setState({ runDir: l.restore.runDir, caseId: l.restore.caseId });
    weights = l.weights;
    caption = 'whole image';
    render();
  },
  patchWeights: (p) => {
    if (!load) return;
    weights = p ? p.weights : load.weights;
    caption = p ? `patch ${p.patch} (voxel ${p.voxel.join(', ')})` : 'whole image';
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
    open,
  );
  if (focused !== null && focused !== undefined) root.querySelector<HTMLElement>(`#report .word[data-index="${focused}"]`)?.focus();
}

channel.start();

// Training dashboard: loss curves (total, global, local), α and β, learning
// rate per stage with uPlot; epoch, progress and ETA; fold AUCs. Restored
// from events.jsonl by the host, then fed live.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { Channel, h } from '../common/messaging';
import { applyDashboardEvent, CURVES, emptyDashboard, formatEta, formatLr, type DashboardState } from '../common/dashboard-series';
import type { DashboardProtocol } from '../../src/shared/webview-protocol';

let state: DashboardState = emptyDashboard();
let title = '';
const plots = new Map<string, uPlot>();
const root = document.getElementById('root')!;
const header = h('div', { id: 'summary', role: 'status' });
const folds = h('table', { id: 'folds' });
const charts = h('div', { id: 'charts' });
root.append(header, charts, h('h3', {}, 'Fold AUCs'), folds);

const channel = new Channel<DashboardProtocol, { runDir: string }>({
  reset: (r) => {
    channel.setState({ runDir: r.runDir });
    title = r.title;
    state = emptyDashboard();
    for (const e of r.events) applyDashboardEvent(state, e);
    for (const p of plots.values()) p.destroy();
    plots.clear();
    charts.replaceChildren();
    schedule();
  },
  events: ({ events }) => {
    for (const e of events) applyDashboardEvent(state, e);
    schedule();
  },
});

let pending = false;
function schedule(): void {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    render();
  });
}

const cssVar = (n: string, d: string) => getComputedStyle(document.body).getPropertyValue(n).trim() || d;
const COLOURS = ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-purple', '--vscode-charts-red', '--vscode-charts-yellow'];

function render(): void {
  const p = state.progress;
  header.textContent = [
    title,
    p ? `${p.stage}` : '',
    p?.epoch !== undefined ? `epoch ${p.epoch}/${p.epochs ?? '?'}` : '',
    p && p.total > 0 ? `${Math.round((100 * p.done) / p.total)}%` : '',
    p?.etaSeconds !== undefined ? `ETA ${formatEta(p.etaSeconds)}` : '',
  ].filter(Boolean).join(' · ');
  for (const s of state.stages) {
    if (s.x.length === 0) continue;
    const data: uPlot.AlignedData = [s.x, ...CURVES.map((c) => s.curves[c])];
    let plot = plots.get(s.stage);
    if (!plot) {
      const fg = cssVar('--vscode-foreground', '#ccc');
      const box = h('section', { class: 'chart', 'aria-label': `Curves of ${s.stage}` }, h('h3', {}, s.stage));
      charts.append(box);
      plot = new uPlot(
        {
          width: Math.max(320, charts.clientWidth - 16),
          height: 220,
          axes: [
            { stroke: fg, label: 'step' },
            { stroke: fg, label: 'loss · α · β' },
            // learning rates are 1e-5…1e-3: uPlot's default ticks round them to 0
            { side: 1, scale: 'lr', stroke: fg, label: 'learning rate', size: 64, values: (_u, splits) => splits.map(formatLr) },
          ],
          scales: { x: { time: false } },
          series: [{ label: 'step' }, ...CURVES.map((c, i) => ({ label: c === 'alpha' ? 'α' : c === 'beta' ? 'β' : c, stroke: cssVar(COLOURS[i]!, '#888'), spanGaps: true, ...(c === 'lr' ? { scale: 'lr' } : {}) }))],
        },
        data,
        box,
      );
      plots.set(s.stage, plot);
    } else plot.setData(data);
  }
  folds.replaceChildren(
    h('tr', {}, h('th', {}, 'fold'), h('th', {}, 'AUC internal'), h('th', {}, 'AUC external')),
    ...state.folds.map((f) => h('tr', {}, h('td', {}, f.stage), h('td', {}, f.aucInternal?.toFixed(3) ?? 'n/a'), h('td', {}, f.aucExternal?.toFixed(3) ?? 'n/a'))),
  );
}

channel.start();

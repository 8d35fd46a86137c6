// Results webview: the paper-layout tables and t-tests (mean ± std), the
// bootstrap confidence intervals, a two-run comparison, and export to
// CSV / Markdown / LaTeX.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import { Channel, h, showStatus } from '../common/messaging';
import { ciView, docWarnings, tableViewWithCi, type ViewTable } from '../common/results-rows';
import type { ExportFormat, ResultsProtocol } from '../../src/shared/webview-protocol';
import type { ResultsDoc } from '../../src/engine/results/types';

const root = document.getElementById('root')!;
let doc: ResultsDoc | undefined;

const channel = new Channel<ResultsProtocol, { path: string }>({
  load: (l) => {
    showStatus(null); // a message about the previous document (an export) no longer applies
    channel.setState({ path: l.path });
    doc = l.doc;
    render(l.path);
  },
});

function button(label: string, id: string, onclick: () => void): HTMLElement {
  const b = h('vscode-button', { id, secondary: true }, label);
  b.addEventListener('click', onclick);
  return b;
}

async function doExport(format: ExportFormat, tableId?: string): Promise<void> {
  try {
    const r = await channel.request('export', { format, ...(tableId ? { tableId } : {}) });
    if (r) showStatus({ kind: 'info', message: `Saved ${r.path}` });
  } catch (e) {
    channel.reportError(e);
  }
}

/** One table; `exportable`: a table of the document, with its CSV and LaTeX buttons. */
function tableSection(v: ViewTable, exportable: boolean): HTMLElement {
  return h(
    'section',
    { class: 'table', id: `table-${v.id}` },
    h('h2', {}, v.title),
    ...v.warnings.map((w) => h('p', { class: 'warning', role: 'note' }, h('strong', {}, 'Warning: '), w)),
    h(
      'table',
      {},
      h('thead', {}, h('tr', {}, ...v.header.map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, ...v.rows.map((r) => h('tr', {}, ...r.map((c) => h(c.kind === 'label' ? 'th' : 'td', { class: c.kind, ...(c.kind === 'label' ? { scope: 'row' } : {}), ...(c.title ? { title: c.title } : {}) }, c.text))))),
    ),
    ...(v.footnotes.length ? [h('ol', { class: 'footnotes' }, ...v.footnotes.map((f) => h('li', {}, f)))] : []),
    ...v.notes.map((n) => h('p', { class: 'note' }, n)),
    ...(exportable ? [h('div', { class: 'actions' }, button('CSV', `csv-${v.id}`, () => void doExport('csv', v.id)), button('LaTeX', `tex-${v.id}`, () => void doExport('latex', v.id)))] : []),
  );
}

function render(path: string): void {
  if (!doc) return;
  const ci = ciView(doc);
  const tables = [...doc.tables.map((t) => tableSection(tableViewWithCi(t, doc!.ci), true)), ...(ci ? [tableSection(ci, false)] : [])];
  root.replaceChildren(
    h('h1', {}, doc.title),
    h('p', { class: 'source' }, path),
    h(
      'div',
      { class: 'actions', role: 'toolbar' },
      button('Export Markdown', 'export-md', () => void doExport('markdown')),
      button('Compare with another run…', 'compare', () => void channel.request('compare', {}).catch((e) => channel.reportError(e))),
    ),
    ...(docWarnings(doc).length ? [h('ul', { class: 'warnings', role: 'alert' }, ...docWarnings(doc).map((w) => h('li', { class: 'warning' }, w)))] : []),
    ...doc.notes.map((n) => h('p', { class: 'note' }, n)),
    ...tables,
  );
}

channel.start();

// Results panel exports: the engine's pure renderers (markdown for the whole
// document, CSV and LaTeX per table) and the file name each export suggests.
import { renderCsv, renderLatex, renderMarkdown } from '../../engine/results/render';
import type { ResultsDoc, ResultTable } from '../../engine/results/types';
import type { ExportFormat } from '../../shared/webview-protocol';

export interface ExportText {
  text: string;
  /** the suggested file name, e.g. "table1.csv", "results.md" */
  fileName: string;
}

function pickTable(doc: ResultsDoc, tableId: string | undefined, source: string): ResultTable {
  if (doc.tables.length === 0) throw new Error(`${source}: the results document has no tables to export`);
  if (tableId === undefined) return doc.tables[0]!;
  const t = doc.tables.find((x) => x.id === tableId);
  if (!t) throw new Error(`${source}: no table "${tableId}" (tables: ${doc.tables.map((x) => x.id).join(', ')})`);
  return t;
}

/** The export text of `doc` (markdown: every table; CSV / LaTeX: one table, the first by default). */
export function exportResults(doc: ResultsDoc, format: ExportFormat, tableId: string | undefined, source: string): ExportText {
  const prefix = doc.kind === 'comparison' ? 'comparison-' : '';
  switch (format) {
    case 'markdown':
      return { text: renderMarkdown(doc), fileName: `${prefix}results.md` };
    case 'csv': {
      const t = pickTable(doc, tableId, source);
      return { text: renderCsv(t), fileName: `${prefix}${t.id}.csv` };
    }
    case 'latex': {
      const t = pickTable(doc, tableId, source);
      return { text: renderLatex(t), fileName: `${prefix}${t.id}.tex` };
    }
    default:
      throw new Error(`${source}: unknown export format ${JSON.stringify(format)}`);
  }
}

// Results document → what the results webview draws: per table, a header
// row and body rows of display texts (footnote marks appended), and the
// footnotes and notes. Pure; exports reuse the engine's renderers on the
// host (src/engine/results/render.ts).
import type { Cell, ResultsDoc, ResultTable } from '../../src/engine/results/types';

export interface ViewCell {
  text: string;
  /** 'label' cells are left-aligned row headers; numbers are centred */
  kind: Cell['kind'];
  /** shown on hover: the fold count, t and df, or the status */
  title?: string;
}

export interface ViewTable {
  id: string;
  title: string;
  header: string[];
  rows: ViewCell[][];
  footnotes: string[];
  notes: string[];
  /** shown before the table: what makes its numbers misleading */
  warnings: string[];
}

function cellText(c: Cell): string {
  return c.footnotes.length ? `${c.text} ${c.footnotes.map((n) => `[${n}]`).join('')}` : c.text;
}

function cellTitle(c: Cell): string | undefined {
  switch (c.kind) {
    case 'stat':
      return `mean ± sample std over ${c.n} fold${c.n === 1 ? '' : 's'}`;
    case 'pvalue':
      return `paired t-test over ${c.n} folds: t = ${Number.isFinite(c.t) ? c.t.toFixed(3) : String(c.t)}, df = ${c.df}`;
    case 'paper':
      return 'published in the paper';
    case 'missing':
      return c.status;
    default:
      return undefined;
  }
}

export function tableView(t: ResultTable): ViewTable {
  return {
    id: t.id,
    title: t.title,
    header: t.columns.map((c) => c.header),
    rows: t.rows.map((r) =>
      r.cells.map((c) => {
        const title = cellTitle(c);
        return { text: cellText(c), kind: c.kind, ...(title ? { title } : {}) };
      }),
    ),
    footnotes: t.footnotes,
    notes: t.notes,
    warnings: t.warnings ?? [],
  };
}

/** The document's warnings (degenerate attention maps, single-class folds): shown above every table. */
export function docWarnings(doc: ResultsDoc): string[] {
  return doc.warnings ?? [];
}

/** Checks the shape the webview relies on; the message names `source`. */
export function checkResultsDoc(v: unknown, source: string): ResultsDoc {
  if (typeof v !== 'object' || v === null) throw new Error(`${source}: not a results document (expected a JSON object)`);
  const o = v as Partial<ResultsDoc>;
  if (o.format !== 'mrcl-results-1') throw new Error(`${source}: format is ${JSON.stringify(o.format)}, expected "mrcl-results-1"`);
  if (!Array.isArray(o.tables)) throw new Error(`${source}: "tables" must be an array`);
  for (const t of o.tables) {
    if (!t || !Array.isArray(t.columns) || !Array.isArray(t.rows)) throw new Error(`${source}: table ${JSON.stringify(t?.id)} lacks columns or rows`);
    for (const r of t.rows) {
      if (!Array.isArray(r.cells) || r.cells.length !== t.columns.length) {
        throw new Error(`${source}: table ${t.id} row ${JSON.stringify(r.key)} has ${r.cells?.length} cells for ${t.columns.length} columns`);
      }
    }
  }
  return v as ResultsDoc;
}

// Results document → what the results webview draws: per table, a header
// row and body rows of display texts (footnote marks appended), and the
// footnotes and notes; the bootstrap confidence intervals (results.json
// `ci`) as one more table and in the hover of the mean ± std they belong to.
// Pure; exports reuse the engine's renderers on the host
// (src/engine/results/render.ts).
import type { Cell, ResultColumn, ResultRow, ResultsDoc, ResultTable } from '../../src/engine/results/types';
import type { MetricCi } from '../../src/engine/results/bootstrap-ci';

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

/** AUC as 0.748, Dice as 6.1% (the tables' formats). */
function ciNumber(v: number, metric: MetricCi['metric']): string {
  return metric === 'auc' ? v.toFixed(3) : `${(v * 100).toFixed(1)}%`;
}

const ciLevel = (c: MetricCi): string => `${Math.round(c.level * 100)} %`;

/** The interval of a table cell: its row's arm (and baseline explanation), its column's cohort and metric; undefined when there is none. */
export function cellCi(ci: readonly MetricCi[] | undefined, row: ResultRow, col: ResultColumn): MetricCi | undefined {
  if (!ci?.length || col.kind !== 'stat' || !col.split || !col.metric || row.source !== 'this run') return undefined;
  const arm = row.explanation ? row.key.slice(0, -(row.explanation.length + 1)) : row.key;
  return ci.find((c) => c.arm === arm && c.split === col.split && c.metric === col.metric && c.explanation === row.explanation);
}

function cellTitle(c: Cell, ci?: MetricCi): string | undefined {
  switch (c.kind) {
    case 'stat': {
      const base = `mean ± sample std over ${c.n} fold${c.n === 1 ? '' : 's'}`;
      return ci ? `${base}; ${ciLevel(ci)} CI ${ciNumber(ci.lower, ci.metric)} – ${ciNumber(ci.upper, ci.metric)} (bootstrap over ${ci.cases} cases)` : base;
    }
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

/** A table as drawn. */
export function tableView(t: ResultTable): ViewTable {
  return tableViewWithCi(t, undefined);
}

/** A table as drawn, a mean ± std cell's hover giving its interval among the document's `ci`. */
export function tableViewWithCi(t: ResultTable, ci: readonly MetricCi[] | undefined): ViewTable {
  return {
    id: t.id,
    title: t.title,
    header: t.columns.map((c) => c.header),
    rows: t.rows.map((r) =>
      r.cells.map((c, i) => {
        const title = cellTitle(c, cellCi(ci, r, t.columns[i]!));
        return { text: cellText(c), kind: c.kind, ...(title ? { title } : {}) };
      }),
    ),
    footnotes: t.footnotes,
    notes: t.notes,
    warnings: t.warnings ?? [],
  };
}

const CI_METRIC_NAMES: Record<MetricCi['metric'], string> = { auc: 'AUC', dice2d: '2D Dice', dice3d: '3D Dice', mass3d: 'Map mass in tumour' };

/**
 * The bootstrap intervals (results.json `ci`) as one table after the
 * others, as results.md has them: one row per arm (or baseline explanation),
 * cohort and metric; undefined when the document has none.
 */
export function ciView(doc: ResultsDoc): ViewTable | undefined {
  const ci = doc.ci ?? [];
  if (!ci.length) return undefined;
  const level = ciLevel(ci[0]!);
  const label = (text: string): ViewCell => ({ text, kind: 'label' });
  return {
    id: 'ci',
    title: `Bootstrap ${level} confidence intervals`,
    header: ['Model', 'Cohort', 'Metric', 'Mean over folds', `${level} CI`, 'Folds', 'Cases', 'Resampling'],
    rows: ci.map((c) => [
      label(c.label),
      label(c.split),
      label(CI_METRIC_NAMES[c.metric] ?? c.metric),
      { text: ciNumber(c.estimate, c.metric), kind: 'stat', title: 'the table\'s mean over folds' },
      { text: `${ciNumber(c.lower, c.metric)} – ${ciNumber(c.upper, c.metric)}`, kind: 'stat', title: `${c.resamples} resamples (${c.skipped} redrawn), seed ${c.seed}` },
      { text: String(c.folds.length), kind: 'stat', title: `folds ${c.folds.join(', ')}` },
      { text: String(c.cases), kind: 'stat' },
      label(c.resampling ?? 'within folds'),
    ]),
    footnotes: [],
    notes: [
      'Percentile intervals of the tables\' mean over folds: each resample draws, in every fold, as many cases as the fold has, with replacement ("within folds"); where every fold holds the same cases (the external cohort, which each fold\'s model scores) they are drawn once per resample for all folds ("shared cases", counted once); resamples where a fold drew one class only have no AUC and are redrawn. Seeded from the run\'s seed: rerunning gives the same intervals.',
    ],
    warnings: [],
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
  if (o.ci !== undefined) {
    if (!Array.isArray(o.ci)) throw new Error(`${source}: "ci" must be an array`);
    o.ci.forEach((c, i) => {
      const ok =
        c !== null && typeof c === 'object' && typeof c.arm === 'string' && typeof c.label === 'string' && (c.split === 'internal' || c.split === 'external') && ['auc', 'dice2d', 'dice3d'].includes(c.metric) &&
        [c.estimate, c.lower, c.upper, c.level].every((x) => typeof x === 'number' && Number.isFinite(x)) && Array.isArray(c.folds) && Number.isInteger(c.cases) &&
        (c.resampling === undefined || c.resampling === 'within folds' || c.resampling === 'shared cases');
      if (!ok) throw new Error(`${source}: ci[${i}] is not a confidence interval (arm, label, split, metric, estimate, lower, upper, level, folds, cases, resampling)`);
    });
  }
  return v as ResultsDoc;
}

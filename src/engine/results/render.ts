// The results document as text: markdown (all tables), CSV and LaTeX (one
// table each), and the run folder's files: results.json, results.md,
// tables/<id>.csv and tables/<id>.tex. Every file is rendered before any is
// written, and each is written atomically, so a failure never leaves a
// half-written file.
import { mkdirSync } from 'node:fs';
import { BoundedReadError, READ_LIMITS, readTextBounded } from '../io/bounded-read';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic';
import { dataPath } from '../io/safe-path';
import type { Cell, ResultColumn, ResultsDoc, ResultTable } from './types';
import type { MetricCi } from './bootstrap-ci';
import { METRIC_FORMATS, METRIC_HEADERS } from './aggregate';
import { formatNumber } from './tables';

const marks = (c: Cell, open: string, close: string): string => c.footnotes.map((n) => `${open}${n}${close}`).join('');

// ---- markdown ----

/** Backslash-escapes what markdown would read as formatting (CommonMark). */
function md(text: string): string {
  return text
    .replace(/[\\`*|]/g, (ch) => `\\${ch}`)
    .replace(/(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])/g, '\\_') // intraword _ is not emphasis
    .replace(/<(?=[A-Za-z/!?])/g, '\\<')
    .replace(/\r?\n/g, ' ');
}

function mdCell(c: Cell): string {
  const m = marks(c, '[', ']');
  return `${md(c.text)}${m ? ` ${m}` : ''}`;
}

function mdTable(t: ResultTable): string[] {
  const lines = [`## ${md(t.title)}`, ''];
  if (t.warnings?.length) lines.push(...t.warnings.map((w) => `> **Warning:** ${md(w)}  `), '');
  lines.push(`| ${t.columns.map((c) => md(c.header)).join(' | ')} |`);
  lines.push(`| ${t.columns.map((c) => (c.kind === 'label' ? '---' : ':---:')).join(' | ')} |`);
  for (const r of t.rows) lines.push(`| ${r.cells.map(mdCell).join(' | ')} |`);
  if (t.rows.length === 0) lines.push('', '(no rows)');
  if (t.footnotes.length > 0) lines.push('', ...t.footnotes.map((f, i) => `- [${i + 1}] ${md(f)}`));
  if (t.notes.length > 0) lines.push('', ...t.notes.map((n) => `${md(n)}  `));
  lines.push('');
  return lines;
}

export function renderMarkdown(doc: ResultsDoc): string {
  const lines = [`# ${md(doc.title)}`, ''];
  const facts = [`Run: ${md(doc.runId)} (${doc.kind})`];
  if (doc.config) facts.push(`folds: ${doc.config.folds}, seed: ${doc.config.seed}`);
  lines.push(`${facts.join('; ')}.`, '');
  if (doc.arms.length > 0) {
    for (const a of doc.arms) {
      const folds = a.folds.length > 0 ? `, folds ${a.folds.join(', ')}` : '';
      lines.push(`- ${md(a.label)} (${md(a.arm)}): ${a.status}${a.reason ? ` — ${md(a.reason)}` : ''}${folds}`);
    }
    lines.push('');
  }
  if (doc.notes.length > 0) lines.push(...doc.notes.map((n) => `${md(n)}  `), '');
  for (const t of doc.tables) lines.push(...mdTable(t));
  if (doc.ci?.length) lines.push(...mdCi(doc.ci));
  return `${lines.join('\n').trimEnd()}\n`;
}

/** The bootstrap intervals (results.json `ci`) as one table after the paper's. */
function mdCi(ci: readonly MetricCi[]): string[] {
  const level = `${Math.round(ci[0].level * 100)}%`;
  const lines = [`## Bootstrap ${level} confidence intervals`, '', `| Model | Cohort | Metric | Mean over folds | ${level} CI | Folds | Cases | Resampling | Resamples (redrawn) |`, '| --- | --- | --- | :---: | :---: | :---: | :---: | --- | :---: |'];
  for (const c of ci) {
    const f = (v: number) => formatNumber(v, METRIC_FORMATS[c.metric]);
    lines.push(`| ${md(c.label)} | ${c.split} | ${md(METRIC_HEADERS[c.metric])} | ${f(c.estimate)} | ${f(c.lower)} – ${f(c.upper)} | ${c.folds.length} | ${c.cases} | ${c.resampling ?? 'within folds'} | ${c.resamples} (${c.skipped}) |`);
  }
  lines.push('', md(`Percentile intervals of the tables' mean over folds: each resample draws, in every fold, as many cases as the fold has, with replacement ("within folds"); where every fold holds the same cases (the external cohort, scored by each fold's model) the cases are drawn once per resample and every fold uses that draw ("shared cases": Cases counts them once), so the interval keeps the cohort's own sampling error; percentiles interpolated linearly (as numpy.percentile); resamples where a fold drew one class only have no AUC and are redrawn. Seeded from the run's seed: rerunning gives the same intervals.`), '');
  return lines;
}

// ---- CSV ----

/** RFC 4180 quoting: fields with a comma, quote, line break or edge space are quoted, quotes doubled. */
function csvField(v: string): string {
  return /[",\r\n]|^\s|\s$/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

// 12 significant digits: full precision without float noise (0.15000000000000002)
const num = (v: number | null): string => (v === null ? '' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : String(Number(v.toPrecision(12))));

function csvHeaders(c: ResultColumn): string[] {
  if (c.kind === 'stat') return [`${c.header} mean`, `${c.header} std`];
  if (c.kind === 'pvalue') return [`${c.header} p`, `${c.header} t`, `${c.header} df`];
  return [c.header];
}

function csvValues(c: ResultColumn, cell: Cell): string[] {
  const width = csvHeaders(c).length;
  let first: string;
  let rest: string[] = [];
  switch (cell.kind) {
    case 'stat':
      first = num(cell.mean);
      rest = [num(cell.std)];
      break;
    case 'pvalue':
      first = num(cell.p);
      rest = [num(cell.t), num(cell.df)];
      break;
    case 'paper':
      first = num(cell.value);
      break;
    case 'delta':
      first = num(cell.value);
      break;
    default:
      first = cell.text;
  }
  const out = [first, ...rest].slice(0, width);
  while (out.length < width) out.push('');
  return out;
}

/**
 * One table as CSV: numbers at full precision (Dice as fractions, not
 * percent), mean and std (p, t and df) in separate columns, and a last
 * "notes" column with the footnotes a row refers to.
 */
export function renderCsv(table: ResultTable): string {
  const header = [...table.columns.flatMap(csvHeaders), 'notes'];
  const lines = [header.map(csvField).join(',')];
  for (const r of table.rows) {
    const used = [...new Set(r.cells.flatMap((c) => c.footnotes))].sort((x, y) => x - y);
    const notes = used.map((n) => `[${n}] ${table.footnotes[n - 1] ?? ''}`).join('; ');
    const fields = [...table.columns.flatMap((c, i) => csvValues(c, r.cells[i] ?? { kind: 'na', text: '', footnotes: [] })), notes];
    lines.push(fields.map(csvField).join(','));
  }
  return `${lines.join('\n')}\n`;
}

// ---- LaTeX ----

const TEX: Record<string, string> = {
  '\\': '\\textbackslash{}',
  '&': '\\&',
  '%': '\\%',
  $: '\\$',
  '#': '\\#',
  _: '\\_',
  '{': '\\{',
  '}': '\\}',
  '~': '\\textasciitilde{}',
  '^': '\\textasciicircum{}',
  '<': '\\textless{}',
  '>': '\\textgreater{}',
  '±': '$\\pm$',
  '−': '$-$',
  '≥': '$\\geq$',
  '≤': '$\\leq$',
  '×': '$\\times$',
  'Δ': '$\\Delta$',
  '–': '--',
  '—': '---',
  '…': '\\ldots{}',
};

/** Escapes LaTeX's special characters (one pass, so nothing is escaped twice). */
export function latexEscape(text: string): string {
  return text.replace(/[\\&%$#_{}~^<>±−≥≤×Δ–—…]/g, (ch) => TEX[ch]).replace(/\r?\n/g, ' ');
}

/**
 * One table as a LaTeX `table` float (booktabs rules). Footnotes are
 * superscript numbers, listed under the tabular with the notes. The caption
 * drops the "Table N." prefix that LaTeX numbers itself.
 */
export function renderLatex(table: ResultTable): string {
  const cell = (c: Cell): string => `${latexEscape(c.text)}${marks(c, '$^{', '}$')}`;
  const align = table.columns.map((c) => (c.kind === 'label' ? 'l' : 'c')).join('');
  const lines = [
    `% ${latexEscape(table.title)} (needs \\usepackage{booktabs})`,
    '\\begin{table}[htbp]',
    '  \\centering',
    `  \\caption{${latexEscape(table.title.replace(/^Table \d+\.\s*/, ''))}}`,
    `  \\label{tab:${table.id.replace(/[^A-Za-z0-9:.-]/g, '-')}}`,
    `  \\begin{tabular}{${align}}`,
    '    \\toprule',
    `    ${table.columns.map((c) => latexEscape(c.header)).join(' & ')} \\\\`,
    '    \\midrule',
    ...table.rows.map((r) => `    ${r.cells.map(cell).join(' & ')} \\\\`),
    '    \\bottomrule',
    '  \\end{tabular}',
  ];
  const below = [
    ...(table.warnings ?? []).map((w) => `\\textbf{Warning:} ${latexEscape(w)}`),
    ...table.footnotes.map((f, i) => `$^{${i + 1}}$ ${latexEscape(f)}`),
    ...table.notes.map(latexEscape),
  ];
  if (below.length > 0) lines.push('  \\par\\smallskip', '  {\\footnotesize', ...below.map((b) => `  ${b}\\par`), '  }');
  lines.push('\\end{table}');
  return `${lines.join('\n')}\n`;
}

// ---- files ----

/** results.json holds ±Infinity (t of constant fold differences) as strings. */
function jsonReplacer(_key: string, v: unknown): unknown {
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Writes results.json, results.md, tables/<id>.csv and tables/<id>.tex under
 * `dir` (created if needed); returns the paths written. Each file is
 * replaced atomically; results.json is written last.
 */
export function writeResults(dir: string, doc: ResultsDoc): string[] {
  const ids = new Set<string>();
  for (const t of doc.tables) {
    if (!SAFE_ID.test(t.id)) throw new Error(`${join(dir, 'tables')}: table id ${JSON.stringify(t.id)} is not a safe file name`);
    if (ids.has(t.id)) throw new Error(`${join(dir, 'tables')}: table id ${JSON.stringify(t.id)} appears twice`);
    ids.add(t.id);
  }
  const files: [string, string][] = [];
  for (const t of doc.tables) {
    files.push([dataPath(dir, 'tables', `${t.id}.csv`), renderCsv(t)]);
    files.push([dataPath(dir, 'tables', `${t.id}.tex`), renderLatex(t)]);
  }
  files.push([join(dir, 'results.md'), renderMarkdown(doc)]);
  files.push([join(dir, 'results.json'), `${JSON.stringify(doc, jsonReplacer, 2)}\n`]);
  const tablesDir = join(dir, 'tables');
  try {
    mkdirSync(tablesDir, { recursive: true });
  } catch (e) {
    throw new Error(`${tablesDir}: cannot create the folder: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  for (const [path, text] of files) {
    try {
      writeFileAtomic(path, [Buffer.from(text, 'utf8')]);
    } catch (e) {
      throw new Error(`${path}: cannot write: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  return files.map(([p]) => p);
}

/** Reads a results.json written by writeResults (t of ±Infinity restored). */
export function readResults(path: string): ResultsDoc {
  let text: string;
  try {
    text = readTextBounded(path, { maxBytes: READ_LIMITS.runFile, what: 'results file' });
  } catch (e) {
    if (e instanceof BoundedReadError) throw e;
    throw new Error(`${path}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text, (key, v) => (key === 't' && (v === 'Infinity' || v === '-Infinity') ? (v === 'Infinity' ? Infinity : -Infinity) : v));
  } catch (e) {
    throw new Error(`${path}: not valid JSON: ${(e as Error).message}`);
  }
  const d = doc as Partial<ResultsDoc> | null;
  if (typeof d !== 'object' || d === null || d.format !== 'mrcl-results-1') throw new Error(`${path}: not a results document (format "mrcl-results-1" expected)`);
  if (!Array.isArray(d.tables) || !Array.isArray(d.tests) || !Array.isArray(d.notes) || !Array.isArray(d.arms)) {
    throw new Error(`${path}: results document lacks its tables, tests, notes or arms`);
  }
  for (const [i, t] of d.tables.entries()) {
    if (typeof t !== 'object' || t === null || typeof t.id !== 'string' || !Array.isArray(t.columns) || !Array.isArray(t.rows) || !Array.isArray(t.footnotes) || !Array.isArray(t.notes)) {
      throw new Error(`${path}: tables[${i}] is not a table (id, columns, rows, footnotes, notes)`);
    }
    for (const [j, r] of t.rows.entries()) {
      if (!Array.isArray(r?.cells) || r.cells.length !== t.columns.length) throw new Error(`${path}: tables[${i}] (${t.id}) row ${j} has ${r?.cells?.length ?? 'no'} cells for ${t.columns.length} columns`);
    }
  }
  return d as ResultsDoc;
}

// Two runs side by side: each table both documents have, with every value
// column twice ([A] and [B]) and, for mean ± std columns, Δ = B − A of the
// means. Rows are matched on their key (arm, or arm pair and cohort); the
// paper's rows are left out (they are the same in both). The result is a
// ResultsDoc of kind 'comparison', rendered by the same renderers.
import { Footnotes, formatDelta } from './tables';
import type { Cell, ResultColumn, ResultRow, ResultsDoc, ResultTable } from './types';

type Side = 'A' | 'B';

function copyCell(cell: Cell, from: ResultTable, side: Side, fn: Footnotes): Cell {
  return { ...cell, footnotes: cell.footnotes.map((n) => fn.add(`[${side}] ${from.footnotes[n - 1] ?? ''}`)) };
}

function compareTable(ta: ResultTable, tb: ResultTable, ids: { a: string; b: string }): ResultTable {
  const fn = new Footnotes();
  const labels = ta.columns.filter((c) => c.kind === 'label' && c.key !== 'source');
  const values = ta.columns.filter((c) => c.kind !== 'label' && tb.columns.some((d) => d.key === c.key));
  const columns: ResultColumn[] = [...labels];
  for (const c of values) {
    columns.push({ ...c, key: `${c.key}@A`, header: `${c.header} [A]` });
    columns.push({ ...c, key: `${c.key}@B`, header: `${c.header} [B]` });
    if (c.kind === 'stat') columns.push({ ...c, key: `${c.key}@delta`, header: `Δ ${c.header}`, kind: 'delta' });
  }
  const ours = (t: ResultTable): ResultRow[] => t.rows.filter((r) => r.source === 'this run');
  const rowsA = new Map(ours(ta).map((r) => [r.key, r]));
  const rowsB = new Map(ours(tb).map((r) => [r.key, r]));
  const keys = [...rowsA.keys(), ...[...rowsB.keys()].filter((k) => !rowsA.has(k))];

  const cellOf = (t: ResultTable, row: ResultRow | undefined, key: string): Cell | undefined => {
    const i = t.columns.findIndex((c) => c.key === key);
    return row && i >= 0 ? row.cells[i] : undefined;
  };
  const rows = keys.map((key): ResultRow => {
    const ra = rowsA.get(key);
    const rb = rowsB.get(key);
    const cells: Cell[] = labels.map((c) => {
      const own = cellOf(ta, ra, c.key) ?? cellOf(tb, rb, c.key);
      return own ? { ...own, footnotes: [] } : { kind: 'na', text: 'n/a', footnotes: [] };
    });
    for (const c of values) {
      const pair: [Side, ResultTable, ResultRow | undefined, string][] = [
        ['A', ta, ra, ids.a],
        ['B', tb, rb, ids.b],
      ];
      const got = pair.map(([side, t, r, id]): Cell => {
        const cell = cellOf(t, r, c.key);
        return cell ? copyCell(cell, t, side, fn) : { kind: 'na', text: 'n/a', footnotes: [fn.add(`[${side}] ${id} has no such row`)] };
      });
      cells.push(...got);
      if (c.kind !== 'stat') continue;
      const [a, b] = got;
      if (a.kind === 'stat' && b.kind === 'stat') {
        const value = b.mean - a.mean;
        cells.push({ kind: 'delta', value, format: a.format, text: formatDelta(value, a.format), footnotes: [] });
      } else cells.push({ kind: 'na', text: 'n/a', footnotes: [] });
    }
    const explanation = (ra ?? rb)?.explanation;
    return { key, source: `${ids.a} vs ${ids.b}`, ...(explanation ? { explanation } : {}), cells };
  });
  const warnings = [...(ta.warnings ?? []).map((w) => `[A] ${w}`), ...(tb.warnings ?? []).map((w) => `[B] ${w}`)];
  return { id: ta.id, title: `${ta.title} [A] vs [B]`, columns, rows, footnotes: fn.list, notes: [], ...(warnings.length ? { warnings } : {}) };
}

/** A side-by-side document of two runs' results (A = a, B = b). */
export function compareResults(a: ResultsDoc, b: ResultsDoc): ResultsDoc {
  if (a.kind === 'comparison' || b.kind === 'comparison') throw new Error(`compareResults: ${a.kind === 'comparison' ? a.runId : b.runId} is already a comparison`);
  if (a.kind !== b.kind) throw new Error(`compareResults: cannot compare ${a.runId} (${a.kind}) with ${b.runId} (${b.kind})`);
  const ids = { a: a.runId, b: b.runId };
  const tables: ResultTable[] = [];
  const notes = [
    `[A] = ${a.runId}; [B] = ${b.runId}.`,
    'Δ = B − A of the means (Dice in percentage points, pp).',
    'Footnotes marked [A] or [B] come from that run.',
  ];
  for (const ta of a.tables) {
    const tb = b.tables.find((t) => t.id === ta.id);
    if (tb) tables.push(compareTable(ta, tb, ids));
    else notes.push(`${ta.title}: only in [A].`);
  }
  for (const tb of b.tables) if (!a.tables.some((t) => t.id === tb.id)) notes.push(`${tb.title}: only in [B].`);
  if (a.std !== b.std) notes.push(`The runs compute std differently ([A] ${a.std}, [B] ${b.std}).`);
  return {
    format: 'mrcl-results-1',
    kind: 'comparison',
    runId: `${a.runId} vs ${b.runId}`,
    title: `Comparison of ${a.runId} [A] and ${b.runId} [B]`,
    showPaper: false,
    std: a.std,
    arms: [],
    tables,
    tests: [],
    notes,
    compared: ids,
    ...(a.warnings?.length || b.warnings?.length ? { warnings: [...(a.warnings ?? []).map((w) => `[A] ${w}`), ...(b.warnings ?? []).map((w) => `[B] ${w}`)] } : {}),
  };
}

// The paper's tables laid out from per-fold results: Tables 1–4 (internal /
// external classification and Dice by initialisation), 10–11 (p-values),
// Table 5 (ablations), plus one table of every paired t-test, and the
// results document holding them (buildResults). Cells carry
// both their numbers and their display text; footnotes say why a cell is
// "not run", "failed" or n/a.
// Differences from the paper's layout: "mean ± std" where the paper prints
// "mean (std)"; Table 5 gains the std; p-values below 0.0001 read "<0.0001"
// where the paper prints 0.0000; the "ttests" table is not in the paper.
// follows: METHOD.md §7–8 (metrics, significance, ablations)
import { armPairs, armStatusNote, BASELINE_KEYS, BASELINE_LABELS, checkResultsInput, METRIC_FORMATS, METRIC_HEADERS, METRICS, metricFolds, pairedFoldTest, singleClassWarning, SPLITS, summarize } from './aggregate';
import { ABLATION_ARMS, EXPERIMENT_ARMS, isProposedArm, paperPValue, paperValue } from './paper';
import { explainChecks } from './explain-check';
import { bootstrapCis, checkFoldCases } from './bootstrap-ci';
import type { BaselineMethodKey, ExplainCheck, SplitMetrics } from './types';
import type { ArmResult, Cell, MetricKey, NumberFormat, PairedTestResult, ResultColumn, ResultRow, ResultsDoc, ResultsInput, ResultTable, Split } from './types';

export interface TableContext {
  kind: 'experiment' | 'ablation';
  arms: readonly ArmResult[];
  tests: readonly PairedTestResult[];
  showPaper: boolean;
  expectedFolds?: number;
  /** explainability checks per arm and cohort (explain-check.ts): their warnings mark the Dice cells */
  checks?: readonly ExplainCheck[];
}

/** Metrics of the binary attention maps: their cells carry the explainability warnings (which are about Dice; the threshold-free measures have the flat map's value beside them instead). */
const MAP_METRICS: readonly MetricKey[] = ['dice2d', 'dice3d', 'foreground', 'floor2d', 'floor3d', 'bound2d', 'bound3d'];
/** Threshold-free map measures (explain/mass.ts), saved since after the floor and foreground. */
const MASS_METRICS: readonly MetricKey[] = ['mass3d', 'massFloor3d', 'pointing'];
/** Columns beside the Dice that the paper does not print. */
const MAP_CONTEXT: readonly MetricKey[] = ['foreground', 'floor2d', 'floor3d', 'bound2d', 'bound3d', ...MASS_METRICS];

/** The explainability warnings of arms on a cohort, each once, in arm order. */
function mapWarnings(ctx: TableContext, arms: readonly string[], split: Split): string[] {
  const out: string[] = [];
  for (const a of arms) {
    for (const w of ctx.checks?.find((c) => c.arm === a && c.split === split)?.warnings ?? []) if (!out.includes(w)) out.push(w);
  }
  return out;
}

/**
 * Some fold of some arm records the threshold-free measures (on `split`, or
 * on either cohort): results made before they were saved show neither their
 * columns nor their t-tests.
 */
export function recordsMass(arms: readonly ArmResult[], split?: Split): boolean {
  return arms.some((a) => a.folds.some((f) => (split ? [f[split]] : [f.internal, f.external]).some((m) => typeof m?.mass3d === 'number')));
}

/** No fold of the arm has the field at all on the cohort (results made before it existed). */
function notRecorded(arm: ArmResult, split: Split, metric: MetricKey): boolean {
  const present = arm.folds.map((f) => f[split]).filter((m): m is SplitMetrics => m !== null);
  return present.length > 0 && present.every((m) => m[metric] === undefined);
}

function notRecordedNote(metric: MetricKey): string {
  return MASS_METRICS.includes(metric)
    ? 'Not recorded for this arm (its results were made before the maps\' mass and peak were saved; mrcl evaluate RUN --maps recomputes them from the saved heatmaps).'
    : 'Not recorded in these results (made before the whole-map Dice and the map foreground were saved).';
}

/** `cell` with a footnote per warning (a missing arm's cell is left as it is). */
function withWarnings(cell: Cell, warnings: readonly string[], fn: Footnotes): Cell {
  if (warnings.length === 0 || cell.kind === 'missing') return cell;
  return { ...cell, footnotes: [...cell.footnotes, ...warnings.map((w) => fn.add(`Warning: ${w}.`))] };
}

const COHORT: Record<Split, string> = { internal: 'internal', external: 'external' };

/** Numbered footnotes of one table; the same text always gets the same number. */
export class Footnotes {
  readonly list: string[] = [];
  add(text: string): number {
    const i = this.list.indexOf(text);
    if (i >= 0) return i + 1;
    this.list.push(text);
    return this.list.length;
  }
}

function fixed(v: number, digits: number): string {
  const s = v.toFixed(digits);
  return /^-0\.?0*$/.test(s) ? s.slice(1) : s; // no "-0.000"
}

export function formatNumber(v: number, format: NumberFormat): string {
  if (format === 'percent1') return `${fixed(v * 100, 1)}%`;
  if (format === 'p4') return v < 0.00005 ? '<0.0001' : fixed(v, 4);
  return fixed(v, 3);
}

export function formatStat(mean: number, std: number | null, format: NumberFormat): string {
  return std === null ? formatNumber(mean, format) : `${formatNumber(mean, format)} ± ${formatNumber(std, format)}`;
}

/** b − a: signed; percentages as percentage points. */
export function formatDelta(v: number, format: NumberFormat): string {
  const body = format === 'percent1' ? `${fixed(v * 100, 1)} pp` : fixed(v, format === 'p4' ? 4 : 3);
  return body.startsWith('-') || /^0\.0+( pp)?$/.test(body) ? body : `+${body}`;
}

const label = (text: string): Cell => ({ kind: 'label', text, footnotes: [] });
const na = (fn: Footnotes, why: string, more: number[] = []): Cell => ({ kind: 'na', text: 'n/a', footnotes: [...more, fn.add(why)] });

function isMissing(arm: ArmResult): arm is ArmResult & { status: 'not run' | 'failed' } {
  return arm.status === 'not run' || arm.status === 'failed';
}

function missingCell(arm: ArmResult & { status: 'not run' | 'failed' }, fn: Footnotes): Cell {
  return { kind: 'missing', status: arm.status, text: arm.status, footnotes: [fn.add(armStatusNote(arm) as string)] };
}

/** mean ± std of one metric of one arm over its folds, or why there is none. */
export function statCell(ctx: TableContext, arm: ArmResult, split: Split, metric: MetricKey, fn: Footnotes): Cell {
  if (isMissing(arm)) return missingCell(arm, fn);
  const marks: number[] = [];
  const status = armStatusNote(arm, ctx.expectedFolds);
  if (status) marks.push(fn.add(status));
  const mf = metricFolds(arm, split, metric);
  const total = arm.folds.length;
  const name = METRIC_HEADERS[metric];
  const hint = metric === 'auc' ? ' (AUC is undefined on a fold of one class)' : '';
  if (mf.values.length === 0) {
    return na(fn, mf.noSplit === total ? `${arm.label}: no ${COHORT[split]} cohort evaluated` : `${arm.label}: no ${COHORT[split]} ${name} in any fold${hint}`, marks);
  }
  if (mf.values.length < total) {
    marks.push(fn.add(`${arm.label}: ${COHORT[split]} ${name} missing in ${total - mf.values.length} of ${total} folds; mean over ${mf.values.length}${hint}`));
  }
  const s = summarize(mf.values);
  if (s.std === null) marks.push(fn.add(`${arm.label}: ${COHORT[split]} ${name} from one fold, no std`));
  if (metric === 'precision' || metric === 'recall' || metric === 'f1') {
    const warning = singleClassWarning(arm, split);
    if (warning) marks.push(fn.add(`Warning: ${warning}.`));
  }
  const format = METRIC_FORMATS[metric];
  return { kind: 'stat', mean: s.mean, std: s.std, n: s.n, format, text: formatStat(s.mean, s.std, format), footnotes: marks };
}

interface MetricColumn {
  split: Split;
  metric: MetricKey;
  header?: string;
}

function headColumns(first: string, showPaper: boolean): ResultColumn[] {
  const cols: ResultColumn[] = [{ key: 'label', header: first, kind: 'label' }];
  if (showPaper) cols.push({ key: 'source', header: 'Source', kind: 'label' });
  return cols;
}

/** Baseline explanation methods some fold of some arm has on the cohort, in table order. */
export function baselineMethods(arms: readonly ArmResult[], split: Split): BaselineMethodKey[] {
  return BASELINE_KEYS.filter((m) => arms.some((a) => a.folds.some((f) => f.baselines?.[split]?.[m] !== undefined)));
}

/** Columns a baseline explanation's row fills: its Dice, map foreground, mass in tumour and peak hits. */
const BASELINE_METRICS: readonly MetricKey[] = ['dice2d', 'dice3d', 'foreground', 'mass3d', 'pointing'];

/**
 * The arm seen through one baseline explanation method on one cohort: each
 * fold's Dice and foreground replaced by the method's means (null where the
 * fold has none), so statCell gives its mean ± std over folds and footnotes
 * as for the attention maps.
 */
function baselineArm(arm: ArmResult, split: Split, method: BaselineMethodKey): ArmResult {
  return {
    ...arm,
    label: `${arm.label}, ${BASELINE_LABELS[method]}`,
    folds: arm.folds.map((f) => {
      const m = f[split];
      if (m === null) return f;
      const b = f.baselines?.[split]?.[method];
      const mass = { mass3d: b === undefined ? null : b.mass3d, pointing: b === undefined ? null : b.pointing }; // undefined: not recorded
      return { ...f, [split]: { ...m, dice2d: b?.dice2d ?? null, dice3d: b?.dice3d ?? null, foreground: b?.foreground ?? null, ...mass } };
    }),
  };
}

/** One row per arm ("this run"), each followed by the paper's row when asked, then (`baselines`) its baseline explanations' rows. */
function armTable(ctx: TableContext, id: string, title: string, first: string, metricCols: MetricColumn[], notes: string[], baselines: BaselineMethodKey[] = []): ResultTable {
  const fn = new Footnotes();
  const columns = [
    ...headColumns(first, ctx.showPaper),
    ...metricCols.map((c): ResultColumn => ({ key: `${c.split}.${c.metric}`, header: c.header ?? METRIC_HEADERS[c.metric], kind: 'stat', metric: c.metric, split: c.split })),
  ];
  const rows: ResultRow[] = [];
  const warnings: string[] = [];
  for (const arm of ctx.arms) {
    const head = ctx.showPaper ? [label(arm.label), label('this run')] : [label(arm.label)];
    const cells = metricCols.map((c) => {
      if (MAP_CONTEXT.includes(c.metric) && !isMissing(arm) && notRecorded(arm, c.split, c.metric)) {
        return na(fn, notRecordedNote(c.metric));
      }
      const cell = statCell(ctx, arm, c.split, c.metric, fn);
      if (!MAP_METRICS.includes(c.metric)) return cell;
      const w = mapWarnings(ctx, [arm.arm], c.split);
      for (const x of w) if (!warnings.includes(x)) warnings.push(x);
      return withWarnings(cell, w, fn);
    });
    rows.push({ key: arm.arm, source: 'this run', cells: [...head, ...cells] });
    const values = ctx.showPaper ? metricCols.map((c) => paperValue(ctx.kind, arm.arm, c.split, c.metric)) : [];
    if (values.some((v) => v !== undefined)) {
      const paperCells = values.map((v, i): Cell => {
        if (v === undefined && MAP_CONTEXT.includes(metricCols[i].metric)) return na(fn, 'The paper prints no whole-map Dice, grid-cell bound, map foreground or map mass.');
        if (v === undefined) return na(fn, `the paper prints no ${METRIC_HEADERS[metricCols[i].metric]} for ${arm.label}`);
        const format = METRIC_FORMATS[metricCols[i].metric];
        return { kind: 'paper', value: v, format, text: formatNumber(v, format), footnotes: [] };
      });
      rows.push({ key: `${arm.arm}/paper`, source: 'paper', cells: [label(arm.label), label('paper'), ...paperCells] });
    }
    // follows: METHOD.md §7 (baseline explanations): the same Dice and foreground, in rows after the arm's
    if (isMissing(arm)) continue;
    for (const method of baselines) {
      const b = baselineArm(arm, metricCols[0].split, method);
      const bhead = ctx.showPaper ? [label(b.label), label('this run')] : [label(b.label)];
      const bcells = metricCols.map((c) => {
        if (!BASELINE_METRICS.includes(c.metric)) return na(fn, 'Baseline explanation rows: the whole-map floor and the flat map\'s mass are those of the same cases, in the arm\'s attention row.');
        if (MASS_METRICS.includes(c.metric) && notRecorded(b, c.split, c.metric)) return na(fn, notRecordedNote(c.metric));
        return statCell(ctx, b, c.split, c.metric, fn);
      });
      rows.push({ key: `${arm.arm}/${method}`, source: 'this run', explanation: method, cells: [...bhead, ...bcells] });
    }
  }
  const baseNote = rows.some((r) => r.explanation !== undefined)
    ? [
        `Rows ending in ${baselines.map((m) => `", ${BASELINE_LABELS[m]}"`).join(' and ')}: the same models explained by ${baselines.length === 1 ? 'that standard method' : 'these standard methods'} instead of their attention maps (explain.baselines), binarised and scored as the attention maps; Dice and map foreground are means over the cases with a Dice, then mean ± std over folds.`,
      ]
    : [];
  const paperNote = ctx.showPaper ? ['Paper rows: the paper\'s means (its std values did not survive in its text).'] : [];
  return { id, title, columns, rows, footnotes: fn.list, notes: [...notes, ...baseNote, ...paperNote], ...(warnings.length ? { warnings } : {}) };
}

function armOf(ctx: TableContext, name: string): ArmResult {
  const arm = ctx.arms.find((a) => a.arm === name);
  if (!arm) throw new Error(`results: paired test names an unknown arm ${JSON.stringify(name)}`);
  return arm;
}

function testCell(ctx: TableContext, t: PairedTestResult | undefined, fn: Footnotes): Cell {
  if (!t) return na(fn, 'no such test');
  if (t.status === 'done' && t.p !== null && t.t !== null && t.df !== null) {
    return { kind: 'pvalue', p: t.p, t: t.t, df: t.df, n: t.folds.length, text: formatNumber(t.p, 'p4'), footnotes: [] };
  }
  const missing = [armOf(ctx, t.a), armOf(ctx, t.b)].find(isMissing);
  if (missing) return missingCell(missing, fn);
  return na(fn, t.reason ?? 'test skipped');
}

function findTest(ctx: TableContext, a: string, b: string, split: Split, metric: MetricKey): PairedTestResult | undefined {
  return ctx.tests.find((t) => t.a === a && t.b === b && t.split === split && t.metric === metric);
}

const pairLabel = (a: ArmResult, b: ArmResult): string => `${a.label} vs ${b.label}`;

/** The paper's Tables 10–11: p-values of the external cohort, one row per pair. */
function pValueTable(ctx: TableContext, id: string, title: string, metrics: MetricKey[]): ResultTable {
  const fn = new Footnotes();
  const columns = [
    ...headColumns('Experiment pairs', ctx.showPaper),
    ...metrics.map((m): ResultColumn => ({ key: `external.${m}`, header: `P-value for ${METRIC_HEADERS[m].replace(' Score', '')}`, kind: 'pvalue', metric: m, split: 'external' })),
  ];
  const rows: ResultRow[] = [];
  const warnings: string[] = [];
  for (const [a, b] of armPairs(ctx.arms)) {
    const head = ctx.showPaper ? [label(pairLabel(a, b)), label('this run')] : [label(pairLabel(a, b))];
    rows.push({ key: `${a.arm}|${b.arm}`, source: 'this run', cells: [...head, ...metrics.map((m) => pairCell(ctx, a, b, 'external', m, fn, warnings))] });
    if (!ctx.showPaper || !isProposedArm(a.arm)) continue;
    const values = metrics.map((m) => paperPValue(b.arm, 'external', m));
    if (values.every((v) => v === undefined)) continue;
    const cells = values.map((v): Cell => {
      if (v === undefined) return na(fn, `the paper has no such test for ${pairLabel(a, b)}`);
      if (v === null) return na(fn, `${pairLabel(a, b)}: this row of the paper's Table 11 did not survive in its text (the text says p < 0.05)`);
      return { kind: 'paper', value: v, format: 'p4', text: fixed(v, 4), footnotes: [] };
    });
    rows.push({ key: `${a.arm}|${b.arm}/paper`, source: 'paper', cells: [label(pairLabel(a, b)), label('paper'), ...cells] });
  }
  const notes = ['Two-sided paired t-test over folds; t and df are kept in results.json and the CSV.'];
  if (rows.length === 0) notes.push('Only one arm: nothing to test.');
  return { id, title, columns, rows, footnotes: fn.list, notes, ...(warnings.length ? { warnings } : {}) };
}

/**
 * A pair's test cell; on Dice, footnoted with both arms' explainability
 * warnings (collected in `warnings`), `prefix` naming the cohort where the
 * table has both.
 */
function pairCell(ctx: TableContext, a: ArmResult, b: ArmResult, split: Split, metric: MetricKey, fn: Footnotes, warnings: string[], prefix = ''): Cell {
  const cell = testCell(ctx, findTest(ctx, a.arm, b.arm, split, metric), fn);
  if (!MAP_METRICS.includes(metric)) return cell;
  const w = mapWarnings(ctx, [a.arm, b.arm], split).map((x) => `${prefix}${x}`);
  for (const x of w) if (!warnings.includes(x)) warnings.push(x);
  return withWarnings(cell, w, fn);
}

/** Every test: one row per arm pair and cohort, one column per metric. */
function allTestsTable(ctx: TableContext): ResultTable {
  const fn = new Footnotes();
  const metrics: MetricKey[] = ['auc', 'precision', 'recall', 'f1', 'dice2d', 'dice3d', ...(recordsMass(ctx.arms) ? (['mass3d'] as const) : [])];
  const columns: ResultColumn[] = [
    { key: 'label', header: 'Experiment pair', kind: 'label' },
    { key: 'cohort', header: 'Cohort', kind: 'label' },
    ...metrics.map((m): ResultColumn => ({ key: m, header: METRIC_HEADERS[m].replace(' Score', ''), kind: 'pvalue', metric: m })),
  ];
  const rows: ResultRow[] = [];
  const warnings: string[] = [];
  for (const [a, b] of armPairs(ctx.arms)) {
    for (const split of ['internal', 'external'] as const) {
      const cells = metrics.map((m) => pairCell(ctx, a, b, split, m, fn, warnings, `${COHORT[split]} cohort: `));
      rows.push({ key: `${a.arm}|${b.arm}|${split}`, source: 'this run', cells: [label(pairLabel(a, b)), label(COHORT[split]), ...cells] });
    }
  }
  const notes = ['Cells: two-sided p of the paired t-test over folds (beyond the paper, which tests external AUC, F1 and Dice only).'];
  if (rows.length === 0) notes.push('Only one arm: nothing to test.');
  return { id: 'ttests', title: 'Paired t-tests over folds: every metric and cohort', columns, rows, footnotes: fn.list, notes, ...(warnings.length ? { warnings } : {}) };
}

/** Arms in the paper's order (known names first), others after in input order. */
export function sortArms(kind: 'experiment' | 'ablation', arms: readonly ArmResult[]): ArmResult[] {
  const order: readonly string[] = kind === 'experiment' ? EXPERIMENT_ARMS : ABLATION_ARMS;
  const rank = (a: ArmResult): number => {
    const i = order.indexOf(kind === 'ablation' && a.arm === 'pretrained' ? 'proposed' : a.arm);
    return i < 0 ? order.length : i;
  };
  return arms.map((a, i) => ({ a, i })).sort((x, y) => rank(x.a) - rank(y.a) || x.i - y.i).map((x) => x.a);
}

const cls = (split: Split): MetricColumn[] => (['auc', 'precision', 'recall', 'f1'] as const).map((metric) => ({ split, metric }));
// each Dice beside the whole-map floor of the same cases, then the maps' mean foreground fraction
// then, where recorded, the threshold-free measures: mass in tumour beside a flat map's, and the peak's hits
const dice = (split: Split, mass: boolean): MetricColumn[] =>
  (['dice2d', 'floor2d', 'dice3d', 'floor3d', 'foreground', ...(mass ? (['mass3d', 'massFloor3d', 'pointing'] as const) : [])] as const).map((metric) => ({ split, metric }));

export function experimentTables(ctx: TableContext): ResultTable[] {
  const inCv = 'Internal: each fold\'s model on its held-out fold of Dataset 1.';
  const ext = 'External: each fold\'s model on the whole of Dataset 2.';
  const diceNote = 'Dice of the thresholded attention map with the tumour mask: 3D over the volume, 2D on the axial slice of largest tumour area.';
  const floorNote =
    'Beside each Dice: the Dice of the map covering the whole slice or volume on the same cases, 2|M|/(|M|+|V|), which any map reaches by covering everything; Map foreground: the mean share of voxels the binary maps cover.';
  const massNote =
    'Threshold-free, on the heatmap before binarisation: Map mass in tumour, the share of the map\'s mass on tumour voxels, beside that of a flat map (the tumour\'s share of the volume); Peak in tumour, the share of cases whose map peaks on a tumour voxel.';
  // Tables 3 and 4: the mass columns and their note where some arm recorded them on the cohort
  const explainTable = (id: string, title: string, split: Split, cohort: string): ResultTable => {
    const mass = recordsMass(ctx.arms, split);
    return armTable(ctx, id, title, 'Model initialization', dice(split, mass), [cohort, diceNote, floorNote, ...(mass ? [massNote] : [])], baselineMethods(ctx.arms, split));
  };
  return [
    armTable(ctx, 'table1', 'Table 1. Classification, internal cohort (Dataset 1)', 'Model initialization', cls('internal'), [inCv]),
    armTable(ctx, 'table2', 'Table 2. Classification, external cohort (Dataset 2)', 'Model initialization', cls('external'), [ext]),
    explainTable('table3', 'Table 3. Explainability, internal cohort (Dataset 1)', 'internal', inCv),
    explainTable('table4', 'Table 4. Explainability, external cohort (Dataset 2)', 'external', ext),
    pValueTable(ctx, 'table10', 'Table 10. Paired t-test p-values, external classification', ['auc', 'f1']),
    pValueTable(ctx, 'table11', 'Table 11. Paired t-test p-values, external explainability', ['dice2d', 'dice3d']),
    allTestsTable(ctx),
  ];
}

export function ablationTables(ctx: TableContext): ResultTable[] {
  const cols: MetricColumn[] = [
    { split: 'external', metric: 'auc' },
    { split: 'external', metric: 'f1' },
  ];
  const notes = [
    'Downstream classification on the external cohort (Dataset 2) initialised from each pretraining variant.',
    'The paper prints the means only ("Mean AUC", "Mean F1-score"); here mean ± std.',
  ];
  return [armTable(ctx, 'table5', 'Table 5. Ablations, external cohort (Dataset 2)', 'Experiment', cols, notes), allTestsTable(ctx)];
}

// ---- the document ----

function cohortNote(arms: readonly ArmResult[]): string | undefined {
  const arm = arms.find((a) => a.folds.length > 0);
  if (!arm) return undefined;
  const n = arm.folds.reduce((s, f) => s + f.internal.n, 0);
  const pos = arm.folds.reduce((s, f) => s + f.internal.positives, 0);
  const ext = arm.folds.find((f) => f.external !== null)?.external;
  const k = arm.folds.length;
  const extText = ext ? `external cohort ${ext.n} cases (${ext.positives} positive)` : 'no external cohort';
  return `Cases (${arm.label}): internal held-out folds ${n} over ${k} fold${k === 1 ? '' : 's'} (${pos} positive, BRAF V600E); ${extText}.`;
}

/**
 * The results document of one run: the paper-layout tables (experiment:
 * Tables 1–4, 10, 11; ablation: Table 5), every paired t-test and notes.
 * `source` names the input in error messages (e.g. its file path).
 */
export function buildResults(input: ResultsInput, source = 'results input'): ResultsDoc {
  const inp = checkResultsInput(input, source);
  const arms = sortArms(inp.kind, inp.arms);
  const tests: PairedTestResult[] = [];
  // the mass's tests where some arm recorded it (older results have none)
  const metrics = METRICS.filter((m) => m !== 'mass3d' || recordsMass(arms));
  for (const [a, b] of armPairs(arms)) for (const split of SPLITS) for (const metric of metrics) tests.push(pairedFoldTest(a, b, split, metric));
  const checks = explainChecks(arms, SPLITS);
  const ci = inp.caseResults !== undefined ? bootstrapCis(arms, checkFoldCases(inp.caseResults, source), { seed: inp.config?.seed }) : [];
  const ctx: TableContext = { kind: inp.kind, arms, tests, showPaper: inp.showPaper === true, expectedFolds: inp.config?.folds, checks };
  const tables = inp.kind === 'experiment' ? experimentTables(ctx) : ablationTables(ctx);
  const notes = [
    'Cells: mean ± std over folds; std is the sample standard deviation (n − 1); a single fold has no std.',
    'Paired t-tests: two-sided, over the folds both arms have (as scipy.stats.ttest_rel); t > 0 when the first arm of a pair scores higher.',
  ];
  const cohorts = cohortNote(arms);
  if (cohorts) notes.push(cohorts);
  // computed from each fold's predicted-positive count, so they come and go with the predictions
  const warnings = arms.flatMap((a) => SPLITS.map((split) => singleClassWarning(a, split))).filter((w): w is string => w !== undefined).map((w) => `Warning: ${w}.`);
  // explainability: maps covering most of the volume, or a grid too coarse to outline a tumour
  for (const split of SPLITS) {
    for (const w of mapWarnings(ctx, arms.map((a) => a.arm), split)) warnings.push(`Warning: ${COHORT[split]} cohort, attention maps: ${w}.`);
  }
  notes.push(...warnings);
  if (ctx.showPaper) notes.push('Rows marked "paper" are the paper\'s published figures, not this run.');
  notes.push(
    inp.kind === 'experiment'
      ? 'Layout: the paper\'s Tables 1–4, 10 and 11, with "mean ± std" where the paper prints "mean (std)" and p < 0.0001 as "<0.0001" where it prints 0.0000; the last table (every test) is beyond the paper.'
      : 'Layout: the paper\'s Table 5, with the std added (the paper prints means only); the last table (every test) is beyond the paper.',
  );
  return {
    format: 'mrcl-results-1',
    kind: inp.kind,
    runId: inp.runId,
    title: inp.kind === 'experiment' ? `Results of ${inp.runId}` : `Ablations of ${inp.runId}`,
    ...(inp.config ? { config: { folds: inp.config.folds, seed: inp.config.seed } } : {}),
    showPaper: ctx.showPaper,
    std: 'sample (n-1)',
    arms: arms.map((a) => ({
      arm: a.arm,
      label: a.label,
      status: a.status,
      ...(a.reason !== undefined ? { reason: a.reason } : {}),
      folds: a.folds.map((f) => f.fold).sort((x, y) => x - y),
      ...(a.folds.length ? { attentionGrid: [...a.folds].sort((x, y) => x.fold - y.fold).find((f) => f.attentionGrid)?.attentionGrid ?? null } : {}),
    })),
    tables,
    tests,
    notes,
    warnings,
    ...(checks.length ? { explain: checks } : {}),
    ...(ci.length ? { ci } : {}),
  };
}

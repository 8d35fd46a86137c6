// Degenerate attention maps: maps covering most of the volume, or a layer4
// grid below 4×4×3, are warned about in the tables (Markdown, CSV, LaTeX),
// the document (CLI, results panel) and results.json; focused maps on a fine
// grid are not. Values by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildResults, checkResultsInput, renderCsv, renderLatex, renderMarkdown } from '../../../src/engine/results';
import type { ArmResult, AttentionGrid, ResultsInput, ResultTable, SplitMetrics } from '../../../src/engine/results';

interface Maps {
  dice: number;
  foreground: number;
  floor2d?: number;
  floor3d?: number;
  bound2d?: number;
  bound3d?: number;
}

const sm = (m: Maps): SplitMetrics => ({
  n: 40,
  positives: 13,
  auc: 0.7,
  precision: 0.5,
  recall: 0.5,
  f1: 0.5,
  dice2d: m.dice * 4,
  dice3d: m.dice,
  foreground: m.foreground,
  floor2d: m.floor2d ?? 0.04,
  floor3d: m.floor3d ?? 0.006,
  bound2d: m.bound2d ?? 0.05,
  bound3d: m.bound3d ?? 0.008,
});

function arm(name: string, label: string, grid: AttentionGrid | null, folds: Maps[]): ArmResult {
  return { arm: name, label, status: 'done', folds: folds.map((m, k) => ({ arm: name, fold: k, internal: sm(m), external: null, attentionGrid: grid })) };
}

function input(arms: ArmResult[]): ResultsInput {
  return { kind: 'experiment', runId: 'r', arms, config: { folds: 2, seed: 1 } };
}

const table = (doc: { tables: ResultTable[] }, id: string): ResultTable => doc.tables.find((t) => t.id === id) as ResultTable;
const texts = (t: ResultTable) => t.rows.map((r) => r.cells.map((c) => `${c.text}${c.footnotes.map((n) => `[${n}]`).join('')}`));

// whole-volume maps: foreground 99.8 % and 100 % → mean 99.9 %, Dice = the floor
const WHOLE: Maps[] = [
  { dice: 0.006, foreground: 0.998, floor3d: 0.006, floor2d: 0.04 },
  { dice: 0.006, foreground: 1, floor3d: 0.006, floor2d: 0.04 },
];
// focused maps: 10 % and 20 % of the volume
const FOCUSED: Maps[] = [
  { dice: 0.15, foreground: 0.1, bound3d: 0.9, bound2d: 0.95 },
  { dice: 0.25, foreground: 0.2, bound3d: 0.9, bound2d: 0.95 },
];

test('whole-volume maps get the warning on their Dice cells, focused maps on a fine grid none', () => {
  const doc = buildResults(input([arm('random', 'Random init', [8, 8, 5], WHOLE), arm('pretrained', 'Proposed CL', [8, 8, 5], FOCUSED)]));
  const t3 = table(doc, 'table3');
  const warning = 'Random init maps cover 99.9% of the volume on average (> 50%): Dice ≈ the whole-volume floor (0.6% 3D, 4.0% 2D), whatever the model';
  assert.deepEqual(t3.warnings, [warning]);
  assert.deepEqual(t3.footnotes, [`Warning: ${warning}.`]);
  assert.deepEqual(texts(t3), [
    ['Random init', '2.4% ± 0.0%[1]', '4.0% ± 0.0%[1]', '0.6% ± 0.0%[1]', '0.6% ± 0.0%[1]', '99.9% ± 0.1%[1]'],
    ['Proposed CL', '80.0% ± 28.3%', '4.0% ± 0.0%', '20.0% ± 7.1%', '0.6% ± 0.0%', '15.0% ± 7.1%'],
  ]);
  // not on the classification tables
  assert.ok(table(doc, 'table1').rows.every((r) => r.cells.every((c) => c.footnotes.length === 0)));
  // the document: one line naming the cohort, for the CLI and the results panel
  assert.deepEqual(doc.warnings, [`Warning: internal cohort, attention maps: ${warning}.`]);
  // results.json: the checks per arm and cohort, the grid per arm
  const random = doc.explain?.find((c) => c.arm === 'random' && c.split === 'internal');
  assert.ok(random);
  assert.equal(random.wholeVolume, true);
  assert.equal(random.coarseGrid, false);
  assert.ok(Math.abs((random.foreground as number) - 0.999) < 1e-12);
  assert.deepEqual(random.attentionGrids, [[8, 8, 5]]);
  const cl = doc.explain?.find((c) => c.arm === 'pretrained');
  assert.equal(cl?.wholeVolume, false);
  assert.deepEqual(cl?.warnings, []);
  assert.ok(Math.abs((cl?.foreground as number) - 0.15) < 1e-12);
  assert.deepEqual(doc.arms.map((a) => a.attentionGrid), [[8, 8, 5], [8, 8, 5]]);

  const focused = buildResults(input([arm('pretrained', 'Proposed CL', [8, 8, 5], FOCUSED)]));
  assert.equal(table(focused, 'table3').warnings, undefined);
  assert.deepEqual(focused.warnings, []);
  assert.ok(focused.tables.every((t) => t.footnotes.every((f) => !f.startsWith('Warning'))));
});

test('a grid below 4×4×3 is warned about with the best grid-cell Dice, even for focused maps', () => {
  const coarse = FOCUSED.map((m) => ({ ...m, bound3d: 0.008, bound2d: 0.05 }));
  const doc = buildResults(input([arm('random', 'Random init', [2, 2, 2], WHOLE), arm('pretrained', 'Proposed CL', [2, 2, 2], coarse)]));
  const t3 = table(doc, 'table3');
  const grid = 'attention grid 2×2×2 < 4×4×3: a perfect map made of whole grid cells would reach at most 0.8% 3D Dice (5.0% 2D) on these cases';
  assert.equal(t3.warnings?.[0], grid);
  assert.equal(t3.warnings?.length, 2); // and Random init's coverage
  // the Proposed CL row carries the grid warning only
  const cl = t3.rows.find((r) => r.key === 'pretrained')!;
  assert.deepEqual(cl.cells.slice(1).map((c) => c.footnotes.map((n) => t3.footnotes[n - 1])), new Array(5).fill([`Warning: ${grid}.`]));
  assert.ok(doc.explain?.every((c) => c.coarseGrid));
  // any axis below: 8×8×2 is too coarse, 4×4×3 is not
  const flat = buildResults(input([arm('pretrained', 'Proposed CL', [8, 8, 2], FOCUSED)]));
  assert.match(table(flat, 'table3').warnings?.[0] ?? '', /^attention grid 8×8×2 < 4×4×3: /);
  assert.equal(buildResults(input([arm('pretrained', 'Proposed CL', [4, 4, 3], FOCUSED)])).warnings?.length, 0);
  // the Dice p-values of a pair warn too (Table 11 is external: this run has none; the all-tests table has internal)
  const tt = table(doc, 'ttests');
  assert.deepEqual(tt.warnings, t3.warnings!.map((w) => `internal cohort: ${w}`));
  const row = tt.rows.find((r) => r.key === 'pretrained|random|internal')!;
  const col = tt.columns.findIndex((c) => c.key === 'dice3d');
  assert.equal(row.cells[col]!.footnotes.length, 2);
  assert.equal(row.cells[tt.columns.findIndex((c) => c.key === 'auc')]!.footnotes.length, 0);
});

test('older results without a grid or bounds: a coarse-grid warning needs the grid; coverage still warns', () => {
  const old = arm('random', 'Random init', null, WHOLE);
  for (const f of old.folds) {
    delete f.attentionGrid;
    delete f.internal.bound2d;
    delete f.internal.bound3d;
  }
  const doc = buildResults(input([old]));
  assert.equal(doc.explain?.[0]?.coarseGrid, false);
  assert.equal(doc.arms[0]?.attentionGrid, null);
  assert.match(doc.warnings?.[0] ?? '', /Random init maps cover 99\.9% of the volume/);
});

test('the warning renders in Markdown (before the table), CSV (notes column) and LaTeX (bold, below)', () => {
  const doc = buildResults(input([arm('random', 'Random init', [2, 2, 2], WHOLE)]));
  const t3 = table(doc, 'table3');
  const [grid, cover] = t3.warnings!;
  const md = renderMarkdown(doc);
  const section = md.slice(md.indexOf('## Table 3.'), md.indexOf('## Table 4.'));
  assert.ok(section.startsWith(`## Table 3. Explainability, internal cohort (Dataset 1)\n\n> **Warning:** ${grid}  \n> **Warning:** ${cover}  \n\n| Model initialization |`), section);
  const csv = renderCsv(t3).split('\n');
  assert.equal(csv[0], 'Model initialization,2D Dice Score mean,2D Dice Score std,"2D Dice, whole-slice map mean","2D Dice, whole-slice map std",3D Dice Score mean,3D Dice Score std,"3D Dice, whole-volume map mean","3D Dice, whole-volume map std",Map foreground mean,Map foreground std,notes');
  assert.ok(csv[1]!.endsWith(`"[1] Warning: ${grid}.; [2] Warning: ${cover}."`), csv[1]);
  const tex = renderLatex(t3);
  assert.match(tex, /\\textbf\{Warning:\} attention grid 2\$\\times\$2\$\\times\$2 \\textless\{\} 4\$\\times\$4\$\\times\$3: a perfect map/);
  assert.match(tex, /\\textbf\{Warning:\} Random init maps cover 99\.9\\% of the volume/);
  // no warning, no banner
  const calm = buildResults(input([arm('pretrained', 'Proposed CL', [8, 8, 5], FOCUSED)]));
  assert.doesNotMatch(renderMarkdown(calm), /Warning/);
  assert.doesNotMatch(renderLatex(table(calm, 'table3')), /Warning/);
});

test('checkResultsInput: the attention grid and the map fractions are checked', () => {
  const bad = input([arm('random', 'Random init', [2, 2, 2], WHOLE)]);
  (bad.arms[0]!.folds[0] as { attentionGrid: unknown }).attentionGrid = [2, 0, 2];
  assert.throws(() => checkResultsInput(bad, 'runs/x'), /runs\/x: arms\[0\]\.folds\[0\]\.attentionGrid is \[2,0,2\], expected three positive integers or null/);
  const frac = input([arm('random', 'Random init', [2, 2, 2], WHOLE)]);
  frac.arms[0]!.folds[1]!.internal.foreground = 1.5;
  assert.throws(() => checkResultsInput(frac, 'runs/x'), /arms\[0\]\.folds\[1\]\.internal\.foreground is 1\.5, expected a number in \[0, 1\] or null/);
});

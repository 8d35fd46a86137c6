import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildResults, compareResults, renderCsv, renderLatex, renderMarkdown } from '../../../src/engine/results';
import type { ArmResult, SplitMetrics } from '../../../src/engine/results';
import { checkResultsDoc, docWarnings, tableView } from '../../../webview/common/results-rows';
import { exportResults } from '../../../src/extension/panels/results-logic';

const sm = (auc: number, f1: number): SplitMetrics => ({ n: 40, positives: 13, auc, precision: f1, recall: f1, f1, dice2d: 0.1, dice3d: 0.2 });
const arm = (name: string, label: string, auc: number[]): ArmResult => ({
  arm: name, label, status: 'done', folds: auc.map((a, k) => ({ arm: name, fold: k, internal: sm(a, 0.5), external: null })),
});
const doc = (id: string, shift: number) =>
  buildResults({ kind: 'experiment', runId: id, arms: [arm('random', 'Random init', [0.6 + shift, 0.7 + shift, 0.8 + shift]), arm('pretrained', 'Proposed CL', [0.8, 0.9, 0.85])], showPaper: false });

test('table view: header, display texts with footnote marks, hover titles', () => {
  const d = doc('run-a', 0);
  const v = tableView(d.tables[0]!);
  assert.equal(v.id, d.tables[0]!.id);
  assert.deepEqual(v.header, d.tables[0]!.columns.map((c) => c.header));
  assert.equal(v.rows[0]![0]!.text, 'Random init');
  assert.equal(v.rows[0]![0]!.kind, 'label');
  assert.equal(v.rows[0]![1]!.text, '0.700 ± 0.100');
  assert.equal(v.rows[0]![1]!.title, 'mean ± sample std over 3 folds');
  const tt = d.tables.find((t) => t.id === 'ttests');
  if (tt) {
    const cell = tableView(tt).rows.flat().find((c) => c.kind === 'pvalue');
    if (cell) assert.match(cell.title!, /^paired t-test over 3 folds: t = /);
  }
});

test('exports are the engine renderers, one table for CSV/LaTeX, all for markdown', () => {
  const d = doc('run-a', 0);
  const t2 = d.tables[1]!;
  assert.deepEqual(exportResults(d, 'markdown', undefined, 'r.json'), { text: renderMarkdown(d), fileName: 'results.md' });
  assert.deepEqual(exportResults(d, 'csv', undefined, 'r.json'), { text: renderCsv(d.tables[0]!), fileName: `${d.tables[0]!.id}.csv` });
  assert.deepEqual(exportResults(d, 'latex', t2.id, 'r.json'), { text: renderLatex(t2), fileName: `${t2.id}.tex` });
  const c = compareResults(d, doc('run-b', 0.1));
  assert.equal(exportResults(c, 'csv', undefined, 'r.json').fileName, `comparison-${c.tables[0]!.id}.csv`);
  assert.throws(() => exportResults(d, 'csv', 'nope', 'runs/x/results.json'), /runs\/x\/results\.json: no table "nope"/);
});

test('checkResultsDoc accepts built documents and names the file on bad ones', () => {
  const d = doc('run-a', 0);
  assert.equal(checkResultsDoc(JSON.parse(JSON.stringify(d)), 'r.json').runId, 'run-a');
  assert.throws(() => checkResultsDoc([], 'r.json'), /r\.json: format is undefined/);
  assert.throws(() => checkResultsDoc({ format: 'x' }, 'r.json'), /expected "mrcl-results-1"/);
  const bad = JSON.parse(JSON.stringify(d));
  bad.tables[0].rows[0].cells.pop();
  assert.throws(() => checkResultsDoc(bad, 'runs/a/results.json'), /runs\/a\/results\.json: table table1 row .* cells for/);
});

test('results panel: degenerate attention maps are warned about above the document and the table', () => {
  const maps = (dice: number, foreground: number): SplitMetrics => ({ ...sm(0.7, 0.5), dice2d: dice, dice3d: dice, foreground, floor2d: 0.04, floor3d: 0.006, bound2d: 0.05, bound3d: 0.008 });
  const whole: ArmResult = { arm: 'random', label: 'Random init', status: 'done', folds: [0, 1].map((k) => ({ arm: 'random', fold: k, internal: maps(0.006, 1), external: null, attentionGrid: [2, 2, 2] as [number, number, number] })) };
  const d = buildResults({ kind: 'experiment', runId: 'run-w', arms: [whole], showPaper: false });
  const t3 = tableView(d.tables.find((t) => t.id === 'table3')!);
  assert.deepEqual(t3.warnings, [
    'attention grid 2×2×2 < 4×4×3: a perfect map made of whole grid cells would reach at most 0.8% 3D Dice (5.0% 2D) on these cases',
    'Random init maps cover 100.0% of the volume on average (> 50%): Dice ≈ the whole-volume floor (0.6% 3D, 4.0% 2D), whatever the model',
  ]);
  assert.deepEqual(docWarnings(d), t3.warnings.map((w) => `Warning: internal cohort, attention maps: ${w}.`));
  assert.match(t3.rows[0]![1]!.text, /\[1\]\[2\]$/);
  // none for a document without them (older results)
  assert.deepEqual(tableView(doc('run-a', 0).tables[2]!).warnings, []);
  assert.deepEqual(docWarnings({ ...doc('run-a', 0), warnings: undefined }), []);
});

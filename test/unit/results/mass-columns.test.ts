// The threshold-free map measures in Tables 3 and 4 and the t-tests: their
// columns and the mass's paired t-test appear where some arm recorded them,
// baseline rows show their own mass and peak, an arm made before the columns
// existed is footnoted, and results without them are laid out as before.
// Values by hand in the comments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildResults, renderMarkdown } from '../../../src/engine/results';
import type { ArmResult, FoldResult, PValueCell, ResultsDoc, ResultTable, SplitMetrics } from '../../../src/engine/results';

const sm = (mass?: { mass3d: number; pointing: number }): SplitMetrics => ({
  n: 10, positives: 4, auc: 0.7, precision: 0.5, recall: 0.5, f1: 0.5, dice2d: 0.2, dice3d: 0.1, foreground: 0.05, floor2d: 0.05, floor3d: 0.01,
  ...(mass ? { mass3d: mass.mass3d, massFloor3d: 0.004, pointing: mass.pointing } : {}),
});

/** Three folds; internal mass `base` + 0.1k (k = fold), peak hits 0.2k; external without the measures; CL's Grad-CAM with its own. */
function arm(name: string, label: string, base: number | undefined): ArmResult {
  const folds: FoldResult[] = [0, 1, 2].map((k) => ({
    arm: name,
    fold: k,
    internal: sm(base === undefined ? undefined : { mass3d: base + 0.1 * k * (name === 'pretrained' ? 2 : 1), pointing: 0.2 * k }),
    external: sm(),
    baselines: { internal: { gradCam: { n: 10, dice2d: 0.1, dice3d: 0.05, foreground: 0.3, ...(base === undefined ? {} : { mass3d: 0.02, pointing: 0.1 }) } }, external: null },
  }));
  return { arm: name, label, status: 'done', folds };
}

const table = (doc: ResultsDoc, id: string): ResultTable => doc.tables.find((t) => t.id === id)!;
const cell = (t: ResultTable, row: string, col: string) => t.rows.find((r) => r.key === row)!.cells[t.columns.findIndex((c) => c.key === col)]!;

test('Table 3 shows the mass, the flat map\'s mass and the peak where recorded; the mass is t-tested', () => {
  const doc = buildResults({ kind: 'experiment', runId: 'm', arms: [arm('random', 'Random init', 0.01), arm('pretrained', 'Proposed CL', 0.03)], showPaper: false });
  const t3 = table(doc, 'table3');
  assert.deepEqual(t3.columns.slice(-3).map((c) => c.key), ['internal.mass3d', 'internal.massFloor3d', 'internal.pointing']);
  // CL: 0.03, 0.23, 0.43 → mean 23.0%, std 0.2 → 20.0%; random 0.01, 0.11, 0.21 → 11.0% ± 10.0%
  assert.equal(cell(t3, 'pretrained', 'internal.mass3d').text, '23.0% ± 20.0%');
  assert.equal(cell(t3, 'random', 'internal.mass3d').text, '11.0% ± 10.0%');
  assert.equal(cell(t3, 'random', 'internal.massFloor3d').text, '0.4% ± 0.0%');
  // peak hits 0, 0.2, 0.4 → 20.0% ± 20.0%
  assert.equal(cell(t3, 'random', 'internal.pointing').text, '20.0% ± 20.0%');
  // baseline rows: their own mass and peak; the flat map's mass is the arm's
  assert.equal(cell(t3, 'pretrained/gradCam', 'internal.mass3d').text, '2.0% ± 0.0%');
  assert.equal(cell(t3, 'pretrained/gradCam', 'internal.pointing').text, '10.0% ± 0.0%');
  assert.equal(cell(t3, 'pretrained/gradCam', 'internal.massFloor3d').kind, 'na');
  assert.ok(t3.notes.some((n) => n.startsWith('Threshold-free, on the heatmap before binarisation')));
  // the external cohort recorded none: Table 4 as before
  assert.deepEqual(table(doc, 'table4').columns.map((c) => c.key).filter((k) => k.includes('mass') || k.includes('pointing')), []);
  // differences CL − random 0.02, 0.12, 0.22: mean 0.12, sd 0.1, t = 0.12/(0.1/√3) = 2.0785, df 2
  const test = doc.tests.find((x) => x.metric === 'mass3d' && x.split === 'internal' && x.a === 'pretrained' && x.b === 'random')!;
  assert.equal(test.status, 'done');
  assert.ok(Math.abs(test.t! - 0.12 / (0.1 / Math.sqrt(3))) < 1e-9, `t ${test.t}`);
  const tt = table(doc, 'ttests');
  assert.equal(tt.columns.at(-1)!.key, 'mass3d');
  assert.equal((cell(tt, 'pretrained|random|internal', 'mass3d') as PValueCell).kind, 'pvalue');
  assert.match(renderMarkdown(doc), /Map mass in tumour \| Mass of a flat map \| Peak in tumour/);
});

test('an arm made before the measures existed is footnoted; results without them keep their former layout', () => {
  const mixed = buildResults({ kind: 'experiment', runId: 'm', arms: [arm('random', 'Random init', undefined), arm('pretrained', 'Proposed CL', 0.03)], showPaper: false });
  const t3 = table(mixed, 'table3');
  const c = cell(t3, 'random', 'internal.mass3d');
  assert.equal(c.kind, 'na');
  assert.match(t3.footnotes[c.footnotes[0]! - 1]!, /^Not recorded for this arm .*mrcl evaluate RUN --maps/);
  assert.equal(cell(t3, 'random/gradCam', 'internal.mass3d').kind, 'na');
  const old = buildResults({ kind: 'experiment', runId: 'o', arms: [arm('random', 'Random init', undefined), arm('pretrained', 'Proposed CL', undefined)], showPaper: false });
  assert.deepEqual(table(old, 'table3').columns.map((x) => x.key).slice(-1), ['internal.foreground']);
  assert.equal(old.tests.some((x) => x.metric === 'mass3d'), false);
  assert.equal(table(old, 'ttests').columns.at(-1)!.key, 'dice3d');
});

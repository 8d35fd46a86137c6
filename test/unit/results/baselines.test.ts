// Baseline explanations (Grad-CAM, occlusion; metrics.json `baselines`) in
// Tables 3 and 4: rows after each arm's, mean ± std over folds of the folds'
// means, only when the run computed them; their bootstrap CIs from the folds'
// explain-baselines.csv rows. Values are derived by hand in the comments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildResults, checkResultsInput, compareResults, renderMarkdown } from '../../../src/engine/results';
import type { ArmResult, BaselineMeans, FoldResult, ResultsDoc, ResultTable, SplitMetrics, StatCell } from '../../../src/engine/results';
import { bootstrapCis, checkFoldCases, type FoldCases } from '../../../src/engine/results/bootstrap-ci';
import { diceBootstrapCi } from '../../../src/engine/metrics';
import { hashSeed } from '../../../src/engine/util/rng';

const sm = (dice3d: number): SplitMetrics => ({ n: 10, positives: 4, auc: 0.7, precision: 0.5, recall: 0.5, f1: 0.5, dice2d: 2 * dice3d, dice3d, foreground: 0.1, floor2d: 0.05, floor3d: 0.01 });
const bm = (dice2d: number, dice3d: number, foreground: number): BaselineMeans => ({ n: 10, dice2d, dice3d, foreground });

/** Two folds; fold k's Grad-CAM Dice 0.1 + 0.2k (2D), 0.05 + 0.1k (3D), foreground 0.2 + 0.2k; occlusion on the internal cohort only. */
function arm(name: string, label: string, withBaselines = true): ArmResult {
  const folds: FoldResult[] = [0, 1].map((k) => ({
    arm: name,
    fold: k,
    internal: sm(0.1),
    external: sm(0.2),
    ...(withBaselines
      ? { baselines: { internal: { gradCam: bm(0.1 + 0.2 * k, 0.05 + 0.1 * k, 0.2 + 0.2 * k), occlusion: bm(0.5, 0.4, 0.6) }, external: { gradCam: bm(0.3, 0.2, 0.5) } } }
      : {}),
  }));
  return { arm: name, label, status: 'done', folds };
}

const table = (doc: ResultsDoc, id: string): ResultTable => doc.tables.find((t) => t.id === id)!;
const texts = (t: ResultTable, key: string): string[] => t.rows.find((r) => r.key === key)!.cells.map((c) => c.text + c.footnotes.map((n) => `[${n}]`).join(''));

test('Tables 3 and 4 gain a row per arm and baseline method, after the arm\'s; existing rows unchanged', () => {
  const doc = buildResults({ kind: 'experiment', runId: 'b', arms: [arm('random', 'Random init'), arm('pretrained', 'Proposed CL')], showPaper: false });
  const plain = buildResults({ kind: 'experiment', runId: 'b', arms: [arm('random', 'Random init', false), arm('pretrained', 'Proposed CL', false)], showPaper: false });
  const t3 = table(doc, 'table3');
  assert.deepEqual(t3.rows.map((r) => r.key), ['random', 'random/gradCam', 'random/occlusion', 'pretrained', 'pretrained/gradCam', 'pretrained/occlusion']);
  assert.deepEqual(t3.rows.map((r) => r.explanation), [undefined, 'gradCam', 'occlusion', undefined, 'gradCam', 'occlusion']);
  // columns: 2D Dice, its floor, 3D Dice, its floor, foreground
  // Grad-CAM 2D: folds 0.1, 0.3 → mean 0.2, sample std √(0.01 + 0.01) = 0.1414 → 20.0% ± 14.1%
  // 3D: 0.05, 0.15 → 10.0% ± 7.1%; foreground 0.2, 0.4 → 30.0% ± 14.1%
  assert.deepEqual(texts(t3, 'random/gradCam'), ['Random init, Grad-CAM', '20.0% ± 14.1%', 'n/a[1]', '10.0% ± 7.1%', 'n/a[1]', '30.0% ± 14.1%']);
  // occlusion: constant over folds → std 0
  assert.deepEqual(texts(t3, 'pretrained/occlusion'), ['Proposed CL, occlusion', '50.0% ± 0.0%', 'n/a[1]', '40.0% ± 0.0%', 'n/a[1]', '60.0% ± 0.0%']);
  assert.match(t3.footnotes[0]!, /^Baseline explanation rows: the whole-map floor and the flat map's mass are those of the same cases/);
  assert.ok(t3.notes.some((n) => n.startsWith('Rows ending in ", Grad-CAM" and ", occlusion": the same models explained by these standard methods')));
  const cell = t3.rows[1]!.cells[1] as StatCell;
  assert.equal(cell.kind, 'stat');
  assert.ok(Math.abs(cell.mean - 0.2) < 1e-12 && Math.abs(cell.std! - Math.SQRT2 / 10) < 1e-12 && cell.n === 2);
  // Table 4: the external cohort has Grad-CAM only
  assert.deepEqual(table(doc, 'table4').rows.map((r) => r.key), ['random', 'random/gradCam', 'pretrained', 'pretrained/gradCam']);
  assert.deepEqual(texts(table(doc, 'table4'), 'random/gradCam'), ['Random init, Grad-CAM', '30.0% ± 0.0%', 'n/a[1]', '20.0% ± 0.0%', 'n/a[1]', '50.0% ± 0.0%']);
  // the arm rows, every other table, the tests: as without baselines
  for (const id of ['table3', 'table4']) {
    for (const r of table(plain, id).rows) assert.deepEqual(table(doc, id).rows.find((x) => x.key === r.key), r);
  }
  assert.deepEqual(doc.tables.filter((t) => t.id !== 'table3' && t.id !== 'table4'), plain.tables.filter((t) => t.id !== 'table3' && t.id !== 'table4'));
  assert.deepEqual(doc.tests, plain.tests);
  // none without them
  assert.deepEqual(table(plain, 'table3').rows.map((r) => r.key), ['random', 'pretrained']);
  assert.ok(!table(plain, 'table3').notes.some((n) => n.startsWith('Rows ending')));
  // markdown
  assert.match(renderMarkdown(doc), /\n\| Random init, Grad-CAM \| 20\.0% ± 14\.1% \| n\/a \[1\] \| 10\.0% ± 7\.1% \| n\/a \[1\] \| 30\.0% ± 14\.1% \|\n/);
});

test('with the paper\'s rows, baseline rows follow the paper row; a fold without baselines is footnoted; a missing arm gets none', () => {
  const partial = arm('pretrained', 'Proposed CL');
  delete partial.folds[1]!.baselines;
  const arms: ArmResult[] = [arm('random', 'Random init'), { arm: 'medicalnet', label: 'MedicalNet', status: 'not run', reason: 'no checkpoint', folds: [] }, partial];
  const doc = buildResults({ kind: 'experiment', runId: 'b', arms, showPaper: true });
  const t3 = table(doc, 'table3');
  assert.deepEqual(t3.rows.map((r) => r.key), ['random', 'random/paper', 'random/gradCam', 'random/occlusion', 'medicalnet', 'medicalnet/paper', 'pretrained', 'pretrained/paper', 'pretrained/gradCam', 'pretrained/occlusion']);
  const g = t3.rows.find((r) => r.key === 'pretrained/gradCam')!;
  assert.deepEqual(g.cells.slice(0, 2).map((c) => c.text), ['Proposed CL, Grad-CAM', 'this run']);
  // fold 0 only: 0.1 → 10.0%, no std; footnoted as missing in one fold and as one fold
  assert.equal(g.cells[2]!.text, '10.0%');
  const notes = g.cells[2]!.footnotes.map((n) => t3.footnotes[n - 1]);
  assert.deepEqual(notes, ['Proposed CL, Grad-CAM: internal 2D Dice Score missing in 1 of 2 folds; mean over 1', 'Proposed CL, Grad-CAM: internal 2D Dice Score from one fold, no std']);
});

test('bad baselines in the input name the field', () => {
  const bad = (edit: (f: Record<string, unknown>) => void, re: RegExp) => {
    const a = JSON.parse(JSON.stringify(arm('random', 'Random init')));
    edit(a.folds[1]);
    assert.throws(() => checkResultsInput({ kind: 'experiment', runId: 'b', arms: [a] }, 'run/x'), re);
  };
  bad((f) => ((f.baselines as { internal: Record<string, unknown> }).internal.lime = bm(0.1, 0.1, 0.1)), /^Error: run\/x: arms\[0\]\.folds\[1\]\.baselines\.internal\.lime is not a baseline explanation method \(expected gradCam or occlusion\)/);
  bad((f) => ((f.baselines as { external: { gradCam: BaselineMeans } }).external.gradCam.dice3d = 1.5), /arms\[0\]\.folds\[1\]\.baselines\.external\.gradCam\.dice3d is 1\.5, expected a number in \[0, 1\] or null/);
  bad((f) => ((f.baselines as Record<string, unknown>).internal = null), /arms\[0\]\.folds\[1\]\.baselines\.internal is null, expected an object of methods$/);
  bad((f) => ((f.baselines as { internal: { gradCam: BaselineMeans } }).internal.gradCam.n = -1), /baselines\.internal\.gradCam\.n is -1, expected a whole number ≥ 0/);
  // external null (no external cohort) is fine
  const ok = JSON.parse(JSON.stringify(arm('random', 'Random init')));
  ok.folds[0].baselines.external = null;
  assert.doesNotThrow(() => checkResultsInput({ kind: 'experiment', runId: 'b', arms: [ok] }));
});

/** Each fold's cases: internal Dice 0.1 and 0.1 (fold 0) or 0.3 (fold 1), one case without a mask; Grad-CAM rows to match the arm's means. */
function foldCases(name: string, withBaselines = true): FoldCases[] {
  return [0, 1].map((k) => ({
    arm: name,
    fold: k,
    cases: [
      { cohort: 'internal' as const, label: 1 as const, score: 0.8, dice2d: 0.2, dice3d: 0.1 },
      { cohort: 'internal' as const, label: 0 as const, score: 0.3, dice2d: 0.2, dice3d: 0.1 },
      { cohort: 'external' as const, label: 1 as const, score: 0.6, dice2d: 0.4, dice3d: 0.2 },
      { cohort: 'external' as const, label: 0 as const, score: 0.4, dice2d: 0.4, dice3d: 0.2 },
    ],
    ...(withBaselines
      ? {
          baselines: [
            // internal Grad-CAM 3D: fold 0 (0.05 + 0.05) / 2 = 0.05, fold 1 (0.1 + 0.2) / 2 = 0.15, as the arm's means
            { cohort: 'internal' as const, method: 'gradCam' as const, dice2d: 0.1 + 0.2 * k, dice3d: k ? 0.1 : 0.05 },
            { cohort: 'internal' as const, method: 'gradCam' as const, dice2d: 0.1 + 0.2 * k, dice3d: k ? 0.2 : 0.05 },
            { cohort: 'internal' as const, method: 'gradCam' as const, dice2d: null, dice3d: null },
            { cohort: 'external' as const, method: 'gradCam' as const, dice2d: 0.3, dice3d: 0.2 },
          ],
        }
      : {}),
  }));
}

test('bootstrap CIs of the baselines\' Dice: per method, their estimate the table\'s mean; the others unchanged', () => {
  const arms = [arm('random', 'Random init'), arm('pretrained', 'Proposed CL')];
  const withB = buildResults({ kind: 'experiment', runId: 'b', arms, config: { folds: 2, seed: 3 }, caseResults: [...foldCases('random'), ...foldCases('pretrained')] });
  const without = buildResults({ kind: 'experiment', runId: 'b', arms, config: { folds: 2, seed: 3 }, caseResults: [...foldCases('random', false), ...foldCases('pretrained', false)] });
  assert.deepEqual(withB.ci!.filter((c) => c.explanation === undefined), without.ci);
  assert.ok(!without.ci!.some((c) => c.explanation !== undefined));
  const base = withB.ci!.filter((c) => c.explanation !== undefined);
  // per arm: internal and external Grad-CAM, 2D and 3D; no occlusion rows in the CSV → none for it
  assert.deepEqual(base.map((c) => `${c.label}|${c.split}|${c.metric}`), [
    'Random init, Grad-CAM|internal|dice2d', 'Random init, Grad-CAM|internal|dice3d', 'Random init, Grad-CAM|external|dice2d', 'Random init, Grad-CAM|external|dice3d',
    'Proposed CL, Grad-CAM|internal|dice2d', 'Proposed CL, Grad-CAM|internal|dice3d', 'Proposed CL, Grad-CAM|external|dice2d', 'Proposed CL, Grad-CAM|external|dice3d',
  ]);
  const c = base.find((x) => x.arm === 'random' && x.split === 'internal' && x.metric === 'dice3d')!;
  assert.equal(c.explanation, 'gradCam');
  assert.ok(Math.abs(c.estimate - 0.1) < 1e-12, `estimate ${c.estimate}: (0.05 + 0.15) / 2`);
  const cell = table(withB, 'table3').rows.find((r) => r.key === 'random/gradCam')!.cells[3] as StatCell;
  assert.ok(Math.abs(c.estimate - cell.mean) < 1e-12);
  assert.equal(c.cases, 4); // the case without a mask is left out
  assert.deepEqual(c.folds, [0, 1]);
  assert.equal(c.seed, hashSeed(3, 'random/internal/gradCam/dice3d'));
  const direct = diceBootstrapCi([[0.05, 0.05], [0.1, 0.2]], { seed: c.seed });
  assert.deepEqual([c.lower, c.upper, c.resamples], [direct.lower, direct.upper, 2000]);
  assert.ok(c.lower >= 0.05 - 1e-12 && c.upper <= 0.15 + 1e-12, `${c.lower} – ${c.upper} within the folds' extremes of means`);
  // results.md lists them under the arm and method
  assert.match(renderMarkdown(withB), /\n\| Random init, Grad-CAM \| internal \| 3D Dice Score \| 10\.0% \| \d+\.\d% – \d+\.\d% \| 2 \| 4 \|/);
  // an arm with one fold's baseline rows missing gets no baseline CI (its cases' CIs stay)
  const gap = foldCases('random');
  delete gap[1]!.baselines;
  const cis = bootstrapCis(arms.slice(0, 1), gap, { seed: 3, resamples: 50 });
  assert.deepEqual(cis.map((x) => x.explanation), [undefined, undefined, undefined, undefined, undefined, undefined]);
});

test('bad baseline case rows name the input and the field', () => {
  const rows = foldCases('random');
  (rows[0]!.baselines![1] as { method: string }).method = 'lime';
  assert.throws(() => checkFoldCases(rows, 'run.json'), /^Error: run\.json: caseResults\[0\]\.baselines\[1\]\.method is "lime", expected "gradCam" or "occlusion"$/);
  const nan = foldCases('random');
  nan[1]!.baselines![0]!.dice3d = NaN;
  assert.throws(() => checkFoldCases(nan, 'run.json'), /caseResults\[1\]\.baselines\[0\]\.dice3d must be a finite number or null/);
});

test('a comparison keeps the baseline rows, matched on their key', () => {
  const a = buildResults({ kind: 'experiment', runId: 'a', arms: [arm('random', 'Random init')], showPaper: false });
  const b = buildResults({ kind: 'experiment', runId: 'b', arms: [arm('random', 'Random init', false)], showPaper: false });
  const t3 = table(compareResults(a, b), 'table3');
  const row = t3.rows.find((r) => r.key === 'random/gradCam')!;
  assert.equal(row.explanation, 'gradCam');
  const col = t3.columns.findIndex((c) => c.key === 'internal.dice2d@A');
  // [A] 20.0% ± 14.1%, [B] has no such row
  assert.equal(row.cells[col]!.text, '20.0% ± 14.1%');
  assert.equal(row.cells[col + 1]!.text, 'n/a');
  assert.equal(t3.footnotes[row.cells[col + 1]!.footnotes[0]! - 1], '[B] b has no such row');
});

// Folds whose every case is predicted one class get a warning in the tables
// (footnotes of precision, recall and F1), the document's notes and warnings,
// computed from the fold's predictions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildResults, renderMarkdown } from '../../../src/engine/results';
import type { FoldResult, ResultsInput, ResultTable } from '../../../src/engine/results';
import { singleClassPrediction } from '../../../src/engine/results/aggregate';
import { splitMetrics, type Prediction } from '../../../src/engine/training/finetune';

const LABELS: (0 | 1)[] = [1, 0, 1, 0, 0, 1];
function preds(scores: number[], cohort: 'internal' | 'external'): Prediction[] {
  return scores.map((score, i) => ({ id: `${cohort}${i}`, cohort, label: LABELS[i]!, score, dice2d: null, dice3d: null, foreground: null, floor2d: null, floor3d: null, bound2d: null, bound3d: null }) as Prediction);
}
function fold(arm: string, k: number, internal: number[], external: number[], threshold = 0.5): FoldResult {
  return { arm, fold: k, internal: splitMetrics(preds(internal, 'internal'), threshold), external: splitMetrics(preds(external, 'external'), threshold) };
}

const MIXED = [0.8, 0.3, 0.6, 0.4, 0.2, 0.45];
const ALL_NEG = [0.4, 0.3, 0.45, 0.1, 0.2, 0.35];
const ALL_POS = [0.9, 0.6, 0.8, 0.55, 0.7, 0.65];

const input = (): ResultsInput => ({
  kind: 'experiment',
  runId: 'one-class',
  config: { folds: 3, seed: 1 },
  arms: [
    { arm: 'random', label: 'Random init', status: 'done', folds: [fold('random', 0, ALL_NEG, MIXED), fold('random', 1, MIXED, ALL_POS), fold('random', 2, ALL_NEG, ALL_NEG)] },
    { arm: 'pretrained', label: 'Proposed CL', status: 'done', folds: [0, 1, 2].map((k) => fold('pretrained', k, MIXED, MIXED)) },
  ],
});

const notesOf = (t: ResultTable, row: string, col: string): string[] => {
  const r = t.rows.find((x) => x.key === row)!;
  const c = r.cells[t.columns.findIndex((x) => x.key === col)]!;
  return c.footnotes.map((n) => t.footnotes[n - 1]!);
};

test('singleClassPrediction reads the predicted-positive count splitMetrics takes from the predictions', () => {
  assert.equal(singleClassPrediction(splitMetrics(preds(ALL_NEG, 'internal'), 0.5)), 'negative');
  assert.equal(singleClassPrediction(splitMetrics(preds(ALL_POS, 'internal'), 0.5)), 'positive');
  assert.equal(singleClassPrediction(splitMetrics(preds(MIXED, 'internal'), 0.5)), undefined);
  // the same scores at another threshold: no longer one class
  assert.equal(singleClassPrediction(splitMetrics(preds(ALL_NEG, 'internal'), 0.3)), undefined);
  // older results without the count: no claim either way
  const { predictedPositives: _, ...old } = splitMetrics(preds(ALL_NEG, 'internal'), 0.5);
  assert.equal(singleClassPrediction(old), undefined);
});

test('a fold predicting one class is warned about on precision, recall and F1, per cohort; a fold that does not, is not', () => {
  const doc = buildResults(input());
  const t1 = doc.tables.find((t) => t.id === 'table1')!;
  const t2 = doc.tables.find((t) => t.id === 'table2')!;
  const internal = 'Warning: Random init: 2 of 3 folds predict one class only on the internal cohort (all negative in folds 0, 2); precision, recall and F1 there say nothing about the model.';
  const external = 'Warning: Random init: 2 of 3 folds predict one class only on the external cohort (all negative in fold 2; all positive in fold 1); precision, recall and F1 there say nothing about the model.';
  for (const m of ['precision', 'recall', 'f1']) {
    assert.deepEqual(notesOf(t1, 'random', `internal.${m}`), [internal], `internal ${m}`);
    assert.deepEqual(notesOf(t2, 'random', `external.${m}`), [external], `external ${m}`);
    assert.deepEqual(notesOf(t1, 'pretrained', `internal.${m}`), []);
    assert.deepEqual(notesOf(t2, 'pretrained', `external.${m}`), []);
  }
  assert.deepEqual(notesOf(t1, 'random', 'internal.auc'), [], 'AUC is threshold-free: no warning');
  assert.deepEqual(doc.warnings, [internal, external]);
  for (const w of [internal, external]) assert.ok(doc.notes.includes(w));
  const md = renderMarkdown(doc);
  assert.ok(md.includes('predict one class only on the internal cohort (all negative in folds 0, 2)'), md);
  // the F1 cell itself says 0 for the all-negative folds: the warning is what explains it
  const f1 = t1.rows.find((r) => r.key === 'random')!.cells[t1.columns.findIndex((c) => c.key === 'internal.f1')]!;
  assert.ok(f1.kind === 'stat' && f1.n === 3);
});

test('no single-class fold: no warning anywhere', () => {
  const inp = input();
  inp.arms = inp.arms.filter((a) => a.arm === 'pretrained');
  const doc = buildResults(inp);
  assert.deepEqual(doc.warnings, []);
  assert.ok(!doc.notes.some((n) => n.startsWith('Warning')));
  assert.ok(doc.tables.every((t) => t.footnotes.every((f) => !/one class/.test(f))));
});

test('predictedPositives is checked like the other counts', () => {
  const inp = input();
  (inp.arms[0]!.folds[0]!.internal as { predictedPositives: number }).predictedPositives = 7;
  assert.throws(() => buildResults(inp, 'bad.json'), /bad\.json: arms\[\d\]\.folds\[0\]\.internal\.predictedPositives is 7, more than n = 6/);
});

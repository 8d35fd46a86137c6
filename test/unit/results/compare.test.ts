import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildResults, compareResults, renderCsv, renderLatex, renderMarkdown } from '../../../src/engine/results';
import type { ArmResult, ResultsInput, ResultTable, SplitMetrics } from '../../../src/engine/results';

const sm = (auc: number, f1: number, dice: number): SplitMetrics => ({ n: 40, positives: 13, auc, precision: f1, recall: f1, f1, dice2d: dice, dice3d: dice });

function arm(name: string, label: string, auc: number[], f1: number[], dice: number[]): ArmResult {
  return { arm: name, label, status: 'done', folds: auc.map((a, k) => ({ arm: name, fold: k, internal: sm(a, f1[k], dice[k]), external: null })) };
}

function input(runId: string, randomAuc: number[], randomDice: number[], withMedicalNet: boolean): ResultsInput {
  const arms = [
    arm('random', 'Random init', randomAuc, [0.4, 0.4, 0.4], randomDice),
    arm('pretrained', 'Proposed CL', [0.8, 0.9, 0.85], [0.5, 0.6, 0.7], [0.3, 0.31, 0.32]),
  ];
  if (withMedicalNet) arms.push({ arm: 'medicalnet', label: 'MedicalNet', status: 'not run', reason: 'no checkpoint configured', folds: [] });
  return { kind: 'experiment', runId, arms, showPaper: true };
}

const texts = (t: ResultTable) => t.rows.map((r) => r.cells.map((c) => `${c.text}${c.footnotes.map((n) => `[${n}]`).join('')}`));

test('compareResults: [A], [B] and Δ = B − A per column, rows matched by arm, paper rows left out', () => {
  const a = buildResults(input('run-a', [0.6, 0.7, 0.8], [0.05, 0.06, 0.07], true));
  const b = buildResults(input('run-b', [0.7, 0.8, 0.9], [0.07, 0.08, 0.09], false));
  const c = compareResults(a, b);
  assert.equal(c.kind, 'comparison');
  assert.deepEqual(c.compared, { a: 'run-a', b: 'run-b' });
  assert.deepEqual(c.tables.map((t) => t.id), a.tables.map((t) => t.id));
  const t1 = c.tables[0];
  assert.deepEqual(t1.columns.map((col) => col.header).slice(0, 7), ['Model initialization', 'AUC [A]', 'AUC [B]', 'Δ AUC', 'Precision [A]', 'Precision [B]', 'Δ Precision']);
  assert.equal(t1.columns.length, 1 + 4 * 3);
  const rows = texts(t1);
  assert.deepEqual(rows.map((r) => r[0]), ['Random init', 'MedicalNet', 'Proposed CL']);
  assert.deepEqual(rows[0].slice(1, 7), ['0.700 ± 0.100', '0.800 ± 0.100', '+0.100', '0.400 ± 0.000', '0.400 ± 0.000', '0.000']);
  assert.deepEqual(rows[1].slice(1, 4), ['not run[1]', 'n/a[2]', 'n/a']);
  assert.deepEqual(t1.footnotes, ['[A] MedicalNet not run: no checkpoint configured', '[B] run-b has no such row']);
  assert.deepEqual(rows[2].slice(1, 4), ['0.850 ± 0.050', '0.850 ± 0.050', '0.000']);
  const delta = t1.rows[0].cells[3];
  assert.ok(delta.kind === 'delta' && Math.abs(delta.value - 0.1) < 1e-12);
  // Dice: Δ in percentage points
  const t3 = c.tables.find((t) => t.id === 'table3') as ResultTable;
  assert.deepEqual(texts(t3)[0].slice(0, 4), ['Random init', '6.0% ± 1.0%', '8.0% ± 1.0%', '+2.0 pp']);
  assert.deepEqual(texts(t3)[0].slice(7, 10), ['6.0% ± 1.0%', '8.0% ± 1.0%', '+2.0 pp']);
  // p-value tables: [A] and [B] only, no Δ
  const t10 = c.tables.find((t) => t.id === 'table10') as ResultTable;
  assert.deepEqual(t10.columns.map((col) => col.header), ['Experiment pairs', 'P-value for AUC [A]', 'P-value for AUC [B]', 'P-value for F1-score [A]', 'P-value for F1-score [B]']);
  assert.deepEqual(t10.rows.map((r) => r.key), ['pretrained|random', 'pretrained|medicalnet']);
  // the same renderers
  assert.match(renderMarkdown(c), /^# Comparison of run-a \[A\] and run-b \[B\]\n/);
  assert.match(renderCsv(t1).split('\n')[0], /^Model initialization,AUC \[A\] mean,AUC \[A\] std,AUC \[B\] mean,AUC \[B\] std,Δ AUC,/);
  assert.match(renderLatex(t1), /\$\\Delta\$ AUC/);
});

test('compareResults refuses different kinds and comparisons of comparisons', () => {
  const a = buildResults(input('run-a', [0.6, 0.7, 0.8], [0.05, 0.06, 0.07], true));
  const abl: ResultsInput = { kind: 'ablation', runId: 'abl', arms: [arm('proposed', 'Proposed method', [0.8, 0.7], [0.5, 0.5], [0.1, 0.1])] };
  assert.throws(() => compareResults(a, buildResults(abl)), /cannot compare run-a \(experiment\) with abl \(ablation\)/);
  assert.throws(() => compareResults(compareResults(a, a), a), /is already a comparison/);
});

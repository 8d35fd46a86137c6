// `evaluate` recomputes the baseline explanations' means (metrics.json
// `baselines`) from the unit's explain-baselines.csv, checked against the
// run's cases as predictions.csv is; a deleted file whose means metrics.json
// holds is an error; nothing is rewritten on any problem.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { evaluateRun, recomputeRunMetrics } from '../../../src/engine/experiment/evaluate';
import type { ResultsDoc, StatCell } from '../../../src/engine/results';
import { writePredictions, downstreamFolds, type Prediction } from '../../../src/engine/training/finetune';
import { downstreamCases, openDataset } from '../../../src/engine/training/dataset';
import { writeBaselineScores, type BaselineScore } from '../../../src/engine/explain/baselines';
import { writeJsonAtomic, type RunFolder } from '../../../src/engine/training/run-folder';
import { createdRun } from './run-fixtures';

/** A finished first unit with predictions and Grad-CAM rows: internal case k has 3D Dice k/10 (the last without a mask), external 0.5. */
async function unitWithBaselines(): Promise<{ run: RunFolder; rows: BaselineScore[]; basePath: string; metricsPath: string; internal: string[]; external: string[] }> {
  const { run, config } = await createdRun('experiment');
  const ds = openDataset(config, '/');
  const { cases, splits } = downstreamFolds(config, ds);
  const internal = splits[0]!.test.map((i) => cases[i]!);
  const external = downstreamCases(ds).external;
  const pred = (id: string, cohort: 'internal' | 'external', label: 0 | 1): Prediction => ({ id, cohort, label, score: 0.5, dice2d: null, dice3d: null, foreground: null, floor2d: null, floor3d: null, bound2d: null, bound3d: null, mass3d: null, massFloor3d: null, pointing: null });
  const dir = run.path('finetune', 'random', 'fold-0');
  mkdirSync(dir, { recursive: true });
  writePredictions(run.path('finetune', 'random', 'fold-0', 'predictions.csv'), [...internal.map((c) => pred(c.case.id, 'internal', c.label)), ...external.map((c) => pred(c.case.id, 'external', c.label))]);
  const rows: BaselineScore[] = [
    ...internal.map((c, k): BaselineScore => {
      const last = k === internal.length - 1;
      return { id: c.case.id, cohort: 'internal', method: 'gradCam', dice2d: last ? null : (k + 1) / 10, dice3d: last ? null : k / 10, foreground: 0.25 };
    }),
    ...external.map((c): BaselineScore => ({ id: c.case.id, cohort: 'external', method: 'gradCam', dice2d: 0.5, dice3d: 0.5, foreground: 0.75 })),
  ];
  const basePath = run.path('finetune', 'random', 'fold-0', 'explain-baselines.csv');
  writeBaselineScores(basePath, rows);
  const metricsPath = run.path('finetune', 'random', 'fold-0', 'metrics.json');
  writeJsonAtomic(metricsPath, { arm: 'random', fold: 0, internal: { n: -1 }, external: null, threshold: 0.5, baselines: { internal: { gradCam: { n: 99, dice2d: 1, dice3d: 1, foreground: 1 } }, external: null } });
  return { run, rows, basePath, metricsPath, internal: internal.map((c) => c.case.id), external: external.map((c) => c.case.id) };
}

test('evaluate recomputes the baselines\' means from explain-baselines.csv; the tables and CIs show them', async () => {
  const { run, metricsPath, internal, external } = await unitWithBaselines();
  assert.ok(internal.length >= 2 && external.length >= 1, `fixture: ${internal.length} internal, ${external.length} external cases`);
  assert.equal(evaluateRun(run).units, 1);
  const m = JSON.parse(readFileSync(metricsPath, 'utf8'));
  // internal: cases 0 … n−2 have a Dice: 3D k/10 → mean (n−2)/20; 2D (k+1)/10 → mean n/20; foreground 0.25; n counts every case
  const n = internal.length;
  const g = m.baselines.internal.gradCam;
  assert.equal(g.n, n);
  assert.ok(Math.abs(g.dice3d - (n - 2) / 20) < 1e-12, `3D ${g.dice3d}`);
  assert.ok(Math.abs(g.dice2d - n / 20) < 1e-12, `2D ${g.dice2d}`);
  assert.equal(g.foreground, 0.25);
  assert.equal(m.baselines.internal.occlusion, undefined);
  assert.deepEqual(m.baselines.external, { gradCam: { n: external.length, dice2d: 0.5, dice3d: 0.5, foreground: 0.75 } });
  // results.json: a Grad-CAM row in Tables 3 and 4 (one fold: no std), and its CI from the CSV's rows
  const doc = JSON.parse(readFileSync(run.path('results.json'), 'utf8')) as ResultsDoc;
  const t3 = doc.tables.find((t) => t.id === 'table3')!;
  const row = t3.rows.find((r) => r.key === 'random/gradCam')!;
  const cell = row.cells[t3.columns.findIndex((c) => c.key === 'internal.dice3d')] as StatCell;
  assert.ok(Math.abs(cell.mean - (n - 2) / 20) < 1e-12);
  const t4 = doc.tables.find((t) => t.id === 'table4')!;
  assert.equal(t4.rows.find((r) => r.key === 'random/gradCam')!.cells[t4.columns.findIndex((c) => c.key === 'external.foreground')]!.text.split(' ')[0], '75.0%');
  const ci = doc.ci!.find((c) => c.arm === 'random' && c.explanation === 'gradCam' && c.split === 'internal' && c.metric === 'dice3d')!;
  assert.ok(Math.abs(ci.estimate - cell.mean) < 1e-12);
  assert.equal(ci.cases, n - 1);
});

test('evaluate refuses foreign, repeated and dropped baseline rows and a deleted file, naming it; nothing is rewritten', async () => {
  const { run, rows, basePath, metricsPath, internal } = await unitWithBaselines();
  const before = readFileSync(metricsPath, 'utf8');
  const check = (body: BaselineScore[] | null, expected: string) => {
    if (body) writeBaselineScores(basePath, body);
    else rmSync(basePath);
    assert.throws(() => recomputeRunMetrics(run), (e: unknown) => (e as Error).message.includes(expected) && (e as Error).message.includes('nothing was rewritten'), `expected: ${expected}`);
    assert.equal(readFileSync(metricsPath, 'utf8'), before, 'metrics.json untouched');
  };
  check([{ ...rows[0]!, id: 'not-a-case' }, ...rows.slice(1)], `${basePath}: row 2: case "not-a-case" is not in fold 0's test cases of this run's data`);
  check([...rows, rows[1]!], `${basePath}: row ${rows.length + 2}: case "${internal[1]}" repeats under gradCam`);
  check(rows.filter((_, i) => i !== 0), `${basePath}: 1 internal case(s) missing under gradCam: "${internal[0]}"`);
  writeFileSync(basePath, 'id,cohort,method,dice2d,dice3d,foreground\nC1,internal,lime,0.1,0.1,0.1\n');
  assert.throws(() => recomputeRunMetrics(run), /explain-baselines\.csv: row 2: unknown method "lime"/);
  check(null, `${basePath}: missing, so the baselines of ${metricsPath} cannot be recomputed`);
});

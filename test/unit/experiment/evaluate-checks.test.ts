// `evaluate` checks what it reads (issue #14, class 7): predictions.csv
// against the run's split (the unit's test fold, the external cohort) and
// the manifest's labels; duplicated, dropped, foreign or relabelled rows and
// a deleted predictions.csv are errors naming the file and row, and nothing
// is rewritten then.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { evaluateRun, recomputeRunMetrics } from '../../../src/engine/experiment/evaluate';
import { RunLockedError, WRITER_LOCK } from '../../../src/engine/training/run-lock';
import { hostname } from 'node:os';
import { spawn } from 'node:child_process';
import { readPredictions, writePredictions, downstreamFolds, splitMetrics, type Prediction } from '../../../src/engine/training/finetune';
import { downstreamCases, openDataset } from '../../../src/engine/training/dataset';
import { writeJsonAtomic, type RunFolder } from '../../../src/engine/training/run-folder';
import { createdRun } from './run-fixtures';

/** An experiment run whose first fine-tuning unit has finished: its true predictions and metrics. */
async function finishedUnit(): Promise<{ run: RunFolder; preds: Prediction[]; predPath: string; metricsPath: string }> {
  const { run, config } = await createdRun('experiment');
  const ds = openDataset(config, '/');
  const { cases, splits } = downstreamFolds(config, ds);
  const row = (id: string, cohort: 'internal' | 'external', label: 0 | 1, score: number): Prediction => ({ id, cohort, label, score, dice2d: null, dice3d: null, foreground: null, floor2d: null, floor3d: null, bound2d: null, bound3d: null, mass3d: null, massFloor3d: null, pointing: null });
  const preds = [
    ...splits[0]!.test.map((i, k) => row(cases[i]!.case.id, 'internal', cases[i]!.label, (k + 1) / 100)),
    ...downstreamCases(ds).external.map((c, k) => row(c.case.id, 'external', c.label, (k + 1) / 50)),
  ];
  const predPath = run.path('finetune', 'random', 'fold-0', 'predictions.csv');
  const metricsPath = run.path('finetune', 'random', 'fold-0', 'metrics.json');
  require('node:fs').mkdirSync(run.path('finetune', 'random', 'fold-0'), { recursive: true });
  writePredictions(predPath, preds);
  writeJsonAtomic(metricsPath, { arm: 'random', fold: 0, internal: { n: -1 }, external: null, threshold: 0.5 });
  return { run, preds, predPath, metricsPath };
}

test('evaluate recomputes from true predictions: n is the fold\'s test cases', async () => {
  const { run, preds, metricsPath } = await finishedUnit();
  assert.equal(recomputeRunMetrics(run), 1);
  const m = JSON.parse(readFileSync(metricsPath, 'utf8'));
  const internal = preds.filter((p) => p.cohort === 'internal');
  assert.equal(m.internal.n, internal.length);
  assert.deepEqual(m.internal, JSON.parse(JSON.stringify(splitMetrics(internal, 0.5))));
});

test('evaluate refuses duplicated, dropped, foreign and relabelled rows, naming file and row; nothing is rewritten', async () => {
  const { run, preds, predPath, metricsPath } = await finishedUnit();
  const before = readFileSync(metricsPath, 'utf8');
  const lines = readFileSync(predPath, 'utf8').trimEnd().split('\n');
  const check = (body: string[], expected: string) => {
    writeFileSync(predPath, `${body.join('\n')}\n`);
    assert.throws(() => recomputeRunMetrics(run), (e: unknown) => (e as Error).message.includes(expected) && (e as Error).message.includes('nothing was rewritten'), `expected: ${expected}`);
    assert.equal(readFileSync(metricsPath, 'utf8'), before, 'metrics.json untouched');
  };
  // a duplicated row (n would double)
  check([...lines, lines[1]!], `${predPath}: row ${lines.length + 1}: case "${preds[0]!.id}" (internal) is listed again (first on row 2)`);
  // a dropped row
  check(lines.filter((_, i) => i !== 2), `${predPath}: 1 internal case(s) missing: "${preds[1]!.id}"`);
  // a relabelled row
  const flipped = lines[1]!.replace(`,internal,${preds[0]!.label},`, `,internal,${1 - preds[0]!.label},`);
  check([lines[0]!, flipped, ...lines.slice(2)], `${predPath}: row 2: case "${preds[0]!.id}" has label ${1 - preds[0]!.label}, the manifest says ${preds[0]!.label}`);
  // a case that is not in this fold's test part
  const foreign = lines[1]!.replace(preds[0]!.id, 'not-a-case');
  check([lines[0]!, foreign, ...lines.slice(2)], `${predPath}: row 2: case "not-a-case" is not in fold 0's test cases of this run's data`);
  // a label that is no label, and a score that is no probability
  check([lines[0]!, lines[1]!.replace(`,internal,${preds[0]!.label},`, ',internal,yes,'), ...lines.slice(2)], `${predPath}: row 2: label "yes" is not 0 or 1`);
  check([lines[0]!, lines[1]!.replace(`,${preds[0]!.score},`, ',NaN,'), ...lines.slice(2)], `${predPath}: row 2: score "NaN" is not a probability in [0, 1]`);
});

test('a deleted predictions.csv is an error naming it, not a stale metrics.json kept as is', async () => {
  const { run, predPath, metricsPath } = await finishedUnit();
  rmSync(predPath);
  assert.throws(() => recomputeRunMetrics(run), (e: unknown) => (e as Error).message.includes(`${predPath}: missing, so ${metricsPath} cannot be recomputed`));
});

test('predictions.csv read errors name the file and row', async () => {
  const { predPath } = await finishedUnit();
  writeFileSync(predPath, 'id,cohort,label,score,dice2d,dice3d\nC1,internal,1,0.5,0.1\n');
  assert.throws(() => readPredictions(predPath), (e: unknown) => (e as Error).message === `${predPath}: row 2: 5 fields, the header has 6`);
  writeFileSync(predPath, 'id,cohort,label,score,dice2d,dice3d\n"C1,internal,1,0.5,0.1,0.2\n');
  assert.throws(() => readPredictions(predPath), (e: unknown) => (e as Error).message.startsWith(`${predPath}: not valid CSV`));
  writeFileSync(predPath, 'id,cohort,label,score,dice2d,dice3d\nC1,\u001b[31minternal,1,0.5,0.1,0.2\n');
  assert.throws(() => readPredictions(predPath), (e: unknown) => (e as Error).message === `${predPath}: row 2: bad cohort "\\x1b[31minternal"`);
});

test('evaluate is refused while another process writes the run', async () => {
  const { run, metricsPath } = await finishedUnit();
  const before = readFileSync(metricsPath, 'utf8');
  const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  try {
    writeFileSync(run.path(WRITER_LOCK), JSON.stringify({ format: 'mrcl-lock-1', pid: other.pid, host: hostname(), started: '2026-01-01T00:00:00.000Z', command: 'mrcl experiment --resume R', token: 'x' }));
    assert.throws(() => evaluateRun(run), (e: unknown) => e instanceof RunLockedError && e.message.includes(`process ${other.pid}`));
    assert.equal(readFileSync(metricsPath, 'utf8'), before);
  } finally {
    other.kill();
  }
});

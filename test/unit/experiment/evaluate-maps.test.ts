// `mrcl evaluate RUN --maps` recomputes the threshold-free map measures
// (mass in tumour, flat-map mass, peak in tumour) from each unit's saved
// heatmaps and the masks: on a real tiny run they equal what the evaluation
// wrote, a run made before the columns existed gains them, and a missing
// heatmap is an error naming it with nothing rewritten.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../../src/engine/config/resolve';
import { runStudy } from '../../../src/engine/experiment/study';
import { evaluateRun } from '../../../src/engine/experiment/evaluate';
import { readPredictions } from '../../../src/engine/training/finetune';
import { RunFolder } from '../../../src/engine/training/run-folder';
import type { ResultsDoc, StatCell } from '../../../src/engine/results';
import { tinyWorkspace } from './helpers';

test('evaluate --maps: the mass and pointing measures recomputed from the saved heatmaps are those the evaluation wrote', { timeout: 600_000 }, async () => {
  // stride 8: a 3×3×2 layer4 grid, so the maps have contrast (at the tiny config's stride 32 the grid is one cell)
  const ws = await tinyWorkspace({ image: { outputStride: 8 }, finetune: { initializations: ['random'] } });
  const { config, baseDir } = loadConfig(ws.configPath);
  const outcome = await runStudy({ kind: 'experiment', config, baseDir, emit: () => {} });
  assert.equal(outcome.status, 'done', outcome.error);
  const run = RunFolder.open(outcome.runDir!);
  const unit = run.path('finetune', 'random', 'fold-0');
  const predPath = join(unit, 'predictions.csv');
  const original = readPredictions(predPath);
  const scored = original.filter((p) => p.dice3d !== null);
  assert.ok(scored.length >= 2, `fixture: ${scored.length} cases with a Dice`);
  for (const p of scored) {
    assert.ok(p.mass3d !== null && p.mass3d >= 0 && p.mass3d <= 1, `${p.id}: mass3d ${p.mass3d}`);
    assert.ok(p.massFloor3d !== null && p.massFloor3d > 0 && p.massFloor3d < 1, `${p.id}: massFloor3d ${p.massFloor3d}`);
    assert.ok(p.pointing === 0 || p.pointing === 1, `${p.id}: pointing ${p.pointing}`);
  }
  // the evaluation's mass is not the flat map's on every case (a measure that cannot move would be)
  assert.ok(scored.some((p) => Math.abs(p.mass3d! - p.massFloor3d!) > 1e-6));

  // every unit as written before the mass columns: evaluate alone leaves them out of the tables
  const oldFiles = [0, 1].map((f) => {
    const path = run.path('finetune', 'random', `fold-${f}`, 'predictions.csv');
    const text = readFileSync(path, 'utf8').split('\n');
    const old = text.map((l) => l.split(',').slice(0, 11).join(',')).join('\n');
    writeFileSync(path, old);
    return old;
  });
  const old = oldFiles[0]!;
  evaluateRun(run);
  let doc = JSON.parse(readFileSync(run.path('results.json'), 'utf8')) as ResultsDoc;
  const t3 = () => doc.tables.find((t) => t.id === 'table3')!;
  const massCell = () => t3().rows.find((r) => r.key === 'random')!.cells[t3().columns.findIndex((c) => c.key === 'internal.mass3d')]!;
  assert.equal(t3().columns.some((c) => c.key === 'internal.mass3d'), false, 'no mass column in results without it');

  // a missing heatmap: an error naming it, nothing rewritten
  const heat = join(unit, 'heatmaps', `${scored[0]!.id}.heatmap.nii.gz`);
  const saved = readFileSync(heat);
  rmSync(heat);
  assert.throws(() => evaluateRun(run, { maps: true }), (e: Error) => e.message.includes(heat) && /missing/.test(e.message));
  assert.equal(readFileSync(predPath, 'utf8'), old);
  writeFileSync(heat, saved);

  const out = evaluateRun(run, { maps: true });
  assert.equal(out.rescored!.units, 2);
  const again = readPredictions(predPath);
  assert.deepEqual(again, original);
  const metrics = JSON.parse(readFileSync(join(unit, 'metrics.json'), 'utf8'));
  const internal = original.filter((p) => p.cohort === 'internal' && p.mass3d !== null);
  const mean = internal.reduce((s, p) => s + p.mass3d!, 0) / internal.length;
  assert.ok(Math.abs(metrics.internal.mass3d - mean) < 1e-12, `metrics.json mass3d ${metrics.internal.mass3d} vs ${mean}`);
  doc = JSON.parse(readFileSync(run.path('results.json'), 'utf8')) as ResultsDoc;
  assert.equal(massCell().kind, 'stat');
  assert.ok((massCell() as StatCell).mean > 0);
});

test('explain.saveHeatmaps false: no heatmap files, the same map measures in predictions.csv; --maps says there is nothing to rescore', { timeout: 600_000 }, async () => {
  const ws = await tinyWorkspace({ image: { outputStride: 8 }, finetune: { initializations: ['random'] }, explain: { saveHeatmaps: false } });
  const { config, baseDir } = loadConfig(ws.configPath);
  assert.equal(config.explain.saveHeatmaps, false);
  const outcome = await runStudy({ kind: 'experiment', config, baseDir, emit: () => {} });
  assert.equal(outcome.status, 'done', outcome.error);
  const run = RunFolder.open(outcome.runDir!);
  for (const f of [0, 1]) {
    const unit = run.path('finetune', 'random', `fold-${f}`);
    assert.ok(!existsSync(join(unit, 'heatmaps')), `fold ${f}: no heatmaps folder`);
    const scored = readPredictions(join(unit, 'predictions.csv')).filter((p) => p.dice3d !== null);
    assert.ok(scored.length >= 2, `fold ${f}: ${scored.length} cases with a Dice`);
    for (const p of scored) assert.ok(p.mass3d !== null && p.massFloor3d !== null && p.pointing !== null, `${p.id}: the map measures are kept`);
  }
  const configPath = run.path('config.json');
  assert.throws(
    () => evaluateRun(run, { maps: true }),
    (e: Error) => e.message.startsWith(`${configPath}: explain.saveHeatmaps is false, so its units saved no heatmaps`),
  );
  // evaluate without --maps still works
  evaluateRun(run);
});

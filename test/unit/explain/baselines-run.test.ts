// explain.baselines in a fine-tuning run: explain-baselines.csv per unit
// (one row per evaluated case and method, scored with the attention maps'
// rule), its means in metrics.json; none of it by default. Plus the CSV's
// reader and the summary on hand-made rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { loadConfig, resolveConfig } from '../../../src/engine/config/resolve';
import { runStudy } from '../../../src/engine/experiment/study';
import { finetunePlan } from '../../../src/engine/experiment/units';
import { readJson } from '../../../src/engine/training/run-folder';
import { readPredictions } from '../../../src/engine/training/finetune';
import { readBaselineScores, summariseBaselines, writeBaselineScores, type BaselineScore } from '../../../src/engine/explain/baselines';
import { tinyWorkspace } from '../experiment/helpers';

test('explain.baselines defaults to none, so runs and their files are unchanged', () => {
  const c = resolveConfig({});
  assert.deepEqual(c.explain.baselines, []);
  assert.equal(c.explain.gradCamLayer, 'layer4');
  assert.equal(c.explain.occlusionPatch, 16);
  assert.equal(c.explain.occlusionStride, 12);
  assert.equal(c.explain.occlusionFill, 'mean');
});

test('summariseBaselines: means per method over the cases with a Dice; foreground over the same cases', () => {
  const rows: BaselineScore[] = [
    { id: 'a', cohort: 'internal', method: 'gradCam', dice2d: 0.5, dice3d: 0.25, foreground: 0.1, mass3d: 0.25, pointing: 1 },
    { id: 'b', cohort: 'internal', method: 'gradCam', dice2d: 0.1, dice3d: 0.75, foreground: 0.3, mass3d: 0.5, pointing: 0 },
    { id: 'c', cohort: 'internal', method: 'gradCam', dice2d: null, dice3d: null, foreground: 0.9, mass3d: null, pointing: null },
    { id: 'a', cohort: 'internal', method: 'occlusion', dice2d: 0, dice3d: 0, foreground: 1, mass3d: 0.125, pointing: 0 },
  ];
  const s = summariseBaselines(rows);
  assert.deepEqual(s.gradCam, { n: 3, dice2d: 0.3, dice3d: 0.5, foreground: 0.2, mass3d: 0.375, pointing: 0.5 });
  assert.deepEqual(s.occlusion, { n: 1, dice2d: 0, dice3d: 0, foreground: 1, mass3d: 0.125, pointing: 0 });
  assert.deepEqual(summariseBaselines(rows.slice(2, 3)).gradCam, { n: 1, dice2d: null, dice3d: null, foreground: null });
  // rows read from a file written before the mass columns: no mass means (absent, not 0)
  const older = rows.map(({ mass3d: _m, pointing: _p, ...r }) => r);
  assert.deepEqual(summariseBaselines(older).gradCam, { n: 3, dice2d: 0.3, dice3d: 0.5, foreground: 0.2 });

  const dir = mkdtempSync(join(tmpdir(), 'mrcl-bl-'));
  try {
    const path = join(dir, 'explain-baselines.csv');
    writeBaselineScores(path, [...rows, { id: 'x,"y"', cohort: 'external', method: 'occlusion', dice2d: null, dice3d: null, foreground: 0.5 }]);
    assert.deepEqual(readBaselineScores(path).slice(0, 4), rows);
    assert.equal(readBaselineScores(path)[4]!.id, 'x,"y"');
    // a file written before the mass columns reads without them
    writeFileSync(path, 'id,cohort,method,dice2d,dice3d,foreground\na,internal,gradCam,0.5,0.25,0.1\n');
    assert.deepEqual(readBaselineScores(path), [older[0]]);
    writeFileSync(path, 'id,cohort,method,dice2d,dice3d,foreground,mass3d,pointing\na,internal,gradCam,0.5,0.25,0.1,1.5,0\n');
    assert.throws(() => readBaselineScores(path), /row 2: mass3d must be a number in \[0, 1\] or empty, got "1.5"/);
    writeFileSync(path, 'id,cohort,method,dice2d,dice3d,foreground\na,internal,lime,0,0,0\n');
    assert.throws(() => readBaselineScores(path), /explain-baselines.csv: row 2: unknown method "lime"/);
    writeFileSync(path, 'id,cohort,method,dice2d,dice3d,foreground\na,internal,gradCam,0,2,0\n');
    assert.throws(() => readBaselineScores(path), /row 2: dice3d must be a number in \[0, 1\] or empty, got "2"/);
    writeFileSync(path, 'id,cohort,label\n');
    assert.throws(() => readBaselineScores(path), /not an explain-baselines file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a fine-tuning run with explain.baselines writes explain-baselines.csv and the means in metrics.json', { timeout: 600_000 }, async () => {
  const ws = await tinyWorkspace(
    { image: { outputStride: 8 }, explain: { baselines: ['gradCam', 'occlusion'], occlusionPatch: 8, occlusionStride: 8 } },
    { internal: 12, external: 4 },
  );
  try {
    const { config, baseDir } = loadConfig(ws.configPath);
    const outcome = await runStudy({ kind: 'finetune', config, baseDir, plan: finetunePlan(config, ['random']), emit: () => undefined });
    assert.equal(outcome.status, 'done', outcome.error);
    for (const fold of [0, 1]) {
      const dir = join(outcome.runDir!, 'finetune', 'random', `fold-${fold}`);
      const preds = readPredictions(join(dir, 'predictions.csv'));
      const rows = readBaselineScores(join(dir, 'explain-baselines.csv'));
      for (const method of ['gradCam', 'occlusion'] as const) {
        const mine = rows.filter((r) => r.method === method);
        // every evaluated case once, in the predictions' order and cohorts
        assert.deepEqual(mine.map((r) => [r.id, r.cohort]), preds.map((p) => [p.id, p.cohort]));
        // a Dice exactly where the attention map has one (a non-empty mask)
        mine.forEach((r, i) => assert.equal(r.dice3d === null, preds[i]!.dice3d === null, `${method} ${r.id}`));
        // and the threshold-free measures with it
        mine.forEach((r) => assert.equal(r.mass3d === null, r.dice3d === null, `${method} ${r.id} mass3d`));
        assert.ok(mine.every((r) => r.pointing === null || r.pointing === 0 || r.pointing === 1));
      }
      assert.ok(rows.some((r) => r.dice3d !== null));
      const m = readJson<{ baselines: { internal: unknown; external: unknown } }>(join(dir, 'metrics.json'));
      assert.deepEqual(m.baselines.internal, summariseBaselines(rows.filter((r) => r.cohort === 'internal')));
      assert.deepEqual(m.baselines.external, summariseBaselines(rows.filter((r) => r.cohort === 'external')));
    }
  } finally {
    rmSync(ws.dir, { recursive: true, force: true });
  }
  // the default: no such file
  const plain = await tinyWorkspace({}, { internal: 12, external: 4 });
  try {
    const { config, baseDir } = loadConfig(plain.configPath);
    const outcome = await runStudy({ kind: 'finetune', config, baseDir, plan: finetunePlan(config, ['random']), emit: () => undefined });
    assert.equal(outcome.status, 'done', outcome.error);
    const dir = join(outcome.runDir!, 'finetune', 'random', 'fold-0');
    assert.ok(existsSync(join(dir, 'predictions.csv')));
    assert.ok(!existsSync(join(dir, 'explain-baselines.csv')));
    assert.equal('baselines' in readJson<object>(join(dir, 'metrics.json')), false);
  } finally {
    rmSync(plain.dir, { recursive: true, force: true });
  }
});

// A tiny experiment at output stride 8: layer3 and layer4 dilated, a 4×4×3
// attention grid on a 32×32×24 volume. Its heatmaps are maps, not the whole
// volume, and the tables carry no coarse-grid warning; under the top-k %
// rule they cover exactly k % and no coverage warning either. (The stride-32
// counterpart, with its warnings, is in experiment.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../../src/engine/config/resolve';
import { runStudy } from '../../../src/engine/experiment/study';
import { finetunePlan } from '../../../src/engine/experiment/units';
import { readJson } from '../../../src/engine/training/run-folder';
import { readPredictions } from '../../../src/engine/training/finetune';
import type { FoldResult, ResultsDoc } from '../../../src/engine/results/types';
import { tinyWorkspace } from './helpers';

async function run(explain: Record<string, unknown>) {
  const ws = await tinyWorkspace({ data: { shape: [32, 32, 24] }, image: { outputStride: 8 }, explain }, { internal: 12, external: 4 });
  const { config, baseDir } = loadConfig(ws.configPath);
  const outcome = await runStudy({ kind: 'finetune', config, baseDir, plan: finetunePlan(config, ['random']), emit: () => {} });
  assert.equal(outcome.status, 'done', outcome.error);
  return outcome.runDir!;
}

test('output stride 8: a 4×4×3 attention grid, heatmaps that are not the whole volume, no coarse-grid warning', { timeout: 600_000 }, async () => {
  const runDir = await run({});
  const fold = join(runDir, 'finetune', 'random', 'fold-0');
  assert.deepEqual(readJson<FoldResult>(join(fold, 'metrics.json')).attentionGrid, [4, 4, 3]);
  const preds = readPredictions(join(fold, 'predictions.csv')).filter((p) => p.foreground !== null);
  assert.ok(preds.length > 0);
  for (const p of preds) assert.ok(p.foreground! < 1, `${p.id}: the map covers the whole volume`);
  // finer than one cell: a map of whole grid cells can beat the whole-volume floor
  assert.ok(preds.some((p) => p.bound3d !== null && p.bound3d! > p.floor3d!));
  const doc = readJson<ResultsDoc>(join(runDir, 'results.json'));
  assert.ok(!doc.explain?.some((c) => c.coarseGrid), JSON.stringify(doc.explain));
  assert.ok(!(doc.warnings ?? []).some((w) => /attention grid/.test(w)), JSON.stringify(doc.warnings));
});

test('output stride 8 with the top-5% rule: every map keeps 5% of the volume, no coverage warning', { timeout: 600_000 }, async () => {
  const runDir = await run({ rule: 'topPercent', topPercent: 5 });
  const preds = readPredictions(join(runDir, 'finetune', 'random', 'fold-1', 'predictions.csv')).filter((p) => p.foreground !== null);
  // ⌈5% of 32·32·24⌉ = 1229 voxels, more only with ties at the cut
  for (const p of preds) assert.ok(p.foreground! >= 1229 / (32 * 32 * 24) && p.foreground! < 0.06, `${p.id}: ${p.foreground}`);
  const md = readFileSync(join(runDir, 'results.md'), 'utf8');
  assert.doesNotMatch(md, /Warning:[^\n]*(cover|attention grid)/);
});

test('a fine-tuning unit with its evaluation (scores, heatmaps, Dice) leaves no tensor behind', { timeout: 600_000 }, async () => {
  const { tf } = await import('../../../src/engine/backend');
  await run({}); // the backend and its kernels are set up by the first run
  const before = tf.memory().numTensors;
  await run({});
  assert.equal(tf.memory().numTensors, before, `${tf.memory().numTensors - before} tensors leaked`);
});

// The ablation study (Table 5) on a tiny cohort, and --workers: the same
// units run as parallel processes give the same tables as one process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { loadConfig } from '../../../src/engine/config/resolve';
import { runStudy } from '../../../src/engine/experiment/study';
import { ABLATION_ARMS } from '../../../src/engine/results/paper';
import { tinyWorkspace } from './helpers';

test('mrcl ablate: the five ablations and the proposed method, each pretrained and fine-tuned, in Table 5', { timeout: 900_000 }, async () => {
  const ws = await tinyWorkspace({ finetune: { folds: 2 } });
  const { config, baseDir } = loadConfig(ws.configPath);
  const outcome = await runStudy({ kind: 'ablation', config, baseDir, emit: () => {} });
  assert.equal(outcome.status, 'done', outcome.error);
  for (const arm of ABLATION_ARMS) {
    assert.ok(existsSync(join(outcome.runDir!, 'ablation', arm, 'pretrain', 'model.safetensors')), `${arm} pretraining`);
    for (const fold of [0, 1]) assert.ok(existsSync(join(outcome.runDir!, 'ablation', arm, `fold-${fold}`, 'metrics.json')), `${arm} fold ${fold}`);
  }
  // each variant trained with its own loss: the pretrained weights differ
  const a = readFileSync(join(outcome.runDir!, 'ablation', 'global-only', 'pretrain', 'model.safetensors'));
  const b = readFileSync(join(outcome.runDir!, 'ablation', 'local-only', 'pretrain', 'model.safetensors'));
  assert.ok(!a.equals(b));
  const md = readFileSync(join(outcome.runDir!, 'results.md'), 'utf8');
  assert.match(md, /Table 5/);
  for (const label of ['Global only', 'Local only', 'Location excluded', 'Contrastive loss', 'Hard negatives', 'Proposed']) assert.match(md, new RegExp(label));
});

test('--workers 2 runs folds as separate processes and gives the same tables as one process', { timeout: 900_000 }, async () => {
  const cli = join(__dirname, '..', '..', '..', 'dist', 'cli.js');
  assert.ok(existsSync(cli), 'dist/cli.js is missing: run `npm run build` first (npm test does)');
  const ws = await tinyWorkspace({ finetune: { initializations: ['random'] } });
  const run = (workers: string) => {
    const r = spawnSync(process.execPath, [join(__dirname, '..', '..', '..', 'bin', 'mrcl.js'), 'experiment', ws.configPath, '--workers', workers], { encoding: 'utf8', timeout: 600_000 });
    assert.equal(r.status, 0, r.stderr);
    const m = /done: (.*)/.exec(r.stderr);
    assert.ok(m, r.stderr);
    return m[1]!.trim();
  };
  const one = run('1');
  const two = run('2');
  // oneDNN's parallel reductions add in an order that depends on the thread
  // count (each of 2 workers gets 1 thread, one process 2): scores agree to
  // float32 rounding, every other column exactly
  for (const fold of [0, 1]) {
    const rel = join('finetune', 'random', `fold-${fold}`, 'predictions.csv');
    const rows = (dir: string) => readFileSync(join(dir, rel), 'utf8').trim().split('\n').map((l) => l.split(','));
    const [a, b] = [rows(two), rows(one)];
    assert.deepEqual(a[0], b[0], `${rel}: header`);
    assert.equal(a.length, b.length, `${rel}: rows`);
    const score = b[0]!.indexOf('score');
    a.slice(1).forEach((row, i) => {
      const ref = b[i + 1]!;
      row.forEach((cell, j) => {
        if (j === score) assert.ok(Math.abs(Number(cell) - Number(ref[j])) < 1e-5, `${rel} row ${i + 1}: score ${cell} vs ${ref[j]}`);
        else assert.equal(cell, ref[j], `${rel} row ${i + 1} column ${b[0]![j]}`);
      });
    });
  }
  const tables = (dir: string) => readdirSync(join(dir, 'tables')).map((f) => readFileSync(join(dir, 'tables', f), 'utf8'));
  assert.deepEqual(tables(two), tables(one));
});

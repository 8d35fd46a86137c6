// What the panel commands open for each kind of argument: run folders, files
// inside runs (heatmaps → their case and fold, saved attention → its case),
// tree-node shapes, Uri-like objects; and which fold's heatmap a case shows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { targetFromPath, targetOf } from '../../../src/extension/panels/panel-target';
import { heatmapDirs, locateCase, readRunConfig } from '../../../src/extension/panels/run-case';

function run(): { dir: string; run: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'panel-target-'));
  const r = join(dir, 'runs', 'exp-20260101-000000');
  for (const init of ['pretrained', 'random']) {
    mkdirSync(join(r, 'finetune', init, 'fold-1', 'heatmaps'), { recursive: true });
    writeFileSync(join(r, 'finetune', init, 'fold-1', 'heatmaps', 'C07.heatmap.nii.gz'), '');
    writeFileSync(join(r, 'finetune', init, 'fold-1', 'predictions.csv'), `id,cohort,label,score,dice2d,dice3d\nC07,internal,1,0.9,${init === 'random' ? '0.1,0.2' : '0.5,0.6'}\n`);
  }
  writeFileSync(join(r, 'finetune', 'random', 'fold-1', 'heatmaps', 'C07.binary.nii.gz'), '');
  mkdirSync(join(r, 'pretrain', 'attention'), { recursive: true });
  writeFileSync(join(r, 'pretrain', 'attention', 'C07.json'), '{}');
  writeFileSync(join(r, 'config.json'), JSON.stringify({ explain: { threshold: 0.25 } }));
  writeFileSync(join(r, 'run.json'), '{}');
  return { dir, run: r, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('paths: a run folder, a heatmap (case + fold), saved attention (case), a fold, other files, outside any run', () => {
  const w = run();
  try {
    const fold = join(w.run, 'finetune', 'random', 'fold-1');
    assert.deepEqual(targetFromPath(w.run), { runDir: w.run });
    assert.deepEqual(targetFromPath(join(fold, 'heatmaps', 'C07.binary.nii.gz')), { runDir: w.run, caseId: 'C07', fold });
    assert.deepEqual(targetFromPath(join(w.run, 'pretrain', 'attention', 'C07.json')), { runDir: w.run, caseId: 'C07' });
    assert.deepEqual(targetFromPath(fold), { runDir: w.run, fold });
    assert.deepEqual(targetFromPath(join(fold, 'predictions.csv')), { runDir: w.run });
    assert.deepEqual(targetFromPath(join(w.run, 'finetune')), { runDir: w.run });
    assert.equal(targetFromPath(w.dir), undefined, 'not inside a run');
    assert.equal(targetFromPath(join(w.dir, 'missing')), undefined);
  } finally {
    w.cleanup();
  }
});

test('arguments: explicit objects, tree nodes, Uris; invalid words are dropped', () => {
  const w = run();
  try {
    assert.deepEqual(targetOf({ runDir: '/r', caseId: 'C1', word: 3, fold: '/r/f' }), { runDir: '/r', caseId: 'C1', word: 3, fold: '/r/f' });
    assert.deepEqual(targetOf({ runDir: '/r', word: -1 }), { runDir: '/r' });
    assert.deepEqual(targetOf({ runDir: '/r', word: 1.5, caseId: 7 }), { runDir: '/r' });
    assert.deepEqual(targetOf({ runDir: '/r', caseId: 'C1', word: 2, patch: 146 }), { runDir: '/r', caseId: 'C1', word: 2, patch: 146 });
    assert.deepEqual(targetOf({ runDir: '/r', patch: -3 }), { runDir: '/r' });
    assert.deepEqual(targetOf({ runDir: '/r', patch: '146' }), { runDir: '/r' });
    assert.deepEqual(targetOf({ run: { dir: w.run } }), { runDir: w.run }, 'a RunNode');
    assert.deepEqual(targetOf({ job: { runDir: w.run } }), { runDir: w.run }, 'a JobNode');
    const heat = join(w.run, 'finetune', 'pretrained', 'fold-1', 'heatmaps', 'C07.heatmap.nii.gz');
    assert.deepEqual(targetOf({ fsPath: heat, path: heat }), { runDir: w.run, caseId: 'C07', fold: join(w.run, 'finetune', 'pretrained', 'fold-1') }, 'a Uri');
    assert.deepEqual(targetOf({ path: heat }), targetOf(heat), 'an ArtifactNode');
    assert.equal(targetOf(undefined), undefined);
    assert.equal(targetOf(42), undefined);
    assert.equal(targetOf({ label: 'x' }), undefined);
  } finally {
    w.cleanup();
  }
});

test('locateCase: the chosen fold, else the proposed init first; each with its own Dice', () => {
  const w = run();
  try {
    const pre = join(w.run, 'finetune', 'pretrained', 'fold-1');
    const rnd = join(w.run, 'finetune', 'random', 'fold-1');
    assert.deepEqual(heatmapDirs(w.run, 'C07'), [pre, rnd]);
    const a = locateCase(w.run, 'C07');
    assert.equal(a.fold, pre);
    assert.equal(a.binary, undefined);
    assert.deepEqual(a.engineDice, { dice2d: 0.5, dice3d: 0.6 });
    assert.equal(a.threshold, 0.25);
    assert.equal(a.attention, join(w.run, 'pretrain', 'attention', 'C07.json'));
    const b = locateCase(w.run, 'C07', rnd);
    assert.equal(b.fold, rnd);
    assert.equal(b.heatmap, join(rnd, 'heatmaps', 'C07.heatmap.nii.gz'));
    assert.equal(b.binary, join(rnd, 'heatmaps', 'C07.binary.nii.gz'));
    assert.deepEqual(b.engineDice, { dice2d: 0.1, dice3d: 0.2 });
    assert.equal(locateCase(w.run, 'C07', join(w.run, 'finetune', 'random', 'fold-4')).fold, pre, 'a fold without the case falls back');
    assert.equal(locateCase(w.run, 'C99').heatmap, undefined);
  } finally {
    w.cleanup();
  }
});

test("a run whose explain.rule is 'topPercent' gives the viewer its percentage (default 5); other rules none", () => {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-rule-'));
  const write = (explain: unknown) => writeFileSync(join(dir, 'config.json'), JSON.stringify({ explain }));
  write({ rule: 'topPercent', topPercent: 2.5, threshold: 0.01 });
  assert.equal(readRunConfig(dir).topPercent, 2.5);
  write({ rule: 'topPercent' });
  assert.equal(readRunConfig(dir).topPercent, 5);
  write({ rule: 'normalized', threshold: 0.2 });
  assert.equal(readRunConfig(dir).topPercent, undefined);
  assert.equal(readRunConfig(dir).threshold, 0.2);
});

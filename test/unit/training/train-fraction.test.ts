// finetune.trainFraction: each fold's training cases cut to a share per
// class (a label-efficiency curve), nested across fractions, the test folds
// and the external cohort unchanged. Hand-checked on small index lists and
// on a real tiny cohort's folds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { labelledShare, downstreamFolds } from '../../../src/engine/training/finetune';
import { openDataset } from '../../../src/engine/training/dataset';
import { loadConfig } from '../../../src/engine/config/resolve';
import { absolutizePaths } from '../../../src/engine/experiment/study';
import { tinyWorkspace } from '../experiment/helpers';

const ids = Array.from({ length: 20 }, (_, i) => `case-${i}`);
const labels = ids.map((_, i) => (i % 4 === 0 ? 1 : 0)) as (0 | 1)[]; // 5 positives, 15 negatives
const train = ids.map((_, i) => i);

test('labelledShare keeps round(fraction × n) of each class (at least one), in the fold\'s order, nested across fractions', () => {
  assert.deepEqual(labelledShare(train, ids, labels, 1, 7), train, 'fraction 1: every case');
  for (const f of [0.1, 0.25, 0.5, 0.8]) {
    const kept = labelledShare(train, ids, labels, f, 7);
    const pos = kept.filter((i) => labels[i] === 1).length;
    const neg = kept.length - pos;
    assert.equal(pos, Math.max(1, Math.round(f * 5)), `${f}: positives`);
    assert.equal(neg, Math.max(1, Math.round(f * 15)), `${f}: negatives`);
    assert.deepEqual(kept, [...kept].sort((a, b) => a - b), 'the fold\'s order');
  }
  const small = labelledShare(train, ids, labels, 0.25, 7);
  const large = labelledShare(train, ids, labels, 0.5, 7);
  assert.ok(small.every((i) => large.includes(i)), 'a smaller fraction\'s cases are among a larger one\'s');
  // the order comes from the ids and the seed, not the list's order
  assert.deepEqual(labelledShare([...train].reverse(), ids, labels, 0.5, 7).sort((a, b) => a - b), large);
  assert.notDeepEqual(labelledShare(train, ids, labels, 0.5, 8), large, 'another seed draws other cases');
  assert.throws(() => labelledShare(train, ids, labels, 0, 7), /trainFraction must be in \(0, 1\] \(got 0\)/);
});

test('on a tiny cohort\'s folds only the training part shrinks; the config refuses a fraction outside (0, 1]', async () => {
  const ws = await tinyWorkspace({}, { internal: 40, external: 6 });
  const load = (fraction: number) => {
    const { config, baseDir } = loadConfig(ws.configPath);
    const c = absolutizePaths({ ...config, finetune: { ...config.finetune, trainFraction: fraction } }, baseDir);
    return downstreamFolds(c, openDataset(c, '/'));
  };
  const all = load(1);
  const quarter = load(0.25);
  all.splits.forEach((s, f) => {
    const q = quarter.splits[f]!;
    assert.deepEqual(q.test, s.test, `fold ${f}: the same test cases`);
    assert.deepEqual(q.train, s.train, `fold ${f}: the fold's training part is recorded whole`);
    assert.ok(q.fit.length < s.fit.length && q.fit.every((i) => s.fit.includes(i)), `fold ${f}: fits on a subset`);
    for (const label of [0, 1]) assert.ok(q.fit.some((i) => all.cases[i]!.label === label), `fold ${f}: both classes kept`);
  });
  // a run's config.json recorded before the option existed has no trainFraction: every training case, as then
  const { config: loaded, baseDir } = loadConfig(ws.configPath);
  const { trainFraction: _absent, ...olderFinetune } = loaded.finetune;
  const older = absolutizePaths({ ...loaded, finetune: olderFinetune as typeof loaded.finetune }, baseDir);
  assert.deepEqual(downstreamFolds(older, openDataset(older, '/')).splits, all.splits);
  const bad = join(ws.dir, 'bad.mrcl.json');
  writeFileSync(bad, JSON.stringify({ ...JSON.parse(readFileSync(ws.configPath, 'utf8')), finetune: { trainFraction: 1.5 } }));
  assert.throws(() => loadConfig(bad), (e: Error) => e.message.includes(bad) && /trainFraction/.test(e.message));
});

// Retrieval ranks against SciPy / numpy (test/fixtures/metrics, made by retrieval_ranks.py there).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { recallAtK, retrievalRanks } from '../../../src/engine/metrics';

interface Direction { ranks: number[]; recallAt: Record<string, number>; medianRank: number; meanRank: number }
interface Fixture {
  cases: { name: string; similarity: number[][]; imageToReport: Direction; reportToImage: Direction; chance: { recallAt: Record<string, number>; medianRank: number; meanRank: number } }[];
}
const fx = JSON.parse(readFileSync(join(__dirname, '../../fixtures/metrics/retrieval-ranks.json'), 'utf8')) as Fixture;
const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-12, `${what}: ${a} ≠ ${b}`);

test('retrievalRanks matches scipy rankdata(method="max") and numpy median / mean, both directions, with ties', () => {
  assert.ok(fx.cases.length >= 7);
  for (const c of fx.cases) {
    const r = retrievalRanks(c.similarity);
    assert.equal(r.cases, c.similarity.length);
    for (const dir of ['imageToReport', 'reportToImage'] as const) {
      assert.deepEqual(r[dir].ranks, c[dir].ranks, `${c.name} ${dir} ranks`);
      for (const k of [1, 5, 10]) close(r[dir].recallAt[k], c[dir].recallAt[String(k)], `${c.name} ${dir} recall@${k}`);
      close(r[dir].medianRank, c[dir].medianRank, `${c.name} ${dir} median rank`);
      close(r[dir].meanRank, c[dir].meanRank, `${c.name} ${dir} mean rank`);
    }
    for (const k of [1, 5, 10]) close(r.chance.recallAt[k], c.chance.recallAt[String(k)], `${c.name} chance recall@${k}`);
    close(r.chance.medianRank, c.chance.medianRank, `${c.name} chance median`);
    close(r.chance.meanRank, c.chance.meanRank, `${c.name} chance mean`);
  }
});

test('retrievalRanks agrees with recallAtK for every k', () => {
  for (const c of fx.cases) {
    const n = c.similarity.length;
    const ks = Array.from({ length: n + 1 }, (_, i) => i + 1);
    const r = retrievalRanks(c.similarity, ks);
    for (const k of ks) {
      const rec = recallAtK(c.similarity, k);
      assert.equal(r.imageToReport.recallAt[k], rec.imageToReport, `${c.name} k=${k}`);
      assert.equal(r.reportToImage.recallAt[k], rec.reportToImage, `${c.name} k=${k}`);
    }
  }
});

test('retrievalRanks by hand: ranks, median (even N: mean of the middle two), chance', () => {
  const s = [
    [0.9, 0.1, 0.3],
    [0.8, 0.5, 0.2],
    [0.1, 0.6, 0.4],
  ];
  const r = retrievalRanks(s);
  assert.deepEqual(r.imageToReport.ranks, [1, 2, 2]);
  assert.deepEqual(r.reportToImage.ranks, [1, 2, 1]);
  assert.equal(r.imageToReport.medianRank, 2);
  assert.equal(r.reportToImage.medianRank, 1);
  assert.equal(r.imageToReport.meanRank, 5 / 3);
  assert.deepEqual(r.chance, { recallAt: { 1: 1 / 3, 5: 1, 10: 1 }, medianRank: 2, meanRank: 2 });
  // a constant matrix ranks every true item last (ties against the query)
  const flat = retrievalRanks([[1, 1], [1, 1]]);
  assert.deepEqual(flat.imageToReport.ranks, [2, 2]);
  assert.equal(flat.imageToReport.recallAt[1], 0);
  // even N: ranks 1, 1, 3, 4 → median 2
  const four = retrievalRanks([
    [1, 0, 0, 0],
    [0, 1, 0, 0],
    [2, 2, 1, 0],
    [2, 2, 2, 1],
  ]);
  assert.deepEqual(four.imageToReport.ranks, [1, 1, 3, 4]);
  assert.equal(four.imageToReport.medianRank, 2);
  assert.throws(() => retrievalRanks([]), /empty/);
  assert.throws(() => retrievalRanks([[1, 2]]), /square/);
  assert.throws(() => retrievalRanks([[NaN]]), /similarity\[0\]\[0\] is NaN/);
  assert.throws(() => retrievalRanks(s, [0]), /positive integer/);
});

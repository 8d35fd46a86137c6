// Retrieval's misses split by tumour location, against SciPy / numpy
// (test/fixtures/metrics, made by retrieval_by_location.py there; its chance
// figures by enumerating every order of the items).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { retrievalByLocation, retrievalRanks } from '../../../src/engine/metrics';

interface Direction { sameAbove: number[]; otherAbove: number[]; meanSameAbove: number; meanOtherAbove: number; withinRecallAt1: number }
interface Chance { meanSameAbove: number; meanOtherAbove: number; withinRecallAt1: number }
interface Fixture { cases: { name: string; similarity: number[][]; locations: string[]; imageToReport: Direction; reportToImage: Direction; chance?: Chance }[] }
const fx = JSON.parse(readFileSync(join(__dirname, '../../fixtures/metrics/retrieval-by-location.json'), 'utf8')) as Fixture;
const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-12, `${what}: ${a} ≠ ${b}`);

test('retrievalByLocation matches scipy rankdata over each location’s items, both directions, with ties', () => {
  assert.ok(fx.cases.length >= 6);
  for (const c of fx.cases) {
    const r = retrievalByLocation(c.similarity, c.locations);
    assert.equal(r.cases, c.locations.length);
    for (const dir of ['imageToReport', 'reportToImage'] as const) {
      assert.deepEqual(r[dir].sameAbove, c[dir].sameAbove, `${c.name} ${dir} same`);
      assert.deepEqual(r[dir].otherAbove, c[dir].otherAbove, `${c.name} ${dir} other`);
      close(r[dir].meanSameAbove, c[dir].meanSameAbove, `${c.name} ${dir} mean same`);
      close(r[dir].meanOtherAbove, c[dir].meanOtherAbove, `${c.name} ${dir} mean other`);
      close(r[dir].withinRecallAt1, c[dir].withinRecallAt1, `${c.name} ${dir} within recall@1`);
    }
  }
});

test('retrievalByLocation: chance equals the enumeration of every order of the items', () => {
  const withChance = fx.cases.filter((c) => c.chance);
  assert.ok(withChance.length >= 4);
  for (const c of withChance) {
    const r = retrievalByLocation(c.similarity, c.locations);
    close(r.chance.meanSameAbove, c.chance!.meanSameAbove, `${c.name} chance same`);
    close(r.chance.meanOtherAbove, c.chance!.meanOtherAbove, `${c.name} chance other`);
    close(r.chance.withinRecallAt1, c.chance!.withinRecallAt1, `${c.name} chance within`);
  }
});

test('retrievalByLocation: the two parts add up to the rank, and a location-only model is told apart from a pair-aware one', () => {
  for (const c of fx.cases) {
    const r = retrievalByLocation(c.similarity, c.locations);
    const ranks = retrievalRanks(c.similarity);
    for (const dir of ['imageToReport', 'reportToImage'] as const) {
      ranks[dir].ranks.forEach((rank, i) => assert.equal(r[dir].sameAbove[i]! + r[dir].otherAbove[i]! + 1, rank, `${c.name} ${dir} ${i}`));
    }
  }
  // 9 pairs, 3 locations; similarity 1 within a location, 0 across: location only
  const locs = ['a', 'a', 'a', 'b', 'b', 'b', 'c', 'c', 'c'];
  const onlyLocation = locs.map((li) => locs.map((lj) => (li === lj ? 1 : 0)));
  const lo = retrievalByLocation(onlyLocation, locs);
  assert.equal(lo.imageToReport.meanOtherAbove, 0);
  assert.equal(lo.imageToReport.meanSameAbove, 2); // ties count against the query: both same-location items
  assert.equal(lo.imageToReport.withinRecallAt1, 0);
  // the same plus the pair: the true item wins within its location too
  const pairAware = onlyLocation.map((row, i) => row.map((v, j) => v + (i === j ? 0.5 : 0)));
  const pa = retrievalByLocation(pairAware, locs);
  assert.equal(pa.imageToReport.meanSameAbove, 0);
  assert.equal(pa.imageToReport.withinRecallAt1, 1);
  assert.deepEqual(lo.counts, { a: 3, b: 3, c: 3 });
  assert.equal(lo.chance.meanSameAbove, 1);
  assert.equal(lo.chance.meanOtherAbove, 3);
});

test('retrievalByLocation refuses a location list of the wrong length and a bad matrix', () => {
  assert.throws(() => retrievalByLocation([[1, 0], [0, 1]], ['a']), /1 locations for 2 pairs/);
  assert.throws(() => retrievalByLocation([[1, 0]], ['a']), /square/);
  assert.throws(() => retrievalByLocation([[NaN]], ['a']), /NaN/);
});

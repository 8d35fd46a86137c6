// Nearest-neighbour label agreement of embeddings, against numpy / SciPy
// (test/fixtures/metrics/label-neighbours.json, made by label_neighbours.py
// there): ties, a set organised by its labels, a collapsed one, and the same
// embeddings with their labels shuffled.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { labelNeighbours } from '../../../src/engine/metrics';
import { locationNeighboursOf } from '../../../src/engine/explain/export-cross-attention';

interface Expected { n: number; agreement: number; chance: number; counts: Record<string, number> }
interface Fixture { cases: { name: string; embeddings: number[][]; labels: string[]; expected: Expected }[] }
const fx = JSON.parse(readFileSync(join(__dirname, '../../fixtures/metrics/label-neighbours.json'), 'utf8')) as Fixture;
const byName = (name: string) => fx.cases.find((c) => c.name === name)!;

test('labelNeighbours matches the numpy reference, ties shared equally', () => {
  assert.equal(fx.cases.length, 4);
  for (const c of fx.cases) {
    const r = labelNeighbours(c.embeddings, c.labels);
    assert.equal(r.n, c.expected.n, c.name);
    assert.ok(Math.abs(r.agreement - c.expected.agreement) <= 1e-12, `${c.name}: agreement ${r.agreement} ≠ ${c.expected.agreement}`);
    assert.ok(Math.abs(r.chance - c.expected.chance) <= 1e-12, `${c.name}: chance ${r.chance} ≠ ${c.expected.chance}`);
    assert.deepEqual(r.counts, c.expected.counts, c.name);
  }
});

test('labelNeighbours tells embeddings organised by their labels from the same embeddings under other labels, and a collapsed set gives chance', () => {
  const clustered = byName('clustered by label');
  const shuffled = byName('clustered, labels shuffled');
  const good = labelNeighbours(clustered.embeddings, clustered.labels);
  const blind = labelNeighbours(shuffled.embeddings, shuffled.labels);
  assert.equal(good.agreement, 1);
  assert.ok(blind.agreement < blind.chance + 0.1 && blind.agreement < good.agreement - 0.5, `${blind.agreement} vs ${good.agreement}`);
  // every other item tied nearest: the agreement is exactly the chance value
  const collapsed = labelNeighbours(byName('collapsed').embeddings, byName('collapsed').labels);
  assert.ok(Math.abs(collapsed.agreement - collapsed.chance) <= 1e-12);
  // a zero row (a collapsed model's) is measured, not refused: its cosine with every item is 0, so all are tied for it
  const z = labelNeighbours([[0, 0], [1, 0], [0.9, 0.1], [0, 1]], ['a', 'a', 'b', 'b']);
  assert.ok(Math.abs(z.agreement - (1 / 3 + 0 + 0 + 1) / 4) <= 1e-12, String(z.agreement));
  // scaling a row changes nothing (cosine)
  const scaled = clustered.embeddings.map((r, i) => r.map((v) => v * (i + 1)));
  assert.equal(labelNeighbours(scaled, clustered.labels).agreement, 1);
});

test('labelNeighbours refuses what it cannot measure, naming the caller', () => {
  assert.throws(() => labelNeighbours([[1, 0]], ['a'], 'held-out images'), /held-out images: needs at least 2 items, got 1/);
  assert.throws(() => labelNeighbours([[1, 0], [0, 1]], ['a'], 'x'), /x: 1 labels for 2 embeddings/);
  assert.throws(() => labelNeighbours([[1, 0], [0, 1, 2]], ['a', 'b'], 'x'), /x: embedding 1 has 3 values, embedding 0 has 2/);
  assert.throws(() => labelNeighbours([[1, NaN], [0, 1]], ['a', 'b'], 'x'), /x: embedding 0 holds a non-finite value at 1/);
});

test('the pretraining stage measures location neighbours only where they can move', () => {
  const emb = [[1, 0], [0.9, 0.2], [0, 1], [0.1, 0.9]];
  const txt = [[0, 1], [0.2, 0.9], [1, 0], [0.9, 0.1]];
  const both = locationNeighboursOf([0, 1, 2, 3], ['s', 's', 'i', 'i'], emb, txt, 'held-out pairs\'');
  assert.equal(both!.image.agreement, 1);
  assert.equal(both!.report.agreement, 1);
  assert.ok(Math.abs(both!.image.chance - 1 / 3) <= 1e-12);
  // a case without a location, fewer than two cases, or one location only: nothing measured
  assert.equal(locationNeighboursOf([0, 1, 2, 3], ['s', undefined, 'i', 'i'], emb, txt, 'x'), null);
  assert.equal(locationNeighboursOf([0], ['s'], emb, txt, 'x'), null);
  assert.equal(locationNeighboursOf([0, 1], ['s', 's', 'i', 'i'], emb, txt, 'x'), null);
  assert.notEqual(locationNeighboursOf([1, 2], ['s', 's', 'i', 'i'], emb, txt, 'x'), null);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { caseLabels } from '../../../src/engine/synth/case';
import { planCohortLabels } from '../../../src/engine/synth/cohort';
import { sampleLabels, SYNTH_LOCATIONS, SYNTH_MARKERS, type SynthLocation, type SynthMarker } from '../../../src/engine/synth/labels';
import { Rng } from '../../../src/engine/util/rng';

// Joint probabilities derived by hand from the tables in labels.ts:
// P(marker) = fusion .48, v600e .34, other .18; P(location | marker) in
// supra/infra/trans order = fusion .22/.65/.13, v600e .72/.16/.12, other .55/.30/.15.
const JOINT: Record<SynthMarker, Record<SynthLocation, number>> = {
  fusion: { supratentorial: 0.1056, infratentorial: 0.312, transtentorial: 0.0624 },
  v600e: { supratentorial: 0.2448, infratentorial: 0.0544, transtentorial: 0.0408 },
  other: { supratentorial: 0.099, infratentorial: 0.054, transtentorial: 0.027 },
};

const N = 4000;
// labels only: no volume is rendered
const labels = planCohortLabels({ internal: N, external: 0, seed: 11 });

function counts() {
  const c = Object.fromEntries(SYNTH_MARKERS.map((m) => [m, Object.fromEntries(SYNTH_LOCATIONS.map((l) => [l, 0]))])) as Record<SynthMarker, Record<SynthLocation, number>>;
  for (const l of labels) c[l.marker][l.location]++;
  return c;
}

test('joint label frequencies match the hand-derived table (±4.5σ)', () => {
  const c = counts();
  for (const m of SYNTH_MARKERS) {
    for (const l of SYNTH_LOCATIONS) {
      const p = JOINT[m][l];
      const tol = 4.5 * Math.sqrt((p * (1 - p)) / N);
      assert.ok(Math.abs(c[m][l] / N - p) < tol, `${m}/${l}: ${c[m][l] / N} vs ${p} ± ${tol.toFixed(4)}`);
    }
  }
});

test('clinical pattern: fusion mostly infratentorial, V600E mostly supratentorial, other 15–20%', () => {
  const c = counts();
  const total = (m: SynthMarker) => SYNTH_LOCATIONS.reduce((a, l) => a + c[m][l], 0);
  assert.ok(c.fusion.infratentorial / total('fusion') > 0.55);
  assert.ok(c.v600e.supratentorial / total('v600e') > 0.6);
  const other = total('other') / N;
  assert.ok(other > 0.15 && other < 0.21, `other fraction ${other}`);
  // every combination occurs, transtentorial included
  for (const m of SYNTH_MARKERS) for (const l of SYNTH_LOCATIONS) assert.ok(c[m][l] > 0, `${m}/${l} never drawn`);
});

test('labels are a pure function of (seed, id) and match what the cohort uses', () => {
  assert.deepEqual(caseLabels(11, 'int-0001'), { location: labels[0].location, marker: labels[0].marker });
  assert.equal(labels[0].id, 'int-0001');
  const again = planCohortLabels({ internal: 50, external: 0, seed: 11 });
  // ids are padded to 3 digits for a 50-case cohort, so compare through caseLabels
  for (const l of again) assert.deepEqual(caseLabels(11, l.id), { location: l.location, marker: l.marker });
  const other = planCohortLabels({ internal: 50, external: 0, seed: 12 });
  assert.notDeepEqual(
    again.map((l) => l.marker + l.location),
    other.map((l) => l.marker + l.location),
  );
});

test('sampleLabels consumes a generator deterministically', () => {
  const a = Array.from({ length: 20 }, ((r) => () => sampleLabels(r))(new Rng(5)));
  const b = Array.from({ length: 20 }, ((r) => () => sampleLabels(r))(new Rng(5)));
  assert.deepEqual(a, b);
});

test("markers 'paper': Table 6's Dataset 1 proportions (137 fusion, 67 V600E, 137 other of 341), locations given the marker unchanged", () => {
  const paper = planCohortLabels({ internal: N, external: 0, seed: 11, markers: 'paper' });
  const share = (m: SynthMarker) => paper.filter((l) => l.marker === m).length / N;
  for (const [m, p] of [['fusion', 137 / 341], ['v600e', 67 / 341], ['other', 137 / 341]] as const) {
    const tol = 4.5 * Math.sqrt((p * (1 - p)) / N);
    assert.ok(Math.abs(share(m) - p) < tol, `${m}: ${share(m)} vs ${p.toFixed(4)} ± ${tol.toFixed(4)}`);
  }
  const fusion = paper.filter((l) => l.marker === 'fusion');
  const infra = fusion.filter((l) => l.location === 'infratentorial').length / fusion.length;
  assert.ok(Math.abs(infra - 0.65) < 4.5 * Math.sqrt((0.65 * 0.35) / fusion.length), `P(infra | fusion) ${infra}`);
  assert.throws(() => planCohortLabels({ internal: 5, external: 0, markers: 'table6' as 'paper' }), /markers must be "default" or "paper", got "table6"/);
});

// The threshold-free map measures (explain/mass.ts) against hand-derived
// values, and through explainCase on maps that point at the tumour or away.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mapMass } from '../../../src/engine/explain/mass';
import { explainCase, type Grid3 } from '../../../src/engine/explain';

const near = (a: number | undefined, b: number, what: string) => assert.ok(a !== undefined && Math.abs(a - b) < 1e-6, `${what}: ${a} ≠ ${b}`);

test('mapMass by hand: mass share, flat-map share, peak', () => {
  // 8 voxels, tumour at 2 and 3; map mass 1+2+3+4+0+0+0+0 = 10, on the tumour 3 + 4 = 7
  const m = mapMass([1, 2, 3, 4, 0, 0, 0, 0], [0, 0, 1, 1, 0, 0, 0, 0])!;
  near(m.mass3d, 7 / 10, 'mass3d');
  assert.equal(m.massFloor3d, 2 / 8);
  assert.equal(m.pointing, 1);
  // negative values carry no mass; the peak (5 at voxel 0) is off the tumour
  const n = mapMass([5, -3, 1, 2, 0, -1, 0, 0], [0, 0, 1, 1, 0, 0, 0, 0])!;
  near(n.mass3d, 3 / 8, 'mass3d with negatives clipped');
  assert.equal(n.pointing, 0);
  // ties: the first maximal voxel in Volume order is the peak
  assert.equal(mapMass([2, 2, 2, 0], [0, 1, 1, 0])!.pointing, 0);
  assert.equal(mapMass([0, 2, 2, 2], [0, 1, 1, 0])!.pointing, 1);
});

test('mapMass: a map without contrast scores the flat map and points nowhere; an empty mask has no measure', () => {
  const flat = mapMass([0.3, 0.3, 0.3, 0.3], [0, 1, 0, 0])!;
  near(flat.mass3d, 1 / 4, 'constant map');
  assert.equal(flat.pointing, 0);
  // all zero (a constant map after min–max): no mass → the flat map's share
  const zero = mapMass([0, 0, 0, 0], [0, 1, 1, 0])!;
  assert.equal(zero.mass3d, 2 / 4);
  assert.equal(zero.massFloor3d, 2 / 4);
  assert.equal(zero.pointing, 0);
  assert.equal(mapMass([1, 2, 3], [0, 0, 0]), undefined);
});

test('mapMass: bad input is an error naming the case', () => {
  assert.throws(() => mapMass([1, 2], [0, 1, 0], 'case X'), /case X: the mask has 3 voxels, the heatmap 2/);
  assert.throws(() => mapMass([1, Number.NaN], [0, 1], 'case Y'), /case Y: heatmap voxel 1 is NaN/);
  assert.throws(() => mapMass([1, Infinity], [0, 1]), /heatmap voxel 1 is Infinity/);
});

const FOCUS: Grid3 = [4, 1, 2];
const TUMOUR = [0, 0, 1, 1, 0, 0, 0, 0];

test('explainCase: a map on the tumour and one away from it get different mass and pointing, whatever the rule', () => {
  const run = (attention: number[], opts: object) => explainCase({ attention, grid: [2, 1, 1], imageDims: FOCUS, mask: TUMOUR, ...opts });
  // normalised maps along x, both z: better 0, 1/3, 2/3, 1 (mass 4, on the tumour 5/3); worse 1, 2/3, 1/3, 0 (on it 1/3)
  const better = run([0.2, 0.8, 0.2, 0.8], {});
  const worse = run([0.8, 0.2, 0.8, 0.2], {});
  near(better.mass3d, 5 / 12, 'better');
  near(worse.mass3d, 1 / 12, 'worse');
  assert.equal(better.massFloor3d, 2 / 8);
  assert.equal(worse.massFloor3d, 2 / 8);
  assert.equal(better.pointing, 1);
  assert.equal(worse.pointing, 0);
  // the rule that binarises does not change the normalised map's measures
  near(run([0.2, 0.8, 0.2, 0.8], { rule: 'topPercent', topPercent: 25 }).mass3d, 5 / 12, 'topPercent');
  // rule 'raw' reads the raw map: 0.2, 0.4, 0.6, 0.8 per z → (0.6 + 0.8) / 4
  near(run([0.2, 0.8, 0.2, 0.8], { rule: 'raw', threshold: 0.5 }).mass3d, 1.4 / 4, 'raw');
  // without a mask: no measure
  assert.equal(explainCase({ attention: [0.2, 0.8, 0.2, 0.8], grid: [2, 1, 1], imageDims: FOCUS }).mass3d, undefined);
});

test('explainCase: the mass of the PyTorch reference pipeline, from its reference heatmap', () => {
  const fixture = JSON.parse(readFileSync(join(__dirname, '../../fixtures/explain/explain.json'), 'utf8')) as {
    pipeline: { grid: Grid3; imageDims: Grid3; attention: number[]; mask: number[]; runs: { threshold: number; normalize: boolean; smooth: boolean; heatmap: number[] }[] };
  };
  const { grid, imageDims, attention, mask, runs } = fixture.pipeline;
  for (const r of runs) {
    const ex = explainCase({ attention, grid, imageDims, mask, threshold: r.threshold, normalize: r.normalize, smooth: r.smooth });
    let total = 0;
    let inside = 0;
    r.heatmap.forEach((v, i) => {
      total += Math.max(0, v);
      if (mask[i]) inside += Math.max(0, v);
    });
    near(ex.mass3d, inside / total, `normalize ${r.normalize}`);
    near(ex.massFloor3d, mask.filter((v) => v !== 0).length / mask.length, 'massFloor3d');
  }
});

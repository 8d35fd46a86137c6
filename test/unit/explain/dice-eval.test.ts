import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { axialAreas, explainCase, largestAreaSlice } from '../../../src/engine/explain';
import type { Grid3 } from '../../../src/engine/explain';

interface Run {
  threshold: number;
  normalize: boolean;
  smooth: boolean;
  heatmap: number[];
  binary: number[];
  dice3d: number;
  dice2d: number;
  slice: number;
  sliceArea: number;
}
const fixture = JSON.parse(readFileSync(join(__dirname, '../../fixtures/explain/explain.json'), 'utf8')) as {
  pipeline: { grid: Grid3; imageDims: Grid3; attention: number[]; mask: number[]; runs: Run[] };
};

test('explainCase matches the PyTorch reference pipeline (normalised and raw, plain and smoothed Dice)', () => {
  const { grid, imageDims, attention, mask, runs } = fixture.pipeline;
  assert.equal(runs.length, 4);
  for (const run of runs) {
    const label = `threshold ${run.threshold}, normalize ${run.normalize}, smooth ${run.smooth}`;
    const r = explainCase({ attention, grid, imageDims, mask, threshold: run.threshold, normalize: run.normalize, smooth: run.smooth });
    let worst = 0;
    r.heatmap.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - run.heatmap[i]!))));
    assert.ok(worst < 1e-5, `${label}: heatmap max |diff| ${worst}`);
    assert.deepEqual(Array.from(r.binary), run.binary, label);
    assert.equal(r.slice, run.slice, label);
    assert.equal(r.sliceArea, run.sliceArea, label);
    assert.ok(Math.abs(r.dice3d! - run.dice3d) < 1e-12, `${label}: dice3d ${r.dice3d} vs ${run.dice3d}`);
    assert.ok(Math.abs(r.dice2d! - run.dice2d) < 1e-12, `${label}: dice2d ${r.dice2d} vs ${run.dice2d}`);
    assert.equal(r.diceSkipped, undefined);
  }
});

test('explainCase defaults: threshold 0.01, normalised, unsmoothed', () => {
  const { grid, imageDims, attention, mask, runs } = fixture.pipeline;
  const r = explainCase({ attention, grid, imageDims, mask });
  assert.equal(r.dice3d, runs[0]!.dice3d);
  assert.equal(r.dice2d, runs[0]!.dice2d);
});

// A 2×1×1 attention grid → 2×2×3 image. Attention column means m = [0.2, 0.8]
// along x; upsampling 2 → 2 keeps them; y and z are size 1 → copies.
const ATT = [0.2, 0.8, 0.2, 0.8];
const IMG: Grid3 = [2, 2, 3];

test('explainCase by hand: normalisation, strict threshold, Dice, the largest slice', () => {
  // normalised heatmap: x = 0 → 0, x = 1 → 1; binary = x == 1
  // mask: slice 0: (1,0); slice 1: (0,0),(1,0),(1,1); slice 2: (0,1)
  const mask = [0, 1, 0, 0, /* k=1 */ 1, 1, 0, 1, /* k=2 */ 0, 0, 1, 0];
  const r = explainCase({ attention: ATT, grid: [2, 1, 1], imageDims: IMG, mask });
  assert.deepEqual(Array.from(r.heatmap), [0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
  assert.deepEqual(Array.from(r.binary), [0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
  // 3D: |B| = 6, |T| = 5, I = 3 → 6/11; slice 1: |B| = 2, |T| = 3, I = 2 → 4/5
  assert.equal(r.dice3d, 6 / 11);
  assert.equal(r.slice, 1);
  assert.equal(r.sliceArea, 3);
  assert.equal(r.dice2d, 4 / 5);
  const s = explainCase({ attention: ATT, grid: [2, 1, 1], imageDims: IMG, mask, smooth: true });
  assert.equal(s.dice3d, 7 / 12);
  assert.equal(s.dice2d, 5 / 6);
  // threshold is strict: a value equal to it is background
  const edge = explainCase({ attention: ATT, grid: [2, 1, 1], imageDims: IMG, threshold: 1 });
  assert.equal(edge.binary.reduce((a, b) => a + b, 0), 0);
  assert.equal(edge.dice3d, undefined);
  // raw: heatmap keeps the attention values; 0.2 > 0.1, 0.8 > 0.1
  const raw = explainCase({ attention: ATT, grid: [2, 1, 1], imageDims: IMG, normalize: false, threshold: 0.5, mask });
  assert.ok(Math.abs(raw.heatmap[0]! - 0.2) < 1e-7 && Math.abs(raw.heatmap[1]! - 0.8) < 1e-7);
  assert.deepEqual(Array.from(raw.binary), Array.from(r.binary));
  const low = explainCase({ attention: ATT, grid: [2, 1, 1], imageDims: IMG, normalize: false, threshold: 0.1, mask });
  // all 12 foreground: 3D 2·5/(12+5); slice 1: 2·3/(4+3)
  assert.equal(low.dice3d, 10 / 17);
  assert.equal(low.dice2d, 6 / 7);
});

test('explainCase: a constant map normalises to zeros; an empty mask skips Dice with a reason', () => {
  const flat = explainCase({ attention: [0.5, 0.5, 0.5, 0.5], grid: [2, 1, 1], imageDims: IMG, threshold: 0, mask: new Array(12).fill(0) });
  assert.deepEqual(Array.from(flat.heatmap), new Array(12).fill(0));
  assert.deepEqual(Array.from(flat.binary), new Array(12).fill(0));
  assert.equal(flat.dice3d, undefined);
  assert.equal(flat.dice2d, undefined);
  assert.equal(flat.slice, undefined);
  assert.match(flat.diceSkipped!, /mask is empty/);
  // no mask: no Dice fields at all
  const none = explainCase({ attention: ATT, grid: [2, 1, 1], imageDims: IMG });
  assert.deepEqual(Object.keys(none).sort(), ['binary', 'foreground', 'heatmap', 'rule']);
  // map all background vs a non-empty mask: 0, smoothed 1/(T+1)
  const miss = explainCase({ attention: ATT, grid: [2, 1, 1], imageDims: IMG, threshold: 2, mask: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] });
  assert.equal(miss.dice3d, 0);
  assert.equal(miss.dice2d, 0);
  assert.equal(explainCase({ attention: ATT, grid: [2, 1, 1], imageDims: IMG, threshold: 2, smooth: true, mask: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] }).dice3d, 1 / 2);
});

test('largestAreaSlice: ties go to the lowest z; empty mask → undefined', () => {
  const dims: Grid3 = [2, 1, 4];
  // areas per k: [1, 2, 2, 0]
  const mask = [1, 0, 1, 1, 1, 1, 0, 0];
  assert.deepEqual(axialAreas(mask, dims), [1, 2, 2, 0]);
  assert.deepEqual(largestAreaSlice(mask, dims), { slice: 1, area: 2 });
  assert.deepEqual(largestAreaSlice([0, 0, 0, 0, 0, 0, 0, 5], dims), { slice: 3, area: 1 });
  assert.deepEqual(largestAreaSlice([1, 1, 1, 1, 1, 1, 1, 1], dims), { slice: 0, area: 2 });
  assert.equal(largestAreaSlice(new Array(8).fill(0), dims), undefined);
});

test('explainCase: bad input is a clear error naming the case', () => {
  const base = { attention: ATT, grid: [2, 1, 1] as Grid3, imageDims: IMG, caseId: 'c7' };
  assert.throws(() => explainCase({ ...base, mask: [1, 0] }), /explainCase c7: mask has 2 voxels, the image grid needs 12/);
  assert.throws(() => explainCase({ ...base, mask: new Array(12).fill(NaN) }), /explainCase c7: mask voxel 0 is NaN/);
  assert.throws(() => explainCase({ ...base, attention: [1, 2, 3] }), /explainCase c7: attentionMap: attention has 3 values/);
  assert.throws(() => explainCase({ ...base, threshold: NaN }), /explainCase c7: threshold must be a finite number/);
  assert.throws(() => explainCase({ ...base, imageDims: [2, 2] as unknown as Grid3 }), /explainCase c7: imageDims must be three positive integers/);
});

test('explainCase by hand: foreground fraction, whole-map floor and grid-cell bound beside the Dice', () => {
  const mask = [0, 1, 0, 0, /* k=1 */ 1, 1, 0, 1, /* k=2 */ 0, 0, 1, 0];
  const r = explainCase({ attention: ATT, grid: [2, 1, 1], imageDims: IMG, mask });
  assert.equal(r.rule, 'normalized');
  assert.equal(r.foreground, 6 / 12); // binary = x == 1
  // whole volume: 2·5/(5 + 12); whole slice 1: 2·3/(3 + 4)
  assert.equal(r.floor3d, 10 / 17);
  assert.equal(r.floor2d, 6 / 7);
  // cells x = 0 (m = 2 of 6) and x = 1 (m = 3 of 6): {x = 1} 6/11 < both 10/17;
  // slice 1: x = 0 (1 of 2), x = 1 (2 of 2): {x = 1} 4/5 < both 6/7
  assert.equal(r.bound3d, 10 / 17);
  assert.equal(r.bound2d, 6 / 7);
  // the raw rule at a threshold every voxel passes: the whole volume, Dice = the floor
  const whole = explainCase({ attention: ATT, grid: [2, 1, 1], imageDims: IMG, rule: 'raw', threshold: 0.1, mask });
  assert.equal(whole.foreground, 1);
  assert.equal(whole.dice3d, whole.floor3d);
  assert.equal(whole.dice2d, whole.floor2d);
});

// 2×1×1 grid → 4×1×2 image; the tumour is x ∈ {2, 3} on z = 0.
// Column means [a, b] upsample along x to a, (2a + b)/3, (a + 2b)/3, b.
const FOCUS: Grid3 = [4, 1, 2];
const TUMOUR = [0, 0, 1, 1, 0, 0, 0, 0];

test('explainCase: a map on the tumour and one away from it give different Dice, by every rule', () => {
  const better = [0.2, 0.8, 0.2, 0.8]; // normalised 0, 1/3, 2/3, 1 along x
  const worse = [0.8, 0.2, 0.8, 0.2]; // 1, 2/3, 1/3, 0
  const run = (attention: number[], opts: object) => explainCase({ attention, grid: [2, 1, 1], imageDims: FOCUS, mask: TUMOUR, ...opts });
  // normalised, > 0.01: better keeps x = 1, 2, 3 (6 voxels, 2 on the tumour) → 4/8; worse x = 0, 1, 2 (1 on it) → 2/8
  assert.equal(run(better, {}).dice3d, 0.5);
  assert.equal(run(worse, {}).dice3d, 0.25);
  assert.equal(run(better, {}).foreground, 0.75);
  // top 25 % = 2 voxels: better x = 3 (z = 0, 1), one on the tumour → 2/4; worse x = 0 → 0
  const top = { rule: 'topPercent', topPercent: 25 };
  assert.equal(run(better, top).dice3d, 0.5);
  assert.equal(run(worse, top).dice3d, 0);
  assert.equal(run(better, top).foreground, 0.25);
  assert.deepEqual(Array.from(run(better, top).binary), [0, 0, 0, 1, 0, 0, 0, 1]);
  // the floor does not depend on the map: 2·2/(2 + 8)
  assert.equal(run(better, top).floor3d, 0.4);
  assert.equal(run(worse, top).floor3d, 0.4);
  // raw at 0.5: better x = 2, 3 (0.6, 0.8) → the tumour and its z = 1 copy: 4/6; worse x = 0, 1 → 0
  assert.equal(run(better, { rule: 'raw', threshold: 0.5 }).dice3d, 4 / 6);
  assert.equal(run(worse, { rule: 'raw', threshold: 0.5 }).dice3d, 0);
});

test('explainCase: the former normalize option maps onto the rules; bad rules are errors', () => {
  const mask = [0, 1, 0, 0, 1, 1, 0, 1, 0, 0, 1, 0];
  const legacy = explainCase({ attention: ATT, grid: [2, 1, 1], imageDims: IMG, normalize: false, threshold: 0.1, mask });
  assert.equal(legacy.rule, 'raw');
  assert.equal(legacy.dice3d, explainCase({ attention: ATT, grid: [2, 1, 1], imageDims: IMG, rule: 'raw', threshold: 0.1, mask }).dice3d);
  assert.equal(explainCase({ attention: ATT, grid: [2, 1, 1], imageDims: IMG, normalize: true }).rule, 'normalized');
  // rule wins over normalize
  assert.equal(explainCase({ attention: ATT, grid: [2, 1, 1], imageDims: IMG, normalize: false, rule: 'topPercent' }).rule, 'topPercent');
  assert.throws(() => explainCase({ attention: ATT, grid: [2, 1, 1], imageDims: IMG, rule: 'topPercent', topPercent: 0, caseId: 'c1' }), /explainCase c1: topPercent must be in \(0, 100\]/);
  assert.throws(() => explainCase({ attention: ATT, grid: [2, 1, 1], imageDims: IMG, rule: 'nope' as never }), /unknown rule "nope"/);
});

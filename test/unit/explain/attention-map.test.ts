import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { attentionMap, upsampleAlignCorners } from '../../../src/engine/explain';
import type { Grid3 } from '../../../src/engine/explain';

const fixture = JSON.parse(readFileSync(join(__dirname, '../../fixtures/explain/explain.json'), 'utf8')) as {
  upsample: { name: string; from: Grid3; to: Grid3; input: number[]; output: number[] }[];
};

test('attentionMap: 2×2×1 grid by hand, mean over queries, Volume order', () => {
  // positions p = (x·2 + y)·1 + 0: p0 = (0,0), p1 = (0,1), p2 = (1,0), p3 = (1,1)
  // rows = queries (each sums to 1); column means: [1.0, 0.4, 1.7, 0.9] / 4
  const a = [
    [0.1, 0.2, 0.3, 0.4],
    [0.4, 0.1, 0.4, 0.1],
    [0.0, 0.0, 1.0, 0.0],
    [0.5, 0.1, 0.0, 0.4],
  ].flat();
  const m = attentionMap(a, [2, 2, 1]);
  // Volume order (x fastest): (0,0), (1,0), (0,1), (1,1) = p0, p2, p1, p3
  const expected = [0.25, 0.425, 0.1, 0.225];
  assert.equal(m.length, 4);
  m.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-7, `voxel ${i}: ${v} vs ${expected[i]}`));
  // Float32Array input gives the same, up to the rounding of its inputs
  attentionMap(Float32Array.from(a), [2, 2, 1]).forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-7));
});

test('attentionMap: a non-square 1×2×3 grid reorders z-fastest positions to x-fastest', () => {
  // identity attention scaled: column means = diag / P; put value p+1 on the diagonal
  const P = 6;
  const a = new Float32Array(P * P);
  for (let p = 0; p < P; p++) a[p * P + p] = p + 1;
  const m = attentionMap(a, [1, 2, 3]);
  // p = y·3 + z; Volume index = y + 2·z
  for (let y = 0; y < 2; y++) for (let z = 0; z < 3; z++) assert.ok(Math.abs(m[y + 2 * z]! - (y * 3 + z + 1) / P) < 1e-7);
});

test('attentionMap: bad input is a clear error', () => {
  assert.throws(() => attentionMap([1, 2, 3], [2, 1, 1]), /attention has 3 values, a 2×1×1 grid needs 2×2 = 4/);
  assert.throws(() => attentionMap([1, NaN, 0, 1], [2, 1, 1]), /attention\[0, 1\] is NaN/);
  assert.throws(() => attentionMap([1], [0, 1, 1] as Grid3), /grid must be three positive integers/);
});

test('upsampleAlignCorners matches torch trilinear align_corners=True', () => {
  assert.ok(fixture.upsample.length >= 5);
  for (const c of fixture.upsample) {
    const out = upsampleAlignCorners(c.input, c.from, c.to);
    assert.equal(out.length, c.output.length, c.name);
    let worst = 0;
    out.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - c.output[i]!))));
    assert.ok(worst < 1e-5, `${c.name}: max |diff| ${worst}`);
  }
});

test('upsampleAlignCorners by hand: 1D ramp and identity', () => {
  // 2 → 5 along x: samples at 0, .25, .5, .75, 1 of [0, 4]
  assert.deepEqual(Array.from(upsampleAlignCorners([0, 4], [2, 1, 1], [5, 1, 1])), [0, 1, 2, 3, 4]);
  // out size 1 takes input index 0 (torch's scale 0)
  assert.deepEqual(Array.from(upsampleAlignCorners([7, 4, 1], [3, 1, 1], [1, 1, 1])), [7]);
  const v = [1, 2, 3, 4, 5, 6];
  assert.deepEqual(Array.from(upsampleAlignCorners(v, [1, 2, 3], [1, 2, 3])), v);
  // corners are kept exactly
  const up = upsampleAlignCorners([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2], [3, 5, 4]);
  assert.equal(up[0], 1);
  assert.equal(up[up.length - 1], 8);
  assert.equal(up[2], 2);
});

test('upsampleAlignCorners: bad input is a clear error', () => {
  assert.throws(() => upsampleAlignCorners([1, 2], [3, 1, 1], [4, 1, 1]), /2 values do not fill a 3×1×1 grid/);
  assert.throws(() => upsampleAlignCorners([1, Infinity], [2, 1, 1], [4, 1, 1]), /value 1 is Infinity/);
  assert.throws(() => upsampleAlignCorners([1, 2], [2, 1, 1], [4, 1.5, 1] as Grid3), /to must be three positive integers/);
});

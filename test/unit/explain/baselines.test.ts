// Grad-CAM and occlusion sensitivity against the PyTorch reference of
// test/fixtures/explain/make_baselines.py (a tiny MarkerClassifier, hooks +
// autograd for Grad-CAM, a plain loop for occlusion).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../../../src/engine/backend';
import { resolveConfig } from '../../../src/engine/config/resolve';
import { MarkerClassifier } from '../../../src/engine/model/classifier';
import { loadTorchState } from '../../../src/engine/networks/module';
import { volumesToInput } from '../../../src/engine/networks/image-input';
import { encoderToLayer4, explainBaselines, explainMap, gradCam, occlusionPasses, occlusionSensitivity, occlusionStarts } from '../../../src/engine/explain';
import type { BaselineScore, Grid3 } from '../../../src/engine/explain';

interface Scored {
  heatmap: number[];
  dice3d: number;
  dice2d: number;
  foreground: number;
}
const fixture = JSON.parse(readFileSync(join(__dirname, '../../fixtures/explain/baselines.json'), 'utf8')) as {
  dims: Grid3;
  heatmapStep: number;
  width: number;
  hidden: number;
  threshold: number;
  state: Record<string, { shape: number[]; data: number[] }>;
  mask: number[];
  gradCam: Record<'layer4' | 'self_attention', Scored & { grid: Grid3; map: number[]; logit: number }>;
  occlusion: Scored & { patch: number; stride: number; fill: number; baseline: number; passes: number; map: number[] };
};

/** make_baselines.py's input_value, in Volume order (x fastest). */
function volume(): { data: Float32Array; dims: Grid3 } {
  const [nx, ny, nz] = fixture.dims;
  const data = new Float32Array(nx * ny * nz);
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++) {
        const blob = Math.exp(-((x - 21) ** 2 + (y - 8) ** 2 + (z - 10) ** 2) / 18);
        data[x + nx * (y + ny * z)] = Math.sin(0.7 * x + 0.3 * y) * Math.cos(0.5 * z) + (0.1 * ((7 * x + 3 * y + 5 * z) % 13)) / 13 + 1.5 * blob;
      }
  return { data, dims: fixture.dims };
}

function model(): MarkerClassifier {
  const config = resolveConfig({
    image: { depth: 10, shortcut: 'B', width: fixture.width, outputStride: 8, selfAttention: true },
    finetune: { head: 'relu', hidden: fixture.hidden },
  });
  const m = new MarkerClassifier(config, 3);
  const state = new Map(Object.entries(fixture.state).map(([k, v]) => [k, tf.tensor(v.data, v.shape)]));
  try {
    loadTorchState(m, state, { source: 'baselines.json' });
  } finally {
    tf.dispose([...state.values()]);
  }
  return m;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const score = (map: ArrayLike<number>, grid: Grid3) =>
  explainMap({ map, grid, cellGrid: fixture.gradCam.layer4.grid, imageDims: fixture.dims, rule: 'normalized', threshold: fixture.threshold, mask: fixture.mask });

function checkScored(r: ReturnType<typeof score>, want: Scored, what: string): void {
  const sampled = Array.from(r.heatmap).filter((_, i) => i % fixture.heatmapStep === 0);
  assert.ok(maxDiff(sampled, want.heatmap) < 1e-4, `${what}: heatmap differs by ${maxDiff(sampled, want.heatmap)}`);
  assert.ok(Math.abs(r.dice3d! - want.dice3d) < 1e-12, `${what}: dice3d ${r.dice3d} vs torch ${want.dice3d}`);
  assert.ok(Math.abs(r.dice2d! - want.dice2d) < 1e-12, `${what}: dice2d ${r.dice2d} vs torch ${want.dice2d}`);
  assert.ok(Math.abs(r.foreground - want.foreground) < 1e-12, `${what}: foreground ${r.foreground} vs torch ${want.foreground}`);
}

test('encoderToLayer4 + the rest reproduce the classifier: its layer4 equals the encoder’s before self-attention', () => {
  const m = model();
  const before = tf.memory().numTensors;
  const x = volumesToInput([volume()]);
  const l4 = encoderToLayer4(m.image, x);
  const res = m.apply(x, false);
  const { out: attended, attention } = m.image.selfAttention!.apply(l4, { training: false });
  try {
    assert.ok(maxDiff(attended.dataSync(), res.layer4.dataSync()) < 1e-5);
    assert.ok(Math.abs(res.logits.dataSync()[0]! - fixture.gradCam.layer4.logit) < 1e-4, `logit ${res.logits.dataSync()[0]} vs torch ${fixture.gradCam.layer4.logit}`);
  } finally {
    tf.dispose([x, l4, attended, attention, res.layer3, res.layer4, res.global, res.logits, res.attention!]);
  }
  assert.equal(tf.memory().numTensors, before);
  m.dispose();
});

for (const layer of ['layer4', 'self_attention'] as const) {
  test(`Grad-CAM on '${layer}' matches PyTorch hooks + autograd, and scores as the reference (Dice, foreground)`, () => {
    const want = fixture.gradCam[layer];
    const m = model();
    const x = volumesToInput([volume(), volume()]);
    const before = tf.memory().numTensors;
    const r = gradCam(m, x, { layer });
    assert.equal(tf.memory().numTensors, before, 'gradCam leaked tensors');
    x.dispose();
    m.dispose();
    assert.deepEqual(r.grid, want.grid);
    assert.equal(r.maps.length, 2);
    const peak = Math.max(...want.map);
    assert.ok(peak > 0);
    for (const map of r.maps) assert.ok(maxDiff(map, want.map) < 1e-4 * peak, `${layer}: map differs by ${maxDiff(map, want.map)} (peak ${peak})`);
    r.logits.forEach((l) => assert.ok(Math.abs(l - want.logit) < 1e-4));
    checkScored(score(r.maps[0]!, r.grid), want, `Grad-CAM ${layer}`);
    assert.ok(want.dice3d > 0, 'the fixture’s Dice is not trivially 0');
  });
}

test("Grad-CAM: the two layers differ (self-attention's gradient is spatially constant), and a bad layer is refused", () => {
  const a = fixture.gradCam.layer4.map;
  const b = fixture.gradCam.self_attention.map;
  assert.ok(maxDiff(a, b) > 1e-3);
  const m = model();
  const x = volumesToInput([volume()]);
  assert.throws(() => gradCam(m, x, { layer: 'layer3' as never }), /gradCam: layer must be one of layer4, self_attention/);
  x.dispose();
  m.dispose();
  const config = resolveConfig({ image: { depth: 10, width: 1, outputStride: 8, selfAttention: false }, finetune: { hidden: 2 } });
  const plain = new MarkerClassifier(config, 1);
  const y = volumesToInput([volume()]);
  assert.throws(() => gradCam(plain, y, { layer: 'self_attention' }), /needs an encoder with self-attention/);
  const r = gradCam(plain, y);
  assert.deepEqual(r.grid, [4, 3, 2]);
  y.dispose();
  plain.dispose();
});

test('occlusion patch starts: end-aligned last patch, patch cut to the axis, and the pass count', () => {
  assert.deepEqual(occlusionStarts(32, 8, 6), [0, 6, 12, 18, 24]);
  assert.deepEqual(occlusionStarts(24, 8, 6), [0, 6, 12, 16]);
  assert.deepEqual(occlusionStarts(16, 8, 6), [0, 6, 8]);
  assert.deepEqual(occlusionStarts(5, 8, 6), [0]);
  assert.deepEqual(occlusionStarts(10, 2, 2), [0, 2, 4, 6, 8]);
  assert.equal(occlusionPasses([32, 24, 16], 8, 6), 1 + 5 * 4 * 3);
  // the cost quoted in occlusion.ts's header
  assert.equal(occlusionPasses([64, 64, 40]), 76);
  assert.equal(occlusionPasses([240, 240, 155]), 5201);
});

test('occlusion sensitivity matches the PyTorch loop (mean fill, overlapping patches), without leaks', () => {
  const want = fixture.occlusion;
  const m = model();
  const before = tf.memory().numTensors;
  const r = occlusionSensitivity(m, volume(), { patch: want.patch, stride: want.stride, batchSize: 7 });
  assert.equal(tf.memory().numTensors, before, 'occlusionSensitivity leaked tensors');
  m.dispose();
  assert.equal(r.passes, want.passes);
  assert.ok(Math.abs(r.fill - want.fill) < 1e-6);
  assert.ok(Math.abs(r.baseline - want.baseline) < 1e-5);
  let peak = 0;
  for (const v of want.map) peak = Math.max(peak, Math.abs(v));
  assert.ok(peak > 1e-4, 'the reference map is not flat');
  assert.ok(maxDiff(r.map, want.map) < 5e-4 * peak, `occlusion map differs by ${maxDiff(r.map, want.map)} (peak ${peak})`);
  checkScored(score(r.map, fixture.dims), want, 'occlusion');
});

test('occlusion: the map does not depend on how many occluded volumes share a forward pass', () => {
  const m = model();
  const v = volume();
  const opts = { patch: fixture.occlusion.patch, stride: fixture.occlusion.stride };
  const one = occlusionSensitivity(m, v, { ...opts, batchSize: 1 });
  for (const batchSize of [3, 16]) {
    const r = occlusionSensitivity(m, v, { ...opts, batchSize });
    assert.equal(r.passes, one.passes);
    assert.ok(maxDiff(r.map, one.map) < 1e-6, `batch ${batchSize}: the map differs by ${maxDiff(r.map, one.map)}`);
  }
  m.dispose();
});

test("occlusion: 'zero' fill, a patch over the whole volume, and bad options", () => {
  const m = model();
  const v = volume();
  // one patch covering everything: every voxel holds the same drop
  const r = occlusionSensitivity(m, v, { patch: 64, stride: 64, fill: 'zero' });
  assert.equal(r.passes, 2);
  assert.equal(r.fill, 0);
  const zero = { data: new Float32Array(v.data.length), dims: v.dims };
  const x = volumesToInput([zero]);
  const res = m.apply(x, false);
  const p0 = tf.tidy(() => tf.sigmoid(res.logits).dataSync()[0]!);
  tf.dispose([x, res.layer3, res.layer4, res.global, res.logits, res.attention!]);
  for (const value of [r.map[0]!, r.map[r.map.length - 1]!]) assert.ok(Math.abs(value - (r.baseline - p0)) < 1e-6);
  assert.throws(() => occlusionSensitivity(m, v, { patch: 0 }), /patch must be a positive integer/);
  assert.throws(() => occlusionSensitivity(m, v, { fill: 'noise' as never }), /fill must be 'mean' or 'zero'/);
  assert.throws(() => occlusionSensitivity(m, { data: new Float32Array(3), dims: v.dims }), /the volume has 3 voxels/);
  m.dispose();
});

test('explainBaselines scores both methods with the run’s rule (as explainMap on the maps), without leaks', () => {
  const m = model();
  const explain = {
    ...resolveConfig({}).explain,
    baselines: ['gradCam', 'occlusion'] as ('gradCam' | 'occlusion')[],
    rule: 'normalized' as const,
    threshold: fixture.threshold,
    occlusionPatch: fixture.occlusion.patch,
    occlusionStride: fixture.occlusion.stride,
  };
  const cases = [
    { id: 'a', cohort: 'internal' as const, volume: volume(), mask: fixture.mask },
    { id: 'b', cohort: 'external' as const, volume: volume() },
  ];
  const before = tf.memory().numTensors;
  const rows = explainBaselines(m, cases, explain);
  assert.equal(tf.memory().numTensors, before, 'explainBaselines leaked tensors');
  m.dispose();
  assert.deepEqual(rows.map((r) => [r.id, r.cohort, r.method]), [['a', 'internal', 'gradCam'], ['b', 'external', 'gradCam'], ['a', 'internal', 'occlusion'], ['b', 'external', 'occlusion']]);
  const [camA, camB, occA, occB] = rows as [BaselineScore, BaselineScore, BaselineScore, BaselineScore];
  for (const [row, want] of [[camA, fixture.gradCam.layer4], [occA, fixture.occlusion]] as const) {
    assert.ok(Math.abs(row.dice3d! - want.dice3d) < 1e-12 && Math.abs(row.dice2d! - want.dice2d) < 1e-12, `${row.method}: Dice ${row.dice3d}, ${row.dice2d}`);
    assert.ok(Math.abs(row.foreground - want.foreground) < 1e-12);
  }
  // no mask: no Dice, the foreground still
  for (const [row, twin] of [[camB, camA], [occB, occA]] as const) {
    assert.equal(row.dice3d, null);
    assert.equal(row.dice2d, null);
    assert.equal(row.foreground, twin.foreground);
  }
  assert.deepEqual(explainBaselines(m, cases, { ...explain, baselines: [] }), []);
});

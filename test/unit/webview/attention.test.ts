import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFloat32Base64, patchRowToVolumeOrder, patchUnderVoxel, shadeCss, shadeLevels, shadeRange, topK, topPatches, upsampleAlignCorners } from '../../../webview/common/attention';
import { upsampleAlignCorners as engineUpsample } from '../../../src/engine/explain/upsample';
import { gridToVolumeOrder } from '../../../src/engine/networks/image-input';

test('base64 float32 decoding matches Buffer and checks the length', () => {
  const values = Float32Array.from([0, 1, -2.5, 0.125, 3.4e38]);
  for (let n = 0; n <= values.length; n++) {
    const b64 = Buffer.from(values.buffer, 0, n * 4).toString('base64');
    assert.deepEqual([...decodeFloat32Base64(b64, n, 'x')], [...values.subarray(0, n)]);
  }
  assert.throws(() => decodeFloat32Base64('AAAA', 1, 'f.json imageToText'), /f\.json imageToText: holds 3 bytes/);
  assert.throws(() => decodeFloat32Base64('AA$A', 1, 'f.json'), /not valid base64/);
});

test('top-k: heaviest first, ties to the earlier word, k beyond W', () => {
  const words = ['mass', 'in', 'the', 'pons'];
  assert.deepEqual(topK(words, [0.1, 0.4, 0.1, 0.4], 3).map((w) => w.index), [1, 3, 0]);
  assert.equal(topK(words, [0.1, 0.4, 0.1, 0.4], 10).length, 4);
  assert.deepEqual(topK(words, [0, 0, 0, 0], 0), []);
  assert.throws(() => topK(words, [1], 1), /4 words but 1 weights/);
});

test('top patches: heaviest first, ties to the lower index, each with its cell and name', () => {
  // 2×1×2: p = (x·1 + 0)·2 + z → 0 (0,0,0), 1 (0,0,1), 2 (1,0,0), 3 (1,0,1)
  const top = topPatches([0.1, 0.4, 0.4, 0.1], [2, 1, 2], 3);
  assert.deepEqual(top.map((t) => [t.patch, t.cell, t.name]), [
    [1, [0, 0, 1], '(0, 0, 1) left superior'],
    [2, [1, 0, 0], '(1, 0, 0) right inferior'],
    [0, [0, 0, 0], '(0, 0, 0) left inferior'],
  ]);
  assert.equal(topPatches([1], [1, 1, 1], 5).length, 1);
  assert.throws(() => topPatches([1, 0], [1, 1, 1], 1), /2 values do not fill the 1×1×1 grid/);
});

test('shading: min–max over the report or weight / max, zero-safe; CSS alpha scaled', () => {
  assert.deepEqual([...shadeLevels([0.2, 0.1, 0, 0.4], 'max')], [0.5, 0.25, 0, 1]);
  assert.deepEqual([...shadeLevels([0, 0], 'max')], [0, 0]);
  assert.deepEqual([...shadeLevels([NaN, -1, 2], 'max')], [0, 0, 1]);
  // range (the default): min–max, so nearly uniform attention still shows which words stand out
  assert.deepEqual([...shadeLevels([0.25, 0.3, 0.2, 0.25])].map((x) => +x.toFixed(6)), [0.5, 1, 0, 0.5]);
  assert.deepEqual([...shadeLevels([0.25, 0.25])], [1, 1], 'equal weights shade alike');
  assert.deepEqual([...shadeLevels([0, 0])], [0, 0]);
  assert.deepEqual([...shadeLevels([NaN, 1, 3])], [0, Math.fround(1 / 3), 1], 'NaN counts as 0 and sets the minimum');
  assert.deepEqual(shadeRange([0.25, 0.3, 0.2]), { min: 0.2, max: 0.3 });
  assert.deepEqual(shadeRange([0.25, 0.3, 0.2], 'max'), { min: 0, max: 0.3 });
  assert.deepEqual(shadeRange([]), { min: 0, max: 0 });
  assert.equal(shadeCss(1), 'rgba(255, 140, 0, 0.85)');
  assert.equal(shadeCss(0.5, [0, 0, 255], 1), 'rgba(0, 0, 255, 0.5)');
  assert.equal(shadeCss(2), 'rgba(255, 140, 0, 0.85)');
});

test('patch under voxel: hand table on a 9×5×1 image over a 3×2×1 grid', () => {
  // x: round(i·2/8) → i 0,1 → 0; 2..5 → 1; 6..8 → 2. y: round(j·1/4) → j 0,1 → 0; 2..4 → 1
  const rows: [number, number, number, number][] = [
    [0, 0, 0, 0], [1, 1, 0, 0], [2, 0, 1, 2], [5, 4, 1, 3], [6, 1, 2, 4], [8, 4, 2, 5],
  ];
  for (const [i, j, x, p] of rows) {
    const r = patchUnderVoxel([i, j, 0], [9, 5, 1], [3, 2, 1]);
    assert.equal(r.cell[0], x, `i=${i}`);
    assert.equal(r.patch, p, `(${i}, ${j})`);
  }
  assert.throws(() => patchUnderVoxel([9, 0, 0], [9, 5, 1], [3, 2, 1]), /outside the 9×5×1 image/);
});

test('clicking the peak of a one-hot patch map selects that patch', () => {
  const grid = [3, 4, 2] as const;
  const dims = [11, 13, 7] as const;
  const P = grid[0] * grid[1] * grid[2];
  for (let p = 0; p < P; p++) {
    const row = new Float32Array(P);
    row[p] = 1;
    const up = upsampleAlignCorners(patchRowToVolumeOrder(row, grid), grid, dims);
    let arg = 0;
    for (let v = 1; v < up.length; v++) if (up[v]! > up[arg]!) arg = v;
    const voxel = [arg % dims[0], Math.floor(arg / dims[0]) % dims[1], Math.floor(arg / (dims[0] * dims[1]))] as const;
    assert.equal(patchUnderVoxel(voxel, dims, grid).patch, p);
  }
});

test('upsampling and reordering agree with the engine', () => {
  const grid = [3, 2, 4] as const;
  const row = Float32Array.from({ length: 24 }, (_, i) => Math.sin(i) + 1);
  assert.deepEqual([...patchRowToVolumeOrder(row, grid)], [...gridToVolumeOrder(row, grid)]);
  const vol = gridToVolumeOrder(row, grid);
  const mine = upsampleAlignCorners(vol, grid, [7, 5, 9]);
  const ref = engineUpsample(vol, [3, 2, 4], [7, 5, 9]);
  assert.equal(mine.length, ref.length);
  for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(mine[i]! - ref[i]!) < 1e-6, `voxel ${i}`);
});

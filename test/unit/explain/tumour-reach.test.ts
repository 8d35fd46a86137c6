// How far the tumour reaches into an encoder's features (explain/tumour-reach.ts):
// the patch distances, the profile, the tumour's patches and the input's change
// on hand-derived grids; the feature change against the encoder's own outputs;
// the generator's tumour-free image (synth/case.ts) differs from the case's
// image at every tumour voxel and only near it, and asking for it leaves the
// case's image as it was.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../../src/engine/backend';
import { featureChange, inputChange, patchDistances, reachProfile, tumourPatches, REACH_BINS } from '../../../src/engine/explain/tumour-reach';
import { resnet3d18 } from '../../../src/engine/networks/resnet3d';
import { volumesToInput } from '../../../src/engine/networks/image-input';
import { synthesizeCase } from '../../../src/engine/synth/case';
import { headGrid } from '../../../src/engine/synth/grid';
import { assertClose, cpu, noLeaks, values } from '../networks/helpers';

before(cpu);

test('patchDistances: Chebyshev distance in patches to the nearest tumour patch, patch order (x·gy + y)·gz + z', () => {
  // a 4 × 1 × 3 grid, tumour at (0, 0, 0) and (3, 0, 2)
  const grid: [number, number, number] = [4, 1, 3];
  const flags = new Array(12).fill(0);
  flags[0] = 1; // (0,0,0)
  flags[3 * 3 + 2] = 1; // (3,0,2)
  // by hand: min(max(x, z), max(3 − x, 2 − z))
  const expected = [
    [0, 1, 2], // x = 0
    [1, 1, 2], // x = 1: (1,0,2) is 2 from (3,0,2) and 2 from (0,0,0)
    [2, 1, 1], // x = 2
    [2, 1, 0], // x = 3: (3,0,0) is 3 from (0,0,0), 2 from (3,0,2)
  ];
  const d = patchDistances(flags, grid);
  assert.deepEqual([...d], expected.flat());
  assert.deepEqual([...patchDistances(new Array(12).fill(0), grid)], new Array(12).fill(-1), 'no tumour patch: −1 everywhere');
  assert.throws(() => patchDistances([1, 0], grid), /2 flags for a 4×1×3 grid/);
});

test('reachProfile: mean change per distance bin, relative to the tumour patches, the tumour share of the squared change', () => {
  // distances 0, 0, 1, 2, 3, 5 (the last two in the "3+" bin)
  const distance = Int32Array.from([0, 0, 1, 2, 3, 5]);
  const change = [4, 2, 3, 1, 1, 0];
  const p = reachProfile(change, distance);
  assert.equal(REACH_BINS, 4);
  assert.deepEqual(p.bins, [
    { distance: 0, patches: 2, change: 3 },
    { distance: 1, patches: 1, change: 3 },
    { distance: 2, patches: 1, change: 1 },
    { distance: 3, patches: 2, change: 0.5 },
  ]);
  assert.deepEqual(p.relative, [1, 1, 1 / 3, 0.5 / 3]);
  assert.equal(p.tumourShare, (16 + 4) / (16 + 4 + 9 + 1 + 1 + 0));
  assert.equal(p.tumourFraction, 2 / 6);
  const empty = reachProfile([1, 1], Int32Array.from([0, 0]));
  assert.ok(Number.isNaN(empty.bins[1]!.change) && Number.isNaN(empty.relative[1]!), 'an empty bin is NaN, not 0');
  assert.throws(() => reachProfile([1], Int32Array.from([-1])), /no tumour patch/);
  assert.throws(() => reachProfile([1, 2], Int32Array.from([0])), /2 changes for 1 distances/);
});

test('tumourPatches and inputChange: blocks of the volume (the last padded), Volume order in, patch order out', async () => {
  // a 4 × 2 × 3 volume (X fastest) onto a 2 × 1 × 2 grid: blocks 2 × 2 × 2, the z = 1 blocks hold z = 2 and a padded z = 3
  const dims: [number, number, number] = [4, 2, 3];
  const grid: [number, number, number] = [2, 1, 2];
  const at = (i: number, j: number, k: number) => i + 4 * (j + 2 * k);
  const mask = new Float32Array(24);
  mask[at(3, 1, 2)] = 1; // block (1, 0, 1) → patch (1·1 + 0)·2 + 1 = 3
  await noLeaks('tumourPatches', () => {
    assert.deepEqual([...tumourPatches({ data: mask, dims }, grid)], [0, 0, 0, 1]);
  });
  const a = new Float32Array(24);
  const b = new Float32Array(24);
  a[at(0, 0, 0)] = 2; // block (0,0,0): one voxel differs by 2 → RMS √(4/8)
  a[at(2, 1, 2)] = 1;
  b[at(2, 1, 2)] = 4; // block (1,0,1): −3 over a padded block of 8 → √(9/8)
  await noLeaks('inputChange', () => {
    assertClose(inputChange({ data: a, dims }, { data: b, dims }, grid), [Math.sqrt(4 / 8), 0, 0, Math.sqrt(9 / 8)], 1e-6, 'block RMS');
  });
});

test('featureChange: the norm over channels of the frozen encoder\'s feature difference, layer3 and layer4, in patch order; none between equal inputs', async () => {
  const enc = resnet3d18({ width: 2, outputStride: 8, dilate: false, dropout: 0, seed: 3, attentionGamma: 0.1 });
  try {
    const dims: [number, number, number] = [16, 16, 8];
    const a = { data: values(16 * 16 * 8, 5).map((v) => 0.5 + 0.5 * v), dims };
    const b = { data: Float32Array.from(a.data), dims };
    for (let i = 0; i < 4; i++) b.data[i] += 1; // a corner of the volume changed
    await noLeaks('featureChange', () => {
      const fc = featureChange(enc, a, b);
      assert.deepEqual(fc.layer3.grid, [2, 2, 1]);
      assert.deepEqual(fc.layer4.grid, [2, 2, 1]);
      // reference: the encoder's own outputs, one input at a time
      const ref = (stage: 'layer3' | 'layer4') =>
        tf.tidy(() => {
          const fa = enc.apply(volumesToInput([a]), { training: false })[stage];
          const fb = enc.apply(volumesToInput([b]), { training: false })[stage];
          const C = fa.shape[4];
          return fa.sub(fb).reshape([-1, C]).norm('euclidean', 1).dataSync();
        });
      assertClose(fc.layer3.change, ref('layer3'), 1e-5, 'layer3 change');
      assertClose(fc.layer4.change, ref('layer4'), 1e-5, 'layer4 change');
      assert.ok(fc.layer3.change[0]! > 0, 'the changed corner changes its patch');
      const same = featureChange(enc, a, a);
      assert.ok(same.layer3.change.every((v) => v === 0) && same.layer4.change.every((v) => v === 0));
    });
  } finally {
    enc.dispose();
  }
});

test('synthesizeCase tumourFree: the same case without its tumour, every tumour voxel different, most of the head the same; the image itself unchanged', () => {
  const grid = headGrid([32, 32, 20]);
  for (const id of ['int-001', 'int-003']) {
    const plain = synthesizeCase(5, id, 'internal', grid);
    const c = synthesizeCase(5, id, 'internal', grid, undefined, { tumourFree: true });
    assert.equal(plain.tumourFree, undefined);
    assert.deepEqual(c.image.data, plain.image.data, 'asking for the tumour-free image leaves the image as it was');
    const free = c.tumourFree!;
    assert.deepEqual(free.dims, c.image.dims);
    assert.deepEqual(free.affine, c.image.affine);
    let inMask = 0;
    let differInMask = 0;
    let differ = 0;
    for (let n = 0; n < free.data.length; n++) {
      const d = free.data[n] !== c.image.data[n];
      if (d) differ++;
      if (c.mask.data[n]) {
        inMask++;
        if (d) differInMask++;
      }
    }
    assert.ok(inMask > 0);
    assert.equal(differInMask, inMask, `${id}: every tumour voxel differs`);
    // the oedema and mass effect reach beyond the mask; the same noise elsewhere leaves the rest identical
    assert.ok(differ < 0.1 * free.data.length, `${id}: ${differ} of ${free.data.length} voxels differ`);
    assert.ok(differ > inMask, `${id}: the oedema or mass effect differs too`);
  }
});

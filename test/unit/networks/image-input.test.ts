import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gridToVolumeOrder, volumesToInput } from '../../../src/engine/networks/image-input';
import { cpu, noLeaks } from './helpers';

test('volumesToInput puts the (X, Y, Z) grid on (D, H, W), Z fastest', async () => {
  await cpu();
  const dims: [number, number, number] = [3, 2, 4];
  // voxel (i, j, k) holds 100i + 10j + k, stored X fastest as a Volume does
  const make = (offset: number) => {
    const data = new Float32Array(24);
    for (let k = 0; k < 4; k++) for (let j = 0; j < 2; j++) for (let i = 0; i < 3; i++) data[i + 3 * (j + 2 * k)] = offset + 100 * i + 10 * j + k;
    return { data, dims };
  };
  await noLeaks('volumesToInput', () => {
    const x = volumesToInput([make(0), make(1000)]);
    assert.deepEqual(x.shape, [2, 3, 2, 4, 1]);
    const a = x.arraySync();
    assert.equal(a[0][2][1][3][0], 213);
    assert.equal(a[1][1][0][2][0], 1102);
    x.dispose();
  });
  // the inverse maps a grid back to Volume order
  const grid = [...Array(24).keys()].map((n) => {
    const i = Math.floor(n / 8);
    const j = Math.floor(n / 4) % 2;
    const k = n % 4;
    return 100 * i + 10 * j + k;
  });
  assert.deepEqual(gridToVolumeOrder(grid, dims), make(0).data);
});

test('volumesToInput refuses mixed or inconsistent volumes, naming them', async () => {
  await cpu();
  const a = { data: new Float32Array(8), dims: [2, 2, 2] as [number, number, number] };
  const b = { data: new Float32Array(12), dims: [3, 2, 2] as [number, number, number] };
  assert.throws(() => volumesToInput([a, b], ['a.nii', 'b.nii']), /b\.nii: dims \[3,2,2\] differ from the batch's \[2,2,2\]/);
  assert.throws(() => volumesToInput([{ data: new Float32Array(7), dims: [2, 2, 2] }]), /volume 0: has 7 voxels/);
  assert.throws(() => volumesToInput([]), /no volumes/);
  assert.throws(() => gridToVolumeOrder([1, 2, 3], [2, 2, 1]), /do not fill/);
});

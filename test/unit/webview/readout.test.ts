import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatReadout } from '../../../webview/common/readout';

test('readout: voxel, mm, values by role; hidden volumes and NaN left out', () => {
  // by position: the image and its mask are both C01.nii.gz (images/ and masks/)
  const roles = ['image', 'mask', 'heatmap', undefined, 'image'];
  const r = {
    voxel: [12, 30, 8] as [number, number, number],
    mm: [4, -12.54, 20, 1],
    values: [
      { name: 'C01.nii.gz', value: 0.5321 },
      { name: 'C01.nii.gz', value: 1 },
      { name: 'C01.heatmap.nii.gz', value: 0.00012 },
      { name: 'dice.nii', value: 2 },
      { name: 'C01.nii.gz', value: NaN },
    ],
  };
  assert.equal(formatReadout(r, (_n, i) => roles[i]), 'voxel (12, 30, 8) · 4.0, -12.5, 20.0 mm · image 0.532 · mask 1 · heatmap 1.20e-4');
  assert.equal(formatReadout({ voxel: [0, 0, 0], values: [{ name: 'a', value: 1234.5 }] }), 'voxel (0, 0, 0) · a 1.23e+3');
});

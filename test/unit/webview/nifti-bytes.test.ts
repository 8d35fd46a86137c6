import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNifti } from '../../../src/engine/io/nifti';
import { niftiBytes } from '../../../webview/common/nifti-bytes';

test('in-memory NIfTI reads back through the engine reader: dims, affine, values', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nb-'));
  try {
    const affine = [[-2, 0, 0, 10], [0, 2, 0, -20], [0, 0, 3, 5], [0, 0, 0, 1]];
    const f = join(dir, 'f.nii');
    writeFileSync(f, Buffer.from(niftiBytes({ dims: [3, 2, 2], pixdim: [2, 2, 3], affine, data: Float32Array.from({ length: 12 }, (_, i) => i / 4) })));
    const v = readNifti(f);
    assert.deepEqual(v.dims, [3, 2, 2]);
    assert.deepEqual([...v.data], Array.from({ length: 12 }, (_, i) => i / 4));
    assert.deepEqual(v.affine.flat().map((x: number) => Math.round(x * 1000) / 1000), affine.flat());
    const u = join(dir, 'u.nii');
    writeFileSync(u, Buffer.from(niftiBytes({ dims: [2, 2, 1], pixdim: [1, 1, 1], affine, data: Uint8Array.from([0, 1, 2, 3]) })));
    assert.deepEqual([...readNifti(u).data], [0, 1, 2, 3]);
    assert.throws(() => niftiBytes({ dims: [2, 2, 2], pixdim: [1, 1, 1], affine, data: new Uint8Array(3) }), /3 values do not fill 2×2×2/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

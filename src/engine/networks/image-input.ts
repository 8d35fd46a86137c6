// Volumes → the encoder's NDHWC input. A Volume stores X fastest
// (data[i + nx·(j + ny·k)]); the encoder reads the (X, Y, Z) grid as
// (D, H, W), as the authors feed nibabel's (X, Y, Z) arrays to PyTorch's
// [N, 1, D, H, W]. So the input is [N, X, Y, Z, 1] with Z fastest, and
// layer4's attention position p of an [X4, Y4, Z4] grid is (x·Y4 + y)·Z4 + z.
import { tf } from '../backend';
import type { Volume } from '../io/volume';

/** A batch [N, X, Y, Z, 1] from volumes of equal dims (names them in errors via `labels`). */
export function volumesToInput(volumes: readonly Pick<Volume, 'data' | 'dims'>[], labels?: readonly string[]): tf.Tensor5D {
  if (volumes.length === 0) throw new Error('volumesToInput: no volumes');
  const [nx, ny, nz] = volumes[0].dims;
  const n = nx * ny * nz;
  const out = new Float32Array(volumes.length * n);
  volumes.forEach((v, b) => {
    const label = labels?.[b] ?? `volume ${b}`;
    if (v.dims[0] !== nx || v.dims[1] !== ny || v.dims[2] !== nz) {
      throw new Error(`${label}: dims [${v.dims.join(',')}] differ from the batch's [${nx},${ny},${nz}]`);
    }
    if (v.data.length !== n) throw new Error(`${label}: has ${v.data.length} voxels, dims [${nx},${ny},${nz}] need ${n}`);
    const base = b * n;
    for (let k = 0; k < nz; k++) {
      for (let j = 0; j < ny; j++) {
        let src = nx * (j + ny * k);
        for (let i = 0; i < nx; i++) out[base + (i * ny + j) * nz + k] = v.data[src++];
      }
    }
  });
  return tf.tensor5d(out, [volumes.length, nx, ny, nz, 1]);
}

/** The inverse for one [X, Y, Z] grid (e.g. an attention map on layer4's grid) → Volume order, X fastest. */
export function gridToVolumeOrder(values: ArrayLike<number>, dims: readonly [number, number, number]): Float32Array {
  const [nx, ny, nz] = dims;
  if (values.length !== nx * ny * nz) throw new Error(`gridToVolumeOrder: ${values.length} values do not fill a ${nx}×${ny}×${nz} grid`);
  const out = new Float32Array(values.length);
  for (let i = 0; i < nx; i++) for (let j = 0; j < ny; j++) for (let k = 0; k < nz; k++) out[i + nx * (j + ny * k)] = values[(i * ny + j) * nz + k];
  return out;
}

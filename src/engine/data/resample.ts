// Resampling a volume's voxel grid to a new shape over the same field of view.
//
// Coordinate mapping (half-pixel centres, "align_corners = false"): along an
// axis with n input and m output voxels, output voxel o covers the same
// stretch of space as input coordinates [o·s − 0.5, (o+1)·s − 0.5] with
// s = n / m, and its centre sits at input coordinate
//     x(o) = (o + 0.5)·s − 0.5.
// - trilinear: x is clamped to [0, n − 1] and linearly interpolated between
//   floor(x) and floor(x) + 1, separably along i, j, k; identical to torch
//   F.interpolate(mode='trilinear', align_corners=False).
// - nearest: input voxel min(floor((o + 0.5)·s), n − 1), the voxel containing
//   the output centre; identical to torch's mode='nearest-exact'. Computed
//   in integers, so it is exact.
// The world extent (outer voxel faces) is unchanged: the new affine is
// A · [diag(s), (s − 1)/2] and pixdim is multiplied by s.
import type { Affine, Volume } from '../io/volume';
import { mulAffine } from '../io/affine-math';

export type ResampleMode = 'trilinear' | 'nearest';

interface Taps {
  i0: Int32Array;
  i1: Int32Array;
  w1: Float64Array;
}

function linearTaps(n: number, m: number): Taps {
  const s = n / m;
  const i0 = new Int32Array(m);
  const i1 = new Int32Array(m);
  const w1 = new Float64Array(m);
  for (let o = 0; o < m; o++) {
    const x = Math.max((o + 0.5) * s - 0.5, 0);
    const f = Math.min(Math.floor(x), n - 1);
    i0[o] = f;
    i1[o] = Math.min(f + 1, n - 1);
    w1[o] = x - f;
  }
  return { i0, i1, w1 };
}

function nearestIndex(n: number, m: number): Int32Array {
  const idx = new Int32Array(m);
  // floor((2o + 1)·n / 2m) in exact integer arithmetic
  for (let o = 0; o < m; o++) idx[o] = Math.min(Math.floor(((2 * o + 1) * n) / (2 * m)), n - 1);
  return idx;
}

/**
 * Resamples along one axis of a [d0, d1, d2] array (axis 0 fastest), in
 * float64, writing a new array with that axis of length m.
 */
function alongAxis(src: Float64Array, dims: number[], axis: number, m: number, mode: ResampleMode): { data: Float64Array; dims: number[] } {
  const n = dims[axis]!;
  const outDims = [...dims];
  outDims[axis] = m;
  const stride = axis === 0 ? 1 : axis === 1 ? dims[0]! : dims[0]! * dims[1]!;
  const outStride = axis === 0 ? 1 : axis === 1 ? outDims[0]! : outDims[0]! * outDims[1]!;
  const outer = dims.reduce((a, b) => a * b, 1) / (n * stride); // product of axes after `axis`
  const out = new Float64Array(outDims.reduce((a, b) => a * b, 1));
  const taps = mode === 'trilinear' ? linearTaps(n, m) : undefined;
  const near = mode === 'nearest' ? nearestIndex(n, m) : undefined;
  for (let hi = 0; hi < outer; hi++) {
    for (let lo = 0; lo < stride; lo++) {
      const base = hi * n * stride + lo;
      const obase = hi * m * outStride + lo;
      if (taps) {
        const { i0, i1, w1 } = taps;
        for (let o = 0; o < m; o++) {
          const a = src[base + i0[o]! * stride]!;
          const b = src[base + i1[o]! * stride]!;
          out[obase + o * outStride] = a + (b - a) * w1[o]!;
        }
      } else {
        for (let o = 0; o < m; o++) out[obase + o * outStride] = src[base + near![o]! * stride]!;
      }
    }
  }
  return { data: out, dims: outDims };
}

/**
 * Resamples `volume` to `shape` [X, Y, Z] covering the same field of view
 * (see the mapping above). Use 'nearest' for masks and label maps.
 */
// follows: METHOD.md §1 (image row: resampled to data.shape, trilinear; masks nearest)
export function resampleTo(volume: Volume, shape: readonly [number, number, number], mode: ResampleMode): Volume {
  if (shape.length !== 3 || !shape.every((s) => Number.isInteger(s) && s >= 1)) {
    throw new Error(`resampleTo: shape must be three positive integers, got ${JSON.stringify(shape)}`);
  }
  if (mode !== 'trilinear' && mode !== 'nearest') throw new Error(`resampleTo: mode must be 'trilinear' or 'nearest', got ${String(mode)}`);
  const dims = [...volume.dims];
  if (volume.data.length !== dims[0]! * dims[1]! * dims[2]!) {
    throw new Error(`resampleTo: data has ${volume.data.length} values but dims ${dims.join('×')}`);
  }
  let cur: { data: Float64Array; dims: number[] } = { data: Float64Array.from(volume.data), dims };
  // cheapest order: shrink first, grow last
  const order = [0, 1, 2].sort((a, b) => shape[a]! / dims[a]! - shape[b]! / dims[b]!);
  for (const axis of order) {
    if (cur.dims[axis] !== shape[axis]) cur = alongAxis(cur.data, cur.dims, axis, shape[axis]!, mode);
  }
  const s = [0, 1, 2].map((a) => dims[a]! / shape[a]!);
  const scale: Affine = [
    [s[0]!, 0, 0, (s[0]! - 1) / 2],
    [0, s[1]!, 0, (s[1]! - 1) / 2],
    [0, 0, s[2]!, (s[2]! - 1) / 2],
    [0, 0, 0, 1],
  ];
  return {
    data: Float32Array.from(cur.data),
    dims: [shape[0], shape[1], shape[2]],
    pixdim: [volume.pixdim[0] * s[0]!, volume.pixdim[1] * s[1]!, volume.pixdim[2] * s[2]!],
    affine: mulAffine(volume.affine, scale),
  };
}

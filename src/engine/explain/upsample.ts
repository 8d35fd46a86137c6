// Trilinear resize with align_corners=True, matching PyTorch's
// F.interpolate(x, size, mode='trilinear', align_corners=True): output index
// o along an axis samples the input at s = o·(in − 1)/(out − 1) (s = 0 when
// out = 1), blending floor(s) and floor(s) + 1 (clamped to the last index).
// Trilinear weights are a product of per-axis weights, so the resize is done
// as three 1D passes; this equals torch's 8-corner sum up to float rounding.
// follows: METHOD.md §7 (upsampled trilinearly, align corners)
import { checkGrid, type Grid3 } from './attention-map';

interface AxisWeights {
  lo: Int32Array;
  hi: Int32Array;
  t: Float64Array;
}

function axisWeights(inSize: number, outSize: number): AxisWeights {
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const t = new Float64Array(outSize);
  const scale = outSize > 1 ? (inSize - 1) / (outSize - 1) : 0;
  for (let o = 0; o < outSize; o++) {
    const s = scale * o;
    const i0 = Math.min(Math.floor(s), inSize - 1);
    lo[o] = i0;
    hi[o] = i0 < inSize - 1 ? i0 + 1 : i0;
    t[o] = Math.min(Math.max(s - i0, 0), 1);
  }
  return { lo, hi, t };
}

/**
 * Resizes one axis of a Volume-ordered (x fastest) array: `dims` is the
 * current shape, `axis` the axis to resize to `size`.
 */
function resizeAxis(src: Float64Array | Float32Array, dims: Grid3, axis: 0 | 1 | 2, size: number, dst: Float64Array | Float32Array): void {
  const out = dims.slice() as Grid3;
  out[axis] = size;
  const w = axisWeights(dims[axis], size);
  // strides in Volume order
  const sIn = [1, dims[0], dims[0] * dims[1]];
  const sOut = [1, out[0], out[0] * out[1]];
  const [oa, ob] = ([0, 1, 2] as const).filter((a) => a !== axis) as [0 | 1 | 2, 0 | 1 | 2];
  for (let b = 0; b < out[ob]; b++) {
    for (let a = 0; a < out[oa]; a++) {
      const baseIn = a * sIn[oa]! + b * sIn[ob]!;
      const baseOut = a * sOut[oa]! + b * sOut[ob]!;
      const step = sIn[axis]!;
      for (let o = 0; o < size; o++) {
        const t = w.t[o]!;
        const v0 = src[baseIn + w.lo[o]! * step]!;
        const v1 = src[baseIn + w.hi[o]! * step]!;
        dst[baseOut + o * sOut[axis]!] = v0 + t * (v1 - v0);
      }
    }
  }
}

/** Trilinear (align_corners=True) resize of `values` (Volume order, x fastest) from `from` to `to` dims. */
export function upsampleAlignCorners(values: ArrayLike<number>, from: Grid3, to: Grid3): Float32Array {
  checkGrid(from, 'upsampleAlignCorners: from');
  checkGrid(to, 'upsampleAlignCorners: to');
  const n = from[0] * from[1] * from[2];
  if (values.length !== n) throw new Error(`upsampleAlignCorners: ${values.length} values do not fill a ${from.join('×')} grid`);
  let cur: Float64Array | Float32Array = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) throw new Error(`upsampleAlignCorners: value ${i} is ${v}; only finite values are allowed`);
    cur[i] = v;
  }
  // resize in the order that keeps intermediates smallest (biggest growth
  // last); equal sizes are the identity under align_corners and are skipped
  const order = ([0, 1, 2] as const).filter((a) => from[a] !== to[a]).sort((a, b) => to[a] / from[a] - to[b] / from[b]);
  const dims = from.slice() as Grid3;
  order.forEach((axis, i) => {
    const size = (dims[0] * dims[1] * dims[2] / dims[axis]) * to[axis];
    // the last pass writes float32 directly: the full-size array is the big one
    const next = i === order.length - 1 ? new Float32Array(size) : new Float64Array(size);
    resizeAxis(cur, dims, axis, to[axis], next);
    dims[axis] = to[axis];
    cur = next;
  });
  return cur instanceof Float32Array ? cur : Float32Array.from(cur);
}

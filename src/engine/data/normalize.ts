// Per-volume intensity normalisation (METHOD.md §1–2 image input).
//
// - 'minmax': (v − min) / (max − min) over all voxels, into [0, 1]. A
//   constant volume has no range and becomes all zeros.
// - 'zscore': MedicalNet's scheme over the non-zero voxels only:
//   (v − μ) / σ with μ, σ the mean and population standard deviation of the
//   voxels ≠ 0; voxels equal to 0 (background) stay 0. MedicalNet fills the
//   background with random noise instead; we keep it 0 so preprocessing is
//   deterministic and cacheable. If σ = 0 (one distinct non-zero value) the
//   non-zero voxels become 0 as well; an all-zero volume stays all zeros.
// Statistics are accumulated in float64.

export type Normalization = 'minmax' | 'zscore';

// follows: METHOD.md §2 (input: per-volume min–max to [0, 1]; z-score over non-zero voxels)
export function normalize(data: Float32Array, mode: Normalization): Float32Array {
  if (mode === 'minmax') return minmaxScale(data);
  const out = new Float32Array(data.length);
  if (mode === 'zscore') {
    let count = 0;
    let sum = 0;
    for (let n = 0; n < data.length; n++) {
      const v = data[n]!;
      if (v !== 0) {
        count++;
        sum += v;
      }
    }
    if (!Number.isFinite(sum)) throw new Error('normalize: data contain NaN or infinite values; data must be finite');
    if (count === 0) return out;
    const mean = sum / count;
    let ss = 0;
    for (let n = 0; n < data.length; n++) {
      const v = data[n]!;
      if (v !== 0) ss += (v - mean) * (v - mean);
    }
    const std = Math.sqrt(ss / count);
    if (std === 0) return out;
    for (let n = 0; n < data.length; n++) {
      const v = data[n]!;
      out[n] = v === 0 ? 0 : (v - mean) / std;
    }
    return out;
  }
  throw new Error(`normalize: mode must be 'minmax' or 'zscore', got ${String(mode)}`);
}

/**
 * 'minmax' scaling of `data` by the range of `by` (default: its own):
 * (v − min) / (max − min) with min and max over `by`; all zeros where `by` is
 * empty or constant. A second volume scaled by the first stays on its scale
 * (the tumour-free image of explain/tumour-reach.ts beside its image).
 */
export function minmaxScale(data: Float32Array, by: Float32Array = data): Float32Array {
  const out = new Float32Array(data.length);
  let lo = Infinity;
  let hi = -Infinity;
  for (let n = 0; n < by.length; n++) {
    const v = by[n]!;
    if (!Number.isFinite(v)) throw new Error(`normalize: voxel ${n} is ${v}; data must be finite`);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (by.length === 0) return out;
  const range = hi - lo;
  if (range === 0) return out;
  for (let n = 0; n < data.length; n++) out[n] = (data[n]! - lo) / range;
  return out;
}

// Occlusion sensitivity (Zeiler & Fergus, 2014; MONAI's
// OcclusionSensitivity), a baseline for the self-attention heatmaps
// (METHOD.md §7, baseline explanations):
//   a cube of `patch` voxels slides over the image with `stride` voxels
//   along each axis; inside it the volume is replaced by `fill`;
//   drop(patch) = σ(y(x)) − σ(y(x occluded))   (positive-class probability)
//   map(voxel)  = mean of drop over the patches that cover the voxel
// Patch starts along an axis of n voxels: 0, s, 2s, … while the patch fits,
// plus n − p when those do not reach the end (MONAI's sliding windows align
// the last one with the end the same way), so every voxel is covered; a
// patch larger than the axis is cut to it. The map is on the image grid, so
// the attention maps' path (explainMap) leaves it at that size and
// binarises it with the same rule.
// Fill 'mean' (default, MONAI's mode 'mean_img'): the volume's own mean
// intensity; 'zero': 0 (the background of a z-scored volume is not 0, so
// 'zero' is a choice to make deliberately). MONAI's default fill is Gaussian
// noise; it is random, and this map is kept deterministic.
// MONAI returns the occluded output itself (low = important); the drop is
// the baseline minus it, high = important, as the attention maps, and the
// same map up to sign and offset.
//
// Cost: 1 + Π_a n_a forward passes (the baseline and one per patch), n_a =
// ⌊(d_a − p_a)/s⌋ + 1 (+1 when the last patch does not reach the end),
// p_a = min(patch, d_a); run in batches of `batchSize` volumes. E.g. a
// 64×64×40 image with patch 16 and stride 12 (the defaults): 5·5·3 + 1 = 76
// passes; 240×240×155: 19·19·13 + 1 = 4,694.
// follows: METHOD.md §7 (baseline explanations)
import { tf } from '../backend';
import type { MarkerClassifier } from '../model/classifier';
import type { Volume } from '../io/volume';
import { gridToVolumeOrder, volumesToInput } from '../networks/image-input';
import { checkGrid, type Grid3 } from './attention-map';

export type OcclusionFill = 'mean' | 'zero';

export interface OcclusionOptions {
  /** edge of the cubic patch in voxels (default 16, MONAI's mask_size) */
  patch?: number;
  /** step between patch starts in voxels (default 12: MONAI's overlap 0.25 of 16) */
  stride?: number;
  /** 'mean' (default: the volume's mean intensity) or 'zero' */
  fill?: OcclusionFill;
  /** occluded volumes per forward pass (default 4) */
  batchSize?: number;
}

export interface OcclusionResult {
  /** mean probability drop per voxel, image grid, Volume order (x fastest) */
  map: Float32Array;
  /** σ(logit) of the unoccluded volume */
  baseline: number;
  /** forward passes made (1 + number of patches) */
  passes: number;
  /** the value put inside the patch */
  fill: number;
}

export const OCCLUSION_DEFAULTS = { patch: 16, stride: 12, fill: 'mean' as OcclusionFill, batchSize: 4 };

function positiveInt(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 1) throw new Error(`occlusionSensitivity: ${what} must be a positive integer, got ${v}`);
  return v;
}

/** Patch starts along an axis of `n` voxels (see the header); the patch is min(patch, n) long. */
export function occlusionStarts(n: number, patch: number, stride: number): number[] {
  const p = Math.min(patch, n);
  const starts: number[] = [];
  for (let s = 0; s + p <= n; s += stride) starts.push(s);
  if (starts[starts.length - 1]! + p < n) starts.push(n - p);
  return starts;
}

/** Forward passes occlusionSensitivity makes on an image of `dims`: 1 + the number of patches. */
export function occlusionPasses(dims: Grid3, patch = OCCLUSION_DEFAULTS.patch, stride = OCCLUSION_DEFAULTS.stride): number {
  return 1 + dims.reduce((m, d) => m * occlusionStarts(d, patch, stride).length, 1);
}

type Classifier = Pick<MarkerClassifier, 'apply'>;

/** σ(logit) of each volume of a batch in the encoder's layout (eval mode). */
function probabilities(model: Classifier, x: tf.Tensor5D): Float32Array {
  const res = model.apply(x, false);
  try {
    return tf.tidy(() => tf.sigmoid(res.logits).dataSync() as Float32Array).slice();
  } finally {
    tf.dispose([res.layer3, res.layer4, res.global, res.logits, ...(res.attention ? [res.attention] : [])]);
  }
}

/** The occlusion-sensitivity map of one volume (the model in eval mode, left unchanged). */
export function occlusionSensitivity(model: Classifier, volume: Pick<Volume, 'data' | 'dims'>, options: OcclusionOptions = {}): OcclusionResult {
  const patch = positiveInt(options.patch ?? OCCLUSION_DEFAULTS.patch, 'patch');
  const stride = positiveInt(options.stride ?? OCCLUSION_DEFAULTS.stride, 'stride');
  const batchSize = positiveInt(options.batchSize ?? OCCLUSION_DEFAULTS.batchSize, 'batchSize');
  const fillKind = options.fill ?? OCCLUSION_DEFAULTS.fill;
  if (fillKind !== 'mean' && fillKind !== 'zero') throw new Error(`occlusionSensitivity: fill must be 'mean' or 'zero', got ${JSON.stringify(fillKind)}`);
  const dims = volume.dims;
  checkGrid(dims, 'occlusionSensitivity: volume dims');
  const [nx, ny, nz] = dims;
  const count = nx * ny * nz;
  if (volume.data.length !== count) throw new Error(`occlusionSensitivity: the volume has ${volume.data.length} voxels, dims ${dims.join('×')} need ${count}`);
  let sum = 0;
  for (let n = 0; n < count; n++) {
    const v = volume.data[n]!;
    if (!Number.isFinite(v)) throw new Error(`occlusionSensitivity: voxel ${n} is ${v}; only finite values are allowed`);
    sum += v;
  }
  const fill = fillKind === 'mean' ? sum / count : 0;

  // the encoder's layout [X, Y, Z] (z fastest): index (i·ny + j)·nz + k
  const input = volumesToInput([volume]);
  const base = input.dataSync().slice() as Float32Array;
  let baseline: number;
  try {
    baseline = probabilities(model, input)[0]!;
  } finally {
    input.dispose();
  }

  const [sx, sy, sz] = dims.map((d) => occlusionStarts(d, patch, stride)) as [number[], number[], number[]];
  const [px, py, pz] = dims.map((d) => Math.min(patch, d)) as [number, number, number];
  const patches: [number, number, number][] = [];
  for (const i of sx) for (const j of sy) for (const k of sz) patches.push([i, j, k]);
  const total = new Float64Array(count);
  const covered = new Uint32Array(count);
  // visits every voxel of a patch in the encoder's layout
  const eachVoxel = ([i0, j0, k0]: [number, number, number], f: (from: number, to: number) => void): void => {
    for (let i = i0; i < i0 + px; i++) for (let j = j0; j < j0 + py; j++) {
      const from = (i * ny + j) * nz + k0;
      f(from, from + pz);
    }
  };

  for (let b = 0; b < patches.length; b += batchSize) {
    const chunk = patches.slice(b, b + batchSize);
    const data = new Float32Array(chunk.length * count);
    chunk.forEach((p, c) => {
      const off = c * count;
      data.set(base, off);
      eachVoxel(p, (from, to) => data.fill(fill, off + from, off + to));
    });
    const x = tf.tensor5d(data, [chunk.length, nx, ny, nz, 1]);
    let probs: Float32Array;
    try {
      probs = probabilities(model, x);
    } finally {
      x.dispose();
    }
    chunk.forEach((p, c) => {
      const drop = baseline - probs[c]!;
      eachVoxel(p, (from, to) => {
        for (let n = from; n < to; n++) {
          total[n] += drop;
          covered[n]++;
        }
      });
    });
  }
  const mean = new Float32Array(count);
  for (let n = 0; n < count; n++) mean[n] = total[n]! / covered[n]!;
  return { map: gridToVolumeOrder(mean, dims), baseline, passes: 1 + patches.length, fill };
}

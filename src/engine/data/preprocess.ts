// The image pipeline every volume goes through before the network
// (METHOD.md §1): read → reorient to RAS+ → resample to the configured grid
// → intensity-normalise. Masks take nearest-neighbour resampling, are
// binarised at 0.5 and are not normalised.
import type { Volume } from '../io/volume';
import { readNifti } from '../io/nifti';
import { toCanonical } from './orient';
import { resampleTo } from './resample';
import { normalize, type Normalization } from './normalize';

export interface PreprocessOptions {
  /** Target voxel grid [X, Y, Z] (config `data.shape`). */
  shape: readonly [number, number, number];
  /** Intensity scaling for images (config `data.normalization`, default 'minmax'); unused for masks. */
  normalization?: Normalization;
  /** A segmentation: nearest resampling, binarised (> 0.5 → 1), no normalisation. */
  isMask?: boolean;
  /** Largest inflated size of a .nii.gz (config `data.maxInflatedMiB` · 2^20). */
  maxInflatedBytes?: number;
}

// follows: METHOD.md §1 (image row: RAS, resample, min–max or z-score)
export function preprocessVolume(path: string, options: PreprocessOptions): Volume {
  const isMask = options.isMask ?? false;
  const normalization = options.normalization ?? 'minmax';
  const read = readNifti(path, options.maxInflatedBytes === undefined ? {} : { maxInflatedBytes: options.maxInflatedBytes });
  try {
    const ras = toCanonical(read);
    const grid = resampleTo(ras, options.shape, isMask ? 'nearest' : 'trilinear');
    if (isMask) {
      const d = grid.data;
      for (let n = 0; n < d.length; n++) d[n] = d[n]! > 0.5 ? 1 : 0;
      return grid;
    }
    return { ...grid, data: normalize(grid.data, normalization) };
  } catch (e) {
    const msg = (e as Error).message;
    throw new Error(msg.includes(path) ? msg : `${path}: ${msg}`);
  }
}

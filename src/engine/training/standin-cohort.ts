// The MedicalNet stand-in's own cohort: synthetic heads from the same
// generator as the study's data, with ids of their own (`standin-001`…,
// `standin-eval-001`…) so no case of any study cohort (`int-…`, `ext-…`)
// is ever one of them, whatever the seeds. Each case is the image through
// the preprocessing training uses (RAS, resampled to data.shape,
// normalised) and the phantom's tissue labels taken the same way with
// nearest-neighbour resampling. Scanners alternate between the internal and
// the shifted family, as Med3D pooled scans from many sites.
// follows: METHOD.md §2 (MedicalNet stand-in)
import type { ExperimentConfig } from '../../shared/config';
import { toCanonical } from '../data/orient';
import { resampleTo } from '../data/resample';
import { normalize } from '../data/normalize';
import type { Volume } from '../io/volume';
import { synthesizeCase } from '../synth/case';
import { headGrid } from '../synth/grid';

export const STANDIN_ID_PREFIX = 'standin-';

export interface StandinCase {
  id: string;
  /** preprocessed image on data.shape */
  image: Volume;
  /** tissue class per voxel on data.shape (TISSUE_CLASSES) */
  labels: Volume;
  /** 1 inside the tumour (left out of the loss and of Dice), else 0, on data.shape */
  tumour: Volume;
}

/** Ids of `train` training and `heldOut` evaluation cases (zero-padded to at least 3 digits). */
export function standinIds(train: number, heldOut: number): { train: string[]; heldOut: string[] } {
  const width = Math.max(3, String(Math.max(train, heldOut)).length);
  const pad = (i: number) => String(i + 1).padStart(width, '0');
  return {
    train: Array.from({ length: train }, (_, i) => `${STANDIN_ID_PREFIX}${pad(i)}`),
    heldOut: Array.from({ length: heldOut }, (_, i) => `${STANDIN_ID_PREFIX}eval-${pad(i)}`),
  };
}

/** One stand-in case, deterministic in (seed, id); `index` picks its scanner family. */
export function standinCase(seed: number, id: string, index: number, config: Pick<ExperimentConfig, 'data'>): StandinCase {
  const shape = config.data.shape as [number, number, number];
  const c = synthesizeCase(seed, id, index % 2 === 0 ? 'internal' : 'external', headGrid(shape), undefined, { tissue: true });
  const tissue = c.tissue!;
  const like = (data: Uint8Array): Volume => ({ ...c.image, data: Float32Array.from(data) });
  const image = resampleTo(toCanonical(c.image), shape, 'trilinear');
  return {
    id,
    image: { ...image, data: normalize(image.data, config.data.normalization) },
    labels: resampleTo(toCanonical(like(tissue.labels)), shape, 'nearest'),
    tumour: resampleTo(toCanonical(like(tissue.tumour)), shape, 'nearest'),
  };
}

// A synthetic case's tissue label map: what the phantom puts at each voxel
// centre, grouped into six classes, on the image's own grid. It is the
// segmentation target of the MedicalNet stand-in (medicalnet-standin.ts),
// which must learn anatomy and never tumours, so the tumour is no class:
// voxels inside it take the tissue the tumour displaced (the phantom read
// at the mass-effect coordinates, as the image's background is), and the
// tumour's own region is returned beside the map so a loss can leave it out.
//
// The grouping. Six classes a 3–7 mm voxel can tell apart on FLAIR (the
// decoder predicts them at a quarter of the input grid or coarser):
//   0 background  air outside the head
//   1 extracranial scalp and skull: the two 4.5 mm layers are one or two
//                 voxels thick together, too thin to separate
//   2 CSF         subarachnoid and sulcal CSF, the fissures, the ventricles,
//                 and the thin dark tentorial dura lying in them
//   3 grey matter cortex and the deep grey nuclei (thalamus, basal ganglia)
//   4 white matter cerebral white matter, with its periventricular rim
//   5 hindbrain   cerebellum (cortex and white core) and the brainstem, the
//                 posterior-fossa parenchyma below the tentorium plus the
//                 midbrain running up through the incisura
import { forEachVoxel, type Grid } from './grid';
import type { Phantom, Tissue } from './phantom';
import type { Tumour } from './tumour';

export const TISSUE_CLASSES = ['background', 'extracranial', 'csf', 'grey', 'white', 'hindbrain'] as const;
export type TissueClass = (typeof TISSUE_CLASSES)[number];

/** Phantom compartment → class index into TISSUE_CLASSES. */
export const TISSUE_CLASS_OF: Readonly<Record<Tissue, number>> = {
  air: 0,
  scalp: 1,
  bone: 1,
  csf: 2,
  ventricle: 2,
  dura: 2,
  grey: 3,
  deepGrey: 3,
  white: 4,
  cerebellum: 5,
  cerebellarWhite: 5,
  brainstem: 5,
};

export interface TissueMap {
  /** class index per voxel (Volume order, X fastest); tumour voxels hold the tissue they displaced */
  labels: Uint8Array;
  /** 1 where the voxel centre is inside the tumour (the same region as the case's mask), else 0 */
  tumour: Uint8Array;
}

/** Rasterises the phantom's tissue classes (with the tumour's mass effect) onto `grid`. */
export function rasterizeTissue(phantom: Phantom, tumour: Tumour, grid: Grid): TissueMap {
  const [nx, ny, nz] = grid.dims;
  const labels = new Uint8Array(nx * ny * nz);
  const inTumour = new Uint8Array(nx * ny * nz);
  forEachVoxel(grid, (p, n) => {
    const q = phantom.pose.templateFromWorld(p);
    labels[n] = TISSUE_CLASS_OF[phantom.tissue(q, tumour.displace(q))];
    if (tumour.contains(q)) inTumour[n] = 1;
  });
  return { labels, tumour: inTumour };
}

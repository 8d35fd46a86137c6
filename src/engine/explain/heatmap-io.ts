// Attention heatmaps as NIfTI overlays: `<caseId>.heatmap.nii.gz` (float32)
// and `<caseId>.binary.nii.gz` (uint8, 0/1), on the preprocessed image's
// grid and with its affine, so a viewer (3D Slicer, NiiVue) lays them over
// the preprocessed image, and over the original image through world space.
// Beside them `<caseId>.attention.seg.nrrd` (3D Slicer) and
// `<caseId>.attention.label.txt` (ITK-SNAP): the binary map, and the Dice
// classes TP/FP/FN when a mask is given (seg-nrrd.ts).
// Layout in docs/formats.md, "Attention heatmaps".
import { mkdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeNifti } from '../io/nifti-write';
import { caseFile } from '../io/safe-path';
import { voxelCount, type Volume } from '../io/volume';
import { writeFileAtomic } from '../io/atomic';
import { attentionLabelmap, itkSnapLabelText, writeSegNrrd } from './seg-nrrd';

export interface HeatmapFiles {
  /** file names relative to the output folder */
  heatmap: string;
  binary: string;
  /** 3D Slicer segmentation: label 1 attention, or TP 1 / FP 2 / FN 3 with a mask */
  segmentation: string;
  /** ITK-SNAP label description of `segmentation` */
  labels: string;
}

export interface HeatmapOptions {
  /** the tumour mask on the same grid (Volume order, non-zero = tumour): the segmentation then holds TP/FP/FN */
  mask?: ArrayLike<number>;
  /** the segmentation's NRRD encoding (default 'gzip') */
  encoding?: 'gzip' | 'raw';
}

/** The heatmap's file name after the case id. */
export const HEATMAP_SUFFIX = '.heatmap.nii.gz';

export function heatmapFileNames(caseId: string): HeatmapFiles {
  return {
    heatmap: `${caseId}${HEATMAP_SUFFIX}`,
    binary: `${caseId}.binary.nii.gz`,
    segmentation: `${caseId}.attention.seg.nrrd`,
    labels: `${caseId}.attention.label.txt`,
  };
}

/**
 * Writes `result.heatmap` and `result.binary` (Volume order, on `reference`'s
 * grid) into `dir` (created if missing), and the binary map (with the mask's
 * Dice classes when `options.mask` is given) as a segmentation with its
 * label file. Each file is replaced atomically; should a later write fail,
 * the earlier ones are removed so no partial set is left.
 * The file names are checked by caseFile: nothing is written outside
 * `within` (default `dir`; the stage folder when `dir` is its heatmaps/).
 */
export function writeHeatmap(
  dir: string,
  caseId: string,
  reference: Pick<Volume, 'dims' | 'affine'> & Partial<Pick<Volume, 'pixdim'>>,
  result: { heatmap: Float32Array; binary: Uint8Array },
  within: string = dir,
  options: HeatmapOptions = {},
): HeatmapFiles {
  // every path is checked first: a bad id or a folder leading elsewhere writes nothing
  const heatPath = caseFile(dir, caseId, HEATMAP_SUFFIX, within);
  const binaryPath = caseFile(dir, caseId, '.binary.nii.gz', within);
  const segPath = caseFile(dir, caseId, '.attention.seg.nrrd', within);
  const labelPath = caseFile(dir, caseId, '.attention.label.txt', within);
  const where = `writeHeatmap ${join(dir, caseId)}`;
  const dims = reference.dims;
  const n = voxelCount(dims);
  if (!(result.heatmap instanceof Float32Array) || result.heatmap.length !== n) {
    throw new Error(`${where}: heatmap has ${result.heatmap?.length} values, the reference grid ${dims.join('×')} needs ${n}`);
  }
  if (!(result.binary instanceof Uint8Array) || result.binary.length !== n) {
    throw new Error(`${where}: binary has ${result.binary?.length} values, the reference grid ${dims.join('×')} needs ${n}`);
  }
  const binary = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const b = result.binary[i]!;
    if (b > 1) throw new Error(`${where}: binary voxel ${i} is ${b}, expected 0 or 1`);
    binary[i] = b;
  }
  const seg = attentionLabelmap(result.binary, options.mask, where);
  const pixdim = reference.pixdim ?? [1, 1, 1];
  const names = heatmapFileNames(caseId);
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  try {
    writeNifti(heatPath, { data: result.heatmap, dims, pixdim, affine: reference.affine }, { datatype: 'float32', description: 'attention heatmap' });
    written.push(heatPath);
    writeNifti(binaryPath, { data: binary, dims, pixdim, affine: reference.affine }, { datatype: 'uint8', description: 'attention heatmap, binarised' });
    written.push(binaryPath);
    writeSegNrrd(segPath, { dims, affine: reference.affine }, seg.labels, seg.segments, { encoding: options.encoding ?? 'gzip' });
    written.push(segPath);
    writeFileAtomic(labelPath, [Buffer.from(itkSnapLabelText(seg.segments))]);
  } catch (e) {
    for (const p of written) {
      try {
        unlinkSync(p);
      } catch {
        // the write error is the one to report
      }
    }
    throw e;
  }
  return names;
}

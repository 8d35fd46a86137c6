// Attention heatmaps as NIfTI overlays: `<caseId>.heatmap.nii.gz` (float32)
// and `<caseId>.binary.nii.gz` (uint8, 0/1), on the preprocessed image's
// grid and with its affine, so a viewer (3D Slicer, NiiVue) lays them over
// the preprocessed image, and over the original image through world space.
// Layout in docs/formats.md, "Attention heatmaps".
import { mkdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeNifti } from '../io/nifti-write';
import { caseFile } from '../io/safe-path';
import { voxelCount, type Volume } from '../io/volume';

export interface HeatmapFiles {
  /** file names relative to the output folder */
  heatmap: string;
  binary: string;
}

export function heatmapFileNames(caseId: string): HeatmapFiles {
  return { heatmap: `${caseId}.heatmap.nii.gz`, binary: `${caseId}.binary.nii.gz` };
}

/**
 * Writes `result.heatmap` and `result.binary` (Volume order, on `reference`'s
 * grid) into `dir` (created if missing). Each file is replaced atomically;
 * should the second write fail, the first is removed so no half pair is left.
 * The file names are checked by caseFile: nothing is written outside
 * `within` (default `dir`; the stage folder when `dir` is its heatmaps/).
 */
export function writeHeatmap(
  dir: string,
  caseId: string,
  reference: Pick<Volume, 'dims' | 'affine'> & Partial<Pick<Volume, 'pixdim'>>,
  result: { heatmap: Float32Array; binary: Uint8Array },
  within: string = dir,
): HeatmapFiles {
  // both paths are checked first: a bad id or a folder leading elsewhere writes nothing
  const heatPath = caseFile(dir, caseId, '.heatmap.nii.gz', within);
  const binaryPath = caseFile(dir, caseId, '.binary.nii.gz', within);
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
  const pixdim = reference.pixdim ?? [1, 1, 1];
  const names = heatmapFileNames(caseId);
  mkdirSync(dir, { recursive: true });
  writeNifti(heatPath, { data: result.heatmap, dims, pixdim, affine: reference.affine }, { datatype: 'float32', description: 'attention heatmap' });
  try {
    writeNifti(binaryPath, { data: binary, dims, pixdim, affine: reference.affine }, { datatype: 'uint8', description: 'attention heatmap, binarised' });
  } catch (e) {
    try {
      unlinkSync(heatPath);
    } catch {
      // the write error is the one to report
    }
    throw e;
  }
  return names;
}

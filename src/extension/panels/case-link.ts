// Links the viewer and the report panel of one case both ways: a word chosen
// in the report shows its patch map in the viewer and its top patches in the
// report; a patch chosen there moves the viewer's crosshair onto it; a point
// clicked in the viewer shades the report by the patch under it. Pure
// routing: the panels register sinks, the link loads the attention file once.
import { patchUnderVoxel, topPatches } from '../../../webview/common/attention';
import { patchCell } from '../../../webview/common/patch-name';
import type { PatchOverlay, PatchShading, Vec3, WordPatches } from '../../shared/webview-protocol';
import { readAttentionFile, patchWordWeights, wordPatchMap, type AttentionFile } from './attention-file';

/** How many of a word's patches the report lists. */
export const TOP_PATCHES = 5;

export interface ViewerSink {
  patchOverlay(p: PatchOverlay | null): void;
  goToPatch(p: { cell: Vec3; grid: Vec3 }): void;
}
export interface ReportSink {
  patchWeights(p: PatchShading | null): void;
  wordPatches(p: WordPatches | null): void;
}

export class CaseLink {
  private attention?: AttentionFile;
  viewer: ViewerSink | undefined;
  report: ReportSink | undefined;

  constructor(
    readonly key: string,
    readonly attentionPath: string | undefined,
  ) {}

  /** The case's cross-attention (read on first use); undefined without a file. */
  get record(): AttentionFile | undefined {
    if (!this.attention && this.attentionPath) this.attention = readAttentionFile(this.attentionPath);
    return this.attention;
  }

  /** The word's patch map to the viewer and its top patches to the report; `focus` also moves the viewer's crosshair to its peak. */
  wordSelected(index: number | null, focus = false): void {
    const a = this.record;
    if (!a) return;
    if (index === null) {
      this.viewer?.patchOverlay(null);
      this.report?.wordPatches(null);
      return;
    }
    if (index >= a.words.length) throw new Error(`word ${index} is out of range: the saved attention has ${a.words.length} words`);
    this.viewer?.patchOverlay({ word: a.words[index]!, index, grid: a.patchGrid, values: Array.from(wordPatchMap(a, index)), ...(focus ? { focus } : {}) });
    const p = a.patchGrid[0] * a.patchGrid[1] * a.patchGrid[2];
    const patches = topPatches(a.textToImage.subarray(index * p, (index + 1) * p), a.patchGrid, TOP_PATCHES).map(({ patch, name, weight }) => ({ patch, name, weight }));
    this.report?.wordPatches({ index, word: a.words[index]!, grid: a.patchGrid, patches });
  }

  /** Moves the viewer's crosshair onto patch `patch` (which then shades the report by it). */
  patchChosen(patch: number): void {
    const a = this.record;
    if (!a) return;
    this.viewer?.goToPatch({ cell: patchCell(patch, a.patchGrid), grid: a.patchGrid });
  }

  pointSelected(voxel: Vec3, dims: Vec3): void {
    const a = this.record;
    if (!a || !this.report) return;
    const { cell, patch } = patchUnderVoxel(voxel, dims, a.patchGrid);
    this.report.patchWeights({ patch, cell, grid: a.patchGrid, voxel, weights: patchWordWeights(a, patch) });
  }
}

/** One link per case (run folder + case id). */
export class CaseLinks {
  private readonly links = new Map<string, CaseLink>();

  get(runDir: string, caseId: string, attentionPath: string | undefined): CaseLink {
    const key = `${runDir}\u0000${caseId}`;
    let l = this.links.get(key);
    if (!l) {
      l = new CaseLink(key, attentionPath);
      this.links.set(key, l);
    }
    return l;
  }

  release(link: CaseLink): void {
    if (!link.viewer && !link.report) this.links.delete(link.key);
  }
}

// Links the viewer and the report panel of one case both ways: a word chosen
// in the report shows its patch map in the viewer; a point clicked in the
// viewer shades the report by the patch under it. Pure routing: the panels
// register sinks, the link loads the attention file once.
import { patchUnderVoxel } from '../../../webview/common/attention';
import type { PatchOverlay, Vec3 } from '../../shared/webview-protocol';
import { patchWordWeights, readAttentionFile, wordPatchMap, type AttentionFile } from './attention-file';

export interface ViewerSink {
  patchOverlay(p: PatchOverlay | null): void;
}
export interface ReportSink {
  patchWeights(p: { patch: number; voxel: Vec3; weights: number[] } | null): void;
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

  /** The word's patch map to the viewer; `focus` also moves the viewer's crosshair to its peak. */
  wordSelected(index: number | null, focus = false): void {
    const a = this.record;
    if (!a) return;
    if (index === null) return this.viewer?.patchOverlay(null);
    if (index >= a.words.length) throw new Error(`word ${index} is out of range: the saved attention has ${a.words.length} words`);
    this.viewer?.patchOverlay({ word: a.words[index]!, index, grid: a.patchGrid, values: Array.from(wordPatchMap(a, index)), ...(focus ? { focus } : {}) });
  }

  pointSelected(voxel: Vec3, dims: Vec3): void {
    const a = this.record;
    if (!a || !this.report) return;
    const { patch } = patchUnderVoxel(voxel, dims, a.patchGrid);
    this.report.patchWeights({ patch, voxel, weights: patchWordWeights(a, patch) });
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

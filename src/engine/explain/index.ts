// Explainability (METHOD.md §7): attention maps, Dice against tumour masks,
// the baseline explanations (Grad-CAM, occlusion), heatmap overlays and the
// saved cross-attention scores the UI reads.
export { attentionMap } from './attention-map';
export type { Grid3 } from './attention-map';
export { upsampleAlignCorners } from './upsample';
export { explainCase, explainMap, largestAreaSlice, axialAreas, thresholdRule } from './dice-eval';
export type { ExplainOptions, ExplainResult, MapExplainOptions, ThresholdRule } from './dice-eval';
export { gradCam, encoderToLayer4, GRAD_CAM_LAYERS } from './grad-cam';
export type { GradCamLayer, GradCamOptions, GradCamResult } from './grad-cam';
export { occlusionSensitivity, occlusionStarts, occlusionPasses, OCCLUSION_DEFAULTS } from './occlusion';
export type { OcclusionFill, OcclusionOptions, OcclusionResult } from './occlusion';
export { explainBaselines, summariseBaselines, readBaselineScores, writeBaselineScores, BASELINE_METHODS } from './baselines';
export type { BaselineMethod, BaselineScore, BaselineSummary, BaselineCase } from './baselines';
export { foregroundFraction, wholeMapDice, gridCellBounds, topPercentBinary, gridTooCoarse, MIN_ATTENTION_GRID, MAX_FOREGROUND_FRACTION } from './coverage';
export type { CellBounds } from './coverage';
export { writeHeatmap, heatmapFileNames } from './heatmap-io';
export type { HeatmapFiles, HeatmapOptions } from './heatmap-io';
export { attentionLabelmap, segNrrdBytes, writeSegNrrd, itkSnapLabelText, labelExtent, ATTENTION_SEGMENTS } from './seg-nrrd';
export type { Segment, SegNrrdOptions, LabelGrid } from './seg-nrrd';
export {
  saveCrossAttention,
  loadCrossAttention,
  topWordsForPatch,
  patchMapForWord,
  wordWeights,
  patchIndex,
  CROSS_ATTENTION_FORMAT,
  CROSS_ATTENTION_VERSION,
} from './cross-attention-io';
export type { CrossAttentionRecord, WordWeight } from './cross-attention-io';
export { reportAttentionMap, scoreCrossAttention, summarizeCrossAttention } from './cross-attention-maps';
export type { ReportMap, CrossAttentionCase, CrossAttentionSummary, CrossAttentionScores } from './cross-attention-maps';

// Evaluation metrics (METHOD.md §7) on plain numbers.
export { rocAuc } from './roc-auc';
export { classificationMetrics } from './classification';
export type { ClassificationMetrics } from './classification';
export { dice } from './dice';
export type { DiceOptions } from './dice';
export { pairedTTest } from './ttest';
export { signTest } from './sign-test';
export type { TTestResult } from './ttest';
export { recallAtK } from './retrieval';
export type { RetrievalRecall } from './retrieval';
export { retrievalRanks, retrievalByLocation, RETRIEVAL_KS } from './retrieval-ranks';
export type { RetrievalRanks, RetrievalDirection, RetrievalByLocation, LocationSplitDirection } from './retrieval-ranks';
export { aucBootstrapCi, diceBootstrapCi, aucDifferenceBootstrapCi, diceDifferenceBootstrapCi, stratifiedBootstrapCi, percentile, DEFAULT_BOOTSTRAP_RESAMPLES } from './bootstrap';
export type { BootstrapCi, BootstrapOptions, FoldPredictions, PairedFoldPredictions } from './bootstrap';
export { zeroShotClassify, zeroShotEvaluate, classEmbedding } from './zero-shot';
export type { ZeroShotClass, ZeroShotResult, ZeroShotEvaluation } from './zero-shot';
export { labelNeighbours } from './label-neighbours';
export type { LabelNeighbours, LocationNeighbours } from './label-neighbours';

// Evaluation metrics (METHOD.md §7) on plain numbers.
export { rocAuc } from './roc-auc';
export { classificationMetrics } from './classification';
export type { ClassificationMetrics } from './classification';
export { dice } from './dice';
export type { DiceOptions } from './dice';
export { pairedTTest } from './ttest';
export type { TTestResult } from './ttest';
export { recallAtK } from './retrieval';
export type { RetrievalRecall } from './retrieval';

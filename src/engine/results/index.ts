// Results aggregation and the paper-layout tables (METHOD.md §7–8).
export { buildResults, experimentTables, ablationTables, sortArms, formatNumber, formatStat, formatDelta } from './tables';
export { checkResultsInput, summarize, metricFolds, pairedFoldTest, armPairs, armStatusNote, METRICS, SPLITS, METRIC_HEADERS, METRIC_FORMATS, BASELINE_KEYS, BASELINE_LABELS } from './aggregate';
export type { Summary, MetricFolds } from './aggregate';
export { compareResults } from './compare';
export { renderMarkdown, renderCsv, renderLatex, latexEscape, writeResults, readResults } from './render';
export { PAPER_FIGURES, ABLATION_ARMS, EXPERIMENT_ARMS, paperValue, paperPValue, isProposedArm } from './paper';
export type { AblationArm, ExperimentArm, PaperClassification, PaperDice, PaperAblation } from './paper';
export { explainChecks, explainCheck } from './explain-check';
export type {
  SplitMetrics,
  FoldResult,
  BaselineMethodKey,
  BaselineMeans,
  FoldBaselines,
  AttentionGrid,
  ExplainCheck,
  ExplainKey,
  ArmStatus,
  ArmResult,
  ResultsInput,
  Split,
  MetricKey,
  NumberFormat,
  RowSource,
  LabelCell,
  StatCell,
  PaperCell,
  PValueCell,
  DeltaCell,
  MissingCell,
  NaCell,
  Cell,
  ColumnKind,
  ResultColumn,
  ResultRow,
  ResultTable,
  TestStatus,
  PairedTestResult,
  ArmSummary,
  ResultsDoc,
} from './types';
export { bootstrapCis, checkFoldCases, CI_METRICS } from './bootstrap-ci';
export type { CaseResult, BaselineCaseResult, FoldCases, CiMetric, MetricCi, CiOptions } from './bootstrap-ci';

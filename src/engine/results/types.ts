// Results of a cross-validated experiment (per-fold metrics of each arm) and
// the document built from them: the paper-layout tables, the paired t-tests
// and notes. The document is plain JSON (results.json) that the markdown,
// CSV and LaTeX renderers, the CLI and the results panel all read.
import type { FoldCases, MetricCi } from './bootstrap-ci';

/** One model evaluated on one cohort. Dice values are fractions in [0, 1]. */
export interface SplitMetrics {
  /** cases evaluated */
  n: number;
  /** cases of the positive class (BRAF V600E) */
  positives: number;
  /** null when the split holds one class only */
  auc: number | null;
  precision: number;
  recall: number;
  f1: number;
  /** decision threshold precision, recall and F1 were computed at (absent in older runs) */
  threshold?: number;
  /** cases predicted positive (score ≥ threshold); 0 or n: one class predicted (absent in older runs) */
  predictedPositives?: number;
  /** null when no attention maps were compared with masks */
  dice2d: number | null;
  dice3d: number | null;
  /**
   * Explainability context (METHOD.md §7, degenerate maps), means over the
   * split's cases; absent in older runs, null without maps or masks:
   * the binary maps' foreground fraction (over cases with a map), the Dice
   * of the whole-slice / whole-volume map (floor) and the best Dice of a map
   * made of whole layer4 grid cells (bound), over the cases with a Dice.
   */
  foreground?: number | null;
  floor2d?: number | null;
  floor3d?: number | null;
  bound2d?: number | null;
  bound3d?: number | null;
  /**
   * Threshold-free map measures (METHOD.md §7, explain/mass.ts), means over
   * the cases with a Dice; absent in older runs: the share of the heatmap's
   * mass on the tumour, that of a flat map (the tumour's share of the
   * volume), and the share of cases whose map peaks on the tumour.
   */
  mass3d?: number | null;
  massFloor3d?: number | null;
  pointing?: number | null;
}

/** The baseline explanation methods (config explain.baselines; explain/baselines.ts), in table order. */
export type BaselineMethodKey = 'gradCam' | 'occlusion';

/** One baseline explanation method on one split: means over the split's cases (metrics.json `baselines`). */
export interface BaselineMeans {
  /** cases with a map */
  n: number;
  /** means over the cases with a Dice (null: none has one) */
  dice2d: number | null;
  dice3d: number | null;
  /** the binary maps' foreground fraction, over the same cases */
  foreground: number | null;
  /** threshold-free measures over the same cases (absent in older runs) */
  mass3d?: number | null;
  pointing?: number | null;
}

/** A fold's baseline explanations per split; `external` null without an external cohort. */
export interface FoldBaselines {
  internal: Partial<Record<BaselineMethodKey, BaselineMeans>>;
  external: Partial<Record<BaselineMethodKey, BaselineMeans>> | null;
}

/** A layer4 grid [X4, Y4, Z4]. */
export type AttentionGrid = [number, number, number];

export interface FoldResult {
  /** 'random' | 'medicalnet' | 'pretrained', or an ablation name (ABLATION_ARMS) */
  arm: string;
  fold: number;
  /** the fold's held-out part of the internal cohort */
  internal: SplitMetrics;
  /** the whole external cohort; null when there is none */
  external: SplitMetrics | null;
  /** the layer4 grid the attention maps were made on; null without self-attention, absent in older runs */
  attentionGrid?: AttentionGrid | null;
  /** Grad-CAM / occlusion means when the run computed them (explain.baselines); absent otherwise */
  baselines?: FoldBaselines;
}

export type ArmStatus = 'done' | 'not run' | 'failed' | 'partial';

export interface ArmResult {
  arm: string;
  /** row label, e.g. 'Random init', 'MedicalNet', 'Proposed CL' */
  label: string;
  status: ArmStatus;
  /** why the arm is not run, failed or partial (shown as a footnote) */
  reason?: string;
  folds: FoldResult[];
}

export interface ResultsInput {
  kind: 'experiment' | 'ablation';
  runId: string;
  arms: ArmResult[];
  /** add the paper's figures beside this run's, in rows labelled "paper" */
  showPaper?: boolean;
  config?: { folds: number; seed: number };
  /** each fold's evaluated cases (its predictions.csv): with them, results.json gets bootstrap CIs (`ci`) */
  caseResults?: FoldCases[];
}

export type Split = 'internal' | 'external';
export type MetricKey = 'auc' | 'precision' | 'recall' | 'f1' | 'dice2d' | 'dice3d' | ExplainKey;
/** columns beside the Dice: foreground fraction, whole-map floor, grid-cell bound, and the threshold-free measures (of which mass3d is t-tested) */
export type ExplainKey = 'foreground' | 'floor2d' | 'floor3d' | 'bound2d' | 'bound3d' | 'mass3d' | 'massFloor3d' | 'pointing';
/** 'decimal3': 0.748; 'percent1': 6.1%; 'p4': 0.0036 (below 0.0001: "<0.0001") */
export type NumberFormat = 'decimal3' | 'percent1' | 'p4';
/** 'this run' or 'paper'; in a comparison, the compared docs' run ids */
export type RowSource = string;

/** Every cell has its display text and the 1-based numbers of its footnotes. */
interface CellBase {
  text: string;
  footnotes: number[];
}
export interface LabelCell extends CellBase {
  kind: 'label';
}
/** mean ± std over folds; std is the sample std (n − 1), null for one fold */
export interface StatCell extends CellBase {
  kind: 'stat';
  mean: number;
  std: number | null;
  /** folds the mean is taken over */
  n: number;
  format: NumberFormat;
}
/** a figure printed in the paper (its std values did not survive in its text) */
export interface PaperCell extends CellBase {
  kind: 'paper';
  value: number;
  format: NumberFormat;
}
export interface PValueCell extends CellBase {
  kind: 'pvalue';
  p: number;
  /** ±Infinity when the fold differences are constant (written as a string in results.json) */
  t: number;
  df: number;
  /** paired folds */
  n: number;
}
/** difference of means in a comparison (b − a) */
export interface DeltaCell extends CellBase {
  kind: 'delta';
  value: number;
  format: NumberFormat;
}
/** an arm that did not run or failed: its status, the reason in a footnote */
export interface MissingCell extends CellBase {
  kind: 'missing';
  status: 'not run' | 'failed';
}
export interface NaCell extends CellBase {
  kind: 'na';
}
export type Cell = LabelCell | StatCell | PaperCell | PValueCell | DeltaCell | MissingCell | NaCell;

export type ColumnKind = 'label' | 'stat' | 'pvalue' | 'delta';

export interface ResultColumn {
  key: string;
  header: string;
  kind: ColumnKind;
  metric?: MetricKey;
  split?: Split;
}

export interface ResultRow {
  /** stable across runs (arm or arm pair, split; `<arm>/<method>` for a baseline explanation): compareResults matches rows on it */
  key: string;
  source: RowSource;
  /** the row of a baseline explanation of the arm (Tables 3–4), not of its attention maps */
  explanation?: BaselineMethodKey;
  cells: Cell[];
}

export interface ResultTable {
  /** 'table1' … 'table5', 'table10', 'table11', 'ttests'; also the file name under tables/ */
  id: string;
  title: string;
  columns: ResultColumn[];
  rows: ResultRow[];
  /** numbered notes referenced by cells ("[1]") */
  footnotes: string[];
  /** unnumbered notes about the whole table */
  notes: string[];
  /** what makes the table's numbers misleading, shown before it (each also a footnote of the cells it concerns) */
  warnings?: string[];
}

export type TestStatus = 'done' | 'skipped';

/** Paired two-sided t-test over folds of one metric, arm a against arm b. */
export interface PairedTestResult {
  a: string;
  b: string;
  split: Split;
  metric: MetricKey;
  status: TestStatus;
  /** fold numbers paired (both arms have the metric there) */
  folds: number[];
  t: number | null;
  p: number | null;
  df: number | null;
  /** why it was skipped */
  reason?: string;
}

export interface ArmSummary {
  arm: string;
  label: string;
  status: ArmStatus;
  reason?: string;
  folds: number[];
  /** the layer4 grid of the arm's attention maps (null: none recorded) */
  attentionGrid?: AttentionGrid | null;
}

/**
 * One arm on one cohort: can its Dice say anything? Means over folds (each
 * fold's value a mean over its cases), and why not (METHOD.md §7).
 */
export interface ExplainCheck {
  arm: string;
  label: string;
  split: Split;
  /** folds with attention maps on this cohort */
  folds: number;
  /** the distinct layer4 grids of those folds */
  attentionGrids: AttentionGrid[];
  foreground: number | null;
  dice2d: number | null;
  dice3d: number | null;
  floor2d: number | null;
  floor3d: number | null;
  bound2d: number | null;
  bound3d: number | null;
  /** a grid is below MIN_ATTENTION_GRID on some axis */
  coarseGrid: boolean;
  /** the maps cover more than MAX_FOREGROUND_FRACTION of the volume on average */
  wholeVolume: boolean;
  /** the warnings these give, as in the tables */
  warnings: string[];
}

export interface ResultsDoc {
  format: 'mrcl-results-1';
  kind: 'experiment' | 'ablation' | 'comparison';
  runId: string;
  title: string;
  config?: { folds: number; seed: number };
  showPaper: boolean;
  /** how the std columns are computed */
  std: 'sample (n-1)';
  arms: ArmSummary[];
  tables: ResultTable[];
  tests: PairedTestResult[];
  notes: string[];
  /** what makes some numbers meaningless (e.g. folds that predict one class only, degenerate attention maps); also among notes and footnotes; the CLI and the results panel show them first */
  warnings?: string[];
  /** run ids of a comparison: columns [A] and [B] */
  compared?: { a: string; b: string };
  /** explainability checks per arm and cohort (experiments) */
  explain?: ExplainCheck[];
  /** 95 % percentile bootstrap CIs of the tables' AUC and Dice means, cases resampled within folds, or once for all folds where the folds hold the same cases (with the input's caseResults) */
  ci?: MetricCi[];
}

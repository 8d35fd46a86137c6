// The figures printed in the paper ("Tumor Location-weighted MRI-Report
// Contrastive Learning", seed/paper.txt): the anchors a run is compared
// with. Means only: the std values in parentheses did not survive in the
// paper's text. Dice values are fractions (the paper prints percent).
// The paper's prose quotes a 2D Dice of 33.1% for the proposed model on
// Dataset 1 where its Table 3 prints 31.1%; the table's value is kept.
// follows: METHOD.md §8 (paper figures), paper Tables 1–5, 10, 11
import type { MetricKey, Split } from './types';

export interface PaperClassification {
  auc: number;
  precision: number;
  recall: number;
  f1: number;
}
export interface PaperDice {
  dice2d: number;
  dice3d: number;
}
export interface PaperAblation {
  /** external cohort (Dataset 2) */
  auc: number;
  f1: number;
}

/** Ablation arm names, in the paper's Table 5 order. */
export const ABLATION_ARMS = ['global-only', 'local-only', 'location-excluded', 'contrastive-loss', 'hard-negatives', 'proposed'] as const;
export type AblationArm = (typeof ABLATION_ARMS)[number];

/** Experiment arms (image-encoder initialisations), in the paper's order. */
export const EXPERIMENT_ARMS = ['random', 'medicalnet', 'pretrained'] as const;
export type ExperimentArm = (typeof EXPERIMENT_ARMS)[number];

export const PAPER_FIGURES = {
  source: 'paper (Tumor Location-weighted MRI-Report Contrastive Learning), Tables 1–5, 10, 11',
  /** Tables 1 (internal, Dataset 1) and 2 (external, Dataset 2) */
  classification: {
    internal: {
      random: { auc: 0.748, precision: 0.4, recall: 0.552, f1: 0.441 },
      medicalnet: { auc: 0.79, precision: 0.38, recall: 0.918, f1: 0.534 },
      pretrained: { auc: 0.877, precision: 0.708, recall: 0.638, f1: 0.652 },
    },
    external: {
      random: { auc: 0.467, precision: 0, recall: 0, f1: 0 },
      medicalnet: { auc: 0.418, precision: 0.069, recall: 0.061, f1: 0.065 },
      pretrained: { auc: 0.757, precision: 0.599, recall: 0.524, f1: 0.534 },
    },
  } satisfies Record<Split, Record<ExperimentArm, PaperClassification>>,
  /** Tables 3 (internal) and 4 (external): attention-map Dice */
  dice: {
    internal: {
      random: { dice2d: 0.061, dice3d: 0.02 },
      medicalnet: { dice2d: 0.225, dice3d: 0.089 },
      pretrained: { dice2d: 0.311, dice3d: 0.158 },
    },
    external: {
      random: { dice2d: 0.044, dice3d: 0.018 },
      medicalnet: { dice2d: 0.045, dice3d: 0.015 },
      pretrained: { dice2d: 0.307, dice3d: 0.16 },
    },
  } satisfies Record<Split, Record<ExperimentArm, PaperDice>>,
  /** Table 5: mean external AUC and F1 of each ablation */
  ablation: {
    'global-only': { auc: 0.608, f1: 0.124 },
    'local-only': { auc: 0.567, f1: 0.434 },
    'location-excluded': { auc: 0.683, f1: 0.523 },
    'contrastive-loss': { auc: 0.692, f1: 0.559 },
    'hard-negatives': { auc: 0.45, f1: 0.364 },
    proposed: { auc: 0.757, f1: 0.534 },
  } satisfies Record<AblationArm, PaperAblation>,
  /**
   * Tables 10 and 11: paired t-test p-values on the external cohort, the
   * proposed initialisation against each baseline. Table 11's MedicalNet row
   * was lost from the paper's text (its prose says both p < 0.05): null.
   */
  pValues: {
    random: { auc: 0.0036, f1: 0.0, dice2d: 0.0001, dice3d: 0.0001 },
    medicalnet: { auc: 0.0, f1: 0.0005, dice2d: null, dice3d: null },
  } satisfies Record<'random' | 'medicalnet', Partial<Record<MetricKey, number | null>>>,
} as const;

/**
 * The paper's setting, beside which a study's report sets its own scale
 * (docs/METHOD.md §1 data, §2 image encoder, §3 text encoder, §6 training).
 */
export const PAPER_SCALE = {
  /** FLAIR volumes resized to this (§1) */
  input: [240, 240, 155],
  /** the layer4 self-attention grid at that input (§2, §7) */
  attentionGrid: [8, 8, 5],
  /** ResNet-18-A with self-attention on layer4 (§2; Table 7's 31,759,873 trainable image parameters) */
  image: { depth: 18, shortcut: 'A', width: 64 },
  /** Clinical-Longformer, pretrained on clinical notes, its first 10 layers frozen (§3) */
  text: { name: 'Clinical-Longformer', layers: 12, hidden: 768, trainableLayers: 2 },
  /** Dataset 1's pairs, all pretrained on (§1); 340–400 epochs in the paper, 800 in the authors' code (§6) */
  pretrain: { pairs: 341, epochs: '340–400', codeEpochs: 800, lr: 1e-4 },
  /** the downstream task's cases of Dataset 1, in 5 folds (§1, §6) */
  finetune: { cases: 204, folds: 5, epochs: 20, lr: 1e-4 },
  /** Dataset 2 (§1) */
  external: { cases: 76 },
} as const;

/** The arm the others are tested against: the proposed pretraining. */
export function isProposedArm(arm: string): boolean {
  return arm === 'pretrained' || arm === 'proposed';
}

/** The paper's mean of one metric for an arm, or undefined when it printed none. */
export function paperValue(kind: 'experiment' | 'ablation', arm: string, split: Split, metric: MetricKey): number | undefined {
  if (kind === 'ablation') {
    if (split !== 'external') return undefined;
    const key = arm === 'pretrained' ? 'proposed' : arm;
    const row = (PAPER_FIGURES.ablation as Record<string, PaperAblation | undefined>)[key];
    return row && (metric === 'auc' || metric === 'f1') ? row[metric] : undefined;
  }
  const key = arm === 'proposed' ? 'pretrained' : arm;
  if (metric === 'dice2d' || metric === 'dice3d') {
    const row = (PAPER_FIGURES.dice[split] as Record<string, PaperDice | undefined>)[key];
    return row?.[metric];
  }
  if (metric !== 'auc' && metric !== 'precision' && metric !== 'recall' && metric !== 'f1') return undefined; // the paper prints no map context
  const row = (PAPER_FIGURES.classification[split] as Record<string, PaperClassification | undefined>)[key];
  return row?.[metric];
}

/**
 * The paper's p-value for the proposed arm against `other` (external cohort):
 * a number, null when the paper's row was lost from its text, undefined when
 * the paper has no such test.
 */
export function paperPValue(other: string, split: Split, metric: MetricKey): number | null | undefined {
  if (split !== 'external' || (other !== 'random' && other !== 'medicalnet')) return undefined;
  const row: Partial<Record<MetricKey, number | null>> = PAPER_FIGURES.pValues[other];
  return row[metric];
}

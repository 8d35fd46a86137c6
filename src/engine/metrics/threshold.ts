// The decision threshold chosen on held-out scores (finetune.thresholdRule
// 'inner'): the candidates are the distinct held-out scores (a case is
// called positive when score ≥ t, as sklearn's precision_recall_curve and
// roc_curve); the one that maximises the criterion wins, ties going to the
// highest threshold (the fewest positive calls).
//   'f1':     F1 = 2TP / (2TP + FP + FN)
//   'youden': J = TP/(TP + FN) + TN/(TN + FP) − 1
// follows: METHOD.md §6 (decision threshold)
import { classificationMetrics } from './classification';
import { checkScoresLabels } from './labels';

export type ThresholdCriterion = 'f1' | 'youden';

export interface ThresholdChoice {
  threshold: number;
  criterion: ThresholdCriterion;
  /** the criterion's value on the held-out scores at `threshold` */
  value: number;
}

function criterionValue(criterion: ThresholdCriterion, scores: ArrayLike<number>, labels: ArrayLike<number>, t: number): number {
  const m = classificationMetrics(scores, labels, t);
  if (criterion === 'f1') return m.f1;
  return m.tp / (m.tp + m.fn) + m.tn / (m.tn + m.fp) - 1;
}

/**
 * The threshold maximising `criterion` over the scores' distinct values,
 * or a reason when there is none to choose (the held-out cases hold one
 * class only, where neither criterion tells thresholds apart).
 */
export function chooseThreshold(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>, criterion: ThresholdCriterion): ThresholdChoice | { reason: string } {
  if (criterion !== 'f1' && criterion !== 'youden') throw new Error(`chooseThreshold: unknown criterion ${JSON.stringify(criterion)}`);
  const y = checkScoresLabels(scores, labels, 'chooseThreshold');
  const pos = y.filter((v) => v === 1).length;
  if (pos === 0 || pos === y.length) {
    return { reason: `the ${y.length} held-out case${y.length === 1 ? '' : 's'} are all ${pos === 0 ? 'negative' : 'positive'}` };
  }
  const candidates = [...new Set(Array.from(scores))].sort((a, b) => b - a);
  let best: ThresholdChoice | undefined;
  for (const t of candidates) {
    const value = criterionValue(criterion, scores, y, t);
    if (!best || value > best.value) best = { threshold: t, criterion, value };
  }
  return best!;
}

// Precision, recall and F1 of thresholded scores (positive: score ≥ threshold).
// A ratio whose denominator is 0 is defined as 0, like sklearn's
// zero_division=0: precision with no predicted positives, recall with no
// actual positives, F1 when precision + recall = 0 (F1 = 2TP/(2TP+FP+FN)).
// follows: METHOD.md §7 (precision, recall, F1 at 0.5)
import { checkScoresLabels } from './labels';

export interface ClassificationMetrics {
  precision: number;
  recall: number;
  f1: number;
  /** confusion counts, positives = label 1 */
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

export function classificationMetrics(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>, threshold = 0.5): ClassificationMetrics {
  if (!Number.isFinite(threshold)) throw new Error(`classificationMetrics: threshold must be finite, got ${threshold}`);
  const y = checkScoresLabels(scores, labels, 'classificationMetrics');
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  y.forEach((label, i) => {
    const predicted = scores[i] >= threshold;
    if (predicted && label === 1) tp++;
    else if (predicted) fp++;
    else if (label === 1) fn++;
    else tn++;
  });
  const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);
  return {
    precision: ratio(tp, tp + fp),
    recall: ratio(tp, tp + fn),
    f1: ratio(2 * tp, 2 * tp + fp + fn),
    tp,
    fp,
    fn,
    tn,
  };
}

// Area under the ROC curve in its Mann–Whitney form: the probability that a
// random positive scores above a random negative, ties counted half. Equal to
// the trapezoidal area of sklearn's roc_auc_score.
//   AUC = (R₁ − n₁(n₁+1)/2) / (n₁·n₀),  R₁ the sum of the positives' mid-ranks
// follows: METHOD.md §7 (ROC AUC, ties counted half)
import { checkScoresLabels } from './labels';

export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>): number {
  const y = checkScoresLabels(scores, labels, 'rocAuc');
  const n = y.length;
  const n1 = y.reduce((a, b) => a + b, 0);
  const n0 = n - n1;
  if (n1 === 0 || n0 === 0) {
    throw new Error(`rocAuc: AUC is undefined with only one class present (${n1} positives, ${n0} negatives)`);
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a] - scores[b]);
  // mid-ranks (1-based) over runs of equal scores
  let rankSumPos = 0;
  for (let start = 0; start < n; ) {
    let end = start;
    while (end + 1 < n && scores[order[end + 1]] === scores[order[start]]) end++;
    const midRank = (start + end) / 2 + 1;
    for (let r = start; r <= end; r++) if (y[order[r]] === 1) rankSumPos += midRank;
    start = end + 1;
  }
  return (rankSumPos - (n1 * (n1 + 1)) / 2) / (n1 * n0);
}

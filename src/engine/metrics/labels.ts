// Input checks shared by the classification metrics.

/** Scores and 0/1 labels of equal length; a clear error otherwise. */
export function checkScoresLabels(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>, where: string): number[] {
  if (scores.length !== labels.length) throw new Error(`${where}: ${scores.length} scores but ${labels.length} labels`);
  if (scores.length === 0) throw new Error(`${where}: no samples`);
  const y: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    const v = l === true ? 1 : l === false ? 0 : l;
    if (v !== 0 && v !== 1) throw new Error(`${where}: label ${i} is ${String(l)}, expected 0 or 1`);
    if (!Number.isFinite(scores[i])) throw new Error(`${where}: score ${i} is ${scores[i]}, expected a finite number`);
    y.push(v);
  }
  return y;
}

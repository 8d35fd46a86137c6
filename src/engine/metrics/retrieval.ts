// Image↔report retrieval recall@k on held-out pairs. similarity[i][j] is
// the similarity of image i and report j; image i's true report is j = i.
// A query is a hit when fewer than k wrong items score at least as high as
// the true one. Ties count against the query (a constant matrix scores 0,
// not chance), so the recall is never flattered. k ≥ N makes every query a hit.
// follows: METHOD.md §7 (retrieval recall@1/5/10)

export interface RetrievalRecall {
  /** fraction of images whose report is among the k most similar reports */
  imageToReport: number;
  /** fraction of reports whose image is among the k most similar images */
  reportToImage: number;
}

/** Throws, naming `where`, unless the matrix is square and holds no NaN. */
export function checkSimilarity(similarity: readonly (ArrayLike<number>)[], where: string): void {
  const n = similarity.length;
  similarity.forEach((row, i) => {
    if (row.length !== n) throw new Error(`${where}: similarity must be square (N×N), row ${i} has ${row.length} entries for N = ${n}`);
    for (let j = 0; j < n; j++) if (Number.isNaN(row[j])) throw new Error(`${where}: similarity[${i}][${j}] is NaN`);
  });
}

export function recallAtK(similarity: readonly (ArrayLike<number>)[], k: number): RetrievalRecall {
  const n = similarity.length;
  if (n === 0) throw new Error('recallAtK: empty similarity matrix');
  if (!Number.isInteger(k) || k < 1) throw new Error(`recallAtK: k must be a positive integer, got ${k}`);
  checkSimilarity(similarity, 'recallAtK');
  let hitsImage = 0;
  let hitsReport = 0;
  for (let i = 0; i < n; i++) {
    let aboveRow = 0;
    let aboveCol = 0;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      if (similarity[i][j] >= similarity[i][i]) aboveRow++;
      if (similarity[j][i] >= similarity[i][i]) aboveCol++;
    }
    if (aboveRow < k) hitsImage++;
    if (aboveCol < k) hitsReport++;
  }
  return { imageToReport: hitsImage / n, reportToImage: hitsReport / n };
}

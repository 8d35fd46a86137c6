// Whether a set of embeddings is organised by a label: for each item, the
// share of its nearest other items (cosine similarity; all tied nearest
// items counted, each with equal weight) that carry its label, averaged over
// the items, against chance — the share a randomly chosen other item would
// give, mean over i of (n_label(i) − 1) / (N − 1). It needs no labels in
// training and no classifier: it asks whether the label is what is close.
// The pretraining stage measures it for the tumour location, within the
// image and within the report embeddings, on the held-out and on the
// training pairs (retrieval.json `locationNeighbours`), which tells a model
// that learnt the location apart from one that matches its own pairs.
// follows: METHOD.md §7 (held-out retrieval: location neighbours)

export interface LabelNeighbours {
  /** items measured */
  n: number;
  /** mean over items of the share of their nearest other items with the same label */
  agreement: number;
  /** the same for a randomly chosen other item: mean over i of (n_label(i) − 1) / (N − 1) */
  chance: number;
  /** items per label */
  counts: Record<string, number>;
}

/** Location neighbours of a pretraining's global embeddings (retrieval.json `locationNeighbours`). */
export interface LocationNeighbours {
  /** the pairs retrieval was measured on (retrieval.json `pairs`) */
  evaluated: { image: LabelNeighbours; report: LabelNeighbours };
  /** the pairs pretraining learnt from, when the evaluated ones were held out (and at least 2) */
  training: { image: LabelNeighbours; report: LabelNeighbours } | null;
}

/**
 * Nearest-neighbour label agreement of `embeddings` (one row per item) under
 * cosine similarity (a zero row's cosine with every item is 0). Throws,
 * naming `where`, for fewer than 2 items, rows of different lengths, a
 * non-finite value, or a label list of another length.
 */
export function labelNeighbours(embeddings: readonly (ArrayLike<number>)[], labels: readonly string[], where = 'labelNeighbours'): LabelNeighbours {
  const n = embeddings.length;
  if (n < 2) throw new Error(`${where}: needs at least 2 items, got ${n}`);
  if (labels.length !== n) throw new Error(`${where}: ${labels.length} labels for ${n} embeddings`);
  const d = embeddings[0]!.length;
  const unit = embeddings.map((row, i) => {
    if (row.length !== d) throw new Error(`${where}: embedding ${i} has ${row.length} values, embedding 0 has ${d}`);
    let s = 0;
    for (let k = 0; k < d; k++) {
      const v = row[k]!;
      if (!Number.isFinite(v)) throw new Error(`${where}: embedding ${i} holds a non-finite value at ${k}`);
      s += v * v;
    }
    // a zero row has no direction: its cosine with every item is taken as 0
    const norm = s > 0 ? Math.sqrt(s) : 1;
    return Array.from({ length: d }, (_, k) => row[k]! / norm);
  });
  const counts: Record<string, number> = {};
  for (const l of labels) counts[l] = (counts[l] ?? 0) + 1;
  let agreement = 0;
  let chance = 0;
  for (let i = 0; i < n; i++) {
    let best = -Infinity;
    let tied = 0;
    let same = 0;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      let s = 0;
      for (let k = 0; k < d; k++) s += unit[i]![k]! * unit[j]![k]!;
      if (s > best) {
        best = s;
        tied = 0;
        same = 0;
      }
      if (s === best) {
        tied++;
        if (labels[j] === labels[i]) same++;
      }
    }
    agreement += same / tied;
    chance += (counts[labels[i]!]! - 1) / (n - 1);
  }
  return { n, agreement: agreement / n, chance: chance / n, counts };
}

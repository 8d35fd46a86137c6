// Image↔report retrieval ranks on held-out pairs, both directions, against
// chance. similarity[i][j] is the similarity of image i and report j; image
// i's true report is j = i. The rank of a query's true item is 1 + the number
// of wrong items scoring at least as high (ties count against the query, as
// recallAtK does, so a constant matrix ranks every true item last), and
// recall@k is the fraction of queries with rank ≤ k; recallAtK(s, k) equals
// retrievalRanks(s, [k]).recallAt[k] for every k.
// Chance (a similarity that ignores the pairing: the true item's rank is
// uniform on 1..N): recall@k = min(k, N)/N, mean rank = (N + 1)/2, and the
// median rank ≈ (N + 1)/2 (the median of a uniform rank).
// The median of the N ranks is numpy's: the middle rank, or the mean of the
// two middle ranks when N is even.
// follows: METHOD.md §7 (retrieval on held-out pairs, beyond the paper)

import { checkSimilarity } from './retrieval';

export interface RetrievalDirection {
  /** 1-based rank of each query's true item (ties counted against the query) */
  ranks: number[];
  /** fraction of queries whose true item ranks ≤ k, keyed by k */
  recallAt: Record<number, number>;
  medianRank: number;
  meanRank: number;
}

export interface RetrievalRanks {
  /** pairs (N) */
  cases: number;
  /** each image ranks the N reports */
  imageToReport: RetrievalDirection;
  /** each report ranks the N images */
  reportToImage: RetrievalDirection;
  /** the same figures for a similarity that ignores the pairing */
  chance: { recallAt: Record<number, number>; medianRank: number; meanRank: number };
}

export const RETRIEVAL_KS: readonly number[] = [1, 5, 10];

export function retrievalRanks(similarity: readonly (ArrayLike<number>)[], ks: readonly number[] = RETRIEVAL_KS): RetrievalRanks {
  const n = similarity.length;
  if (n === 0) throw new Error('retrievalRanks: empty similarity matrix');
  for (const k of ks) if (!Number.isInteger(k) || k < 1) throw new Error(`retrievalRanks: k must be a positive integer, got ${k}`);
  checkSimilarity(similarity, 'retrievalRanks');
  const rowRanks: number[] = [];
  const colRanks: number[] = [];
  for (let i = 0; i < n; i++) {
    const own = similarity[i][i];
    let aboveRow = 0;
    let aboveCol = 0;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      if (similarity[i][j] >= own) aboveRow++;
      if (similarity[j][i] >= own) aboveCol++;
    }
    rowRanks.push(aboveRow + 1);
    colRanks.push(aboveCol + 1);
  }
  const chanceRecall: Record<number, number> = {};
  for (const k of ks) chanceRecall[k] = Math.min(k, n) / n;
  return {
    cases: n,
    imageToReport: direction(rowRanks, ks),
    reportToImage: direction(colRanks, ks),
    chance: { recallAt: chanceRecall, medianRank: (n + 1) / 2, meanRank: (n + 1) / 2 },
  };
}

function direction(ranks: number[], ks: readonly number[]): RetrievalDirection {
  const n = ranks.length;
  const recallAt: Record<number, number> = {};
  for (const k of ks) recallAt[k] = ranks.filter((r) => r <= k).length / n;
  const sorted = [...ranks].sort((a, b) => a - b);
  const mid = n >> 1;
  const medianRank = n % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  const meanRank = ranks.reduce((s, r) => s + r, 0) / n;
  return { ranks, recallAt, medianRank, meanRank };
}

/** One direction's wrong items ranked above the true one, split by tumour location. */
export interface LocationSplitDirection {
  /** per query: wrong items of the query's location scoring at least as high as the true item */
  sameAbove: number[];
  /** per query: items of other locations scoring at least as high as the true item */
  otherAbove: number[];
  /** means of the two */
  meanSameAbove: number;
  meanOtherAbove: number;
  /** fraction of queries whose true item beats every wrong item of its own location (recall@1 among same-location candidates) */
  withinRecallAt1: number;
}

export interface RetrievalByLocation {
  /** pairs (N) with a location */
  cases: number;
  /** cases per location */
  counts: Record<string, number>;
  imageToReport: LocationSplitDirection;
  reportToImage: LocationSplitDirection;
  /**
   * the same figures for a similarity that ignores the pairing (every order
   * of the N − 1 wrong items and the true one equally likely): a query with
   * n_l cases of its location has (n_l − 1)/2 same-location and
   * (N − n_l)/2 other-location items above on average, and recall@1 among
   * its location's candidates 1/n_l; averaged over the queries
   */
  chance: { meanSameAbove: number; meanOtherAbove: number; withinRecallAt1: number };
}

/**
 * Splits retrieval's misses by tumour location: a true item's rank − 1 =
 * the wrong items of the query's location above it + the items of other
 * locations above it (ties count against the query, as in retrievalRanks).
 * A model that encodes the location and nothing else puts no other-location
 * item above the true one and orders the same-location items at chance; the
 * location-weighted global loss pushes same-location negatives with λ < 1,
 * so this shows what it buys and what it costs. Locations are labels of the
 * evaluated cases, used here only to evaluate.
 * follows: METHOD.md §7 (retrieval on held-out pairs, beyond the paper)
 */
export function retrievalByLocation(similarity: readonly (ArrayLike<number>)[], locations: readonly string[]): RetrievalByLocation {
  const n = similarity.length;
  if (n === 0) throw new Error('retrievalByLocation: empty similarity matrix');
  if (locations.length !== n) throw new Error(`retrievalByLocation: ${locations.length} locations for ${n} pairs`);
  checkSimilarity(similarity, 'retrievalByLocation');
  const counts: Record<string, number> = {};
  for (const l of locations) counts[l] = (counts[l] ?? 0) + 1;
  const split = (score: (query: number, item: number) => number): LocationSplitDirection => {
    const sameAbove: number[] = [];
    const otherAbove: number[] = [];
    for (let i = 0; i < n; i++) {
      const own = score(i, i);
      let same = 0;
      let other = 0;
      for (let j = 0; j < n; j++) {
        if (j === i || score(i, j) < own) continue;
        if (locations[j] === locations[i]) same++;
        else other++;
      }
      sameAbove.push(same);
      otherAbove.push(other);
    }
    return {
      sameAbove,
      otherAbove,
      meanSameAbove: sameAbove.reduce((s, v) => s + v, 0) / n,
      meanOtherAbove: otherAbove.reduce((s, v) => s + v, 0) / n,
      withinRecallAt1: sameAbove.filter((v) => v === 0).length / n,
    };
  };
  const perQuery = locations.map((l) => counts[l]!);
  const avg = (f: (nl: number) => number): number => perQuery.reduce((s, nl) => s + f(nl), 0) / n;
  return {
    cases: n,
    counts,
    imageToReport: split((i, j) => similarity[i]![j]!),
    reportToImage: split((i, j) => similarity[j]![i]!),
    chance: { meanSameAbove: avg((nl) => (nl - 1) / 2), meanOtherAbove: avg((nl) => (n - nl) / 2), withinRecallAt1: avg((nl) => 1 / nl) },
  };
}

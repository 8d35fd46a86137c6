// Shared pieces of the local-loss tests (crossed negatives, the local
// pairing measure): a tiny contrastive model's config, three reports of
// different lengths (padding in the word slots), and a plain cosine.
import { resolveConfig } from '../../../src/engine/config/resolve';

/** a tiny contrastive model (layer3 on a 3 × 3 × 2 grid for a 24 × 24 × 16 input); `extra` overrides sections */
export function tinyContrastiveConfig(extra: Record<string, unknown> = {}) {
  return resolveConfig({
    image: { width: 2, outputStride: 8 },
    text: { layers: 1, hidden: 8, heads: 2, intermediate: 16, attentionWindow: 4, maxWords: 6 },
    heads: { globalDim: 8, localDim: 4 },
    ...extra,
  });
}

export const REPORTS = [
  { ids: [0, 5, 6, 7, 2], wordIds: [null, 0, 0, 1, null] },
  { ids: [0, 8, 9, 2], wordIds: [null, 0, 1, null] },
  { ids: [0, 10, 11, 12, 13, 2], wordIds: [null, 0, 1, 2, 3, null] },
];

export function cosine(a: number[], b: number[]): number {
  let s = 0;
  let na = 0;
  let nb = 0;
  a.forEach((v, i) => {
    s += v * b[i]!;
    na += v * v;
    nb += b[i]! * b[i]!;
  });
  return s / Math.sqrt(na) / Math.sqrt(nb);
}

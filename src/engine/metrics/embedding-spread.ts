// Are the global embeddings collapsed? Over the evaluated pairs' L2-normalised
// global embeddings: the mean cosine between different cases' embeddings
// within each modality, and across modalities the mean cosine of each
// image with its own report against with the other reports. Collapsed
// embeddings (every case's pointing the same way) have within-modality
// cosines near 1 and own ≈ other: the cosine triplet's gradient vanishes
// there and retrieval cannot leave chance (docs/METHOD.md §4). The threshold
// COLLAPSED_COSINE is ours: trained models measured 0.22–0.78, collapsed
// ones 0.995–0.9998.
// follows: METHOD.md §4 (global embeddings collapsed; heads.globalInputNorm, heads.globalInputNormEps)

export interface EmbeddingSpread {
  /** cases */
  cases: number;
  /** mean cosine between different cases' image embeddings */
  image: number;
  /** mean cosine between different cases' report embeddings */
  report: number;
  /** mean cosine of an image with its own report */
  ownPair: number;
  /** mean cosine of an image with another case's report */
  otherPair: number;
}

/** within-modality mean cosine at or above which the embeddings count as collapsed */
export const COLLAPSED_COSINE = 0.99;

function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** imageEmb[i], reportEmb[i]: case i's L2-normalised global embeddings (at least 2 cases, one width). */
export function embeddingSpread(imageEmb: readonly (readonly number[])[], reportEmb: readonly (readonly number[])[]): EmbeddingSpread {
  const n = imageEmb.length;
  if (n < 2 || reportEmb.length !== n) throw new Error(`embeddingSpread: needs the same number (≥ 2) of image and report embeddings, got ${n} and ${reportEmb.length}`);
  const width = imageEmb[0]!.length;
  if ([...imageEmb, ...reportEmb].some((e) => e.length !== width)) throw new Error('embeddingSpread: the embeddings differ in width');
  let image = 0;
  let report = 0;
  let own = 0;
  let other = 0;
  for (let i = 0; i < n; i++) {
    own += dot(imageEmb[i]!, reportEmb[i]!);
    for (let j = 0; j < n; j++) {
      if (i === j) continue;
      image += dot(imageEmb[i]!, imageEmb[j]!);
      report += dot(reportEmb[i]!, reportEmb[j]!);
      other += dot(imageEmb[i]!, reportEmb[j]!);
    }
  }
  const pairs = n * (n - 1);
  return { cases: n, image: image / pairs, report: report / pairs, ownPair: own / n, otherPair: other / pairs };
}

export function embeddingsCollapsed(s: EmbeddingSpread): boolean {
  return s.image >= COLLAPSED_COSINE || s.report >= COLLAPSED_COSINE;
}

/**
 * λ of Eq. 1 where a config's global loss weights same-location negatives
 * by it (loss.useLocation, locationMode 'scale', λ < 1), else null (also for
 * a config without a loss section).
 */
export function locationWeightOf(loss: { useLocation?: boolean; locationMode?: string; locationWeight?: number } | undefined): number | null {
  if (!loss || loss.useLocation === false || (loss.locationMode ?? 'scale') !== 'scale') return null;
  const lambda = loss.locationWeight ?? 0.5;
  return lambda < 1 ? lambda : null;
}

/**
 * The pretraining stage's warning when its global embeddings are collapsed,
 * else undefined. `standardisedEps`: the ε of the global heads' input
 * standardisation, null where they do not standardise. `locationWeight`: λ where the global loss weights
 * same-location negatives (locationWeightOf), which holds unaligned pairs
 * collapsed (docs/METHOD.md §5).
 */
export function collapseWarning(stage: string, pairs: string, s: EmbeddingSpread, standardisedEps: number | null, locationWeight: number | null = null): string | undefined {
  if (!embeddingsCollapsed(s)) return undefined;
  const fix =
    standardisedEps !== null
      ? `the global heads standardise their inputs with ε ${standardisedEps >= 1e-3 ? String(standardisedEps) : standardisedEps.toExponential()}; a report encoder whose <s> state barely varies across reports is damped by it: heads.globalInputNormEps 1e-10 standardises it`
      : `heads.globalInputNorm "batch" standardises the global heads' inputs`;
  const weighting =
    locationWeight === null
      ? ''
      : `; the location weighting (λ ${locationWeight}) lowers the global loss of pairs not yet aligned by collapsing them, which the plain triplet (loss.useLocation false) does not (docs/METHOD.md §5)`;
  return `${stage}: the global embeddings are collapsed: on the ${pairs} pairs different cases' embeddings have a mean cosine of ${s.image.toFixed(4)} (images) and ${s.report.toFixed(4)} (reports), and an image is as close to another case's report as to its own (${s.otherPair.toFixed(4)} vs ${s.ownPair.toFixed(4)}); retrieval and the global loss cannot move from there; ${fix} (docs/METHOD.md §4)${weighting}`;
}

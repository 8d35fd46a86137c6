// Case labels of the synthetic cohort and the clinical pattern they follow:
// BRAF-fusion tumours (mostly pilocytic astrocytomas) sit mostly in the
// posterior fossa, V600E-mutated ones mostly in the cerebral hemispheres,
// and a minority carries other alterations.
// follows: METHOD.md §1 (labels); paper, "Datasets" and Table 6
import type { Rng } from '../util/rng';

export const SYNTH_LOCATIONS = ['supratentorial', 'infratentorial', 'transtentorial'] as const;
export const SYNTH_MARKERS = ['fusion', 'v600e', 'other'] as const;

export type SynthLocation = (typeof SYNTH_LOCATIONS)[number];
export type SynthMarker = (typeof SYNTH_MARKERS)[number];

export interface CaseLabels {
  location: SynthLocation;
  marker: SynthMarker;
}

/** P(marker). "other" is kept at ~18% so most cases count for the fusion-vs-V600E classification (the paper's Table 6 has ~40% other). */
export const MARKER_PRIOR: Readonly<Record<SynthMarker, number>> = { fusion: 0.48, v600e: 0.34, other: 0.18 };

/** P(location | marker), in SYNTH_LOCATIONS order. */
export const LOCATION_GIVEN_MARKER: Readonly<Record<SynthMarker, readonly [number, number, number]>> = {
  fusion: [0.22, 0.65, 0.13],
  v600e: [0.72, 0.16, 0.12],
  other: [0.55, 0.3, 0.15],
};

/**
 * P(marker) of the paper's Dataset 1 (Table 6: 137 BRAF fusion, 67 V600E,
 * 137 other of 341): about 200 of 340 pairs then count for the
 * fusion-vs-V600E task, the rest serve pretraining only, as in the paper.
 */
export const PAPER_MARKER_PRIOR: Readonly<Record<SynthMarker, number>> = { fusion: 137 / 341, v600e: 67 / 341, other: 137 / 341 };

/** Draws one case's marker (from `prior`, default MARKER_PRIOR), then its location given the marker. */
export function sampleLabels(rng: Rng, prior: Readonly<Record<SynthMarker, number>> = MARKER_PRIOR): CaseLabels {
  const marker = SYNTH_MARKERS[rng.choice(SYNTH_MARKERS.map((m) => prior[m]))];
  const location = SYNTH_LOCATIONS[rng.choice(LOCATION_GIVEN_MARKER[marker])];
  return { location, marker };
}

// Synthetic cohort generator (`mrcl synth`).
export { synthesizeCohort, resolveSynthOptions, planCohortLabels, cohortIds, SYNTH_DEFAULTS } from './cohort';
export type { SynthOptions, SynthSummary, ManifestCase } from './cohort';
export { synthesizeCase, caseLabels } from './case';
export type { SynthCase } from './case';
export { sampleLabels, SYNTH_LOCATIONS, SYNTH_MARKERS, MARKER_PRIOR, LOCATION_GIVEN_MARKER } from './labels';
export type { CaseLabels, SynthLocation, SynthMarker } from './labels';
export { headGrid, HEAD_FOV_MM } from './grid';
export type { Grid } from './grid';
export { TEMPLATE, tentoriumDistance, HeadPose } from './phantom';
export type { Plane } from './phantom';
export { LOCATION_TERMS, writeReport } from './reports';
export type { ReportFacts } from './reports';
export { componentSizes } from './components';
export { SYNTH_MARKER_FILE, MANIFEST_FILE } from './folder';

// Pretraining losses (METHOD.md §5).
export { globalTripletLoss } from './global-triplet';
export type { GlobalTripletOptions } from './global-triplet';
export { localTripletLoss, sampleLocalNegatives } from './local-triplet';
export type { LocalTripletOptions, LocalNegatives } from './local-triplet';
export { infoNceLoss } from './infonce';
export type { InfoNceOptions } from './infonce';
export { combineLosses, LossWeights } from './total';
export type { CombineOptions, CombinedLoss, LossWeighting, LossComponents } from './total';
export { sampleNegatives, sampleGlobalNegatives, chooseNegatives, resolveNegativeK } from './negatives';
export type { NegativeK, GlobalNegatives, SampleOptions } from './negatives';
export { l2NormalizeRows, distanceMatrix, COSINE_EPS } from './cosine';

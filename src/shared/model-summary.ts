// Parameter counts of the models a config builds, per component, for
// pretraining and fine-tuning (the paper's Table 7): what the engine's
// modelSummary returns (src/engine/model/summary.ts) and `mrcl model summary
// --json` prints. Types only, so the worker protocol can carry it without
// pulling engine code into the extension host or the webviews.

export interface ParamCount {
  trainable: number;
  frozen: number;
}

export interface StageSummary {
  imageEncoder: ParamCount;
  imageLocalHead: ParamCount;
  /** the Longformer and the two text heads */
  textEncoder: ParamCount;
  crossAttention: ParamCount;
  /** the global image head ("MLP heads") */
  heads: ParamCount;
  /** the learned loss weights s_G, s_L */
  lossWeights: ParamCount;
  classifier: ParamCount;
  total: ParamCount;
}

export interface ModelSummary {
  pretrain: StageSummary;
  finetune: StageSummary;
  /** what the numbers were built from */
  built: { imageEncoder: string; textEncoder: string; vocabSize: number };
}

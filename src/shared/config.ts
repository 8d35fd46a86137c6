// The one experiment config: TypeBox is the single source for the
// TypeScript type, the committed JSON Schema (editor completion and hover)
// and runtime validation. Every field carries a default and a description.
// follows: ../METHOD.md §1–§8 (paper defaults; "(ours)" options noted).
import { Type, type Static } from '@sinclair/typebox';

/** PyTorch's BatchNorm ε: the default of every batch norm here (heads.globalInputNormEps included). */
export const TORCH_BN_EPS = 1e-5;

export const LOCATION_DEFAULTS = ['supratentorial', 'infratentorial', 'transtentorial'];
export const MARKER_DEFAULTS = ['fusion', 'v600e', 'other'];
export const LEAK_TERM_DEFAULTS = [
  'BRAF',
  'V600E',
  'V600',
  'fusion',
  'fusions',
  'fused',
  'mutation',
  'mutations',
  'mutated',
  'mutant',
  'KIAA1549',
  'KIAA1549-BRAF',
  'rearrangement',
  'wild-type',
  'wildtype',
];

const PositiveInt = (description: string, def: number, minimum = 1) =>
  Type.Integer({ minimum, default: def, description });
const PositiveNumber = (description: string, def: number) =>
  Type.Number({ exclusiveMinimum: 0, default: def, description });
const Fraction = (description: string, def: number) => Type.Number({ minimum: 0, maximum: 1, default: def, description });

/** γ of the word-level local scores (loss.localWordSharpness; GLoRIA's γ2). */
export const DEFAULT_LOCAL_WORD_SHARPNESS = 5;

export const DataSchema = Type.Object(
  {
    manifest: Type.String({
      default: '',
      description:
        'Path to the dataset manifest (JSON or CSV), relative to this config file. Required to run; `mrcl synth` writes one.',
    }),
    // An array, not a Tuple: TypeBox's Value.Default would fill a short
    // tuple's missing items from the default instead of reporting it.
    shape: Type.Unsafe<[number, number, number]>(
      Type.Array(Type.Integer({ minimum: 8, maximum: 1024 }), {
        minItems: 3,
        maxItems: 3,
        default: [64, 64, 40],
        description:
          'Voxel grid [X, Y, Z] every volume is resampled to after reorientation to RAS+ (trilinear for images, nearest for masks). The paper uses 240×240×155.',
      }),
    ),
    normalization: Type.Union([Type.Literal('minmax'), Type.Literal('zscore')], {
      default: 'minmax',
      description:
        "Per-volume intensity scaling: 'minmax' to [0,1] (the authors' code) or 'zscore' over non-zero voxels (MedicalNet's).",
    }),
    cacheDir: Type.String({
      default: '.mrcl-cache',
      description:
        'Folder for preprocessed volumes, relative to the manifest. Entries are keyed by source file (path, size, mtime) and preprocessing parameters.',
    }),
    maxInflatedMiB: PositiveInt('Largest size a .nii.gz may inflate to, in MiB; larger files are refused.', 2048),
    allowOutsidePaths: Type.Boolean({
      default: false,
      description:
        "Let the manifest's image, mask and report paths lie outside the manifest's folder (absolute paths, '..', symlinks leading out). Off by default so a dataset cannot make a run read files elsewhere; see docs/SECURITY.md.",
    }),
    locations: Type.Array(Type.String({ minLength: 1 }), {
      minItems: 1,
      uniqueItems: true,
      default: LOCATION_DEFAULTS,
      description: 'Tumour location classes used by the manifest and by the location-weighted loss.',
    }),
    markers: Type.Array(Type.String({ minLength: 1 }), {
      minItems: 2,
      uniqueItems: true,
      default: MARKER_DEFAULTS,
      description: 'Genetic-marker labels the manifest may use.',
    }),
    positiveMarker: Type.String({
      default: 'v600e',
      description: 'Marker of the positive class in the downstream task (BRAF V600E mutation).',
    }),
    negativeMarker: Type.String({
      default: 'fusion',
      description: 'Marker of the negative class in the downstream task (BRAF fusion). Other markers are excluded downstream.',
    }),
  },
  { additionalProperties: false, default: {}, description: 'Dataset and preprocessing.' },
);

export const ReportSchema = Type.Object(
  {
    leakTerms: Type.Array(Type.String({ minLength: 1 }), {
      default: LEAK_TERM_DEFAULTS,
      description: 'Label-leaking words removed from reports (whole words, case-insensitive).',
    }),
    removeDates: Type.Boolean({ default: true, description: 'Remove dates (e.g. 2021-03-04, 03/04/2021, March 4, 2021).' }),
    removeNumbers: Type.Boolean({ default: true, description: 'Remove numbers and measurements (e.g. 3.2 cm, 12x8 mm).' }),
    removePunctuation: Type.Boolean({ default: true, description: 'Remove punctuation.' }),
    lowercase: Type.Boolean({ default: false, description: 'Lower-case the cleaned report.' }),
    deidentify: Type.Boolean({
      default: true,
      description:
        'Replace names, IDs, dates, phone numbers, e-mail and street addresses, ages over 89 and institutions by placeholders before anything else reads a report (docs/PRIVACY.md).',
    }),
    knownNames: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description:
        'Names removed from reports wherever they occur: each entry and each of its words, whole words, case-insensitive (with deidentify on). Recorded in the run folder with the config: prefer knownNamesFile.',
    }),
    knownNamesFile: Type.String({
      default: '',
      description: 'A UTF-8 text file of names, one a line (blank lines and lines starting with # skipped), removed like knownNames; the run records only its path. Relative to the config file.',
    }),
    institutions: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description: "Institution names removed from reports wherever they occur (whole words, case-insensitive), besides the usual patterns ('… Hospital', 'University of …').",
    }),
  },
  { additionalProperties: false, default: {}, description: 'Report cleaning (METHOD.md §1).' },
);

export const TokenizerSchema = Type.Object(
  {
    kind: Type.Union([Type.Literal('corpus'), Type.Literal('pretrained')], {
      default: 'corpus',
      description:
        "'corpus': a small byte-level BPE learnt from the training reports (for the small text encoder); 'pretrained': a HuggingFace tokenizer.json (or vocab.json + merges.txt) from `path`.",
    }),
    path: Type.String({
      default: '',
      description: "For kind 'pretrained': a tokenizer.json file or a folder holding tokenizer.json or vocab.json + merges.txt.",
    }),
    vocabSize: PositiveInt("For kind 'corpus': target vocabulary size including special tokens.", 1000, 260),
    minFrequency: PositiveInt("For kind 'corpus': minimum pair frequency for a merge.", 2),
    minDocuments: PositiveInt(
      "For kind 'corpus': a merge (and so a token) is learnt only from a pair found in at least this many distinct reports, so a word of a single report (a rare surname) cannot enter the vocabulary. With fewer than twice this many reports it is lowered to half the reports, never below 2; 1 turns the rule off.",
      5,
    ),
  },
  { additionalProperties: false, default: {}, description: 'Tokenizer for reports.' },
);

export const ImageSchema = Type.Object(
  {
    depth: Type.Union([Type.Literal(10), Type.Literal(18), Type.Literal(34)], {
      default: 18,
      description: 'ResNet depth (MedicalNet pairs 10→B, 18→A, 34→A).',
    }),
    shortcut: Type.Union([Type.Literal('A'), Type.Literal('B')], {
      default: 'A',
      description: "Residual shortcut: 'A' parameter-free (subsample + zero channels), 'B' 1×1×1 conv + BN.",
    }),
    width: PositiveInt('Channels of conv1/layer1; layers 2–4 use 2×, 4×, 8×. 64 is the paper; smaller widths are for tests and laptops.', 64),
    selfAttention: Type.Boolean({ default: true, description: 'SAGAN-style self-attention block on layer4.' }),
    dropout: Fraction('Dropout after the maxpool and after layers 1–3.', 0.25),
    trainableFrom: Type.Union(
      [Type.Literal('conv1'), Type.Literal('layer1'), Type.Literal('layer2'), Type.Literal('layer3'), Type.Literal('layer4')],
      {
        default: 'layer3',
        description: 'First trainable stage; the parameters of everything before it stay frozen (their batch-norm statistics: see frozenBatchNorm). Default: conv1–layer2 frozen.',
      },
    ),
    outputStride: Type.Union([Type.Literal(32), Type.Literal(16), Type.Literal(8)], {
      default: 32,
      description:
        "Overall stride of layer4. 32: layer3 and layer4 strided (layer3 stride 16). 16: layer4 stride 1, dilation 2. 8: layer3 stride 1 dilation 2 and layer4 stride 1 dilation 4, as MedicalNet's own ResNets (a 64×64×40 input gives an 8×8×5 layer4 grid); dilate: false keeps the unstrided layers undilated. Weights do not change shape: MedicalNet checkpoints load into every variant.",
    }),
    dilate: Type.Boolean({
      default: true,
      description:
        "With outputStride 16 or 8: dilate the unstrided layers as MedicalNet's ResNets do (true), or keep their 3×3×3 convs undilated with padding 1 (false), as layer4 of the paper's stride-32 encoder on its 8×8×5 grid. On a small grid dilation reaches into the padding: at 64×64×40 and stride 8 (an 8×8×5 layer4 grid) a dilation-4 conv sees no other position along z from the inner three z positions. Weights do not change shape.",
    }),
    attentionDropout: Type.Number({
      minimum: 0,
      exclusiveMaximum: 1,
      default: 0.2,
      description: "Dropout on the self-attention's key, query and value after their 1×1×1 convs, training only (the authors' code: 0.2; 0: none).",
    }),
    attentionScale: Type.Boolean({
      default: false,
      description:
        "Scale the self-attention's scores qᵢ·kⱼ by 1/√C before the softmax (scaled dot-product attention), C = layer4's channels. false: the authors' and SAGAN's unscaled scores.",
    }),
    attentionResidual: Type.Boolean({
      default: true,
      description:
        "Add the self-attention's input back to its output (out = γ·attended + x: the authors' block, SAGAN's). false (ours): out = γ·attended, so the global representation (the pooled output) is the attention-weighted average of the values and the losses reach the image only through the attention map. No parameter changes.",
    }),
    attentionRegisters: Type.Integer({
      minimum: 0,
      maximum: 64,
      default: 0,
      description:
        "Registers in the self-attention (ours): this many learned key and value vectors appended to layer4's voxels, so a query can attend to a place that is no voxel (as registers in a vision transformer). 0: the authors' block. The attention maps are the voxels' share; without registers CL pretraining puts the frozen self-attention on the empty background around the head.",
    }),
    attentionGamma: Type.Number({
      default: 0,
      description:
        "Initial value of the self-attention's gate γ (out = γ·attended + x; trained). 0: SAGAN's and the authors' (the block starts as the identity, and its query, key and value get no gradient until γ moves); a checkpoint's γ replaces it when loaded.",
    }),
    frozenBatchNorm: Type.Union([Type.Literal('train'), Type.Literal('eval')], {
      default: 'train',
      description:
        "Batch norms of the frozen stages (before trainableFrom) in training. 'train': batch statistics, running statistics updated, weight and bias not trained (the authors' PyTorch code: train mode, requires_grad = False only). 'eval': running statistics, never updated. Evaluation always uses the running statistics.",
    }),
    medicalNet: Type.String({
      default: '',
      description:
        "Path to a MedicalNet checkpoint (.pth). Initialises the image encoder before contrastive pretraining (the paper; see pretrainFromMedicalNet) and the fine-tuning 'medicalnet' arm; empty: pretraining starts from a random encoder and that arm is reported as not run.",
    }),
    pretrainFromMedicalNet: Type.Boolean({
      default: true,
      description: 'With image.medicalNet set, contrastive pretraining starts from its weights (the paper) before freezing conv1–layer2; false: from a random encoder.',
    }),
  },
  { additionalProperties: false, default: {}, description: 'Image encoder: 3D ResNet with self-attention (METHOD.md §2).' },
);

export const TextSchema = Type.Object(
  {
    pretrained: Type.String({
      default: '',
      description: 'Folder of a HuggingFace Longformer (config.json + weights + tokenizer), e.g. Clinical-Longformer. Empty: the small encoder below, trained from scratch.',
    }),
    layers: PositiveInt('Transformer layers of the small encoder.', 2),
    hidden: PositiveInt('Hidden size of the small encoder.', 64),
    heads: PositiveInt('Attention heads of the small encoder (must divide hidden).', 2),
    intermediate: PositiveInt('FFN size of the small encoder.', 256),
    attentionWindow: PositiveInt('Sliding-window size w (even); a token attends to w/2 neighbours on each side.', 64, 2),
    maxPositions: PositiveInt('Position embeddings of the small encoder (tokens + padding offset).', 1026, 4),
    maxWords: PositiveInt('Reports are padded or truncated to this many words for the local representation.', 128),
    globalCls: Type.Boolean({
      default: true,
      description: "Give '<s>' global attention (ours; the authors' code passes none, so '<s>' is purely local there).",
    }),
    trainableLayers: Type.Integer({ minimum: 0, default: 2, description: 'For a pretrained encoder (text.pretrained): number of last layers trained; embeddings and earlier layers are frozen. The small encoder trained from scratch always trains whole.' }),
    dropout: Fraction('Dropout in the text encoder.', 0.1),
  },
  { additionalProperties: false, default: {}, description: 'Text encoder: Longformer (METHOD.md §3).' },
);

export const HeadsSchema = Type.Object(
  {
    globalDim: PositiveInt('Output size of the global projection heads (paper: 512).', 512),
    localDim: PositiveInt('Size of local embeddings and cross-attention (paper: 256).', 256),
    textLocalHidden: Type.Integer({
      minimum: 0,
      default: 512,
      description:
        "Hidden units of the local text head: Linear(hidden→textLocalHidden) → ReLU → Linear(→localDim), the authors' LocalEmbedding (512). 0: a single Linear(hidden→localDim).",
    }),
    crossAttention: Type.Union([Type.Literal('learned'), Type.Literal('dot')], {
      default: 'learned',
      description:
        "Cross-attention form: 'learned' (the paper's: two modules with query/key/value projections and a γ-gated residual, 789,504 parameters at localDim 256) or 'dot' (parameter-free softmax over dot products of the local embeddings).",
    }),
    crossAttentionTemperature: PositiveNumber('Temperature τ: cross-attention scores are divided by τ before the softmax (1: the authors\' unscaled scores; below 1 sharpens).', 1),
    crossAttentionGamma: Type.Number({
      default: 1,
      description: "Gate γ of the learned cross-attention's residual, out = γ·attended + input (its initial value when trained). The authors draw it once from N(0, 1).",
    }),
    crossAttentionGammaTrainable: Type.Boolean({
      default: false,
      description:
        "Train the gates γ. false (default): constants, as in the authors' code, whose γ is not a registered parameter (so Table 7 does not count it); true: two more trainable parameters.",
    }),
    globalInputNorm: Type.Union([Type.Literal('none'), Type.Literal('batch')], {
      default: 'none',
      description:
        "Standardise the global heads' inputs per feature over the batch (a BatchNorm1d without affine parameters; running statistics in evaluation; no trainable parameter): 'none' (the paper, the authors' code) or 'batch' (ours: with a randomly initialised text encoder or encoder features dominated by a shared component, the global embeddings start collapsed and the cosine triplet cannot leave that point; docs/METHOD.md §4).",
    }),
    globalInputNormEps: Type.Number({
      exclusiveMinimum: 0,
      maximum: 1,
      default: TORCH_BN_EPS,
      description:
        "ε of the global heads' input standardisation (heads.globalInputNorm 'batch'): x̂ = (x − μ)/√(σ² + ε). 1e-5 (default): PyTorch's BatchNorm1d. Ours: a randomly initialised text encoder's `<s>` state varies across reports with a standard deviation of about 1e-4 to 2e-3, a variance below 1e-5, so with the default ε the text head's input is damped to a few hundredths of unit spread instead of standardised, and the global embeddings can stay collapsed; 1e-10 standardises it (docs/METHOD.md §4).",
    }),
    crossAttentionResidual: Type.Boolean({
      default: true,
      description: "Learned cross-attention adds the γ-gated residual (the authors': out = γ·attended + input); false: out = attended.",
    }),
    crossAttentionForeground: Type.Number({
      default: 0,
      minimum: 0,
      maximum: 1,
      description:
        "Ours: the words attend only to patches inside the head — layer3 cells whose block of the input volume has a mean (min–max normalised) intensity of at least this value (S_B restricted to them; a case with none keeps all). 0 (default, the authors'): every patch, the background included, where a word's attention can settle on voxels that hold no anatomy. Derived from the image alone, never from a mask.",
    }),
    crossAttentionScale: Type.Boolean({
      default: false,
      description: "Scale cross-attention scores by 1/√dim (the authors' code does not).",
    }),
  },
  { additionalProperties: false, default: {}, description: 'Projection heads and cross-attention (METHOD.md §4).' },
);

export const LossSchema = Type.Object(
  {
    kind: Type.Union([Type.Literal('triplet'), Type.Literal('infonce')], {
      default: 'triplet',
      description: "Global loss: location-weighted 'triplet' (Eq. 1) or symmetric 'infonce' (the contrastive-loss ablation).",
    }),
    components: Type.Union([Type.Literal('both'), Type.Literal('global'), Type.Literal('local')], {
      default: 'both',
      description: "Which terms are trained: 'both' (proposed), 'global' only or 'local' only (ablations).",
    }),
    weighting: Type.Union([Type.Literal('learned'), Type.Literal('fixed'), Type.Literal('localOnly')], {
      default: 'learned',
      description:
        "How L_G and L_L combine: 'learned' α=exp(−s_G), β=exp(−s_L) with s_G+s_L added (ours); 'fixed' α, β below; 'localOnly' L_L alone (the authors' released code).",
    }),
    alpha: Type.Number({ minimum: 0, default: 1, description: "α for weighting 'fixed'." }),
    beta: Type.Number({ minimum: 0, default: 1, description: "β for weighting 'fixed'." }),
    globalMargin: Type.Number({ minimum: 0, default: 0.25, description: 'Margin m_G of the global triplet loss.' }),
    localMargin: Type.Number({ minimum: 0, default: 0.4, description: 'Margin m_L of the local triplet loss.' }),
    localNegatives: Type.Union([Type.Literal('pair'), Type.Literal('crossed')], {
      default: 'pair',
      description:
        "What the local loss contrasts a positive with. 'pair' (the paper's, the authors'): another case's counterpart, from that case's own image and report (v̂_j, ŵ_j). 'crossed' (ours): the anchor's own queries against another case's content (image i's patches asking report j's words, report i's words asking image j's patches), so the contrast needs the other modality's content: with 'pair' the loss can be met by each modality's own queries alone (METHOD.md §5).",
    }),
    locationWeight: Fraction(
      "λ of Eq. 1 (locationMode 'scale'): a same-location negative's distance is multiplied by λ. 1 (or useLocation false) is the plain triplet loss of the authors' released runs; 0 drops same-location negatives.",
      0.5,
    ),
    locationMode: Type.Union([Type.Literal('scale'), Type.Literal('margin')], {
      default: 'scale',
      description:
        "How the tumour location enters the global loss: 'scale' (the paper's Eq. 1: λ·distance for a same-location negative) or 'margin' (the authors' commented-out form: margin sameLocationMargin for a same-location negative, differentLocationMargin otherwise, no λ).",
    }),
    sameLocationMargin: Type.Number({ minimum: 0, default: 0.2, description: "For locationMode 'margin': margin when the negative has the anchor's location (authors: 0.2)." }),
    differentLocationMargin: Type.Number({ minimum: 0, default: 0.4, description: "For locationMode 'margin': margin when the negative's location differs (authors: 0.4)." }),
    useLocation: Type.Boolean({ default: true, description: "Use tumour locations in the global loss (false: the 'location excluded' ablation)." }),
    negatives: Type.Union([Type.Literal('random'), Type.Literal('semihard'), Type.Literal('hard')], {
      default: 'semihard',
      description: "Negative sampling: closest of k random candidates, k = 1 'random', 2 'semihard' (paper), N−1 'hard'.",
    }),
    localKind: Type.Union([Type.Literal('triplet'), Type.Literal('infonce'), Type.Literal('word')], {
      default: 'triplet',
      description:
        "The local loss's form. 'triplet' (the paper's Eq. 2): a hinge with margin localMargin on one sampled negative. 'infonce' (ours): a symmetric InfoNCE over the batch's cosine matrix of the local representations (with localNegatives 'crossed': every image with every report), temperature τ below; a margin loss is met at its margin by local embeddings that collapse to a constant, an InfoNCE is not. 'word' (ours, GLoRIA's word-level loss; needs localNegatives 'crossed'): each word scored against what it attends to in every image of the batch, the scores aggregated over a report's words by a log-sum-exp of sharpness localWordSharpness, then a symmetric InfoNCE at temperature τ (METHOD.md §5).",
    }),
    localWordSharpness: PositiveNumber("γ of localKind 'word': a report's score for an image is (1/γ)·ln Σ_words exp(γ·cos(word, what it attends to in the image)) (GLoRIA's γ2 = 5).", DEFAULT_LOCAL_WORD_SHARPNESS),
    temperature: PositiveNumber("Temperature τ of the InfoNCE losses (kind 'infonce', localKind 'infonce' and 'word'; GLoRIA's γ3 = 10 is τ = 0.1).", 0.07),
  },
  { additionalProperties: false, default: {}, description: 'Pretraining losses (METHOD.md §5).' },
);

const OptimSchema = (description: string, def: { epochs: number; batchSize: number; stepSize: number; gamma: number; warmupEpochs: number }) =>
  Type.Object(
    {
      epochs: PositiveInt('Training epochs.', def.epochs),
      batchSize: PositiveInt('Batch size.', def.batchSize),
      accumulate: PositiveInt('Gradient-accumulation steps per optimizer step.', 1),
      lr: PositiveNumber('AdamW learning rate.', 1e-4),
      weightDecay: Type.Number({ minimum: 0, default: 0.01, description: 'AdamW decoupled weight decay.' }),
      warmupEpochs: Type.Integer({ minimum: 0, default: def.warmupEpochs, description: 'Epochs held at the base learning rate before any decay (see stepsFrom).' }),
      stepsFrom: Type.Union([Type.Literal('start'), Type.Literal('warmupEnd')], {
        default: 'start',
        description:
          "Where StepLR's periods are counted from: 'start' (epoch 0; the warm-up only holds the base rate, so warmupEpochs ≤ stepSize is exactly torch StepLR, the authors' code) or 'warmupEnd' (first decay at warmupEpochs + stepSize).",
      }),
      stepSize: PositiveInt('StepLR period in epochs.', def.stepSize),
      gamma: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: def.gamma, description: 'StepLR factor.' }),
      checkpointEvery: PositiveInt('Write a resumable checkpoint every this many epochs (and at the end).', 1),
      recalibrateNorm: Type.Boolean({
        default: false,
        description:
          'After the last epoch, recompute the running statistics of every batch norm that uses batch statistics in training: their average over the training cases in one pass with the final weights and dropout off (as torch.optim.swa_utils.update_bn, dropout off). Evaluation then sees the statistics of the model it evaluates; false: the exponential averages accumulated while training, with dropout on (the paper, the authors\' code). docs/METHOD.md §6.',
      }),
    },
    { additionalProperties: false, default: {}, description },
  );

export const PretrainSchema = Type.Composite([
  OptimSchema('Contrastive pretraining (METHOD.md §6).', {
    epochs: 400,
    batchSize: 16,
    stepSize: 20,
    gamma: 0.8,
    warmupEpochs: 0,
  }),
  Type.Object({
    heldOut: Type.Number({
      minimum: 0,
      maximum: 0.5,
      default: 0,
      description:
        "Fraction of the internal MRI–report pairs kept out of pretraining (and out of the tokenizer's corpus), drawn per tumour location with `seed`, on which retrieval is measured (pretrain/split.json lists them). 0: every pair is pretrained on (the paper) and retrieval is measured on the training pairs.",
    }),
    augment: Type.Object(
      {
        shift: Type.Integer({ minimum: 0, default: 0, description: 'Largest random translation of each training volume, in voxels per axis (zeros shifted in); 0: none.' }),
        intensity: Type.Number({
          minimum: 0,
          maximum: 0.5,
          default: 0,
          description: 'Random intensity change x·a + b of each training volume, a ~ U(1 − intensity, 1 + intensity), b ~ U(−intensity, intensity); 0: none.',
        }),
      },
      {
        additionalProperties: false,
        default: {},
        description:
          "Augmentation of the pretraining images (ours; the paper names data augmentation as its next step): per volume and step, a random translation and intensity change; no flips (reports name the lesion's side). Default: none (the paper). docs/METHOD.md §6.",
      },
    ),
  }),
], { additionalProperties: false, default: {}, description: 'Contrastive pretraining (METHOD.md §6).' });

export const FinetuneSchema = Type.Composite([
  OptimSchema('Downstream fine-tuning (METHOD.md §6).', { epochs: 20, batchSize: 16, stepSize: 10, gamma: 0.5, warmupEpochs: 10 }),
  Type.Object({
    head: Type.Union([Type.Literal('paper'), Type.Literal('relu')], {
      default: 'paper',
      description:
        "Classification head: 'paper' Dropout → Linear(512→hidden) → Linear(hidden→1), no activation (Table 7/9, the authors' code); 'relu' Linear → ReLU → Dropout → Linear (this project's earlier head).",
    }),
    hidden: PositiveInt('Hidden units of the classification head (512→hidden→1).', 256),
    headInit: Type.Union([Type.Literal('random'), Type.Literal('probe')], {
      default: 'random',
      description:
        "How the classification head starts: 'random' (its seeded PyTorch-style initialisation, the paper) or 'probe' (linear probing, then fine-tuning: the head starts as the L2 logistic regression, C = 1, of the fold's training labels on the starting encoder's standardised global features, its batch norms recomputed over those images first, as `mrcl probe` fits it; the encoder's weights are not changed). Needs head 'paper'. Ours (LP-FT, Kumar et al. 2022); docs/METHOD.md §6.",
    }),
    encoderLrScale: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 1,
      description:
        "Learning rate of the image encoder's trainable layers as a multiple of lr (the head keeps lr; the schedule moves both alike; AdamW's decay follows each rate): 1, one rate for every layer (the paper); e.g. 0.1 keeps a pretrained encoder nearer where it started; 0, the encoder frozen (its batch norms still update in training mode). Every arm uses it alike. Ours (discriminative fine-tuning, Howard & Ruder 2018); docs/METHOD.md §6.",
    }),
    dropout: Fraction("Dropout of the classification head: on the pooled features for head 'paper' (Table 9: 0.25), after the ReLU for head 'relu'.", 0.25),
    positiveWeight: Type.Union([Type.Number({ exclusiveMinimum: 0 }), Type.Literal('balanced')], {
      default: 1,
      description:
        "Weight of the positive class in the binary cross-entropy (torch BCEWithLogitsLoss pos_weight): a number (1: unweighted, the paper) or 'balanced' (negatives / positives of the cases trained on).",
    }),
    folds: PositiveInt('Stratified cross-validation folds on the internal cohort.', 5, 2),
    foldSeed: Type.Integer({ default: 42, description: 'Seed of the fold assignment.' }),
    trainFraction: Type.Number({
      exclusiveMinimum: 0,
      maximum: 1,
      default: 1,
      description:
        "Share of each fold's training cases fine-tuning learns from (1: all, the paper): per class, the cases first in a seeded order of their ids (foldSeed), at least one, so a smaller fraction's cases are a subset of a larger one's; the test fold and the external cohort are unchanged. For label-efficiency curves (ours).",
    }),
    foldsFrom: Type.Union([Type.Literal('stratified'), Type.Literal('manifest')], {
      default: 'stratified',
      description:
        "Where the cross-validation folds come from: 'stratified' (k stratified folds drawn with foldSeed, the paper) or 'manifest' (each internal downstream case's `fold` field, 0 … folds−1, e.g. a MONAI datalist's folds kept by `mrcl import --monai`).",
    }),
    innerFolds: Type.Integer({
      minimum: 0,
      default: 5,
      description:
        "Inner stratified folds of each training fold (the authors nest 5). With thresholdRule 'inner', one of them is held out to choose the threshold and the model trains on the rest. 0: none.",
    }),
    initializations: Type.Array(
      Type.Union([Type.Literal('random'), Type.Literal('medicalnet'), Type.Literal('pretrained')]),
      {
        minItems: 1,
        uniqueItems: true,
        default: ['random', 'medicalnet', 'pretrained'],
        description: 'Image-encoder initialisations compared (Tables 1–4).',
      },
    ),
    threshold: Fraction("Decision threshold on the sigmoid score for precision, recall and F1 with thresholdRule 'fixed' (the paper: 0.5).", 0.5),
    thresholdRule: Type.Union([Type.Literal('fixed'), Type.Literal('inner')], {
      default: 'fixed',
      description:
        "'fixed': use threshold (the paper). 'inner': hold out one inner fold of the training fold (innerFolds), train on the rest, and use the threshold that maximises thresholdCriterion on the held-out part for the test fold and the external cohort.",
    }),
    thresholdCriterion: Type.Union([Type.Literal('f1'), Type.Literal('youden')], {
      default: 'f1',
      description: "What thresholdRule 'inner' maximises on the held-out inner fold: 'f1' or 'youden' (sensitivity + specificity − 1).",
    }),
  }),
], { additionalProperties: false, default: {}, description: 'Downstream fine-tuning and cross-validation (METHOD.md §6).' });

export const ExplainSchema = Type.Object(
  {
    rule: Type.Union([Type.Literal('normalized'), Type.Literal('raw'), Type.Literal('topPercent')], {
      default: 'normalized',
      description:
        "How a heatmap becomes a binary map: 'normalized' (the paper's: min–max normalise to [0, 1], then value > threshold), 'raw' (the authors' code: raw attention > threshold) or 'topPercent' (the explain.topPercent % highest voxels; ties at the cut included).",
    }),
    threshold: Type.Number({ minimum: 0, default: 0.01, description: "Binarisation threshold of rules 'normalized' and 'raw' (strict: value > threshold)." }),
    topPercent: Type.Number({
      exclusiveMinimum: 0,
      maximum: 100,
      default: 5,
      description: "Rule 'topPercent': the percentage of voxels kept as foreground, in (0, 100].",
    }),
    normalize: Type.Optional(
      Type.Boolean({
        description: "Replaced by explain.rule (true = 'normalized', false = 'raw'); accepted only when it agrees with explain.rule.",
      }),
    ),
    smooth: Type.Boolean({ default: false, description: "Smoothed Dice (2I+1)/(P+T+1) as the authors' code." }),
    saveHeatmaps: Type.Boolean({
      default: true,
      description:
        "Write each evaluated case's attention map files into its fold's heatmaps/ folder (<id>.heatmap.nii.gz on the image grid, float32, the map exactly as the Dice rule saw it; .binary.nii.gz; .attention.seg.nrrd; .attention.label.txt), for the viewer and `mrcl evaluate --maps`. false: none are written; Dice, mass and pointing are still computed and kept in predictions.csv. At 240×240×155 a heatmap is about 31 MB, so a 5-fold run of three arms with 76 external cases writes tens of GB of them.",
    }),
    baselines: Type.Array(Type.Union([Type.Literal('gradCam'), Type.Literal('occlusion')]), {
      default: [],
      uniqueItems: true,
      description:
        "Baseline explanations scored beside the self-attention maps with the same rule, threshold and Dice (METHOD.md §7): 'gradCam' (Grad-CAM on explain.gradCamLayer; one extra forward and backward pass per batch) and/or 'occlusion' (occlusion sensitivity; 1 + number of patches forward passes per case). Per case in explain-baselines.csv, per split in metrics.json. Empty: none.",
    }),
    gradCamLayer: Type.Union([Type.Literal('layer4'), Type.Literal('self_attention')], {
      default: 'layer4',
      description: "Grad-CAM's target layer: 'layer4' (the last residual stage's output, before the self-attention, as MONAI's target_layers='layer4') or 'self_attention' (its output; the gradient is then the same at every position: CAM).",
    }),
    occlusionPatch: PositiveInt('Occlusion sensitivity: edge of the cubic patch in voxels (MONAI mask_size).', 16),
    occlusionStride: PositiveInt('Occlusion sensitivity: step between patch starts in voxels (16 with MONAI overlap 0.25 gives 12).', 12),
    occlusionFill: Type.Union([Type.Literal('mean'), Type.Literal('zero')], {
      default: 'mean',
      description: "Occlusion sensitivity: the value inside the patch, 'mean' (the volume's mean intensity, MONAI mode 'mean_img') or 'zero'.",
    }),
  },
  { additionalProperties: false, default: {}, description: 'Attention-map explainability (METHOD.md §7).' },
);

/** pLGG-style prompt reports per tumour location: the sites and phrasing of neuroradiology reports of paediatric low-grade glioma. */
export const DEFAULT_ZERO_SHOT_PROMPTS: Record<string, string[]> = {
  supratentorial: ['a mass in the frontal lobe of the cerebral hemisphere', 'a mass in the thalamus', 'a supratentorial mass in the temporal lobe'],
  infratentorial: ['a mass in the cerebellar hemisphere', 'a posterior fossa mass arising from the vermis', 'a mass in the pons'],
  transtentorial: ['a mass crossing the tentorium', 'a mass at the tentorial incisura involving the tectal plate', 'a midbrain mass extending through the tentorial hiatus'],
};

export const EvalSchema = Type.Object(
  {
    zeroShot: Type.Object(
      {
        prompts: Type.Record(Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }), {
          default: DEFAULT_ZERO_SHOT_PROMPTS,
          description:
            "Zero-shot tumour location after pretraining (METHOD.md §7): prompt reports keyed by the manifest's location label. Each image is classified by the cosine of its global embedding with each location's mean prompt embedding; accuracy and AUC against the cases' location go to the pretraining stage's zero-shot.json. Fewer than two locations: none.",
        }),
      },
      { additionalProperties: false, default: {}, description: 'Zero-shot classification of the tumour location by prompt reports, no labels used to classify.' },
    ),
  },
  { additionalProperties: false, default: {}, description: 'Evaluations beyond the paper (METHOD.md §7).' },
);

export const SlurmSchema = Type.Object(
  {
    partition: Type.String({ default: '', description: "Slurm partition (sbatch --partition); empty: the cluster's default." }),
    account: Type.String({ default: '', description: 'Slurm account charged (sbatch --account); empty: your default account.' }),
    time: Type.String({ default: '04:00:00', description: 'Wall-clock limit of each task (sbatch --time), e.g. 04:00:00 or 1-00:00:00.' }),
    cpusPerTask: PositiveInt('CPUs of each task (sbatch --cpus-per-task); also the engine\'s thread count.', 4),
    gpusPerTask: Type.Integer({ minimum: 0, default: 0, description: 'GPUs of each task (sbatch --gpus-per-task); 0 for none.' }),
    memPerTask: Type.String({ default: '16G', description: 'Memory of each task (sbatch --mem), e.g. 16G; empty: the partition default.' }),
    sbatch: Type.Array(Type.String(), { default: [], description: 'Extra #SBATCH lines, without the prefix, e.g. "--qos=normal" or "--constraint=a100".' }),
    preamble: Type.Array(Type.String(), {
      default: [],
      description: 'Shell lines run by every task before the engine, e.g. "module load nodejs/20"; the unit id is in $MRCL_UNIT.',
    }),
    node: Type.String({ default: '', description: 'Node.js on the compute nodes; empty: the one that submits (its absolute path).' }),
  },
  { additionalProperties: false, default: {}, description: 'Running experiments and ablations as Slurm jobs (mrcl experiment --slurm).' },
);

/** Longest experiment name: run folders are named after it, and a file name has at most 255 bytes. */
export const NAME_MAX_LENGTH = 100;
/** No control characters (newlines, escapes) in a name that becomes a folder name and shows in lists. */
export const NAME_PATTERN = '^[^\\u0000-\\u001f\\u007f]*$';

export const ExperimentConfigSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String({ description: 'JSON Schema reference for editors.' })),
    name: Type.String({
      default: 'experiment',
      minLength: 1,
      maxLength: NAME_MAX_LENGTH,
      pattern: NAME_PATTERN,
      description: `Experiment name, 1–${NAME_MAX_LENGTH} characters without control characters; runs are written to outDir/name-<timestamp> (characters other than letters, digits, '.', '_' and '-' become '-' there).`,
    }),
    seed: Type.Integer({ default: 42, description: 'Seed for initialisation, shuffling and negative sampling.' }),
    backend: Type.Union(
      [Type.Literal('auto'), Type.Literal('tensorflow-gpu'), Type.Literal('tensorflow'), Type.Literal('cpu'), Type.Literal('wasm')],
      {
        default: 'auto',
        description: "TF.js backend: 'auto' picks tensorflow (GPU, then CPU) when installed, else the pure-JS cpu backend. wasm is refused for training.",
      },
    ),
    precision: Type.Union([Type.Literal('fp32'), Type.Literal('bf16')], {
      default: 'fp32',
      description:
        "Arithmetic of the convolutions and matrix products: 'fp32', or 'bf16' (inputs rounded to bfloat16, fp32 accumulation and outputs, as torch.autocast on CPU; weights, optimizer state, losses and reductions stay fp32). bf16 needs the native kernels on the cpu backend and a CPU with AVX512-BF16 or AMX; elsewhere the run is refused.",
    }),
    outDir: Type.String({ default: 'runs', description: 'Folder for run folders, relative to this config file.' }),
    data: DataSchema,
    report: ReportSchema,
    tokenizer: TokenizerSchema,
    image: ImageSchema,
    text: TextSchema,
    heads: HeadsSchema,
    loss: LossSchema,
    pretrain: PretrainSchema,
    finetune: FinetuneSchema,
    explain: ExplainSchema,
    eval: EvalSchema,
    slurm: SlurmSchema,
  },
  { additionalProperties: false, $id: 'https://mri-report-cl/experiment.schema.json', title: 'MRI-Report CL experiment', description: 'An MRI–report contrastive-learning experiment.' },
);

export type ExperimentConfig = Static<typeof ExperimentConfigSchema>;
export type DataConfig = ExperimentConfig['data'];
export type ImageConfig = ExperimentConfig['image'];
export type TextConfig = ExperimentConfig['text'];
export type LossConfig = ExperimentConfig['loss'];

/**
 * loss.localKind "word" scores each report's words against every image of
 * the batch, which only the crossed combinations provide: the problem with
 * a loss section, or undefined. follows: METHOD.md §5 (localKind "word")
 */
export function localWordKindProblem(loss: Pick<LossConfig, 'localKind' | 'localNegatives'>): string | undefined {
  if (loss.localKind !== 'word' || loss.localNegatives === 'crossed') return undefined;
  return `loss.localKind "word" scores each report's words against every image of the batch: set loss.localNegatives to "crossed" (got "${loss.localNegatives}")`;
}
export type PretrainConfig = ExperimentConfig['pretrain'];
export type FinetuneConfig = ExperimentConfig['finetune'];
export type ReportConfig = ExperimentConfig['report'];
export type TokenizerConfig = ExperimentConfig['tokenizer'];
export type ExplainConfig = ExperimentConfig['explain'];
export type SlurmConfig = ExperimentConfig['slurm'];
export type EvalConfig = ExperimentConfig['eval'];

/** Deep-partial input as users write it: every field may be omitted. */
export type ExperimentConfigInput = DeepPartial<ExperimentConfig>;
type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

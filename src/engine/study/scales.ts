// The sizes of `mrcl study reproduce` at each scale: the synthetic cohort,
// the MedicalNet stand-in's training, and the experiment config every run of
// the study starts from. All scales share the protocol (three arms × folds,
// held-out retrieval, Grad-CAM and occlusion beside the attention maps, the
// location-weighting check); they differ only in how much data and training
// they get.
//
// Time estimates (2 CPU cores, native oneDNN kernels, idle), from the
// quick study's own events (seed 42): a pretraining step (64×64×40, width
// 8, batch 16, text side included) ≈ 0.63 s; a fine-tuning step (layer3
// onwards trained) ≈ 0.37 s; evaluating a case with both baselines
// (attention map; Grad-CAM, one forward and backward pass; occlusion,
// 4×4×3 = 48 patches of 16 voxels plus one forward pass, in batches of 16)
// ≈ 0.75 s, without them ≈ 0.2 s; synthesis ≈ 0.1 s a case.
//
// quick with 250 internal pairs (≈ 19–25 min; seed 42 with the probe's maps
// and the output pool sized by the largest output, idle: 20 min 21 s, 801 MB
// peak RSS, the probe step 2 min 30 s; with layer3/4 undilated and
// scaled self-attention scores, seeds 11 and 1 on the 2-vCPU AMD EPYC VM,
// idle: 20 min 52 s and 21 min 21 s, peak RSS 813–834 MB; before, seed 42 on the 2-vCPU AMD
// EPYC VM: 18 min 30 s, peak RSS 835 MB: cohort 28 s, stand-in 7 s,
// experiment 11 min 23 s (pretraining 213 pairs / 16 = 14 steps × 40
// epochs in 171 s, 15 folds of ≈ 150 × 4/5 cases with both baselines),
// location check 4 min 41 s, external check 1 min 48 s). Before, with
// 150 internal pairs and 40 external cases (≈ 13–25 min; measured 22 min 58 s idle, peak RSS 771 MB; 20 min 18 s and 665 MB after the
// reductions, local-loss and backward-pass memory changes; on a 2-vCPU Intel VM with AVX-512 16–17 min,
// then 13 min 6 s and 653 MB with the fused transformer kernels and the training node flags; 13 min 4 s and 723 MB with
// whole reports in 160 word slots and the self-attention's gate starting at 0.1): 150 internal pairs (≈ 90 carry a downstream marker,
// paper's Table 6 proportions; now ≈ 150 of 250) and 40 external cases. The 150-pair estimates:
//   cohort 190 cases ≈ 0.4 min; stand-in 24 cases × 6 epochs = 36 steps
//   ≈ 0.2 min; pretraining ≈ 127 pairs / 16 = 8 steps × 40 epochs = 320
//   steps ≈ 3.3 min (measured 201 s), twice (experiment and location check)
//   ≈ 7 min; fine-tuning ≈ 72 cases / 16 = 5 steps × 12 epochs = 60 steps
//   ≈ 22 s a fold and evaluating its ≈ 18 test + ≈ 22 external cases with
//   both baselines ≈ 30 s (measured: 52 s a fold on average), 15 folds
//   ≈ 13 min; 5 folds without the baselines ≈ 2.5 min. The external check
//   (200 more external cases, ≈ 120 of them labelled, scored by the 15 fold
//   models without baselines): cohort ≈ 17 s, scoring ≈ 85 s (measured:
//   1 min 44 s for the step, 14 min 48 s and 698 MB for the whole study,
//   seed 42).
// full (≈ 1.5–2.5 h; with layer3/4 undilated and scaled attention scores, seed 42 on the 2-vCPU AMD EPYC VM with other work beside it: 1 h 42 min 6 s, 1,055 MB peak RSS (cohort 41 s, stand-in 18 s, experiment 29 min 53 s, ablations 69 min 11 s, external check 2 min); before, 1 h 20 min 42 s and 920 MB peak RSS on the 2-vCPU Intel VM with the previous
// build and configuration, seed 42: cohort 57 s, stand-in 48 s, experiment 28 min, ablations 51 min):
// 340 internal pairs (≈ 200 downstream), 80 external.
//   Measured (seed 42): cohort 50 s; stand-in 48 cases × 10 epochs = 120
//   steps, 34 s; the experiment 50 min 13 s: pretraining 289 / 16 = 18
//   steps × 40 epochs = 720 steps at ≈ 0.7 s ≈ 9 min (with the 2-layer text
//   encoder), then 15 folds of ≈ 160 / 16 = 10 steps × 15 epochs = 150
//   steps at ≈ 0.45 s plus evaluating ≈ 40 test and 80 external cases with
//   both baselines, ≈ 3 min 20 s a fold; a location-excluded run
//   (pretraining and 5 CL folds without the baselines) 17 min 15 s.
//   The six Table 5 variants (their location-excluded arm is the study's
//   location check, so it has no run of its own), measured to the end on a
//   2-vCPU Intel VM: 40 pretraining epochs of 9–10 s and 5 folds × 15
//   epochs of ≈ 3 s each, ≈ 65 min of computation (the experiment there:
//   42 min 48 s). The external check as at the quick scale: ≈ 2 min.
// tiny: seconds per stage on any backend; for tests only (numbers mean nothing).
import type { ExperimentConfigInput } from '../../shared/config';
import type { AugmentOptions } from '../training/augment';

export const STUDY_SCALES = ['quick', 'full', 'paper', 'tiny'] as const;
export type StudyScale = (typeof STUDY_SCALES)[number];

export interface ScaleSpec {
  cohort: { internal: number; external: number; shape: [number, number, number] };
  standin: { cases: number; heldOut: number; epochs: number; batchSize: number };
  /** the study's experiment config before its paths, name, seed and per-run changes */
  config: ExperimentConfigInput;
  /** whether the Table 5 ablations run */
  ablations: boolean;
  /** the external check's cohort: this many more external cases of the same generator (seed + EXTERNAL_CHECK_SEED_OFFSET) */
  externalCheck: number;
}

/**
 * The external check's cohort is drawn with the study's seed plus this: other
 * cases than the study's own (a case is a function of the seed and its id),
 * from the same generator and the same shifted scanner.
 */
export const EXTERNAL_CHECK_SEED_OFFSET = 100000;

/**
 * What every scale's config shares: the paper's 8×8×5 attention grid at
 * 64×64×40 (output stride 8; the paper scale's 240×240×155 sets stride
 * 32); the top 5 % of each heatmap as its map (the paper's min–max > 0.01
 * rule keeps nearly the whole volume for a briefly trained model, so Dice
 * would measure nothing); both baseline explanations;
 * 15 % of the internal pairs held out of pretraining for retrieval. Two
 * named deviations that make pretraining learn at all on this cohort
 * (docs/METHOD.md §4): the global heads standardise their inputs over the
 * batch (without it the global embeddings of a randomly initialised text
 * encoder start, and stay, collapsed: held-out retrieval exactly at chance),
 * and the cross-attention outputs carry no residual of their query (with it
 * the local triplet is satisfied by the query itself and teaches nothing).
 * Evaluation uses batch-norm statistics recomputed with the final weights
 * (pretrain/finetune.recalibrateNorm; the trailing averages collapsed the
 * evaluation embeddings so far that even the training pairs were retrieved
 * at chance), and the encoders train without dropout: in the study's 40
 * pretraining epochs (the authors': 800) the paper's dropouts keep the
 * global loss from falling (measured on a development cohort of another
 * seed: 0.29 with image dropout vs 0.08 without after 15 epochs; with the
 * image and text dropouts both, not even the training pairs were fitted in
 * training mode). The pretraining learning rate is
 * 3e-4, not the paper's 1e-4: the study pretrains for 40 epochs where
 * the authors ran 800, and at 1e-4 the local loss had not started to fall
 * after 12 of 25 epochs (development cohort and a first quick run). The
 * same for fine-tuning: the quick study fine-tunes on ≈ 72 cases, 5 steps
 * an epoch (the paper ≈ 10), and at 1e-4 its training loss stayed at the
 * constant predictor's (0.65–0.70 after 10 epochs; every fold predicted one
 * class), where 3e-4 brings it to ≈ 0.2 in 12 epochs (development cohort).
 * 1e-4 for 36 epochs (warm-up 6, StepLR 18, 0.5) does train; on the six
 * quick seeds' pretrained models it widened CL's external AUC lead over
 * random initialisation (+0.044 → +0.067 on average, neither significant
 * over seeds) mostly by training the random arm less, left the Dice lead
 * as it was, and costs ≈ 10 min more (docs/METHOD.md §7), so it is not used.
 * The self-attention's gate γ starts at 0.1, not 0 (image.attentionGamma;
 * docs/METHOD.md §2): at 0 it stayed within 0.012 of 0 through the study's
 * short schedules, so the query, key and value that make the attention map
 * never trained. Development cohort (seed 1001, quick sizes, random and CL
 * arms): γ 0 / 0.1 / 1 gave held-out recall@5 0.48–0.52 / 0.57 / 0.26–0.30,
 * CL internal 3D attention Dice 1.1 % / 3.2 % / 2.5 % against random
 * initialisation's 0.8 % / 0.0 % / 0.9 %, external AUC unchanged or lower.
 * The 8×8×5 grid comes from undilated layer3 and layer4 (image.dilate
 * false: padding 1, as the paper's layer4 on its grid) and the
 * self-attention's scores are scaled by 1/√C (image.attentionScale). With
 * MedicalNet's dilation (layer4 dilation 4 on a grid 5 deep, so the inner
 * three z positions see only padding along z) layer4's features were twice
 * as large on the top and bottom slabs, and with unscaled scores one key
 * took nearly all the attention of every query (a saturated softmax gives
 * the query and key no gradient): in every case checked the map's peak was
 * the same few border cells and the tumour's cell received 10⁻⁴ of the
 * average attention. Development cohort (seed 1003, 250 pairs, 39 held
 * out; all three arms, no baselines), dilated / undilated, unscaled /
 * scaled: the tumour's cell received 0.00007× / 0.001× / 0.04× / 2.9× the
 * average attention for CL (MedicalNet stand-in 4.1×, random 0.7× in the
 * last); internal 3D attention Dice CL vs random 0.2 % vs 1.5 %, 1.0 % vs
 * 0.4 %, 0.0 % vs 0.1 %, 1.9 % vs 1.4 %; held-out recall@5 0.62 / 0.56,
 * 0.49 / 0.46, 0.56 / 0.62, 0.46 / 0.49 (undilated costs ≈ 4 of 39 pairs).
 * The local representation holds whole reports (160 word slots; the
 * generator's cleaned reports have 65–130 words), as the paper's and the
 * authors' do: with the former 64 (quick) / 96 (full) slots every quick
 * report lost its findings after the first sentence and its impression.
 */
const COMMON: ExperimentConfigInput = {
  image: { outputStride: 8, dilate: false, attentionScale: true, dropout: 0, attentionDropout: 0, attentionGamma: 0.1 },
  text: { dropout: 0, maxWords: 160 },
  heads: { globalInputNorm: 'batch', crossAttentionResidual: false },
  pretrain: { heldOut: 0.15, recalibrateNorm: true, lr: 3e-4 },
  finetune: { initializations: ['random', 'medicalnet', 'pretrained'], recalibrateNorm: true },
  explain: { rule: 'topPercent', topPercent: 5, baselines: ['gradCam', 'occlusion'], occlusionPatch: 16, occlusionStride: 16 },
};

const SCALES: Record<StudyScale, ScaleSpec> = {
  quick: {
    // 250 internal pairs (≈ 212 pretrained on, ≈ 37 held out), not the 150 of
    // earlier builds: held-out retrieval is limited by the number of
    // pretraining pairs, not by the schedule, the loss or the encoders'
    // sizes (docs/METHOD.md §7, "How many pairs"): on a development cohort
    // (seed 1003, 254 pairs, the study's config) 127 pretraining pairs gave
    // recall@5 2.0–2.1× chance (estimated for 23 held-out pairs from 127),
    // 178 pairs 3.0–3.2× and 216 pairs 2.7–3.2× (4.2–4.6× at their own 39
    // held-out pairs), while longer or shorter training, weight decay,
    // InfoNCE, hard negatives, no location weighting, a smaller embedding,
    // augmentation and a wider encoder stayed at 1.2–2.2×. The paper's
    // cohort has 341 pairs; 250 keeps the quick study near 20 minutes.
    cohort: { internal: 250, external: 40, shape: [64, 64, 40] },
    standin: { cases: 24, heldOut: 4, epochs: 6, batchSize: 4 },
    config: {
      tokenizer: { vocabSize: 800 },
      image: { width: 8 },
      text: { layers: 1, hidden: 32, heads: 2, intermediate: 64, attentionWindow: 32 },
      heads: { globalDim: 64, localDim: 32 },
      pretrain: { epochs: 40, batchSize: 16, stepSize: 15, gamma: 0.8 },
      finetune: { epochs: 12, batchSize: 16, lr: 3e-4, warmupEpochs: 2, stepSize: 6, gamma: 0.5, folds: 5 },
    },
    ablations: false,
    externalCheck: 200,
  },
  full: {
    cohort: { internal: 340, external: 80, shape: [64, 64, 40] },
    standin: { cases: 48, heldOut: 4, epochs: 10, batchSize: 4 },
    config: {
      tokenizer: { vocabSize: 1000 },
      image: { width: 8 },
      text: { layers: 2, hidden: 64, heads: 4, intermediate: 128, attentionWindow: 32 },
      heads: { globalDim: 64, localDim: 32 },
      pretrain: { epochs: 40, batchSize: 16, stepSize: 15, gamma: 0.8 },
      finetune: { epochs: 15, batchSize: 16, lr: 3e-4, warmupEpochs: 3, stepSize: 6, gamma: 0.5, folds: 5 },
    },
    ablations: true,
    externalCheck: 200,
  },
  paper: {
    // The paper's sizes on every axis of the report's scale table
    // (results/paper.ts PAPER_SCALE, docs/METHOD.md §1–§6): Dataset 1's 341
    // pairs and Dataset 2's 76 external cases, FLAIR at 240×240×155, the
    // full-width ResNet-18-A (64) at output stride 32 (its own 8×8×5 layer4
    // grid), the paper's head sizes (512 global, 256 local), pretraining at
    // 1e-4 for 400 epochs (the paper's 340–400; StepLR(20, 0.8) as the
    // authors' code) and the downstream schedule of METHOD.md §6 (20 epochs
    // at 1e-4, a 10-epoch warm-up, halved every 10). Everything else is the
    // other scales' (COMMON's named deviations, the topPercent map rule, the
    // external check), so a paper-scale study differs from a quick one in
    // size alone. Two axes stay smaller: the text encoder is the full
    // scale's, trained from scratch (Clinical-Longformer cannot be fetched
    // here; the study's cohort has no clinical notes to pretrain one on),
    // and the stand-in is trained on 48 cases as the full scale's.
    // Occlusion keeps the other scales' 4×4×3 patches (60-voxel cubes).
    // For a GPU server: on 2 CPU cores a pretraining step at this size
    // takes minutes (README, "Reproduction study"), and the cohort alone
    // (341 + 76 + 200 cases at ≈ 9 s each) about 1.5 h.
    cohort: { internal: 341, external: 76, shape: [240, 240, 155] },
    standin: { cases: 48, heldOut: 4, epochs: 10, batchSize: 4 },
    config: {
      tokenizer: { vocabSize: 1000 },
      image: { width: 64, outputStride: 32 },
      text: { layers: 2, hidden: 64, heads: 4, intermediate: 128, attentionWindow: 32 },
      heads: { globalDim: 512, localDim: 256 },
      pretrain: { epochs: 400, batchSize: 16, lr: 1e-4, stepSize: 20, gamma: 0.8 },
      finetune: { epochs: 20, batchSize: 16, lr: 1e-4, warmupEpochs: 10, stepSize: 10, gamma: 0.5, folds: 5 },
      explain: { occlusionPatch: 60, occlusionStride: 60 },
    },
    ablations: true,
    externalCheck: 200,
  },
  tiny: {
    // 20 internal cases: with Table 6's proportions enough of each marker for 2 folds
    cohort: { internal: 20, external: 6, shape: [24, 24, 16] },
    standin: { cases: 4, heldOut: 1, epochs: 1, batchSize: 2 },
    config: {
      tokenizer: { vocabSize: 400 },
      image: { width: 2 },
      text: { layers: 1, hidden: 16, heads: 2, intermediate: 32, attentionWindow: 16, maxWords: 32 },
      heads: { globalDim: 16, localDim: 8 },
      pretrain: { epochs: 1, batchSize: 6 },
      finetune: { epochs: 1, batchSize: 6, folds: 2, warmupEpochs: 0 },
      explain: { occlusionPatch: 8, occlusionStride: 8 },
    },
    ablations: false,
    externalCheck: 10,
  },
};

export function scaleSpec(scale: StudyScale): ScaleSpec {
  return SCALES[scale];
}

/** Two config inputs merged section by section (b wins; arrays replaced). */
export function mergeConfig(a: ExperimentConfigInput, b: ExperimentConfigInput): ExperimentConfigInput {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = prev && typeof prev === 'object' && !Array.isArray(prev) && v && typeof v === 'object' && !Array.isArray(v) ? { ...prev, ...v } : v;
  }
  return out as ExperimentConfigInput;
}

export type StudyConfigName = 'experiment' | 'location-excluded' | 'ablation';

/**
 * `mrcl study reproduce --augment`: pretraining augmentation
 * (pretrain.augment; ours, not the paper's method, docs/METHOD.md §6) in
 * every pretraining of the study (the experiment's, the location check's,
 * the ablations'). The values are those the development measurements used
 * (a shift of up to 4 voxels per axis, an intensity change of up to 0.1),
 * fixed before the studies ran with them. Fine-tuning is unchanged, so the
 * random and MedicalNet arms are the same as without it.
 */
export const STUDY_AUGMENT: AugmentOptions = { shift: 4, intensity: 0.1 };

/**
 * A pretraining step of 4 pairs at the paper scale (240×240×155, width 64)
 * on 2 CPU cores, as measured (`npm run bench -- --cases pretrain --sizes
 * 240x240x155 --width 64 --batch 4` on the 2-vCPU AMD EPYC VM, native
 * kernels: 25–32 s, 3.7 GB peak RSS); the study's warning and the --scale
 * help both say it.
 */
export const PAPER_SCALE_CPU_STEP = '25–32 s';

/** The study's options beyond its scale and seed (recorded in study.json). */
export interface StudyVariant {
  /** pretraining augmentation in every pretraining of the study (default: none, the paper's method) */
  augment?: AugmentOptions;
  /** the image encoder's width in every run of the study, the stand-in's included (default: the scale's, studyWidth) */
  width?: number;
  /**
   * an absolute path: a pretrained HuggingFace Longformer (text.pretrained,
   * its own tokenizer, text.trainableLayers' default 2: the paper's
   * Clinical-Longformer with its first 10 of 12 layers frozen) instead of the
   * scale's small text encoder trained from scratch
   */
  textPretrained?: string;
}

/** The image encoder's width of a scale's runs (image.width of its config). */
export function studyWidth(scale: StudyScale): number {
  const w = scaleSpec(scale).config.image?.width;
  if (w === undefined) throw new Error(`scale ${scale}: its config sets no image.width`);
  return w;
}

/**
 * The configs of the study's runs, with paths relative to DIR/configs (where
 * they are written), so `mrcl experiment DIR/configs/experiment.mrcl.json`
 * reruns one:
 * - experiment: the three arms × folds with the baselines;
 * - location-excluded: the same with loss.useLocation false, only the arm
 *   that pretraining changes ('pretrained'), paired over the same folds
 *   against the experiment's; no baselines (the check compares AUC and
 *   attention Dice);
 * - ablation (scales with ablations): Table 5's variants, no baselines, no
 *   heatmap files (explain.saveHeatmaps false; the measures stay); its
 *   'location-excluded' arm paired with its 'proposed' arm is the location
 *   check at those scales, which therefore run no separate location-excluded
 *   step (reproduce.studySteps).
 */
export function studyConfigs(scale: StudyScale, seed: number, variant: StudyVariant = {}): Partial<Record<StudyConfigName, ExperimentConfigInput>> {
  const spec = scaleSpec(scale);
  const base = mergeConfig(mergeConfig(COMMON, spec.config), {
    seed,
    outDir: '../runs',
    data: { manifest: '../cohort/manifest.json', shape: spec.cohort.shape },
    image: { medicalNet: '../medicalnet-standin.pth', ...(variant.width !== undefined ? { width: variant.width } : {}) },
    ...(variant.textPretrained !== undefined ? { text: { pretrained: variant.textPretrained } } : {}),
    finetune: { foldSeed: seed },
    ...(variant.augment ? { pretrain: { augment: { ...variant.augment } } } : {}),
  });
  const configs: Partial<Record<StudyConfigName, ExperimentConfigInput>> = {
    experiment: { name: 'experiment', ...base },
    'location-excluded': mergeConfig(
      { name: 'location-excluded', ...base },
      { loss: { useLocation: false }, finetune: { initializations: ['pretrained'] }, explain: { baselines: [] } },
    ),
  };
  // the ablations compare AUC and F1 (Table 5) and, for the location check, Dice and mass, all kept in predictions.csv:
  // their 6 arms × folds save no heatmap files (at the paper scale ≈ 110 GB of them)
  if (spec.ablations) configs.ablation = mergeConfig({ name: 'ablation', ...base }, { explain: { baselines: [], saveHeatmaps: false } });
  return configs;
}

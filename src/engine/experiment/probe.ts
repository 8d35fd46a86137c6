// `mrcl probe RUN`: the linear probe of each arm's frozen image encoder —
// how much of the downstream marker an initialisation's representation
// already holds before any fine-tuning (the linear evaluation protocol of
// contrastive learning, e.g. SimCLR, the paper's ref. 21; beyond the paper,
// docs/METHOD.md §7 "Linear probe").
//
// For every fine-tuning unit of the run (arm × fold), the encoder the unit
// started from (initialClassifier: the unit's seed, then MedicalNet's or the
// pretraining stage's weights), its batch norms' running statistics
// recomputed over the fold's training images (images only; a random
// encoder's initial statistics describe no data), frozen; its global
// representation (the classifier head's input) for every case; an
// L2-penalised logistic regression (metrics/logistic.ts, scikit-learn's
// objective, C = 1 by default) fitted on the fold's training cases'
// standardised features and labels; its probabilities scored on the fold's
// internal test cases and the external cohort at the run's fixed threshold.
// No weight of the encoder is trained, and nothing is fitted on a mask.
//
// The same frozen encoder's layer4 self-attention maps are scored on the same
// cases as the fine-tuned models' are (explain.rule, 3D/2D Dice, the map's
// mass on the tumour; the masks read for that scoring only, never for the
// regression; no baseline explanations, no heatmap files): where pretraining
// itself points the attention, before fine-tuning moves it — the maps'
// counterpart of the probe, beside Tables 3 and 4.
//
// Each CL unit is probed a second time on the encoder its pretraining started
// from (the pretraining's seed and the MedicalNet checkpoint it loaded; the
// fold's batch norms recomputed the same way) into RUN/probe/start/: beside
// the pretrained encoder's row, what pretraining itself changed — the
// marker's AUC and where the self-attention looks.
//
// Each CL unit's pretraining stage's saved cross-attention (S_B, the patches
// each word attends to) is scored too, once per stage, into
// RUN/probe/cross-attention.json (explain/cross-attention-maps.ts): whether
// the reports' words point at the tumour, on the held-out pairs and the
// training pairs apart.
//
// On a synthetic cohort (its synth.json beside the manifest) the frozen
// encoder of each arm's first fold is also measured for how far the tumour
// reaches into its features (explain/tumour-reach.ts), on that fold's
// internal test cases, each regenerated with and without its tumour, into
// RUN/probe/tumour-reach.json: whether a patch far from the tumour still
// carries it, so that neither attention needs to look at the tumour.
//
// Written into RUN/probe/ laid out like a run folder (each unit's
// predictions.csv and metrics.json, plan.json, config.json, results.json /
// results.md with the tables, paired t-tests and bootstrap intervals), so the
// study report and `mrcl study seeds` compare the arms' probes as they
// compare the fine-tuned arms. With --external MANIFEST the same probes also
// score that cohort's cases into RUN/probe/external/NAME/ (the internal rows
// as in RUN/probe, the new external ones), as `mrcl evaluate --external`
// lays it out. probe.json records the latest settings and each unit's
// metrics.json its own (C; the extra cohort's digest); a unit already probed
// with the same settings is not redone (a killed probe resumes).
import { existsSync, mkdirSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { eventLoopTurn } from '../util/yield';
import type { ExperimentConfig } from '../../shared/config';
import { MarkerClassifier } from '../model/classifier';
import { loadMedicalNet } from '../networks/medicalnet';
import { pretrainImageInit } from '../training/pretrain';
import type { EngineEvent } from '../../shared/events';
import { DEFAULT_C, fitLinearProbe, logisticScores, sigmoid } from '../metrics/logistic';
import { downstreamCases, openDataset, pretrainingCases, type Dataset, type LabelledCase } from '../training/dataset';
import { scoreCrossAttention, type CrossAttentionScores } from '../explain/cross-attention-maps';
import { minmaxScale } from '../data/normalize';
import { measureTumourReach, type ReachCase, type ReachSummary } from '../explain/tumour-reach';
import { synthesizeCase } from '../synth/case';
import { markerPrior } from '../synth/cohort';
import { GENERATOR, readSynthMarker, SYNTH_MARKER_FILE } from '../synth/folder';
import { headGrid } from '../synth/grid';
import { evaluationMasks } from '../explain/masks';
import { downstreamFolds, evaluateCases, globalFeatures, initialClassifier, recalibrateClassifier, splitMetrics, writePredictions, type Prediction } from '../training/finetune';
import { readJson, RunFolder, writeJsonAtomic } from '../training/run-folder';
import { acquireLock, releaseLock, WRITER_LOCK } from '../training/run-lock';
import { CancelledError } from '../training/loop';
import { dataPath } from '../io/safe-path';
import { buildStudyResults, checkUnitsUnlocked, readPlan, resultsFolder, unitPretrainedModel, type ResultsFolder } from './study';
import { checkFingerprint } from './fingerprint';
import { cohortDigest, evaluationName } from './external-eval';
import { variantConfig, type FinetuneUnitSpec, type Plan } from './units';

export const PROBE_DIR = 'probe';
export const PROBE_FILE = 'probe.json';
/** RUN/probe/start: the CL units probed on the encoder their pretraining started from */
export const START_DIR = 'start';
/** RUN/probe/cross-attention.json: the pretraining stages' report maps scored against the masks */
export const CROSS_ATTENTION_FILE = 'cross-attention.json';
/** scikit-learn's default inverse penalty */
export const DEFAULT_PROBE_C = DEFAULT_C;

export interface ProbeRecord {
  format: 'mrcl-probe-1';
  /** the inverse L2 penalty of the logistic regression */
  C: number;
  /** the representation probed: the global (pooled self-attention) features */
  features: 'global';
  /** the frozen encoder's attention maps scored too (Dice, mass); absent in probes made before they were */
  maps?: 'attention';
  /** an extra external cohort also scored (absolute manifest), its folder name and cohort digest */
  external?: { manifest: string; name: string; cohortDigest: string };
}

export interface ProbeOptions {
  C?: number;
  external?: { manifest: string; name?: string };
  emit: (e: EngineEvent) => void;
  signal?: AbortSignal;
}

export interface ProbeOutcome {
  dir: string;
  /** RUN/probe/external/NAME with --external */
  externalDir?: string;
  probed: number;
  skipped: number;
  results: string;
  externalResults?: string;
  /** RUN/probe/start: CL's units probed on the encoder their pretraining started from (absent when no unit's pretraining is known) */
  startDir?: string;
  startResults?: string;
  /** RUN/probe/cross-attention.json, with the stages scored (absent when no CL unit's stage saved its cross-attention) */
  crossAttention?: { path: string; stages: CrossAttentionStage[] };
  /** RUN/probe/tumour-reach.json (absent where the cohort is not one the generator can render again) */
  tumourReach?: { path: string; file: TumourReachFile };
}

export const TUMOUR_REACH_FILE = 'tumour-reach.json';

/** RUN/probe/tumour-reach.json: how far the tumour reaches into each arm's frozen features (explain/tumour-reach.ts). */
export interface TumourReachFile {
  format: 'mrcl-probe-tumour-reach-1';
  /** the fold whose units' encoders were measured, on its internal test cases */
  fold: number;
  cases: string[];
  /** the input's own change (its RMS per patch block), on layer3's grid */
  input: ReachSummary;
  encoders: { arm: string; variant: string; layer3: ReachSummary; layer4: ReachSummary }[];
}

/** One pretraining stage's entry in RUN/probe/cross-attention.json. */
export interface CrossAttentionStage extends CrossAttentionScores {
  /** the stage as the plan names it (relative to the run, or another run's absolute folder) */
  stage: string;
}

export interface CrossAttentionProbeFile {
  format: 'mrcl-probe-cross-attention-1';
  stages: CrossAttentionStage[];
}

/** Mean entropy of the words' rows (÷ ln P) at or above which the probe warns that the cross-attention is near-uniform. */
export const NEAR_UNIFORM_ENTROPY = 0.99;

/**
 * Scores the saved cross-attention of every distinct pretraining stage the
 * run's CL units start from (explain/cross-attention-maps.ts), internal pairs
 * split by the stage's split.json into held-out and training; stages that
 * saved none are left out.
 */
export function probeCrossAttention(run: RunFolder, runConfig: ExperimentConfig, plan: Plan, ds: Dataset, emit: (e: EngineEvent) => void): CrossAttentionStage[] {
  const stages = [...new Set(plan.finetune.flatMap((u) => (u.init === 'pretrained' && u.pretrainStage ? [u.pretrainStage] : [])))];
  if (!stages.length) return [];
  const masks = evaluationMasks(runConfig, ds.manifest.path);
  const cases = pretrainingCases(ds);
  const out: CrossAttentionStage[] = [];
  for (const stage of stages) {
    const stageDir = isAbsolute(stage) ? stage : run.path(stage);
    const splitPath = join(stageDir, 'split.json');
    const held = new Set(existsSync(splitPath) ? (readJson<{ heldOutIds?: string[] }>(splitPath).heldOutIds ?? []) : []);
    const scores = scoreCrossAttention(runConfig, stageDir, cases, masks, held);
    if (!scores) continue;
    out.push({ stage, ...scores });
    for (const [pairs, s] of [['held-out', scores.heldOut], ['training', scores.training]] as const) {
      if (s && s.entropy >= NEAR_UNIFORM_ENTROPY) {
        emit({ type: 'log', level: 'warn', message: `${stageDir}: the report → image cross-attention is near-uniform on the ${pairs} pairs (its words' rows have ${(100 * s.entropy).toFixed(1)} % of the maximum entropy): its maps cannot say where a word looks, and their Dice and mass are those of a flat map` });
      }
    }
  }
  return out;
}

/**
 * The generator's settings of a complete synthetic cohort in the manifest's
 * folder (synth.json): undefined where there is none, a string saying why
 * where one is there but cannot be used.
 */
function synthCohort(manifestPath: string): { seed: number; shape: [number, number, number]; markers: 'default' | 'paper' } | string | undefined {
  const dir = dirname(manifestPath);
  let m: Record<string, unknown> | undefined;
  try {
    m = readSynthMarker(dir);
  } catch (e) {
    return (e as Error).message;
  }
  if (m?.generator !== GENERATOR) return undefined;
  const path = join(dir, SYNTH_MARKER_FILE);
  const o = m.options as { seed?: unknown; shape?: unknown; markers?: unknown } | undefined;
  const shape = o?.shape;
  if (m.status !== 'complete') return `${path}: the cohort is not complete (status ${JSON.stringify(m.status)})`;
  if (!Number.isInteger(o?.seed) || !Array.isArray(shape) || shape.length !== 3 || !shape.every((n) => Number.isInteger(n))) return `${path}: options must hold an integer seed and a shape of three integers`;
  return { seed: o!.seed as number, shape: [shape[0], shape[1], shape[2]], markers: o!.markers === 'paper' ? 'paper' : 'default' };
}

/**
 * Measures how far the tumour reaches into each arm's frozen encoder (the
 * first fold's unit of each arm and variant, its batch norms recalibrated as
 * the probe's) on that fold's internal test cases, each rendered again by the
 * generator with and without its tumour; undefined where the cohort is not
 * synthetic, with a warning where its files are not what the generator renders.
 */
export function probeTumourReach(run: RunFolder, runConfig: ExperimentConfig, plan: Plan, ds: Dataset, pretrainedModels: readonly (string | undefined)[], emit: (e: EngineEvent) => void): TumourReachFile | undefined {
  const synth = synthCohort(ds.manifest.path);
  if (!synth) return undefined;
  const skip = (why: string) => {
    emit({ type: 'log', level: 'warn', message: `${run.dir}: no tumour reach: ${why}` });
    return undefined;
  };
  if (typeof synth === 'string') return skip(synth);
  const shape = runConfig.data.shape as [number, number, number];
  if (shape.some((n, a) => n !== synth.shape[a])) return skip(`the run's data.shape ${shape.join('×')} is not the synthetic cohort's ${synth.shape.join('×')}`);
  if (runConfig.data.normalization !== 'minmax') return skip(`data.normalization is ${runConfig.data.normalization}; the tumour-free image is scaled as min–max scales the image`);
  const units = plan.finetune.flatMap((u, i) => (u.fold === 0 ? [{ u, model: pretrainedModels[i] }] : []));
  if (!units.length) return undefined;
  const { cases, splits } = downstreamFolds(runConfig, ds);
  const test = splits[0]!.test.map((k) => cases[k]!);
  const fit = splits[0]!.fit.map((k) => cases[k]!);
  const masks = evaluationMasks(runConfig, ds.manifest.path);
  const grid = headGrid(synth.shape);
  const reachCases: ReachCase[] = [];
  for (const { case: c } of test) {
    const mask = masks.get(c);
    if (!mask || !mask.some((v) => v > 0)) continue;
    const g = synthesizeCase(synth.seed, c.id, c.cohort, grid, markerPrior(synth.markers), { tumourFree: true });
    const image = minmaxScale(g.image.data);
    const tumourFree = minmaxScale(g.tumourFree!.data, g.image.data);
    const file = ds.image(c).data;
    let diff = file.length === image.length ? 0 : Infinity;
    for (let n = 0; n < file.length && diff <= 1e-4; n++) diff = Math.max(diff, Math.abs(file[n]! - image[n]!));
    if (diff > 1e-4) return skip(`${c.image} is not the image the cohort's ${SYNTH_MARKER_FILE} renders for ${c.id}`);
    reachCases.push({ id: c.id, image: { data: image, dims: shape }, tumourFree: { data: tumourFree, dims: shape }, mask: { data: Float32Array.from(mask), dims: shape } });
  }
  if (!reachCases.length) return skip('the first fold has no internal test case with a tumour mask');
  // one unit's encoder at a time: built and recalibrated when asked for, disposed once the next is
  function* frozen() {
    for (const { u, model: pretrainedModel } of units) {
      const config = variantConfig(runConfig, u.variant);
      const model = initialClassifier(config, { arm: u.arm, init: u.init, fold: u.fold, pretrainedModel }, run.dir, `${PROBE_DIR}/${TUMOUR_REACH_FILE}`);
      try {
        recalibrateClassifier(config, ds, model, fit);
        yield { name: u.arm, arm: u.arm, variant: u.variant, encoder: model.image };
      } finally {
        model.dispose();
      }
    }
  }
  const { input, encoders } = measureTumourReach(reachCases, frozen());
  return { format: 'mrcl-probe-tumour-reach-1', fold: 0, cases: reachCases.map((c) => c.id), input, encoders: encoders.map(({ arm, variant, layer3, layer4 }) => ({ arm, variant, layer3, layer4 })) };
}

/** Where a CL unit's pretraining started: the config it ran with and the MedicalNet checkpoint it loaded first (none: a random encoder). */
export interface PretrainingStart {
  config: ExperimentConfig;
  medicalNet?: string;
}

/**
 * The start of the pretraining that initialises a CL unit: the stage's config
 * (this run's, as the unit's variant; for a stage of another run, that run's
 * config when the stage is its `pretrain`) and the checkpoint its done.json
 * records under imageInit (a run made before it did: the config's
 * image.medicalNet where pretraining loads it). Undefined for a unit without a
 * pretraining stage, or one whose config cannot be known.
 */
export function pretrainingStart(run: RunFolder, runConfig: ExperimentConfig, u: FinetuneUnitSpec): PretrainingStart | undefined {
  if (u.init !== 'pretrained' || !u.pretrainStage) return undefined;
  let stageDir: string;
  let config: ExperimentConfig;
  if (isAbsolute(u.pretrainStage)) {
    const owner = dirname(u.pretrainStage);
    if (basename(u.pretrainStage) !== 'pretrain' || !existsSync(join(owner, 'run.json')) || !existsSync(join(owner, 'config.json'))) return undefined;
    stageDir = u.pretrainStage;
    config = RunFolder.open(owner).config;
  } else {
    stageDir = run.path(u.pretrainStage);
    config = variantConfig(runConfig, u.variant);
  }
  const donePath = join(stageDir, 'done.json');
  const init = existsSync(donePath) ? readJson<{ imageInit?: { medicalNet?: string } | 'random' }>(donePath).imageInit : undefined;
  const medicalNet = init === undefined ? pretrainImageInit(config, isAbsolute(u.pretrainStage) ? dirname(u.pretrainStage) : run.dir) : init === 'random' ? undefined : init.medicalNet;
  return { config, ...(medicalNet ? { medicalNet } : {}) };
}

/**
 * The image encoder pretraining started from, in a classifier: the
 * contrastive model draws its image encoder from hashSeed(seed, 'image') as
 * the classifier does (model/contrastive.ts, model/classifier.ts), so a
 * classifier seeded with the pretraining's seed holds the same initial
 * weights; then the MedicalNet checkpoint pretraining loaded.
 */
export function startClassifier(start: PretrainingStart): MarkerClassifier {
  const model = new MarkerClassifier(start.config, start.config.seed);
  try {
    if (start.medicalNet) loadMedicalNet(model.image, start.medicalNet);
    return model;
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/** The probe's scores with the frozen encoder's map columns of the same cases (evaluateCases' rows, in the same order). */
const withScores = (maps: readonly Prediction[], scores: readonly number[]): Prediction[] => maps.map((p, i) => ({ ...p, score: scores[i]! }));

/** Probes every fine-tuning unit's starting encoder of the run; see the file comment. */
export async function linearProbe(run: RunFolder, o: ProbeOptions): Promise<ProbeOutcome> {
  const C = o.C ?? DEFAULT_PROBE_C;
  if (!(C > 0) || !Number.isFinite(C)) throw new Error(`the probe's C must be a positive number (got ${C})`);
  const lock = run.path(WRITER_LOCK);
  const token = acquireLock(lock, `run ${run.dir}`);
  try {
    const plan = readPlan(run);
    checkUnitsUnlocked(run, plan);
    if (!checkFingerprint(run)) o.emit({ type: 'log', level: 'warn', message: `${run.dir}: no fingerprint (a run from an earlier version): cannot check that its data are unchanged since it ran` });
    if (!plan.finetune.length) throw new Error(`${run.dir}: the run has no fine-tuning units (arms × folds) whose encoders could be probed`);
    const runConfig = run.config;
    const ds = openDataset(runConfig, '/');
    let extra: { name: string; manifest: string; ds: Dataset; cases: LabelledCase[]; digest: string } | undefined;
    if (o.external) {
      const manifest = resolve(o.external.manifest);
      if (!existsSync(manifest)) throw new Error(`${manifest}: no such manifest`);
      const extraDs = openDataset({ ...runConfig, data: { ...runConfig.data, manifest } }, '/');
      const cases = downstreamCases(extraDs).external;
      if (!cases.length) throw new Error(`${manifest}: no external case with a fusion or V600E label to probe (cases need "cohort": "external" and a downstream marker)`);
      extra = { name: evaluationName(manifest, o.external.name), manifest, ds: extraDs, cases, digest: cohortDigest(cases) };
    }
    const dir = run.path(PROBE_DIR);
    const recordPath = join(dir, PROBE_FILE);
    const record: ProbeRecord = { format: 'mrcl-probe-1', C, features: 'global', maps: 'attention', ...(extra ? { external: { manifest: extra.manifest, name: extra.name, cohortDigest: extra.digest } } : {}) };
    // every unit's starting encoder must be there before anything is written
    const pretrainedModels = plan.finetune.map((u) => unitPretrainedModel(run, u));
    // CL's units also probe the encoder its pretraining started from (RUN/probe/start): what pretraining itself changed
    const starts = plan.finetune.flatMap((u) => {
      const s = u.arm === 'pretrained' ? pretrainingStart(run, runConfig, u) : undefined;
      if (s?.medicalNet && !existsSync(s.medicalNet)) throw new Error(`${s.medicalNet}: missing, the MedicalNet checkpoint ${u.pretrainStage}'s pretraining started from (its done.json imageInit)`);
      return s ? [{ u, start: s }] : [];
    });
    mkdirSync(dir, { recursive: true });
    writeJsonAtomic(recordPath, record);
    const sub: Plan = { ...plan, pretrain: [] };
    const folders: ResultsFolder[] = [];
    const main = resultsFolder(dir, runConfig, `${run.status.id}/${PROBE_DIR}`, o.emit);
    folders.push(main);
    const ext = extra ? resultsFolder(dataPath(dir, 'external', extra.name), { ...runConfig, data: { ...runConfig.data, manifest: extra.manifest } }, `${run.status.id}/${PROBE_DIR}/external/${extra.name}`, o.emit) : undefined;
    if (ext) folders.push(ext);
    for (const f of folders) {
      mkdirSync(f.dir, { recursive: true });
      writeJsonAtomic(f.path('plan.json'), sub);
      writeJsonAtomic(f.path('config.json'), f.config);
    }
    const external = downstreamCases(ds).external;
    // done with these settings (a unit probed with another C, scored on another extra cohort, or before the maps were scored, is probed again)
    const done = (f: ResultsFolder, u: FinetuneUnitSpec, cohort?: string) => {
      const m = f.path(u.stage, 'metrics.json');
      const p = existsSync(m) ? readJson<{ probe?: { C?: number; cohortDigest?: string; maps?: string } }>(m).probe : undefined;
      return p?.C === C && p.cohortDigest === cohort && p.maps === record.maps;
    };
    /** Probes one frozen encoder on the unit's fold into the folders given (the first with the internal cohort's external cases, the second with the extra cohort's). */
    const probeUnit = (u: FinetuneUnitSpec, config: ExperimentConfig, stage: string, model: MarkerClassifier, into: ResultsFolder, extraInto?: ResultsFolder) => {
      const { cases, splits } = downstreamFolds(config, ds);
      const split = splits[u.fold];
      if (!split) throw new Error(`${run.path(u.stage)}: fold ${u.fold} is not among the run's ${splits.length} folds`);
      const fit = split.fit.map((k) => cases[k]!);
      const test = split.test.map((k) => cases[k]!);
      recalibrateClassifier(config, ds, model, fit);
      const lr = fitLinearProbe(globalFeatures(config, ds, model, fit), fit.map((c) => c.label), { C });
      // the frozen encoder's maps, scored as the fine-tuned models' are (no baselines, no heatmap files), and the features the regression scores, from the same pass
      const mapConfig = { ...config, explain: { ...config.explain, baselines: [] } };
      const score = (d: Dataset, cs: readonly LabelledCase[], cohort: 'internal' | 'external') => {
        const { predictions, features } = evaluateCases(mapConfig, d, model, cs.map((c) => ({ ...c, cohort })), { dir: into.path(u.stage), stage, emit: o.emit }, { heatmaps: false, features: true });
        return withScores(predictions, logisticScores(lr, features!).map(sigmoid));
      };
      const internal = score(ds, test, 'internal');
      const threshold = config.finetune.threshold;
      const probe = { C, features: lr.w.length, train: fit.map((c) => c.case.id), iterations: lr.iterations, gradMax: lr.gradMax, maps: record.maps };
      const write = (f: ResultsFolder, scored: Prediction[], cohortDigest?: string) => {
        mkdirSync(f.path(u.stage), { recursive: true });
        writePredictions(f.path(u.stage, 'predictions.csv'), [...internal, ...scored]);
        writeJsonAtomic(f.path(u.stage, 'metrics.json'), { arm: u.arm, fold: u.fold, internal: splitMetrics(internal, threshold), external: scored.length ? splitMetrics(scored, threshold) : null, threshold, probe: { ...probe, ...(cohortDigest ? { cohortDigest } : {}) } });
      };
      write(into, score(ds, external, 'external'));
      if (extraInto && extra) write(extraInto, score(extra.ds, extra.cases, 'external'), extra.digest);
    };
    const startSub: Plan = { ...plan, pretrain: [], finetune: starts.map((s) => s.u), notRun: [] };
    const startFolder = starts.length ? resultsFolder(join(dir, START_DIR), runConfig, `${run.status.id}/${PROBE_DIR}/${START_DIR}`, o.emit) : undefined;
    if (startFolder) {
      mkdirSync(startFolder.dir, { recursive: true });
      writeJsonAtomic(startFolder.path('plan.json'), startSub);
      writeJsonAtomic(startFolder.path('config.json'), startFolder.config);
    }
    const total = plan.finetune.length + starts.length;
    let probed = 0;
    let step = 0;
    for (const [i, u] of plan.finetune.entries()) {
      // a unit is minutes of synchronous work at full size: let Ctrl-C arrive between units
      await eventLoopTurn();
      if (o.signal?.aborted) throw new CancelledError(PROBE_DIR);
      step++;
      if (done(main, u) && (!ext || done(ext, u, extra?.digest))) continue;
      const stage = `${PROBE_DIR}/${u.stage}`;
      o.emit({ type: 'stage', stage, status: 'started' });
      const config = variantConfig(runConfig, u.variant);
      const model = initialClassifier(config, { arm: u.arm, init: u.init, fold: u.fold, pretrainedModel: pretrainedModels[i] }, run.dir, stage);
      try {
        probeUnit(u, config, stage, model, main, ext);
      } finally {
        model.dispose();
      }
      probed++;
      o.emit({ type: 'progress', stage: PROBE_DIR, done: step, total });
      o.emit({ type: 'stage', stage, status: 'done' });
    }
    for (const { u, start } of starts) {
      // a unit is minutes of synchronous work at full size: let Ctrl-C arrive between units
      await eventLoopTurn();
      if (o.signal?.aborted) throw new CancelledError(PROBE_DIR);
      step++;
      if (done(startFolder!, u)) continue;
      const stage = `${PROBE_DIR}/${START_DIR}/${u.stage}`;
      o.emit({ type: 'stage', stage, status: 'started' });
      const model = startClassifier(start);
      try {
        probeUnit(u, variantConfig(runConfig, u.variant), stage, model, startFolder!);
      } finally {
        model.dispose();
      }
      probed++;
      o.emit({ type: 'progress', stage: PROBE_DIR, done: step, total });
      o.emit({ type: 'stage', stage, status: 'done' });
    }
    await eventLoopTurn();
    if (o.signal?.aborted) throw new CancelledError(PROBE_DIR);
    const crossStages = probeCrossAttention(run, runConfig, plan, ds, o.emit);
    // frozen encoders do not change: measured once (a resumed probe keeps the file)
    const reachPath = join(dir, TUMOUR_REACH_FILE);
    let reach = existsSync(reachPath) ? readJson<TumourReachFile>(reachPath) : undefined;
    if (reach?.format !== 'mrcl-probe-tumour-reach-1') {
      reach = probeTumourReach(run, runConfig, plan, ds, pretrainedModels, o.emit);
      if (reach) writeJsonAtomic(reachPath, reach);
    }
    const crossPath = join(dir, CROSS_ATTENTION_FILE);
    if (crossStages.length) writeJsonAtomic(crossPath, { format: 'mrcl-probe-cross-attention-1', stages: crossStages } satisfies CrossAttentionProbeFile);
    const results = buildStudyResults(main, sub);
    const externalResults = ext ? buildStudyResults(ext, sub) : undefined;
    const startResults = startFolder ? buildStudyResults(startFolder, startSub) : undefined;
    return { dir, ...(ext ? { externalDir: ext.dir, externalResults } : {}), ...(startFolder ? { startDir: startFolder.dir, startResults } : {}), probed, skipped: total - probed, results, ...(crossStages.length ? { crossAttention: { path: crossPath, stages: crossStages } } : {}), ...(reach ? { tumourReach: { path: reachPath, file: reach } } : {}) };
  } finally {
    releaseLock(lock, token);
  }
}

// `mrcl evaluate RUN --external MANIFEST`: a finished run's fine-tuned fold
// models scored on another external cohort, without training anything —
// what a researcher does when a new hospital's or scanner's cases arrive,
// and how a study's external claim can be measured on more cases than its
// own small external cohort holds (docs/METHOD.md §7).
//
// Each finished fine-tuning unit's model is rebuilt from its last
// checkpoint (which must be the one its last epoch wrote), its batch norms
// recalibrated over the fold's training cases when the run did so
// (finetune.recalibrateNorm, the same batches in the same order), and
// checked against the unit's own saved predictions before it scores
// anything new: the reloaded model must give the scores of the unit's
// internal test cases that predictions.csv holds. It then scores the
// MANIFEST's external cases with a fusion or V600E label, at the unit's own
// decision threshold, with attention Dice where the cases have masks; no
// heatmap files and no baseline explanations (their cost is per case).
//
// Everything goes into RUN/external/NAME/, laid out like a run folder: each
// unit's predictions.csv (the run's internal rows as they were, then the new
// external ones) and metrics.json (internal as the run had it, external
// recomputed), plan.json, config.json (the run's, with the new manifest), and
// results.json / results.md built exactly as a run's, so the tables, the
// paired t-tests and the bootstrap intervals (the external cases resampled
// once for all folds) describe the new cohort. evaluation.json records what
// was evaluated. A unit already done there is not redone (a killed
// evaluation resumes); a different manifest under the same name is refused.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { eventLoopTurn } from '../util/yield';
import type { ExperimentConfig } from '../../shared/config';
import type { EngineEvent } from '../../shared/events';
import { MarkerClassifier } from '../model/classifier';
import { loadModelWeights } from '../training/checkpoint';
import { downstreamCases, openDataset, type Dataset, type LabelledCase } from '../training/dataset';
import { downstreamFolds, evaluateCases, readPredictions, recalibrateClassifier, scoreCases, splitMetrics, writePredictions, type FoldResult, type Prediction } from '../training/finetune';
import { readJson, writeJsonAtomic, type RunFolder } from '../training/run-folder';
import { acquireLock, releaseLock, WRITER_LOCK } from '../training/run-lock';
import { READ_LIMITS, readTextBounded } from '../io/bounded-read';
import { dataPath } from '../io/safe-path';
import { quoteForMessage } from '../util/quote';
import { CancelledError } from '../training/loop';
import { checkFingerprint } from './fingerprint';
import { buildStudyResults, checkUnitsUnlocked, readPlan, resultsFolder, type ResultsFolder } from './study';
import { variantConfig, type FinetuneUnitSpec, type Plan } from './units';

export const EXTERNAL_EVALUATION_FILE = 'evaluation.json';
/** The largest score difference a reloaded model may show against the unit's saved predictions. */
export const RELOAD_TOLERANCE = 1e-4;

export interface ExternalEvaluationRecord {
  format: 'mrcl-external-evaluation-1';
  /** the run whose models were evaluated */
  run: string;
  /** the cohort's manifest (absolute) */
  manifest: string;
  /** external cases with a downstream label, and how many are positive (V600E) */
  cases: number;
  positives: number;
  /** sha256 of those cases' ids and labels: a resumed evaluation must find the same cohort */
  cohortDigest: string;
  created: string;
}

export interface ExternalEvaluationOptions {
  manifest: string;
  /** the folder under RUN/external/ (default: the manifest's folder name) */
  name?: string;
  emit: (e: EngineEvent) => void;
  signal?: AbortSignal;
}

export interface ExternalEvaluationOutcome {
  dir: string;
  /** units scored now (not those found done) */
  evaluated: number;
  skipped: number;
  results: string;
}

/** The folder name an evaluation gets: letters, digits, '.', '_' and '-' only. */
export function evaluationName(manifest: string, name?: string): string {
  const n = name ?? basename(dirname(resolve(manifest)));
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(n)) {
    const rule = "1–100 letters, digits, '.', '_' or '-', starting with a letter or digit";
    if (name === undefined) throw new Error(`${resolve(manifest)}: its folder's name ${quoteForMessage(n)} cannot name the evaluation (${rule}); give --name`);
    throw new Error(`--name ${quoteForMessage(n)}: an evaluation's name must be ${rule}`);
  }
  return n;
}

/** sha256 of the cohort's labelled external cases (id and label, in manifest order). */
export function cohortDigest(cases: readonly LabelledCase[]): string {
  const h = createHash('sha256');
  for (const c of cases) h.update(`${c.case.id}\u0000${c.label}\n`);
  return h.digest('hex');
}

/** The unit's last checkpoint, checked to be the end of its last epoch: its model.safetensors. */
function finalCheckpoint(run: RunFolder, u: FinetuneUnitSpec, config: ExperimentConfig): string {
  const dir = run.path(u.stage, 'checkpoints');
  const pointer = join(dir, 'latest');
  if (!existsSync(pointer)) throw new Error(`${dir}: no checkpoint (the unit's fine-tuned weights are needed to score new cases)`);
  const name = readTextBounded(pointer, { maxBytes: READ_LIMITS.small, what: 'checkpoint pointer' }).trim();
  if (!/^step-\d+$/.test(name)) throw new Error(`${pointer}: not a checkpoint name: ${quoteForMessage(name)}`);
  const state = readJson<{ loop?: { epoch?: number; stepInEpoch?: number } }>(join(dir, name, 'state.json'));
  if (state.loop?.epoch !== config.finetune.epochs || state.loop.stepInEpoch !== 0) {
    throw new Error(`${join(dir, name)}: holds epoch ${String(state.loop?.epoch)} (step ${String(state.loop?.stepInEpoch)} in it), not the end of the unit's ${config.finetune.epochs} epochs; the model that made its predictions is not there`);
  }
  return join(dir, name, 'model.safetensors');
}

/** The unit's model as it scored its cases: final weights, batch norms recalibrated as the run did. */
function reloadUnitModel(run: RunFolder, u: FinetuneUnitSpec, config: ExperimentConfig, ds: Dataset, fit: readonly LabelledCase[]): MarkerClassifier {
  const model = new MarkerClassifier(config, 0);
  try {
    loadModelWeights(finalCheckpoint(run, u, config), model, { strict: true });
    if (config.finetune.recalibrateNorm) recalibrateClassifier(config, ds, model, fit);
    return model;
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/** Throws unless the model gives the unit's saved scores of its internal test cases. */
function checkReload(config: ExperimentConfig, ds: Dataset, model: MarkerClassifier, test: readonly LabelledCase[], saved: readonly Prediction[], where: string): void {
  const byId = new Map(saved.filter((p) => p.cohort === 'internal').map((p) => [p.id, p.score]));
  const cases = test.filter((c) => byId.has(c.case.id));
  if (cases.length !== test.length) throw new Error(`${where}: holds ${cases.length} of the fold's ${test.length} internal test cases; it is not this run's unit`);
  const scores = scoreCases(config, ds, model, [...cases]);
  let worst = 0;
  let at = '';
  cases.forEach((c, i) => {
    const d = Math.abs(scores[i]! - byId.get(c.case.id)!);
    if (d > worst) {
      worst = d;
      at = c.case.id;
    }
  });
  if (worst > RELOAD_TOLERANCE) {
    throw new Error(`${where}: the model reloaded from the unit's checkpoint scores case ${quoteForMessage(at)} ${worst.toExponential(2)} away from its saved prediction (tolerance ${RELOAD_TOLERANCE}); it is not the model that was evaluated, so it is not used`);
  }
}

export async function evaluateExternal(run: RunFolder, o: ExternalEvaluationOptions): Promise<ExternalEvaluationOutcome> {
  const name = evaluationName(o.manifest, o.name);
  const manifest = resolve(o.manifest);
  if (!existsSync(manifest)) throw new Error(`${manifest}: no such manifest`);
  const lock = run.path(WRITER_LOCK);
  const token = acquireLock(lock, `run ${run.dir}`);
  try {
    const plan = readPlan(run);
    // a unit still being written (another process, a Slurm task) is not read half-way
    checkUnitsUnlocked(run, plan);
    // the folds, training cases and saved predictions come from the run's data: it must be unchanged
    if (!checkFingerprint(run)) o.emit({ type: 'log', level: 'warn', message: `${run.dir}: no fingerprint (a run from an earlier version): cannot check that its data are unchanged; the reload check below still compares each model with its saved predictions` });
    const runConfig = run.config;
    const config: ExperimentConfig = { ...runConfig, data: { ...runConfig.data, manifest } };
    const cohort = openDataset(config, '/');
    const external = downstreamCases(cohort).external;
    if (!external.length) throw new Error(`${manifest}: no external case with a fusion or V600E label to evaluate (cases need "cohort": "external" and a downstream marker)`);
    const positives = external.filter((c) => c.label === 1).length;
    const digest = cohortDigest(external);
    const dir = dataPath(run.dir, 'external', name);
    const recordPath = join(dir, EXTERNAL_EVALUATION_FILE);
    if (existsSync(recordPath)) {
      const was = readJson<ExternalEvaluationRecord>(recordPath);
      if (was.format !== 'mrcl-external-evaluation-1' || was.manifest !== manifest) {
        throw new Error(`${dir}: already holds an evaluation of ${quoteForMessage(String(was.manifest))}; give this one another --name`);
      }
      // a record without a digest (written before it had one) is taken for this cohort when its counts agree
      const same = was.cohortDigest === undefined ? was.cases === external.length && was.positives === positives : was.cohortDigest === digest;
      if (!same) {
        throw new Error(`${manifest}: its labelled external cases are not those this evaluation began with (${was.cases} recorded in ${recordPath}, ${external.length} now, or other ids or labels); its units would mix two cohorts: delete ${dir} or give another --name`);
      }
    }
    const finished = plan.finetune.filter((u) => existsSync(run.path(u.stage, 'metrics.json')));
    if (!finished.length) throw new Error(`${run.dir}: no finished fine-tuning unit to evaluate`);
    mkdirSync(dir, { recursive: true });
    const record: ExternalEvaluationRecord = { format: 'mrcl-external-evaluation-1', run: resolve(run.dir), manifest, cases: external.length, positives, cohortDigest: digest, created: new Date().toISOString() };
    if (!existsSync(recordPath)) writeJsonAtomic(recordPath, record);
    else if (readJson<ExternalEvaluationRecord>(recordPath).cohortDigest === undefined) writeJsonAtomic(recordPath, { ...readJson<ExternalEvaluationRecord>(recordPath), cohortDigest: digest });
    // every unit of the run: those not finished there are missing here too, so their arms read "partial"
    const sub: Plan = { ...plan, pretrain: [] };
    writeJsonAtomic(join(dir, 'plan.json'), sub);
    writeJsonAtomic(join(dir, 'config.json'), config);
    const folder: ResultsFolder = resultsFolder(dir, config, `${run.status.id}/external/${name}`, o.emit);
    let runData: Dataset | undefined;
    let evaluated = 0;
    for (const [i, u] of finished.entries()) {
      await eventLoopTurn();
      if (o.signal?.aborted) throw new CancelledError(`external/${name}`);
      const outMetrics = folder.path(u.stage, 'metrics.json');
      const checkpoint = readTextBounded(run.path(u.stage, 'checkpoints', 'latest'), { maxBytes: READ_LIMITS.small, what: 'checkpoint pointer' }).trim();
      // done, from the same checkpoint of the unit (a unit trained again since is scored again)
      if (existsSync(outMetrics) && readJson<{ checkpoint?: string }>(outMetrics).checkpoint === checkpoint) continue;
      const stage = `external/${name}/${u.stage}`;
      o.emit({ type: 'stage', stage, status: 'started' });
      const unitConfig = variantConfig(runConfig, u.variant);
      runData ??= openDataset(runConfig, '/');
      const { cases, splits } = downstreamFolds(unitConfig, runData);
      const split = splits[u.fold];
      if (!split) throw new Error(`${run.path(u.stage)}: fold ${u.fold} is not among the run's ${splits.length} folds`);
      const old = readJson<FoldResult & { threshold?: number; train?: string[]; baselines?: unknown }>(run.path(u.stage, 'metrics.json'));
      const fit = split.fit.map((k) => cases[k]!);
      if (old.train && (old.train.length !== fit.length || old.train.some((id, k) => id !== fit[k]!.case.id))) {
        throw new Error(`${run.path(u.stage, 'metrics.json')}: its training cases are not the fold's as the run's data give them now`);
      }
      const saved = readPredictions(run.path(u.stage, 'predictions.csv'));
      const model = reloadUnitModel(run, u, unitConfig, runData, fit);
      try {
        checkReload(unitConfig, runData, model, split.test.map((k) => cases[k]!), saved, run.path(u.stage, 'predictions.csv'));
        const threshold = typeof old.threshold === 'number' ? old.threshold : unitConfig.finetune.threshold;
        const scored = evaluateCases(
          { ...unitConfig, data: config.data, explain: { ...unitConfig.explain, baselines: [] } },
          cohort,
          model,
          external.map((c) => ({ ...c, cohort: 'external' as const })),
          { dir: folder.path(u.stage), stage, emit: o.emit },
          { heatmaps: false },
        ).predictions;
        mkdirSync(folder.path(u.stage), { recursive: true });
        writePredictions(folder.path(u.stage, 'predictions.csv'), [...saved.filter((p) => p.cohort === 'internal'), ...scored]);
        const { baselines: _runBaselines, ...kept } = old;
        writeJsonAtomic(outMetrics, { ...kept, external: splitMetrics(scored, threshold), threshold, externalCohort: manifest, checkpoint });
      } finally {
        model.dispose();
      }
      evaluated++;
      o.emit({ type: 'progress', stage: `external/${name}`, done: i + 1, total: finished.length });
      o.emit({ type: 'stage', stage, status: 'done' });
    }
    return { dir, evaluated, skipped: finished.length - evaluated, results: buildStudyResults(folder, sub) };
  } finally {
    releaseLock(lock, token);
  }
}

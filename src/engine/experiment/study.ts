// Runs an experiment (pretraining, then 3 initialisations × k folds) or an
// ablation study (5 loss variants + proposed, each pretrained and
// fine-tuned) in one run folder, resumable unit by unit, and builds the
// paper-layout tables from the units' saved results.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import type { ExperimentConfig } from '../../shared/config';
import type { EngineEvent } from '../../shared/events';
import type { RunOutcome } from '../../shared/protocol';
import { setBackend, describeBackend } from '../backend';
import { resolveIn } from '../config/resolve';
import { RunFolder, claimRunDir, readJson, writeJsonAtomic } from '../training/run-folder';
import { openDataset, pretrainSplit, type Dataset } from '../training/dataset';
import { pretrain, minimumBatch, pretrainSteps, type StageOptions } from '../training/pretrain';
import { finetuneUnit, downstreamFolds, finetuneSteps } from '../training/finetune';
import { CancelledError } from '../training/loop';
import { exportCrossAttention } from '../explain/export-cross-attention';
import { localPairingWarning } from '../explain/local-pairing';
import { collapseWarning, locationWeightOf } from '../metrics/embedding-spread';
import { checkMedicalNetCheckpoint } from '../networks/medicalnet';
import { readStandinRecord } from '../training/medicalnet-standin';
import { formatDatasetIssue, validateDatasetSync, type ValidationReport } from '../data/validate';
import { datasetValidationOptions } from '../config/semantic';
import { batchSizeIssues } from '../training/batch-rules';
import { buildResults, writeResults } from '../results';
import type { ArmResult, FoldResult } from '../results/types';
import { experimentPlan, ablationPlan, variantConfig, allUnits, type FinetuneUnitSpec, type Plan, type Unit } from './units';
import { runUnitsInWorkers } from './workers';
import { acquireLock, checkNotLocked, releaseLock, WRITER_LOCK } from '../training/run-lock';
import { checkFingerprint, writeFingerprint, FINGERPRINT_FILE } from './fingerprint';
import { readFoldCases } from './case-results';
import { dataPath } from '../io/safe-path';

const ARM_LABELS: Record<string, string> = {
  random: 'Random init',
  medicalnet: 'MedicalNet',
  pretrained: 'Proposed CL',
  'global-only': 'Global only',
  'local-only': 'Local only',
  'location-excluded': 'Location excluded',
  'contrastive-loss': 'Contrastive loss',
  'hard-negatives': 'Hard negatives',
  proposed: 'Proposed',
};

export type StudyKind = 'experiment' | 'ablation' | 'pretrain' | 'finetune';

export interface StudyOptions {
  kind: StudyKind;
  /** resolved config with paths relative to baseDir (new runs) */
  config?: ExperimentConfig;
  baseDir?: string;
  /** an existing run folder to resume */
  runDir?: string;
  /** the units to run (default: the kind's whole plan) */
  plan?: Plan;
  workers?: number;
  signal?: AbortSignal;
  emit: (e: EngineEvent) => void;
  onRunDir?: (dir: string) => void;
}

/** Makes every path field absolute, so the recorded config works from anywhere. */
export function absolutizePaths(config: ExperimentConfig, baseDir: string): ExperimentConfig {
  const c = structuredClone(config);
  const abs = (p: string) => (p ? resolveIn(baseDir, p) : p);
  c.data.manifest = abs(c.data.manifest);
  c.image.medicalNet = abs(c.image.medicalNet);
  c.text.pretrained = abs(c.text.pretrained);
  c.tokenizer.path = abs(c.tokenizer.path);
  c.report.knownNamesFile = abs(c.report.knownNamesFile);
  c.outDir = abs(c.outDir);
  return c;
}

export function planFor(kind: 'experiment' | 'ablation', config: ExperimentConfig): Plan {
  return kind === 'experiment' ? experimentPlan(config) : ablationPlan(config);
}

/** The plan a run folder was created with (plan.json). */
export function readPlan(run: RunFolder): Plan {
  return readJson<Plan>(run.path('plan.json'));
}

/** What a run's data passed before it started (the report of `mrcl validate`), in the run folder. */
export const VALIDATION_FILE = 'validation.json';

/** The dataset a preflight opened, with its validation report (undefined when an earlier one stands). */
export type CheckedDataset = Dataset & { validation: ValidationReport | undefined };

/** How many dataset errors a refused run lists before "and N more". */
const LISTED_ERRORS = 20;

/**
 * Validates the dataset as `mrcl validate` does with this config (headers
 * and voxel data) and throws listing its errors: a run never starts on data
 * that validation rejects. Fold sizes are checked only when the plan
 * fine-tunes.
 */
export function validateRunData(config: ExperimentConfig, plan: Plan): ValidationReport {
  if (!config.data.manifest) throw new Error('config: data.manifest is not set (path to a manifest.json or .csv)');
  const report = validateDatasetSync(config.data.manifest, { ...datasetValidationOptions(config), folds: plan.finetune.length ? config.finetune.folds : undefined });
  if (report.errors.length) {
    const base = dirname(report.manifest);
    const listed = report.errors.slice(0, LISTED_ERRORS).map((e) => `  ${formatDatasetIssue(e, base)}`);
    const more = report.errors.length > LISTED_ERRORS ? [`  and ${report.errors.length - LISTED_ERRORS} more`] : [];
    throw new Error(
      [`${report.manifest}: the dataset has ${report.errors.length} error(s); nothing was run (mrcl validate ${report.manifest} lists every problem):`, ...listed, ...more].join('\n'),
    );
  }
  return report;
}

/**
 * Everything that can be checked before any training starts. `validated`:
 * the dataset already passed validation and has not changed since (a
 * resumed run whose fingerprint matches), so its voxels are not read again.
 */
export function preflight(config: ExperimentConfig, plan: Plan, o: { validated?: boolean } = {}): CheckedDataset {
  // batch sizes with which a stage would train nothing
  const variants = [...new Set(plan.pretrain.map((u) => u.variant))].map((v) => variantConfig(config, v));
  const batches = batchSizeIssues(config, { pretraining: plan.pretrain.length > 0, finetuning: plan.finetune.length > 0, variants });
  if (batches.length) throw new Error(`config: ${batches.map((b) => b.message).join('; ')}`);
  if (config.image.medicalNet) {
    if (!existsSync(config.image.medicalNet)) throw new Error(`${config.image.medicalNet}: MedicalNet checkpoint not found (image.medicalNet)`);
    // the whole checkpoint against the configured encoder: a bad one fails here, not after pretraining
    checkMedicalNetCheckpoint(config.image, config.image.medicalNet);
  }
  if (config.text.pretrained && !existsSync(join(config.text.pretrained, 'config.json'))) {
    throw new Error(`${config.text.pretrained}: not a HuggingFace model folder (config.json missing; text.pretrained)`);
  }
  const validation = o.validated ? undefined : validateRunData(config, plan);
  const ds = openDataset(config, '/');
  if (plan.pretrain.length) {
    const split = pretrainSplit(ds);
    const n = split.train.length;
    const need = Math.max(...plan.pretrain.map((u) => minimumBatch(variantConfig(config, u.variant))));
    const held = split.heldOut.length ? ` (${split.heldOut.length} more held out by pretrain.heldOut)` : '';
    if (n < need) throw new Error(`${ds.manifest.path}: pretraining needs at least ${need} internal cases with reports, found ${n}${held}`);
  }
  if (plan.finetune.length) downstreamFolds(config, ds); // throws when a class has fewer cases than folds
  return Object.assign(ds, { validation });
}

/** The training steps a plan takes on a dataset (pretraining and fine-tuning; progress and ETA count these). */
export function totalSteps(config: ExperimentConfig, ds: Dataset, plan: Plan): number {
  const pre = pretrainSteps(config, pretrainSplit(ds).train.length) * plan.pretrain.length;
  const { splits } = downstreamFolds(config, ds);
  const fine = plan.finetune.reduce((s, u) => s + finetuneSteps(config, splits[u.fold]?.fit.length ?? 0), 0);
  return pre + fine;
}

/** Runs one unit in this process (also the entry of `mrcl unit` for workers and Slurm tasks). */
export async function runUnit(
  run: RunFolder,
  unit: Unit,
  ds: Dataset,
  ctx: { signal?: AbortSignal; emit: (e: EngineEvent) => void; progress?: { offset: number; total: number }; runToken?: string },
): Promise<void> {
  // a unit runs beside its own run's writer only (its token), and alone
  checkNotLocked(run.path(WRITER_LOCK), `run ${run.dir}`, ctx.runToken);
  mkdirSync(run.path(unit.stage), { recursive: true });
  const lockPath = run.path(unit.stage, WRITER_LOCK);
  const token = acquireLock(lockPath, `unit ${unit.stage} of run ${run.dir}`);
  try {
    await runUnitLocked(run, unit, ds, ctx);
  } catch (e) {
    // the unit's stage ends as it did, not "running" (the error itself is reported by the caller)
    run.emit({ type: 'stage', stage: unit.stage, status: e instanceof CancelledError ? 'cancelled' : 'failed' });
    throw e;
  } finally {
    releaseLock(lockPath, token);
  }
}

async function runUnitLocked(run: RunFolder, unit: Unit, ds: Dataset, ctx: { signal?: AbortSignal; emit: (e: EngineEvent) => void; progress?: { offset: number; total: number } }): Promise<void> {
  const config = variantConfig(run.config, unit.variant);
  const opts: StageOptions = {
    dir: run.path(unit.stage),
    stage: unit.stage,
    baseDir: '/', // the recorded config's paths are absolute (absolutizePaths)
    resume: true,
    signal: ctx.signal,
    emit: ctx.emit,
    progress: ctx.progress,
  };
  if (unit.kind === 'pretrain') {
    await pretrain(config, ds, opts);
    if (unit.variant === 'base' && !existsSync(run.path(unit.stage, 'attention'))) {
      const exp = await exportCrossAttention(config, ds, run.path(unit.stage));
      ctx.emit({ type: 'artifact', stage: unit.stage, kind: 'attention', path: run.path(unit.stage, 'attention') });
      ctx.emit({ type: 'log', level: 'info', message: `${unit.stage}: cross-attention saved for ${exp.files.length} cases` });
      if (exp.pairs === 'training') {
        ctx.emit({ type: 'log', level: 'warn', message: `${unit.stage}: retrieval and zero-shot location are measured on the pairs pretraining learnt from (pretrain.heldOut is 0): they show fit, not generalisation; set pretrain.heldOut (e.g. 0.15) to measure them on held-out pairs` });
      }
      const pairingWarning = exp.localPairing ? localPairingWarning(unit.stage, exp.pairs, exp.localPairing) : undefined;
      if (pairingWarning) ctx.emit({ type: 'log', level: 'warn', message: pairingWarning });
      const collapsed = exp.globalSpread ? collapseWarning(unit.stage, exp.pairs, exp.globalSpread, exp.standardisedEps, locationWeightOf(config.loss)) : undefined;
      if (collapsed) ctx.emit({ type: 'log', level: 'warn', message: collapsed });
      const metrics: Record<string, number> = { heldOutPairs: exp.pairs === 'held-out' ? 1 : 0 };
      for (const [k, r] of Object.entries(exp.retrieval)) {
        metrics[`imageToReport.${k}`] = r.imageToReport;
        metrics[`reportToImage.${k}`] = r.reportToImage;
      }
      for (const [k, v] of Object.entries(exp.chance)) metrics[`chance.${k}`] = v;
      if (exp.localPairing) {
        metrics['localPairing.image'] = exp.localPairing.image.difference;
        metrics['localPairing.text'] = exp.localPairing.text.difference;
        metrics['localPairing.words'] = exp.localPairing.words.difference;
      }
      if (exp.globalSpread) {
        metrics['globalSpread.image'] = exp.globalSpread.image;
        metrics['globalSpread.report'] = exp.globalSpread.report;
      }
      if (exp.byLocation) {
        for (const dir of ['imageToReport', 'reportToImage'] as const) {
          metrics[`${dir}.sameLocationAbove`] = exp.byLocation[dir].meanSameAbove;
          metrics[`${dir}.otherLocationAbove`] = exp.byLocation[dir].meanOtherAbove;
        }
        metrics['chance.sameLocationAbove'] = exp.byLocation.chance.meanSameAbove;
        metrics['chance.otherLocationAbove'] = exp.byLocation.chance.meanOtherAbove;
      }
      if (exp.locationNeighbours) {
        const { evaluated, training } = exp.locationNeighbours;
        metrics['locationNeighbours.image'] = evaluated.image.agreement;
        metrics['locationNeighbours.report'] = evaluated.report.agreement;
        metrics['locationNeighbours.chance'] = evaluated.image.chance;
        if (training) {
          metrics['locationNeighbours.trainingImage'] = training.image.agreement;
          metrics['locationNeighbours.trainingReport'] = training.report.agreement;
          metrics['locationNeighbours.trainingChance'] = training.image.chance;
        }
      }
      if (exp.zeroShot) {
        metrics['zeroShot.accuracy'] = exp.zeroShot.accuracy;
        if (exp.zeroShot.macroAuc !== null) metrics['zeroShot.macroAuc'] = exp.zeroShot.macroAuc;
      }
      ctx.emit({ type: 'metrics', stage: unit.stage, metrics });
    }
    return;
  }
  const pretrainedModel = unitPretrainedModel(run, unit);
  await finetuneUnit(config, ds, { arm: unit.arm, init: unit.init, fold: unit.fold, pretrainedModel }, opts);
}

/** The pretraining stage's model a unit starts from (init 'pretrained'), checked to exist; undefined for other inits. */
export function unitPretrainedModel(run: Pick<RunFolder, 'path'>, unit: FinetuneUnitSpec): string | undefined {
  const pretrainedModel = unit.pretrainStage
    ? isAbsolute(unit.pretrainStage)
      ? join(unit.pretrainStage, 'model.safetensors')
      : run.path(unit.pretrainStage, 'model.safetensors')
    : undefined;
  if (pretrainedModel && !existsSync(pretrainedModel)) {
    throw new Error(`${unit.stage}: needs ${unit.pretrainStage}, which has not finished (${pretrainedModel} missing)`);
  }
  return pretrainedModel;
}

/**
 * An arm's name in the tables; the MedicalNet arm says when its checkpoint
 * is the synthetic stand-in (`mrcl medicalnet standin`), not Med3D weights.
 */
export function armLabel(arm: string, config: ExperimentConfig): string {
  const base = ARM_LABELS[arm] ?? arm;
  if (arm !== 'medicalnet' || !config.image.medicalNet || !isAbsolute(config.image.medicalNet)) return base;
  return readStandinRecord(config.image.medicalNet) ? `${base} (synthetic stand-in)` : base;
}

/** What the results tables are built in: a run folder, or a folder laid out like one (an external evaluation). */
export type ResultsFolder = Pick<RunFolder, 'dir' | 'config' | 'path' | 'emit'> & { status: { id: string } };

/** A results folder that is not a run folder (an external evaluation, a probe): its paths through the checked path function. */
export const resultsFolder = (dir: string, config: ExperimentConfig, id: string, emit: (e: EngineEvent) => void): ResultsFolder => ({ dir, config, status: { id }, path: (...p: string[]) => dataPath(dir, ...p), emit });

/** Collects the units' metrics.json into the results tables (results.json, results.md, tables/). */
export function buildStudyResults(run: ResultsFolder, plan: Plan): string {
  const config = run.config;
  const arms = new Map<string, ArmResult>();
  const label = (arm: string) => armLabel(arm, config);
  for (const n of plan.notRun) arms.set(n.arm, { arm: n.arm, label: label(n.arm), status: 'not run', reason: n.reason, folds: [] });
  for (const u of plan.finetune) {
    const arm = arms.get(u.arm) ?? { arm: u.arm, label: label(u.arm), status: 'done' as const, folds: [] as FoldResult[] };
    arms.set(u.arm, arm);
    const p = run.path(u.stage, 'metrics.json');
    if (existsSync(p)) {
      const m = readJson<FoldResult>(p);
      arm.folds.push({
        arm: m.arm,
        fold: m.fold,
        internal: m.internal,
        external: m.external,
        ...(m.attentionGrid !== undefined ? { attentionGrid: m.attentionGrid } : {}),
        // Grad-CAM / occlusion means (explain.baselines): their rows in Tables 3–4
        ...(m.baselines !== undefined ? { baselines: m.baselines } : {}),
      });
    } else {
      arm.status = 'partial';
      arm.reason = `missing folds (e.g. ${u.stage})`;
    }
  }
  const order = plan.kind !== 'ablation' ? ['random', 'medicalnet', 'pretrained'] : [...arms.keys()];
  const doc = buildResults({
    kind: plan.kind === 'ablation' ? 'ablation' : 'experiment',
    runId: run.status.id,
    arms: order.filter((a) => arms.has(a)).map((a) => arms.get(a)!),
    showPaper: true,
    config: { folds: config.finetune.folds, seed: config.seed },
    caseResults: readFoldCases(run, plan.finetune),
  });
  writeResults(run.dir, doc);
  run.emit({ type: 'artifact', stage: 'results', kind: 'results', path: run.path('results.md') });
  return run.path('results.md');
}

export async function runStudy(o: StudyOptions): Promise<RunOutcome> {
  let run: RunFolder;
  let lock: string;
  // the dataset as checked before the run folder existed (a new run), or whether a resumed run's data are unchanged since they were
  let checked: CheckedDataset | undefined;
  let unchanged = false;
  if (o.runDir) {
    run = RunFolder.open(o.runDir);
    // a second writer is refused before it writes anything
    lock = acquireLock(run.path(WRITER_LOCK), `run ${run.dir}`);
    try {
      checkUnitsUnlocked(run, readPlan(run));
      unchanged = checkFingerprint(run);
      if (!unchanged) o.emit({ type: 'log', level: 'warn', message: `${run.dir}: no ${FINGERPRINT_FILE} (a run from an earlier version): cannot check that its data and config are unchanged` });
    } catch (e) {
      releaseLock(run.path(WRITER_LOCK), lock);
      throw e;
    }
  } else {
    if (!o.config || o.baseDir === undefined) throw new Error('runStudy: a config (or a run folder to resume) is required');
    const config = absolutizePaths(o.config, o.baseDir);
    const plan = o.plan ?? planFor(o.kind === 'ablation' ? 'ablation' : 'experiment', config);
    checked = preflight(config, plan); // bad data or configs fail before a run folder exists
    run = RunFolder.create(claimRunDir(config.outDir, config.name), o.kind, config);
    lock = acquireLock(run.path(WRITER_LOCK), `run ${run.dir}`);
    writeJsonAtomic(run.path('plan.json'), plan);
    writeFingerprint(run, config, checked.manifest);
  }
  try {
    return await runStudyLocked(o, run, lock, checked ?? { validated: unchanged && existsSync(run.path(VALIDATION_FILE)) });
  } finally {
    releaseLock(run.path(WRITER_LOCK), lock);
  }
}

/** Refuses when a unit of the run is being run by another process (a Slurm task, a `mrcl unit`). */
export function checkUnitsUnlocked(run: RunFolder, plan: Plan): void {
  for (const u of allUnits(plan)) checkNotLocked(run.path(u.stage, WRITER_LOCK), `unit ${u.stage} of run ${run.dir}`, undefined);
}

/** `data`: the dataset a new run's preflight opened, or for a resumed run whether its validation still stands. */
async function runStudyLocked(o: StudyOptions, run: RunFolder, runToken: string, data: CheckedDataset | { validated: boolean }): Promise<RunOutcome> {
  o.onRunDir?.(run.dir);
  run.subscribe(o.emit);
  const config = run.config;
  const plan = readPlan(run);
  try {
    const backend = await setBackend(config.backend, { training: true, precision: config.precision });
    run.setStatus('running', { backend: describeBackend(backend) });
    run.emit({ type: 'log', level: 'info', message: `backend: ${describeBackend(backend)}` });
    // validated once per run: a resumed run whose data are unchanged is not read again
    const ds = 'validation' in data ? data : preflight(config, plan, data);
    if (ds.validation) {
      writeJsonAtomic(run.path(VALIDATION_FILE), ds.validation);
      const n = ds.validation.warnings.length;
      if (n) run.emit({ type: 'log', level: 'warn', message: `dataset ${ds.validation.manifest}: ${n} warning(s), listed in ${run.path(VALIDATION_FILE)}` });
    }
    for (const n of plan.notRun) {
      run.setStage(`finetune/${n.arm}`, 'not run');
      run.emit({ type: 'stage', stage: `finetune/${n.arm}`, status: 'skipped', detail: n.reason });
    }
    const total = totalSteps(config, ds, plan);
    let offset = 0;
    const units = allUnits(plan);
    const workers = Math.max(1, o.workers ?? 1);
    const emit = (e: EngineEvent) => run.emit(e);
    if (workers > 1) {
      // pretraining stages first (in parallel for ablations), then the folds
      await runUnitsInWorkers(run, plan.pretrain, workers, o.signal, o.emit, runToken);
      await runUnitsInWorkers(run, plan.finetune, workers, o.signal, o.emit, runToken);
    } else {
      for (const u of units) {
        if (o.signal?.aborted) throw new CancelledError(u.stage);
        await runUnit(run, u, ds, { signal: o.signal, emit, progress: { offset, total }, runToken });
        offset += u.kind === 'pretrain' ? pretrainSteps(config, pretrainSplit(ds).train.length) : finetuneSteps(config, downstreamFolds(config, ds).splits[u.fold]!.fit.length);
      }
    }
    if (plan.finetune.length) {
      const results = buildStudyResults(run, plan);
      run.emit({ type: 'log', level: 'info', message: `results: ${results}` });
    }
    run.setStatus('done');
    return { status: 'done', runDir: run.dir };
  } catch (e) {
    if (e instanceof CancelledError) {
      run.setStatus('cancelled');
      if (run.status.stages[e.stage] !== 'cancelled') run.emit({ type: 'stage', stage: e.stage, status: 'cancelled' });
      closeRunningStages(run, 'cancelled');
      return { status: 'cancelled', runDir: run.dir };
    }
    const message = e instanceof Error ? e.message : String(e);
    run.setStatus('failed', { error: message });
    run.emit({ type: 'log', level: 'error', message });
    closeRunningStages(run, 'failed');
    return { status: 'failed', runDir: run.dir, error: message };
  }
}

/**
 * Once the run has stopped, no stage of it runs (this process is its only
 * writer and its workers have ended): one still marked running was cut
 * short (a worker killed before it could say so) and ends as the run does.
 */
function closeRunningStages(run: RunFolder, status: 'failed' | 'cancelled'): void {
  for (const [stage, s] of Object.entries(run.status.stages)) if (s === 'running') run.emit({ type: 'stage', stage, status });
}


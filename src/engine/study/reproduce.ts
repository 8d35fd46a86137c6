// `mrcl study reproduce`: the paper's protocol on a synthetic cohort shaped
// like its data, in one study folder, step by step:
//   cohort → MedicalNet stand-in → experiment (3 arms × folds) →
//   location-weighting check (useLocation false, the pretrained arm), or at
//   the full scale the Table 5 ablations, whose location-excluded arm is
//   that check → external check (the experiment's fold models, unchanged,
//   scored on a second, larger external cohort of the same generator; beyond
//   the verdict) → linear probe of the arms' frozen starting encoders (also
//   on the external check's cohort; beyond the verdict) → report.
// Each step's pieces are ordinary: the cohort a `mrcl synth` folder, the
// stand-in a `mrcl medicalnet standin` checkpoint, the runs `mrcl
// experiment`/`ablate` run folders made from DIR/configs/*.mrcl.json.
// study.json records the steps and is rewritten atomically after each; a
// second invocation skips the finished steps and resumes an interrupted run
// folder unit by unit.
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { ExperimentConfig, ExperimentConfigInput } from '../../shared/config';
import type { EngineEvent } from '../../shared/events';
import { setBackend, type BackendInfo } from '../backend';
import { loadConfig } from '../config/resolve';
import { synthesizeCohort } from '../synth/cohort';
import { trainMedicalNetStandin } from '../training/medicalnet-standin';
import { CancelledError } from '../training/loop';
import { openDataset } from '../training/dataset';
import { acquireLock, releaseLock } from '../training/run-lock';
import { writeJsonAtomic } from '../training/run-folder';
import { dataPath } from '../io/safe-path';
import { absolutizePaths, planFor, runStudy, totalSteps } from '../experiment/study';
import { pretrainedTextIssues } from '../config/semantic';
import { isStudyWidth, readStudyRecord, STUDY_FILE, STUDY_FORMAT, type StepName, type StudyRecord, type StudyStep } from './record';
import { EXTERNAL_CHECK_SEED_OFFSET, PAPER_SCALE_CPU_STEP, scaleSpec, STUDY_AUGMENT, studyConfigs, studyWidth, type StudyConfigName, type StudyScale } from './scales';
import { evaluateExternal } from '../experiment/external-eval';
import { linearProbe } from '../experiment/probe';
import { RunFolder } from '../training/run-folder';
import { EXTERNAL_CHECK } from './verdict';
import { StudyProgress } from './progress';
import { renderStudyReport } from './report';

export const DEFAULT_STUDY_SEED = 42;
export const DEFAULT_STUDY_SCALE: StudyScale = 'quick';
export const STUDY_LOCK = '.study.lock';

export const defaultStudyDir = (seed: number): string => `study-${seed}`;

export interface ReproduceOptions {
  /** the study folder (default study-<seed> in the working directory) */
  out?: string;
  /** default: an existing study's, else 42 */
  seed?: number;
  /** default: an existing study's, else 'quick' */
  scale?: StudyScale;
  /**
   * pretraining augmentation (STUDY_AUGMENT) in every pretraining of the
   * study (ours, not the paper's method); true on an existing study made
   * without it is refused, undefined or false takes the study's own
   */
  augment?: boolean;
  /**
   * the image encoder's width in every run of the study, the stand-in's
   * included (default: the scale's, studyWidth; the paper's is 64); another
   * width than an existing study's is refused
   */
  width?: number;
  /**
   * a pretrained HuggingFace Longformer folder for every run's text encoder
   * (resolved to an absolute path; checked before the study starts); another
   * than an existing study's is refused
   */
  textPretrained?: string;
  signal?: AbortSignal;
  emit: (e: EngineEvent) => void;
  now?: () => number;
}

export interface ReproduceOutcome {
  status: 'done' | 'cancelled' | 'failed';
  dir: string;
  /** steps run (or resumed) by this invocation */
  ran: StepName[];
  /** steps found finished and skipped */
  skipped: StepName[];
  error?: string;
}

const DESCRIPTIONS: Record<StepName, string> = {
  cohort: "synthetic cohort with the paper's Table 6 marker proportions (cohort/)",
  'medicalnet-standin': 'MedicalNet stand-in trained on a disjoint synthetic cohort (medicalnet-standin.pth)',
  experiment: 'pretraining, then random / MedicalNet / CL initialisations × folds (configs/experiment.mrcl.json)',
  'location-excluded': 'location-weighting check: the same with loss.useLocation false, CL arm only (configs/location-excluded.mrcl.json)',
  ablation: 'Table 5 ablations (configs/ablation.mrcl.json)',
  'external-check': "the experiment's fold models scored on more external cases of the same generator (external-check-cohort/; beyond the verdict)",
  probe: "linear probe of each arm's frozen starting encoder per fold, on the internal test folds, the external cohort and the external check's (beyond the verdict)",
  report: 'report.md, report.html and figures',
};

const RUN_STEPS: Partial<Record<StepName, { config: StudyConfigName; kind: 'experiment' | 'ablation' }>> = {
  experiment: { config: 'experiment', kind: 'experiment' },
  'location-excluded': { config: 'location-excluded', kind: 'experiment' },
  ablation: { config: 'ablation', kind: 'ablation' },
};

/**
 * The study's steps. A scale with the Table 5 ablations has no separate
 * location-weighting run: the ablation's 'location-excluded' arm is the same
 * config (loss.useLocation false, pretraining and the CL arm, no baselines),
 * paired over the same folds with its 'proposed' arm, so a second run of it
 * would repeat a whole pretraining and its folds.
 */
export function studySteps(scale: StudyScale): StepName[] {
  const check: StepName = scaleSpec(scale).ablations ? 'ablation' : 'location-excluded';
  return ['cohort', 'medicalnet-standin', 'experiment', check, 'external-check', 'probe', 'report'];
}

/** A new study's record, or the existing one; refuses a different scale, seed, width or pretrained text folder, --augment on a study made without it, a --text-pretrained folder that is not a Longformer's, or a folder that is not a study's. */
export function openStudy(dir: string, o: { scale?: StudyScale; seed?: number; augment?: boolean; width?: number; textPretrained?: string }, now: number): StudyRecord {
  const path = join(dir, STUDY_FILE);
  if (o.width !== undefined && !isStudyWidth(o.width)) throw new Error(`--width must be a whole number ≥ 1, got ${o.width}`);
  const textPretrained = o.textPretrained === undefined ? undefined : resolve(o.textPretrained);
  if (textPretrained !== undefined) {
    // checked here, not when the experiment step loads it hours later
    const problems = pretrainedTextIssues(textPretrained).filter((i) => i.severity === 'error');
    if (problems.length) throw new Error(`--text-pretrained: ${problems.map((i) => i.message).join('; ')}`);
  }
  if (existsSync(path)) {
    const rec = readStudyRecord(path);
    const width = rec.width ?? studyWidth(rec.scale);
    const clash = [
      o.scale !== undefined && o.scale !== rec.scale ? `--scale ${o.scale}` : '',
      o.seed !== undefined && o.seed !== rec.seed ? `--seed ${o.seed}` : '',
      o.augment && !rec.augment ? '--augment' : '',
      o.width !== undefined && o.width !== width ? `--width ${o.width}` : '',
      textPretrained !== undefined && textPretrained !== rec.textPretrained ? `--text-pretrained ${textPretrained}` : '',
    ].filter(Boolean);
    if (clash.length) {
      throw new Error(
        `${path}: this study folder holds a study made with --scale ${rec.scale} --seed ${rec.seed}${rec.augment ? ' --augment' : ''}${rec.width !== undefined ? ` --width ${rec.width}` : ''}${rec.textPretrained !== undefined ? ` --text-pretrained ${rec.textPretrained}` : ''}; it cannot continue with ${clash.join(' ')} (run the same command without them to resume it, or choose another --out)`,
      );
    }
    return rec;
  }
  if (existsSync(dir) && readdirSync(dir).some((f) => !f.startsWith(STUDY_LOCK))) throw new Error(`${dir}: exists and is not a study folder (no ${STUDY_FILE}); choose another --out or an empty folder`);
  const scale = o.scale ?? DEFAULT_STUDY_SCALE;
  const seed = o.seed ?? DEFAULT_STUDY_SEED;
  const stamp = new Date(now).toISOString();
  return {
    format: STUDY_FORMAT,
    kind: 'reproduce',
    scale,
    seed,
    ...(o.augment ? { augment: { ...STUDY_AUGMENT } } : {}),
    // the scale's own width is the default, not a setting
    ...(o.width !== undefined && o.width !== studyWidth(scale) ? { width: o.width } : {}),
    ...(textPretrained !== undefined ? { textPretrained } : {}),
    status: 'running',
    created: stamp,
    updated: stamp,
    seconds: 0,
    configs: {},
    steps: studySteps(scale).map((name) => ({ name, description: DESCRIPTIONS[name], status: 'pending', seconds: 0 })),
  };
}

/**
 * Writes the config of each of the study's run steps to DIR/configs (those
 * already there stay as they are: a run may have started from them). The
 * steps are the record's, so a study begun by an earlier version resumes
 * with the steps it planned.
 */
function writeConfigs(dir: string, rec: StudyRecord): Partial<Record<StudyConfigName, string>> {
  const out: Partial<Record<StudyConfigName, string>> = {};
  mkdirSync(join(dir, 'configs'), { recursive: true });
  const needed = new Set(rec.steps.flatMap((s) => RUN_STEPS[s.name]?.config ?? []));
  for (const [name, input] of Object.entries(studyConfigs(rec.scale, rec.seed, { augment: rec.augment, width: rec.width, textPretrained: rec.textPretrained })) as [StudyConfigName, ExperimentConfigInput][]) {
    if (!needed.has(name)) continue;
    const path = join(dir, 'configs', `${name}.mrcl.json`);
    if (!existsSync(path)) writeJsonAtomic(path, input);
    out[name] = path;
    rec.configs[name] = relative(dir, path);
  }
  return out;
}

/** Planned training steps of every step (the ETA's total); undefined where a step cannot be planned yet. */
function plannedWork(rec: StudyRecord, configs: Partial<Record<StudyConfigName, string>>): [string, number][] | undefined {
  const spec = scaleSpec(rec.scale);
  const work: [string, number][] = [];
  try {
    for (const step of rec.steps) {
      const run = RUN_STEPS[step.name];
      if (step.name === 'medicalnet-standin') work.push([step.name, spec.standin.epochs * Math.ceil(spec.standin.cases / spec.standin.batchSize)]);
      else if (run) {
        const loaded = loadConfig(configs[run.config]!);
        const config = absolutizePaths(loaded.config, loaded.baseDir);
        work.push([step.name, totalSteps(config, openDataset(config, '/'), planFor(run.kind, config))]);
      } else work.push([step.name, 0]);
    }
  } catch {
    return undefined; // the step that cannot be planned fails with its own message when it runs
  }
  return work;
}

const clock = (s: number): string => {
  const t = Math.round(s);
  const h = Math.floor(t / 3600);
  const mm = String(Math.floor((t % 3600) / 60)).padStart(2, '0');
  const ss = String(t % 60).padStart(2, '0');
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
};

export async function reproduceStudy(o: ReproduceOptions): Promise<ReproduceOutcome> {
  const now = o.now ?? (() => Date.now());
  const dir = resolve(o.out ?? defaultStudyDir(o.seed ?? DEFAULT_STUDY_SEED));
  mkdirSync(dir, { recursive: true });
  // one writer per study folder: taken before study.json is read
  const lockPath = join(dir, STUDY_LOCK);
  const token = acquireLock(lockPath, `study ${dir}`);
  try {
    return await runSteps(dir, openStudy(dir, o, now()), o, now);
  } finally {
    releaseLock(lockPath, token);
  }
}

async function runSteps(dir: string, rec: StudyRecord, o: ReproduceOptions, now: () => number): Promise<ReproduceOutcome> {
  const started = now();
  const elapsed = () => clock((now() - started) / 1000);
  const save = () => {
    rec.updated = new Date(now()).toISOString();
    writeJsonAtomic(join(dir, STUDY_FILE), rec);
  };
  const spec = scaleSpec(rec.scale);
  const configs = writeConfigs(dir, rec);
  // a step still marked running was cut short (a killed process; the lock says no other runs it)
  for (const s of rec.steps) if (s.status === 'running') s.status = 'interrupted';
  rec.status = 'running';
  delete rec.interrupted;
  delete rec.error;
  save();
  if (rec.scale === 'paper' && configs.experiment) {
    const { config } = loadConfig(configs.experiment);
    const runs = rec.steps.flatMap((st) => RUN_STEPS[st.name] ?? []);
    const pretrainings = runs.reduce((n, r) => n + planFor(r.kind, loadConfig(configs[r.config]!).config).pretrain.length, 0);
    const warning = paperScaleWarning(await setBackend(config.backend, { training: true, precision: config.precision }), pretrainings, config.pretrain.epochs);
    if (warning) o.emit({ type: 'log', level: 'warn', message: warning });
  }
  o.emit({ type: 'log', level: 'info', message: `study ${dir}: scale ${rec.scale}, seed ${rec.seed}${rec.augment ? `, pretraining augmentation (shift ${rec.augment.shift}, intensity ${rec.augment.intensity})` : ''}${rec.width !== undefined ? `, image encoder width ${rec.width} (the scale's ${studyWidth(rec.scale)})` : ''}${rec.textPretrained !== undefined ? `, text encoder ${rec.textPretrained} (pretrained)` : ''}, steps ${rec.steps.map((s) => s.name).join(' → ')}` });

  const ran: StepName[] = [];
  const skipped: StepName[] = [];
  let progress: StudyProgress | undefined;
  const planProgress = () => {
    const work = plannedWork(rec, configs);
    if (work) progress = new StudyProgress(work, now);
  };
  if (rec.steps.find((s) => s.name === 'cohort')?.status === 'done') planProgress();

  for (const [i, step] of rec.steps.entries()) {
    const label = `study/${step.name}`;
    // the report is rendered again whenever a step before it ran in this invocation (e.g. an external check retried)
    if (step.status === 'done' && !(step.name === 'report' && ran.length > 0)) {
      skipped.push(step.name);
      o.emit({ type: 'stage', stage: label, status: 'skipped', detail: 'done earlier' });
      continue;
    }
    const t0 = now();
    const resumed = step.status === 'interrupted' || step.status === 'failed' ? ' (resumed)' : '';
    step.status = 'running';
    step.startedAt = new Date(t0).toISOString();
    delete step.error;
    save();
    ran.push(step.name);
    o.emit({ type: 'stage', stage: label, status: 'started', detail: `step ${i + 1}/${rec.steps.length}${resumed}, study elapsed ${elapsed()}` });
    const emit = progress ? progress.sink(step.name, o.emit) : o.emit;
    const finish = (status: StudyStep['status']) => {
      step.status = status;
      step.seconds += (now() - t0) / 1000;
      rec.seconds += (now() - t0) / 1000;
      if (status === 'done') step.finishedAt = new Date(now()).toISOString();
    };
    try {
      if (o.signal?.aborted) throw new CancelledError(step.name);
      const run = RUN_STEPS[step.name];
      if (step.name === 'cohort') {
        await synthesizeCohort({
          out: join(dir, 'cohort'),
          internal: spec.cohort.internal,
          external: spec.cohort.external,
          shape: spec.cohort.shape,
          seed: rec.seed,
          markers: 'paper',
          // stops between cases; the next invocation keeps the cases already made (synthesizeCohort resumes)
          onProgress: cohortProgress(label, step.name, o.emit, o.signal, now),
        });
      } else if (step.name === 'medicalnet-standin') {
        await standinStep(dir, configs.experiment!, rec.seed, spec.standin, o.signal, emit);
      } else if (run) {
        const outcome = await runStep(dir, step, configs[run.config]!, run.kind, o.signal, emit, save);
        if (outcome.status === 'cancelled') throw new CancelledError(step.name);
        if (outcome.status === 'failed') throw new Error(`${outcome.error ?? 'the run failed'} (run folder ${outcome.runDir})`);
      } else if (step.name === 'external-check') {
        await externalCheckStep(dir, rec, spec.externalCheck, spec.cohort.shape, o.signal, emit, cohortProgress(`${label}/cohort`, step.name, o.emit, o.signal, now));
      } else if (step.name === 'probe') {
        await probeStep(dir, rec, o.signal, emit);
      } else if (step.name === 'report') {
        const report = renderStudyReport(dir);
        o.emit({ type: 'artifact', stage: label, kind: 'results', path: join(dir, 'report.md') });
        o.emit({ type: 'log', level: 'info', message: `report: ${join(dir, 'report.md')}, ${join(dir, 'report.html')} (${report.figures.length} figures)` });
      }
      finish('done');
      save();
      o.emit({ type: 'stage', stage: label, status: 'done', detail: `in ${clock((now() - t0) / 1000)}, study elapsed ${elapsed()}` });
      if (step.name === 'cohort' || (step.name === 'medicalnet-standin' && !progress)) planProgress();
    } catch (e) {
      if (e instanceof CancelledError) {
        finish('interrupted');
        rec.status = 'cancelled';
        rec.interrupted = step.name;
        save();
        o.emit({ type: 'stage', stage: label, status: 'cancelled', detail: `study elapsed ${elapsed()}; run the same command again to resume` });
        return { status: 'cancelled', dir, ran, skipped };
      }
      const message = e instanceof Error ? e.message : String(e);
      finish('failed');
      step.error = message;
      if (step.name === 'external-check' || step.name === 'probe') {
        // beyond the verdict: its failure is recorded (the report says why it is not measured) and the report still runs; the next invocation tries it again
        save();
        o.emit({ type: 'stage', stage: label, status: 'failed', detail: message });
        o.emit({ type: 'log', level: 'warn', message: `${step.name === 'probe' ? 'linear probe' : 'external check'} not done (${message}); the report is written without it` });
        continue;
      }
      rec.status = 'failed';
      rec.error = `${step.name}: ${message}`;
      save();
      o.emit({ type: 'stage', stage: label, status: 'failed', detail: message });
      return { status: 'failed', dir, ran, skipped, error: rec.error };
    }
  }
  rec.status = 'done';
  save();
  return { status: 'done', dir, ran, skipped };
}

async function standinStep(
  dir: string,
  configPath: string,
  seed: number,
  sizes: { cases: number; heldOut: number; epochs: number; batchSize: number },
  signal: AbortSignal | undefined,
  emit: (e: EngineEvent) => void,
): Promise<void> {
  const { config } = loadConfig(configPath) as { config: ExperimentConfig };
  await setBackend(config.backend, { training: true, precision: config.precision });
  const stage = 'medicalnet-standin';
  const total = sizes.epochs * Math.ceil(sizes.cases / sizes.batchSize);
  const result = await trainMedicalNetStandin({
    config,
    out: join(dir, 'medicalnet-standin.pth'),
    ...sizes,
    seed,
    signal,
    onProgress: (p) => {
      if (p.phase === 'train') emit({ type: 'progress', stage, done: (p.epoch - 1) * p.steps + p.step, total, epoch: p.epoch - 1, epochs: p.epochs });
      else if (p.phase === 'epoch') emit({ type: 'log', level: 'info', message: `${stage} epoch ${p.epoch}/${p.epochs}: mean loss ${p.loss.toFixed(4)}` });
    },
  });
  emit({ type: 'artifact', stage, kind: 'checkpoint', path: result.checkpoint });
}

/**
 * The paper scale (240×240×155, width 64, 400 pretraining epochs, the
 * ablations) is for a GPU: on any other backend the study says, before it
 * starts, what it would cost (the step time: PAPER_SCALE_CPU_STEP).
 */
export function paperScaleWarning(backend: BackendInfo, pretrainings: number, epochs: number): string | undefined {
  if (backend.provider === '@tensorflow/tfjs-node-gpu') return undefined;
  return `scale paper on ${backend.name} (${backend.provider}), not a GPU: the paper's sizes are for a GPU server (@tensorflow/tfjs-node-gpu, backend tensorflow-gpu). On 2 CPU cores one pretraining step of 4 pairs at 240×240×155 takes about ${PAPER_SCALE_CPU_STEP}, and this study runs ${pretrainings} ${pretrainings === 1 ? 'pretraining' : 'pretrainings'} of ${epochs} epochs. Stop it (Ctrl-C) unless that is intended; the quick and full scales are made for CPUs`;
}

/**
 * Progress of a synthetic cohort (cases written of all, with an ETA from this
 * cohort's own rate; at the paper's 240×240×155 a case takes seconds, so the
 * cohort is a step of its own in time), and the cancellation check between
 * cases: the next invocation keeps the cases a cancelled cohort finished.
 */
export function cohortProgress(stage: string, step: StepName, emit: (e: EngineEvent) => void, signal: AbortSignal | undefined, now: () => number): (done: number, total: number, kept: number) => void {
  const t0 = now();
  return (done, total, kept) => {
    if (signal?.aborted) throw new CancelledError(step);
    const seconds = (now() - t0) / 1000;
    // the rate of the cases made in this invocation (kept ones take no time)
    const made = done - kept;
    emit({ type: 'progress', stage, done, total, ...(made > 0 ? { etaSeconds: (seconds * (total - done)) / made } : {}) });
  };
}

/** The experiment step's run folder, for the steps that read it. */
function experimentRun(dir: string, rec: StudyRecord, what: string): RunFolder {
  const runDir = rec.steps.find((s) => s.name === 'experiment')?.runDir;
  if (!runDir) throw new Error(`${join(dir, STUDY_FILE)}: the experiment step has no run folder to ${what}`);
  return RunFolder.open(dataPath(dir, ...runDir.split(/[\\/]/)));
}

/**
 * The external check: `spec.externalCheck` more external cases from the same
 * generator (seed + EXTERNAL_CHECK_SEED_OFFSET) in DIR/external-check-cohort,
 * scored by the experiment's fold models as they are (`mrcl evaluate RUN
 * --external … --name external-check`). The study's own external cohort is
 * small (a few positive cases at the quick scale); this measures the same
 * models on more cases. Beyond the verdict, which stays the paper's protocol.
 */
async function externalCheckStep(
  dir: string,
  rec: StudyRecord,
  cases: number,
  shape: [number, number, number],
  signal: AbortSignal | undefined,
  emit: (e: EngineEvent) => void,
  onCohortProgress: (done: number, total: number, kept: number) => void,
): Promise<void> {
  const run = experimentRun(dir, rec, 'evaluate');
  const out = join(dir, 'external-check-cohort');
  await synthesizeCohort({
    out,
    internal: 0,
    external: cases,
    shape,
    seed: rec.seed + EXTERNAL_CHECK_SEED_OFFSET,
    markers: 'paper',
    onProgress: onCohortProgress,
  });
  const config = run.config;
  await setBackend(config.backend, { training: false, precision: config.precision });
  try {
    await evaluateExternal(run, { manifest: join(out, 'manifest.json'), name: EXTERNAL_CHECK, emit, signal });
  } catch (e) {
    if (signal?.aborted) throw new CancelledError('external-check');
    throw e;
  }
}

/**
 * The linear probe (`mrcl probe RUN`) of the experiment's arms, with the
 * external check's cohort as its extra cohort when that step made it. Beyond
 * the verdict.
 */
async function probeStep(dir: string, rec: StudyRecord, signal: AbortSignal | undefined, emit: (e: EngineEvent) => void): Promise<void> {
  const run = experimentRun(dir, rec, 'probe');
  const checkCohort = join(dir, 'external-check-cohort', 'manifest.json');
  const checked = rec.steps.find((s) => s.name === 'external-check')?.status === 'done' && existsSync(checkCohort);
  await setBackend(run.config.backend, { training: false, precision: run.config.precision });
  try {
    await linearProbe(run, { ...(checked ? { external: { manifest: checkCohort, name: EXTERNAL_CHECK } } : {}), emit, signal });
  } catch (e) {
    if (signal?.aborted) throw new CancelledError('probe');
    throw e;
  }
}

/** Runs (or resumes, through its recorded run folder) one experiment or ablation of the study. */
async function runStep(
  dir: string,
  step: StudyStep,
  configPath: string,
  kind: 'experiment' | 'ablation',
  signal: AbortSignal | undefined,
  emit: (e: EngineEvent) => void,
  save: () => void,
) {
  const onRunDir = (runDir: string) => {
    if (step.runDir !== relative(dir, runDir)) {
      step.runDir = relative(dir, runDir);
      save(); // recorded before any unit runs: a kill from here on resumes this folder
    }
  };
  const previous = step.runDir ? dataPath(dir, ...step.runDir.split(/[\\/]/)) : undefined;
  if (previous && existsSync(join(previous, 'config.json'))) {
    emit({ type: 'log', level: 'info', message: `${step.name}: resuming ${previous}` });
    return runStudy({ kind, runDir: previous, signal, emit, onRunDir });
  }
  const loaded = loadConfig(configPath);
  return runStudy({ kind, config: loaded.config, baseDir: loaded.baseDir, signal, emit, onRunDir });
}


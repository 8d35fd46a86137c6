// experiment, ablate, pretrain, finetune, unit, evaluate: the long-running
// commands, all through the engine's study runner (same code as the
// extension's worker).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readResults } from '../../engine/results';
import { loadConfig } from '../../engine/config/resolve';
import { runStudy, runUnit, readPlan, type StudyKind } from '../../engine/experiment/study';
import { findUnit, pretrainPlan, finetunePlan, variantConfig, type Plan } from '../../engine/experiment/units';
import { addGlobalSpread } from '../../engine/explain/export-cross-attention';
import { collapseWarning, locationWeightOf } from '../../engine/metrics/embedding-spread';
import { RunFolder } from '../../engine/training/run-folder';
import { RUN_LOCK_ENV } from '../../engine/training/run-lock';
import { PROFILE_ENV } from '../../engine/training/profile';
import { checkFingerprint } from '../../engine/experiment/fingerprint';
import { openDataset } from '../../engine/training/dataset';
import { setBackend } from '../../engine/backend';
import { evaluateRun } from '../../engine/experiment/evaluate';
import { evaluateExternal } from '../../engine/experiment/external-eval';
import { DEFAULT_PROBE_C, linearProbe } from '../../engine/experiment/probe';
import { readRunData, armLabelOf, type RunData } from '../../engine/study/run-data';
import { crossAttentionLine, tumourReachLine } from '../../engine/study/report-doc';
import type { MetricKey, Split } from '../../engine/results/types';
import { compareArms, START_ARM, withPretrainingStart } from '../../engine/study/verdict';
import type { Initialization } from '../../engine/training/finetune';
import { intOption, UsageError, type Command, type CommandContext, type ParsedArgs } from '../command';
import { eventPrinter } from '../events';
import { checkSlurmFlags, slurmFlags, submitFromCli } from './slurm';

/** The warnings of a run's tables (results.json), one line each on stderr. */
export function printResultsWarnings(runDir: string | undefined, ctx: CommandContext): void {
  const path = runDir && join(runDir, 'results.json');
  if (!path || !existsSync(path)) return;
  for (const w of readResults(path).warnings ?? []) ctx.stderr(`${w}\n`);
}

const common = {
  resume: { type: 'string', valueName: 'RUN', description: 'Resume the run folder RUN (its recorded config is used)' },
  workers: { type: 'string', valueName: 'N', description: 'Run independent units (folds, ablations) as N parallel processes', default: '1' },
  json: { type: 'boolean', description: 'Print events as JSON lines on stdout' },
  profile: { type: 'boolean', description: "Write each training stage's time by phase and by TF.js kernel to its profile.md and profile.json (as MRCL_PROFILE=1; slower)" },
} as const;

async function study(kind: StudyKind, args: ParsedArgs, ctx: CommandContext, plan?: (config: ReturnType<typeof loadConfig>['config']) => Plan): Promise<number> {
  const print = eventPrinter(ctx, Boolean(args.values.json));
  const resume = typeof args.values.resume === 'string' ? resolve(args.values.resume) : undefined;
  const configPath = args.positionals[0];
  if (!resume && !configPath) throw new UsageError('CONFIG is required (or --resume RUN)');
  checkSlurmFlags(args);
  if (args.values.profile) process.env[PROFILE_ENV] = '1'; // worker processes inherit it
  if (args.values.slurm) {
    if (resume) throw new UsageError('--slurm with --resume: use `mrcl resume RUN --slurm`');
    if (kind !== 'experiment' && kind !== 'ablation') throw new UsageError(`--slurm is for experiment and ablate`);
    return submitFromCli(kind, loadConfig(configPath!), args, ctx);
  }
  const loaded = resume ? undefined : loadConfig(configPath!);
  const outcome = await runStudy({
    kind,
    config: loaded?.config,
    baseDir: loaded?.baseDir,
    runDir: resume,
    plan: loaded && plan ? plan(loaded.config) : undefined,
    workers: intOption(args.values.workers, 'workers') ?? 1,
    signal: ctx.signal,
    emit: print,
    onRunDir: (dir) => ctx.stderr(`run folder: ${dir}\n`),
  });
  if (outcome.status === 'done') {
    printResultsWarnings(outcome.runDir, ctx);
    ctx.stderr(`done: ${outcome.runDir}\n`);
    return 0;
  }
  if (outcome.status === 'cancelled') {
    ctx.stderr(`cancelled; resume with: mrcl ${kind === 'ablation' ? 'ablate' : kind} --resume ${outcome.runDir}\n`);
    return 130;
  }
  ctx.stderr(`failed: ${outcome.error}\n(run folder ${outcome.runDir}; fix the problem and resume with --resume)\n`);
  return 1;
}

const configArg = [{ name: 'CONFIG', description: 'experiment config (.mrcl.json)', required: false }];

export const experimentCommand: Command = {
  name: 'experiment',
  summary: "The paper's whole protocol: pretraining, then fine-tuning with 3 initialisations × k folds, internal and external evaluation, Dice, t-tests, tables.",
  usage: 'mrcl experiment CONFIG [--workers N] [--json] | mrcl experiment CONFIG --slurm [--dry-run] [--partition P] ... | mrcl experiment --resume RUN',
  positionals: configArg,
  options: { ...common, ...slurmFlags },
  run: (args, ctx) => study('experiment', args, ctx),
};

export const ablateCommand: Command = {
  name: 'ablate',
  summary: 'The five ablations (global only, local only, location excluded, contrastive loss, hard negatives) and the proposed method → Table 5.',
  usage: 'mrcl ablate CONFIG [--workers N] [--json] | mrcl ablate CONFIG --slurm [--dry-run] [--partition P] ... | mrcl ablate --resume RUN',
  positionals: configArg,
  options: { ...common, ...slurmFlags },
  run: (args, ctx) => study('ablation', args, ctx),
};

export const pretrainCommand: Command = {
  name: 'pretrain',
  summary: 'Contrastive MRI–report pretraining alone (writes pretrain/model.safetensors, tokenizer.json, cross-attention).',
  usage: 'mrcl pretrain CONFIG [--json] [--profile] | mrcl pretrain --resume RUN [--profile]',
  positionals: configArg,
  options: { resume: common.resume, json: common.json, profile: common.profile },
  run: (args, ctx) => study('pretrain', args, ctx, () => pretrainPlan()),
};

export const finetuneCommand: Command = {
  name: 'finetune',
  summary: 'Fine-tuning alone: the given initialisations × k folds, with evaluation and tables.',
  usage: 'mrcl finetune CONFIG [--init random,medicalnet,pretrained] [--pretrained RUN] [--workers N] [--json]',
  positionals: configArg,
  options: {
    ...common,
    init: { type: 'string', valueName: 'LIST', description: 'Initialisations, comma-separated (default: finetune.initializations)' },
    pretrained: { type: 'string', valueName: 'RUN', description: "A pretraining run folder whose pretrain/ model initialises 'pretrained'" },
  },
  run: (args, ctx) =>
    study('finetune', args, ctx, (config) => {
      const inits = typeof args.values.init === 'string' ? (args.values.init.split(',').map((s) => s.trim()) as Initialization[]) : config.finetune.initializations;
      for (const i of inits) if (!['random', 'medicalnet', 'pretrained'].includes(i)) throw new UsageError(`--init: unknown initialisation "${i}"`);
      const from = typeof args.values.pretrained === 'string' ? resolve(args.values.pretrained, 'pretrain') : undefined;
      return finetunePlan(config, inits, from);
    }),
};

export const unitCommand: Command = {
  name: 'unit',
  summary: 'Run one unit (a pretraining stage or an arm × fold) of an existing run folder; used by --workers and cluster array tasks.',
  usage: 'mrcl unit RUN UNIT [--json]',
  positionals: [
    { name: 'RUN', description: 'run folder', required: true },
    { name: 'UNIT', description: 'unit id, e.g. pretrain or finetune/random/fold-0', required: true },
  ],
  options: { json: common.json },
  async run(args, ctx) {
    const run = RunFolder.open(resolve(args.positionals[0]!));
    const unit = findUnit(readPlan(run), args.positionals[1]!);
    checkFingerprint(run); // a Slurm task starting after the data changed refuses too
    const config = run.config;
    await setBackend(config.backend, { training: true, precision: config.precision });
    const ds = openDataset(config, '/');
    const print = eventPrinter(ctx, Boolean(args.values.json));
    run.subscribe(print);
    await runUnit(run, unit, ds, { signal: ctx.signal, emit: (e) => run.emit(e), runToken: process.env[RUN_LOCK_ENV] });
    return 0;
  },
};

/** `mrcl evaluate RUN --global-spread`: each exported pretraining stage's globalSpread, added to its retrieval.json, one line each (and the collapse warning) on stdout. */
async function addRunGlobalSpread(run: RunFolder, ctx: CommandContext): Promise<void> {
  const config = run.config;
  const stages = readPlan(run).pretrain.filter((u) => existsSync(run.path(u.stage, 'retrieval.json')));
  if (stages.length === 0) throw new Error(`${run.dir}: no pretraining stage has a retrieval.json to add the spread to`);
  await setBackend(config.backend, { training: false, precision: config.precision });
  const ds = openDataset(config, '/');
  for (const u of stages) {
    const stageConfig = variantConfig(config, u.variant);
    const b = await addGlobalSpread(stageConfig, ds, run.path(u.stage));
    const s = b.globalSpread;
    ctx.stdout(
      `${u.stage}: global embeddings on ${s.cases} ${b.pairs} pairs: mean cosine of different cases ${s.image.toFixed(4)} (images), ${s.report.toFixed(4)} (reports); an image with its own report ${s.ownPair.toFixed(4)}, with another's ${s.otherPair.toFixed(4)}${b.written ? '' : ' (already recorded; checked, not written)'}\n`,
    );
    const w = collapseWarning(u.stage, b.pairs, s, b.standardisedEps, locationWeightOf(stageConfig.loss));
    if (w) ctx.stderr(`warning: ${w}\n`);
  }
}

/** The CL arm against random and MedicalNet initialisation, where the run has them, one line each on stderr, as the study verdict words them. */
function printClComparisons(data: RunData, what: readonly [Split, MetricKey][], prefix: string, ctx: CommandContext, others: readonly string[] = ['random', 'medicalnet']): void {
  if (!data.units.some((u) => u.arm === 'pretrained')) return;
  for (const other of others) {
    if (!data.units.some((u) => u.arm === other)) continue;
    for (const [split, metric] of what) {
      const c = compareArms(data, 'pretrained', other, split, metric, `${split}-${metric}-${other}`, `${prefix}${armLabelOf(data, 'pretrained')} vs ${armLabelOf(data, other)}`);
      ctx.stderr(`${c.claim}: ${c.detail}\n`);
    }
  }
}

export const evaluateCommand: Command = {
  name: 'evaluate',
  summary:
    "Recompute every unit's metrics from its saved predictions and rebuild the run's tables (results.json, results.md, tables/); with --external, score the run's fine-tuned fold models on another external cohort without training (into RUN/external/NAME/).",
  usage: 'mrcl evaluate RUN [--maps] [--global-spread] [--external MANIFEST [--name NAME]] [--json]',
  positionals: [{ name: 'RUN', description: 'run folder', required: true }],
  options: {
    external: { type: 'string', valueName: 'MANIFEST', description: "Score every finished fold model on this manifest's external cases with a fusion or V600E label (each model reloaded from its last checkpoint and checked against its saved predictions first); tables with the run's internal results and this cohort as the external one" },
    name: { type: 'string', valueName: 'NAME', description: "The evaluation's folder under RUN/external/ (default: the manifest's folder name)" },
    json: { type: 'boolean', description: 'Print events as JSON lines on stdout (with --external)' },
    maps: { type: 'boolean', description: "First recompute the attention maps' threshold-free measures (mass in tumour, peak in tumour) from each unit's saved heatmaps and the masks, for runs made before they were saved" },
    'global-spread': {
      type: 'boolean',
      description:
        "First add to each pretraining stage's retrieval.json whether its global embeddings are collapsed (globalSpread, measured on the pairs retrieval was measured on, from the stage's model; its retrieval is checked against the stored one first), for runs made before it was recorded",
    },
  },
  async run(args, ctx) {
    const run = RunFolder.open(resolve(args.positionals[0]!));
    if (args.values.maps && typeof args.values.external === 'string') throw new UsageError('--maps rescores the run itself: run it without --external');
    if (args.values['global-spread'] && typeof args.values.external === 'string') throw new UsageError('--global-spread measures the run itself: run it without --external');
    if (typeof args.values.external !== 'string') {
      if (typeof args.values.name === 'string') throw new UsageError('--name goes with --external');
      if (args.values.json) throw new UsageError('--json goes with --external');
    }
    if (typeof args.values.external === 'string') {
      const config = run.config;
      await setBackend(config.backend, { training: false, precision: config.precision });
      const json = Boolean(args.values.json);
      let out: Awaited<ReturnType<typeof evaluateExternal>>;
      try {
        out = await evaluateExternal(run, { manifest: args.values.external, name: typeof args.values.name === 'string' ? args.values.name : undefined, emit: eventPrinter(ctx, json), signal: ctx.signal });
      } catch (e) {
        if (!ctx.signal?.aborted) throw e;
        ctx.stderr(`cancelled; the units scored so far are kept: run the same command again to go on\n`);
        return 130;
      }
      printResultsWarnings(out.dir, ctx);
      const data = readRunData(out.dir);
      if (data.doc.kind === 'experiment') printClComparisons(data, [['external', 'auc'], ['external', 'dice3d']], '', ctx);
      // with --json, stdout holds only the events
      (json ? ctx.stderr : ctx.stdout)(`scored ${out.evaluated} units on ${args.values.external} (${out.skipped} already done); tables: ${out.results}\n`);
      return 0;
    }
    if (args.values['global-spread']) {
      await addRunGlobalSpread(run, ctx);
      // a pretraining run has no units' metrics to recompute
      if (readPlan(run).finetune.length === 0) return 0;
    }
    const { units: n, results: md, rescored } = evaluateRun(run, { maps: Boolean(args.values.maps) });
    printResultsWarnings(run.dir, ctx);
    if (rescored) ctx.stdout(`rescored the maps of ${rescored.cases} cases in ${rescored.units} units from their heatmaps\n`);
    ctx.stdout(`recomputed ${n} units; tables: ${md}\n`);
    return 0;
  },
};

export const probeCommand: Command = {
  name: 'probe',
  summary:
    "Linear probe of each arm's frozen starting encoder: per fold, a logistic regression on the encoder's global features of the fold's training cases, scored on its test cases and the external cohort, and the same encoder's attention maps scored against the masks (Dice, mass on the tumour), before any fine-tuning; also the pretraining stage's report → image cross-attention scored against the masks, and, on a synthetic cohort, how far the tumour reaches into each arm's frozen features (each case rendered again without its tumour) (into RUN/probe/, tables like a run's, RUN/probe/cross-attention.json and RUN/probe/tumour-reach.json; beyond the paper).",
  usage: 'mrcl probe RUN [--external MANIFEST [--name NAME]] [--c C] [--json]',
  positionals: [{ name: 'RUN', description: 'run folder (an experiment, ablation or finetune run)', required: true }],
  options: {
    external: { type: 'string', valueName: 'MANIFEST', description: "Also score this manifest's external cases with a fusion or V600E label (into RUN/probe/external/NAME/)" },
    name: { type: 'string', valueName: 'NAME', description: "The extra cohort's folder under RUN/probe/external/ (default: the manifest's folder name)" },
    c: { type: 'string', valueName: 'C', description: `Inverse L2 penalty of the logistic regression (scikit-learn's C; default ${DEFAULT_PROBE_C})` },
    json: { type: 'boolean', description: 'Print events as JSON lines on stdout' },
  },
  async run(args, ctx) {
    const run = RunFolder.open(resolve(args.positionals[0]!));
    if (typeof args.values.name === 'string' && typeof args.values.external !== 'string') throw new UsageError('--name goes with --external');
    let C: number | undefined;
    if (typeof args.values.c === 'string') {
      C = Number(args.values.c);
      if (!(C > 0) || !Number.isFinite(C)) throw new UsageError(`--c must be a positive number (got ${JSON.stringify(args.values.c)})`);
    }
    const config = run.config;
    await setBackend(config.backend, { training: false, precision: config.precision });
    const json = Boolean(args.values.json);
    let out: Awaited<ReturnType<typeof linearProbe>>;
    try {
      out = await linearProbe(run, {
        C,
        external: typeof args.values.external === 'string' ? { manifest: args.values.external, name: typeof args.values.name === 'string' ? args.values.name : undefined } : undefined,
        emit: eventPrinter(ctx, json),
        signal: ctx.signal,
      });
    } catch (e) {
      if (!ctx.signal?.aborted) throw e;
      ctx.stderr('cancelled; the units probed so far are kept: run the same command again to go on\n');
      return 130;
    }
    const probed = readRunData(out.dir);
    for (const dir of [out.dir, out.externalDir].filter((d): d is string => d !== undefined)) {
      printResultsWarnings(dir, ctx);
      // the extra cohort's folder repeats the internal rows: only its external comparison is new
      // the frozen encoders' attention maps: Dice and mass on the internal test cases
      const splits: [Split, MetricKey][] = dir === out.externalDir ? [['external', 'auc']] : [['internal', 'auc'], ['external', 'auc'], ['internal', 'dice3d'], ['internal', 'mass3d']];
      printClComparisons(dir === out.dir ? probed : readRunData(dir), splits, `linear probe${dir === out.externalDir ? ` (${dir})` : ''}: `, ctx);
    }
    // what pretraining changed: CL's pretrained encoder against the one its pretraining started from
    if (out.startDir) printClComparisons(withPretrainingStart(probed, readRunData(out.startDir)), [['internal', 'auc'], ['internal', 'dice3d'], ['internal', 'mass3d']], 'linear probe, after vs before pretraining: ', ctx, [START_ARM]);
    // where the reports' words look: the pretraining stages' cross-attention against the masks
    for (const s of out.crossAttention?.stages ?? []) ctx.stderr(`${crossAttentionLine(s)}\n`);
    // how far the tumour reaches into the frozen features (synthetic cohorts)
    if (out.tumourReach) ctx.stderr(`${tumourReachLine(out.tumourReach.file)}\n`);
    (json ? ctx.stderr : ctx.stdout)(`probed ${out.probed} units (${out.skipped} already done); tables: ${[out.results, out.externalResults, out.startResults].filter(Boolean).join(', ')}\n`);
    return 0;
  },
};

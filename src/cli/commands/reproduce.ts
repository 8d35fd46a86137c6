// `mrcl study reproduce [--out DIR] [--seed S] [--scale quick|full|paper|tiny] [--augment] [--width W] [--text-pretrained DIR]`:
// the paper's protocol on a synthetic cohort, resumable step by step
// (src/engine/study/reproduce.ts).
import { join, resolve } from 'node:path';
import { defaultStudyDir, DEFAULT_STUDY_SEED, reproduceStudy } from '../../engine/study/reproduce';
import { PAPER_SCALE_CPU_STEP, STUDY_AUGMENT, STUDY_SCALES, studyWidth, type StudyScale } from '../../engine/study/scales';
import { PAPER_SCALE } from '../../engine/results/paper';
import { STUDY_FILE } from '../../engine/study/record';
import { renderStudyReport } from '../../engine/study/report';
import { readSeedStudies, seedsMarkdown, summarizeSeeds } from '../../engine/study/seeds';
import { writeFileAtomic } from '../../engine/io/atomic';
import { intOption, UsageError, type Command, type CommandContext, type ParsedArgs } from '../command';
import { eventPrinter } from '../events';

export const studyCommand: Command = {
  name: 'study',
  summary:
    "`reproduce`: the paper's whole protocol on a synthetic cohort shaped like its data (cohort, MedicalNet stand-in, 3 arms × 5 folds, location-weighting check, Table 5 ablations at --scale full and paper, report), in one resumable study folder. `report DIR`: renders that folder's report again from its runs. `seeds DIR…`: studies of one scale with different seeds side by side, claim by claim, with how many seeds reproduce each claim and a test across the seeds.",
  usage: `mrcl study reproduce [--out DIR] [--seed S] [--scale ${STUDY_SCALES.join('|')}] [--augment] [--width W] [--text-pretrained DIR] [--json] | mrcl study report DIR | mrcl study seeds DIR DIR… [--out FILE] [--json]`,
  positionals: [
    {
      name: 'ACTION',
      description: 'reproduce; report: (re)render DIR/report.md, report.html and figures/ from the runs in DIR/study.json; seeds: summarise two or more study folders of one scale and cohort size with different seeds',
      required: true,
    },
    { name: 'DIR', description: 'the study folder (report), the study folders (seeds)', required: false, variadic: true },
  ],
  options: {
    out: {
      type: 'string',
      short: 'o',
      valueName: 'DIR',
      description: `reproduce: the study folder (default: study-<seed>); running the command again on it resumes the study. seeds: the Markdown file to write (default: print it)`,
    },
    seed: { type: 'string', valueName: 'S', description: `Seed of the cohort, the stand-in, the folds and training (default: the study's, else ${DEFAULT_STUDY_SEED})` },
    scale: {
      type: 'string',
      valueName: 'SCALE',
      description: `quick (about 30 min on 2 cores), full (about 4 h; adds the Table 5 ablations), paper (the paper's sizes: ${PAPER_SCALE.pretrain.pairs} + ${PAPER_SCALE.external.cases} cases at ${PAPER_SCALE.input.join('×')}, width ${PAPER_SCALE.image.width}, its epochs and learning rates, the ablations; for a GPU server: on 2 CPU cores one pretraining step of 4 pairs takes ${PAPER_SCALE_CPU_STEP}) or tiny (seconds; a smoke test, numbers mean nothing). Default: the study's, else quick`,
    },
    augment: {
      type: 'boolean',
      description: `reproduce: augment the images of every pretraining of the study (pretrain.augment: a shift of up to ${STUDY_AUGMENT.shift} voxels per axis and an intensity change of up to ${STUDY_AUGMENT.intensity}; ours, not the paper's method, docs/METHOD.md §6). Fine-tuning is unchanged. Recorded in study.json; a study made without it cannot continue with it`,
    },
    width: {
      type: 'string',
      valueName: 'W',
      description: `reproduce: the image encoder's width in every run of the study, the MedicalNet stand-in's included (default: the scale's, ${STUDY_SCALES.filter((k) => k !== 'tiny').map((k) => `${studyWidth(k)} for ${k}`).join(', ')}; the paper's ${PAPER_SCALE.image.width} is for a GPU server: on 2 CPU cores a width-64 pretraining step at the study's 8×8×5 grid takes about 11 s). Recorded in study.json; a study cannot continue with another`,
    },
    'text-pretrained': {
      type: 'string',
      valueName: 'DIR',
      description:
        "reproduce: a pretrained HuggingFace Longformer folder (config.json, weights, tokenizer; e.g. the paper's Clinical-Longformer) as every run's text encoder (text.pretrained; its last 2 layers trained, as the paper), instead of the scale's small encoder trained from scratch. Checked before the study starts; recorded in study.json; a study cannot continue with another",
    },
    json: { type: 'boolean', description: 'reproduce: print events as JSON lines on stdout; seeds: print the summary as JSON' },
  },
  async run(args, ctx) {
    const [action, studyDir, ...more] = args.positionals;
    if (action === 'seeds') return seedsAction(args.positionals.slice(1), args, ctx);
    if (more.length) throw new UsageError(`unexpected argument "${more[0]}"`, 'study');
    if (action === 'report') {
      if (!studyDir) throw new UsageError('report needs the study folder DIR', 'study');
      refuseStudySettings(args, 'report', 'the study folder has its own');
      const dir = resolve(studyDir);
      const r = renderStudyReport(dir);
      for (const c of r.verdict) ctx.stderr(`${c.status}: ${c.claim}\n`);
      ctx.stdout(`Report: ${join(dir, 'report.md')}\nHTML: ${join(dir, 'report.html')}\nFigures: ${r.figures.length} in ${join(dir, 'figures')}\n`);
      return 0;
    }
    if (action !== 'reproduce') throw new UsageError(`unknown action "${action}" (expected reproduce, report or seeds)`, 'study');
    if (studyDir !== undefined) throw new UsageError(`reproduce takes its folder as --out ${studyDir}`, 'study');
    const scaleArg = args.values.scale;
    if (scaleArg !== undefined && !STUDY_SCALES.includes(scaleArg as StudyScale)) {
      throw new UsageError(`--scale must be one of ${STUDY_SCALES.join(', ')}, got "${String(scaleArg)}"`, 'study');
    }
    const seed = intOption(args.values.seed, 'seed', 0);
    const out = resolve(typeof args.values.out === 'string' ? args.values.out : defaultStudyDir(seed ?? DEFAULT_STUDY_SEED));
    const outcome = await reproduceStudy({
      out,
      seed,
      scale: scaleArg as StudyScale | undefined,
      augment: args.values.augment === true,
      width: intOption(args.values.width, 'width', 1),
      ...(typeof args.values['text-pretrained'] === 'string' ? { textPretrained: args.values['text-pretrained'] } : {}),
      signal: ctx.signal,
      emit: eventPrinter(ctx, Boolean(args.values.json)),
    });
    const record = join(outcome.dir, STUDY_FILE);
    if (outcome.status === 'done') {
      const report = join(outcome.dir, 'report.md');
      ctx.stderr(`done: ${record}${outcome.ran.length ? '' : ' (every step was already done)'}\n`);
      // with --json stdout holds only the events
      (args.values.json ? ctx.stderr : ctx.stdout)(`Study: ${outcome.dir}\nReport: ${report}\n`);
      return 0;
    }
    if (outcome.status === 'cancelled') {
      ctx.stderr(`cancelled; resume with: mrcl study reproduce --out ${outcome.dir}\n`);
      return 130;
    }
    ctx.stderr(`failed: ${outcome.error}\n(${record} records it; fix the problem and run the same command again to resume)\n`);
    return 1;
  },
};

/** The settings a study records (--seed, --scale, --augment, --width, --text-pretrained) are reproduce's alone: `action` reads them from the study folders. */
function refuseStudySettings(args: ParsedArgs, action: 'report' | 'seeds', why: string): void {
  for (const k of ['seed', 'scale', 'augment', 'width', 'text-pretrained'] as const) if (args.values[k] !== undefined) throw new UsageError(`--${k} does not apply to ${action} (${why})`, 'study');
}

/** `mrcl study seeds DIR DIR… [--out FILE] [--json]` */
function seedsAction(dirs: string[], args: ParsedArgs, ctx: CommandContext): number {
  if (dirs.length < 2) throw new UsageError(`seeds needs at least 2 study folders, got ${dirs.length}`, 'study');
  refuseStudySettings(args, 'seeds', 'each study folder has its own');
  const studies = readSeedStudies(dirs);
  const summary = summarizeSeeds(studies);
  const markdown = seedsMarkdown(studies, summary);
  const out = typeof args.values.out === 'string' ? resolve(args.values.out) : undefined;
  if (out) {
    try {
      writeFileAtomic(out, [Buffer.from(markdown, 'utf8')]);
    } catch (e) {
      throw new Error(`${out}: cannot write: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    ctx.stderr(`Summary: ${out}\n`);
  }
  if (args.values.json) ctx.stdout(JSON.stringify({ studies: studies.map(({ dir, seed, scale, globalSpread }) => ({ dir, seed, scale, ...(globalSpread ? { globalSpread } : {}) })), claims: summary }, null, 2) + '\n');
  else if (!out) ctx.stdout(markdown);
  for (const c of summary) {
    const verdict = c.measured === 0 ? 'not measured' : c.holds ? 'holds across seeds' : 'does not hold across seeds';
    ctx.stderr(`${verdict}: ${c.claim} (reproduced in ${c.reproduced} of ${c.measured})\n`);
  }
  return 0;
}

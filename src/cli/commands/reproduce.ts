// `mrcl study reproduce [--out DIR] [--seed S] [--scale quick|full|tiny]`:
// the paper's protocol on a synthetic cohort, resumable step by step
// (src/engine/study/reproduce.ts).
import { join, resolve } from 'node:path';
import { defaultStudyDir, DEFAULT_STUDY_SEED, reproduceStudy } from '../../engine/study/reproduce';
import { STUDY_SCALES, type StudyScale } from '../../engine/study/scales';
import { STUDY_FILE } from '../../engine/study/record';
import { renderStudyReport } from '../../engine/study/report';
import { intOption, UsageError, type Command } from '../command';
import { eventPrinter } from '../events';

export const studyCommand: Command = {
  name: 'study',
  summary:
    "`reproduce`: the paper's whole protocol on a synthetic cohort shaped like its data (cohort, MedicalNet stand-in, 3 arms × 5 folds, location-weighting check, Table 5 ablations at --scale full, report), in one resumable study folder. `report DIR`: renders that folder's report again from its runs.",
  usage: 'mrcl study reproduce [--out DIR] [--seed S] [--scale quick|full|tiny] [--json] | mrcl study report DIR',
  positionals: [
    { name: 'ACTION', description: 'reproduce, or report: (re)render DIR/report.md, report.html and figures/ from the runs in DIR/study.json', required: true },
    { name: 'DIR', description: 'the study folder (report)', required: false },
  ],
  options: {
    out: { type: 'string', short: 'o', valueName: 'DIR', description: `The study folder (default: study-<seed>); running the command again on it resumes the study` },
    seed: { type: 'string', valueName: 'S', description: `Seed of the cohort, the stand-in, the folds and training (default: the study's, else ${DEFAULT_STUDY_SEED})` },
    scale: {
      type: 'string',
      valueName: 'SCALE',
      description: "quick (about 30 min on 2 cores), full (about 4 h; adds the Table 5 ablations) or tiny (seconds; a smoke test, numbers mean nothing). Default: the study's, else quick",
    },
    json: { type: 'boolean', description: 'Print events as JSON lines on stdout' },
  },
  async run(args, ctx) {
    const [action, studyDir] = args.positionals;
    if (action === 'report') {
      if (!studyDir) throw new UsageError('report needs the study folder DIR', 'study');
      const dir = resolve(studyDir);
      const r = renderStudyReport(dir);
      for (const c of r.verdict) ctx.stderr(`${c.status}: ${c.claim}\n`);
      ctx.stdout(`Report: ${join(dir, 'report.md')}\nHTML: ${join(dir, 'report.html')}\nFigures: ${r.figures.length} in ${join(dir, 'figures')}\n`);
      return 0;
    }
    if (action !== 'reproduce') throw new UsageError(`unknown action "${action}" (expected reproduce or report)`, 'study');
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

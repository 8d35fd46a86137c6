// The reproduction study's report: DIR/report.md, DIR/report.html (one
// self-contained file: figures inlined as SVG, pixels as PNG data URIs) and
// DIR/figures/*.svg, from the study's run folders. At the top a verdict on
// each of the paper's claims, computed from the runs (verdict.ts); then the
// warnings, the figures and every run's tables (results.json, rendered by
// results/render.ts). Every file is rendered before any is written, each
// written atomically.
import { existsSync, mkdirSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { writeFileAtomic } from '../io/atomic';
import { readJson } from '../training/run-folder';
import { readStandinRecord, type StandinRecord } from '../training/medicalnet-standin';
import { renderMarkdown } from '../results/render';
import { boxChart, retrievalChart, rocChart, type RecallSeries } from './charts';
import { figure3Panel } from './panel';
import { armLabelOf, pooledCases, readRunData, runArms, type RunData } from './run-data';
import { externalCheckClaims, EXTERNAL_CHECK, mapMassClaims, probeClaims, studyVerdict, type Claim, type VerdictInputs } from './verdict';
import { PROBE_DIR, START_DIR } from '../experiment/probe';
import { reportHtml } from './report-html';
import { allWarnings, augmentNote, beyondVerdictSections, crossAttentionLines, tumourReachLines, retrievalLocationLines, scaleRows, SCALE_NOTE, standinNote, zeroShotLine, type Figure, type ReportDoc } from './report-doc';

export type { Figure, ReportDoc } from './report-doc';

export interface StudyReportOptions {
  /** the study folder: report.md, report.html and figures/ are written here */
  dir: string;
  /** the experiment run folder (Tables 1–4, ROC, Dice, retrieval, Figure 3) */
  experiment: string;
  /** the same study without location weighting (an experiment or ablation run) */
  locationCheck?: string;
  /** the Table 5 ablation run */
  ablation?: string;
  /** the external check: the experiment's fold models on a second external cohort (RUN/external/external-check) */
  externalCheck?: string;
  /** why the study's external-check step failed (its claims are then "not measured") */
  externalCheckError?: string;
  /** why the probe step failed, when study.json records it so (its claims are then "not measured") */
  probeError?: string;
  /** the MedicalNet checkpoint when it is not the experiment config's image.medicalNet */
  standin?: string;
}


export interface StudyReport {
  markdown: string;
  html: string;
  /** the figure files written (absolute) */
  figures: string[];
  verdict: Claim[];
  /** the external check's comparisons (beyond the verdict; empty without it) */
  checks: Claim[];
  /** the attention-mass comparisons (beyond the verdict; empty where the runs did not record the mass) */
  mapChecks: Claim[];
  /** the linear probe's comparisons (beyond the verdict; empty without a probe) */
  probeChecks: Claim[];
}

const STUDY_FILE = 'study.json';

interface StudyFile {
  steps?: { name?: unknown; runDir?: unknown; status?: unknown; error?: unknown }[];
  scale?: unknown;
  seed?: unknown;
}

/** The run folders of a study folder's study.json: steps experiment, location-check (or location-excluded) and ablation; runDir relative to the study folder or absolute. */
export function studyRuns(studyDir: string): StudyReportOptions {
  const path = join(studyDir, STUDY_FILE);
  if (!existsSync(path)) throw new Error(`${path}: missing (not a study folder made by mrcl study reproduce)`);
  const s = readJson<StudyFile>(path);
  if (!Array.isArray(s.steps)) throw new Error(`${path}: "steps" must be a list of { name, runDir }`);
  const run = (...names: string[]): string | undefined => {
    const step = s.steps!.find((x) => names.includes(x?.name as string));
    const name = names[0]!;
    if (!step || step.runDir === undefined || step.runDir === null) return undefined;
    if (typeof step.runDir !== 'string' || step.runDir === '') throw new Error(`${path}: step "${name}" has a runDir that is not a path`);
    return isAbsolute(step.runDir) ? step.runDir : resolve(studyDir, step.runDir);
  };
  const experiment = run('experiment');
  if (!experiment) throw new Error(`${path}: no "experiment" step with a runDir (the study has not run its experiment yet)`);
  // an optional run that has not finished yet (no results.json) is left out: its claims are "not measured"
  return {
    dir: studyDir,
    experiment,
    locationCheck: finished(run('location-check', 'location-excluded')),
    ablation: finished(run('ablation')),
    externalCheck: finished(join(experiment, 'external', EXTERNAL_CHECK)),
    ...checkStepError(s),
  };
}

/** `{ externalCheckError, probeError }` for the steps beyond the verdict that study.json records as failed. */
function checkStepError(s: StudyFile): { externalCheckError?: string; probeError?: string } {
  const failed = (name: string): string | undefined => {
    const step = s.steps!.find((x) => x?.name === name);
    return step?.status === 'failed' ? (typeof step.error === 'string' ? step.error : 'the step failed') : undefined;
  };
  const external = failed('external-check');
  const probe = failed('probe');
  return { ...(external !== undefined ? { externalCheckError: external } : {}), ...(probe !== undefined ? { probeError: probe } : {}) };
}

/** The folder when it holds a finished run's results (results.json), else undefined: a run that has not finished is left out, its claims "not measured". */
const finished = (d: string | undefined): string | undefined => (d && existsSync(join(d, 'results.json')) ? d : undefined);

/** A study's runs, read, and its verdict. */
export function studyVerdictOf(o: StudyReportOptions): VerdictInputs & { verdict: Claim[]; externalCheck?: RunData; checks: Claim[]; mapChecks: Claim[]; probeChecks: Claim[] } {
  const experiment = readRunData(o.experiment);
  const locationCheck = o.locationCheck ? readRunData(o.locationCheck) : undefined;
  const ablation = o.ablation ? readRunData(o.ablation) : undefined;
  // the external check is beyond the verdict: a folder that cannot be read makes its claims "not measured", not the report fail
  let externalCheck: RunData | undefined;
  let checkError = o.externalCheckError;
  if (checkError === undefined) {
    try {
      externalCheck = o.externalCheck ? readRunData(o.externalCheck) : undefined;
    } catch (e) {
      checkError = e instanceof Error ? e.message : String(e);
    }
  }
  // the linear probe (beyond the verdict), where `mrcl probe` or the study's probe step wrote it: RUN/probe, and RUN/probe/external/external-check for the external check's cohort
  let probeChecks: Claim[] = [];
  const probeDir = join(o.experiment, PROBE_DIR);
  try {
    if (o.probeError !== undefined) throw new Error(o.probeError);
    const probe = finished(probeDir);
    const check = finished(join(probeDir, 'external', EXTERNAL_CHECK));
    const start = probe ? finished(join(probeDir, START_DIR)) : undefined;
    probeChecks = probeClaims(probe ? readRunData(probe) : undefined, check ? readRunData(check) : undefined, undefined, start ? readRunData(start) : undefined);
  } catch (e) {
    probeChecks = probeClaims(undefined, undefined, e instanceof Error ? e.message : String(e));
  }
  return { experiment, locationCheck, ablation, externalCheck, verdict: studyVerdict({ experiment, locationCheck, ablation }), checks: externalCheckClaims(externalCheck, checkError), mapChecks: mapMassClaims(experiment), probeChecks };
}

/** Renders and writes the report of a study folder (its study.json) or of explicitly given runs. */
export function renderStudyReport(study: string | StudyReportOptions): StudyReport {
  const o = typeof study === 'string' ? studyRuns(study) : study;
  const { experiment, locationCheck, ablation, externalCheck, verdict, checks, mapChecks, probeChecks } = studyVerdictOf(o);
  const standin = standinOf(experiment, o.standin);
  const { figures, missing } = studyFigures(experiment);
  const doc: ReportDoc = {
    verdict,
    checks,
    mapChecks,
    probeChecks,
    standin,
    figures,
    missing,
    runs: [
      { role: 'Experiment', run: experiment },
      ...(locationCheck ? [{ role: 'Location-weighting check', run: locationCheck }] : []),
      ...(ablation ? [{ role: 'Ablation (Table 5)', run: ablation }] : []),
      ...(externalCheck ? [{ role: 'External check (the experiment\'s fold models on more external cases)', run: externalCheck }] : []),
    ],
  };
  const markdown = reportMarkdown(doc);
  const html = reportHtml(doc);
  const files: [string, string][] = figures.map((f) => [join(o.dir, 'figures', f.file), f.svg]);
  files.push([join(o.dir, 'report.md'), markdown], [join(o.dir, 'report.html'), html]);
  try {
    mkdirSync(join(o.dir, 'figures'), { recursive: true });
  } catch (e) {
    throw new Error(`${join(o.dir, 'figures')}: cannot create the folder: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  for (const [path, text] of files) {
    try {
      writeFileAtomic(path, [Buffer.from(text, 'utf8')]);
    } catch (e) {
      throw new Error(`${path}: cannot write: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  return { markdown, html, figures: figures.map((f) => join(o.dir, 'figures', f.file)), verdict, checks, mapChecks, probeChecks };
}


function standinOf(run: RunData, explicit: string | undefined): StandinRecord | undefined {
  const pth = explicit ?? run.config?.image?.medicalNet;
  if (!pth || !isAbsolute(pth) || !runArms(run).includes('medicalnet')) return undefined;
  return readStandinRecord(pth);
}

/** ROC curves, Dice box plots, the attention mass's (where recorded), retrieval curves and the Figure-3 panel of the experiment run. */
export function studyFigures(run: RunData): { figures: Figure[]; missing: string[] } {
  const arms = runArms(run);
  const figures: Figure[] = [];
  const missing: string[] = [];
  for (const cohort of ['internal', 'external'] as const) {
    const series = arms.map((a) => {
      const cases = pooledCases(run, a, cohort);
      return { label: armLabelOf(run, a), scores: cases.map((c) => c.score), labels: cases.map((c) => c.label) };
    });
    if (series.every((s) => s.scores.length === 0)) {
      missing.push(`ROC curves, ${cohort}: no ${cohort} predictions`);
      continue;
    }
    const title = `ROC curves, ${cohort} cohort`;
    figures.push({ file: `roc-${cohort}.svg`, title, caption: `${title}: each arm's cases of all folds pooled (the AUC of the pooled curve, not the tables' mean over folds).`, svg: rocChart(title, series) });
  }
  for (const cohort of ['internal', 'external'] as const) {
    const groups = arms.map((a) => {
      const cases = pooledCases(run, a, cohort);
      const col = (k: 'dice2d' | 'dice3d') => cases.map((c) => c[k]).filter((v): v is number => v !== null);
      return { label: armLabelOf(run, a), values: [col('dice2d'), col('dice3d')] };
    });
    if (groups.every((g) => g.values.every((v) => v.length === 0))) {
      missing.push(`Dice box plots, ${cohort}: no attention Dice on the ${cohort} cohort`);
      continue;
    }
    const title = `Attention Dice, ${cohort} cohort`;
    figures.push({ file: `dice-${cohort}.svg`, title, caption: `${title}: per-case 2D and 3D Dice of the binary attention maps with the tumour masks, all folds pooled.`, svg: boxChart(title, 'Dice', ['2D Dice', '3D Dice'], groups) });
  }
  // follows: METHOD.md §7 (threshold-free map measures): drawn where the run recorded them
  const massGroups = arms.map((a) => {
    const cases = pooledCases(run, a, 'internal');
    const col = (k: 'mass3d' | 'massFloor3d') => cases.map((c) => c[k]).filter((v): v is number => typeof v === 'number');
    return { label: armLabelOf(run, a), values: [col('mass3d'), col('massFloor3d')] };
  });
  if (massGroups.some((g) => g.values[0]!.length > 0)) {
    const title = 'Attention mass in the tumour, internal cohort';
    figures.push({
      file: 'mass-internal.svg',
      title,
      caption: `${title}: per case, the share of the attention map's mass on the tumour's voxels (before binarisation) beside that of a flat map (the tumour's share of the volume), all folds pooled.`,
      svg: boxChart(title, 'share of map mass', ['mass in tumour', 'flat map'], massGroups),
    });
  }
  const r = run.retrieval;
  if (r) {
    const n = r.cases;
    const dirs = [
      ['image → report', 'imageToReport'],
      ['report → image', 'reportToImage'],
    ] as const;
    let series: RecallSeries[];
    let how: string;
    if (r.ranks) {
      series = dirs.map(([label, d]) => ({ label, points: Array.from({ length: n }, (_, i) => [i + 1, r.ranks![d].filter((x) => x <= i + 1).length / n] as [number, number]) }));
      how = 'full curve, from the stored ranks';
    } else {
      series = dirs.map(([label, d]) => ({ label, points: ([1, 5, 10] as const).filter((k) => k <= n).map((k) => [k, r[`recall@${k}`][d]] as [number, number]) }));
      how = 'recall@1, 5 and 10 as stored (the run keeps no per-query ranks)';
    }
    const title = `Retrieval, ${r.pairs} pairs`;
    figures.push({ file: 'retrieval.svg', title, caption: `${title} (N = ${n}): recall@k both directions against chance k/N; ${how}.`, svg: retrievalChart(title, n, series, `${r.pairs === 'held-out' ? 'Pairs held out of pretraining' : 'Pairs pretraining learnt from (not held out)'}; ${how}.`) });
  } else missing.push('Retrieval curves: the pretraining stage has no retrieval.json');
  try {
    const p = figure3Panel(run);
    if (typeof p === 'string') missing.push(`Attention maps (Figure 3): ${p}`);
    else figures.push({ file: 'attention-panel.svg', title: 'Attention maps on one external case (as the paper’s Figure 3)', caption: p.caption, svg: p.svg });
  } catch (e) {
    missing.push(`Attention maps (Figure 3): ${(e as Error).message}`);
  }
  return { figures, missing };
}

const STATUS_MARK: Record<Claim['status'], string> = { reproduced: '**reproduced**', 'not reproduced': '**not reproduced**', 'not measured': '*not measured*' };

/** Markdown text, escaped as results/render.ts does for table text. */
function mdText(t: string): string {
  return t.replace(/[\\`*|]/g, (ch) => `\\${ch}`).replace(/<(?=[A-Za-z/!?])/g, '\\<');
}


function reportMarkdown(doc: ReportDoc): string {
  const lines = ['# Reproduction study report', '', '## Verdict', ''];
  const counts = (s: Claim['status']) => doc.verdict.filter((c) => c.status === s).length;
  lines.push(`${counts('reproduced')} of ${doc.verdict.length} claims reproduced, ${counts('not reproduced')} not reproduced, ${counts('not measured')} not measured. A comparison is reproduced when the difference has the paper's sign and the paired t-test over folds gives p < 0.05.`, '');
  for (const c of doc.verdict) lines.push(`- ${STATUS_MARK[c.status]}: ${mdText(c.claim)}. ${mdText(c.detail)}.`);
  lines.push('');
  for (const [heading, note, claims] of beyondVerdictSections(doc)) {
    lines.push(`## ${heading}`, '', mdText(note), '');
    for (const c of claims) lines.push(`- ${STATUS_MARK[c.status]}: ${mdText(c.claim)}. ${mdText(c.detail)}.`);
    lines.push('');
  }
  const augment = augmentNote(doc);
  if (augment) lines.push(`> **Note:** ${mdText(augment)}`, '');
  if (doc.standin) lines.push(`> **Note:** ${mdText(standinNote(doc.standin))}`, '');
  const scale = scaleRows(doc);
  if (scale) {
    lines.push("## This study's scale and the paper's", '', mdText(SCALE_NOTE), '', '| | This study | The paper |', '| --- | --- | --- |');
    for (const row of scale) lines.push(`| ${row.map(mdText).join(' | ')} |`);
    lines.push('');
  }
  const warnings = allWarnings(doc);
  if (warnings.length) lines.push('## Warnings', '', ...warnings.map((w) => `- ${mdText(w)}`), '');
  lines.push('## Runs', '', ...doc.runs.map(({ role, run }) => `- ${role}: ${mdText(run.dir)}`));
  const z = doc.runs[0]!.run.zeroShot;
  if (z) lines.push(`- ${mdText(zeroShotLine(z))}`);
  for (const l of [...retrievalLocationLines(doc), ...crossAttentionLines(doc), ...tumourReachLines(doc)]) lines.push(`- ${mdText(l)}`);
  lines.push('', '## Figures', '');
  for (const f of doc.figures) lines.push(`### ${mdText(f.title)}`, '', `![${mdText(f.title)}](figures/${f.file})`, '', mdText(f.caption), '');
  for (const m of doc.missing) lines.push(`- Not drawn: ${mdText(m)}`);
  if (doc.missing.length) lines.push('');
  for (const { role, run } of doc.runs) {
    lines.push(`## Tables: ${mdText(role)}`, '');
    // the run's results.md, its headings moved two levels down
    lines.push(...renderMarkdown(run.doc).trimEnd().split('\n').map((l) => (/^#{1,4} /.test(l) ? `##${l}` : l)), '');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}

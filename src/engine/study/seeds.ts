// Reproduction studies of one scale with different seeds, side by side:
// `mrcl study seeds DIR…`. Each seed draws its own cohort, stand-in, folds
// and training, so the studies are independent replications; the summary
// says, claim by claim, what each study's verdict was and whether the
// effect holds across the draws: how many seeds reproduced it, how many
// went the paper's way (with the exact two-sided sign test), and the mean
// of the per-seed differences with a one-sample t-test over the seeds.
// Every number is recomputed from the studies' runs (report.studyVerdictOf).
// follows: docs/METHOD.md §7 (the study across seeds)
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import tCdf from '@stdlib/stats-base-dists-t-cdf';
import { pairedTTest } from '../metrics/ttest';
import { summarize } from '../results/aggregate';
import { signTest } from '../metrics/sign-test';
import { readStudyRecord, STUDY_FILE } from './record';
import { studyRuns, studyVerdictOf } from './report';
import { readJson } from '../training/run-folder';
import { resolveConfig } from '../config/resolve';
import { fmtDiff, fmtP, mean, RECALL_FACTOR, SIGNIFICANCE, type Claim, type ClaimStatus } from './verdict';
import type { MetricKey } from '../results/types';
import type { AugmentOptions } from '../training/augment';
import { STUDY_SCALES, studyWidth, type StudyScale } from './scales';
import { PAPER_SCALE } from '../results/paper';
import { COLLAPSED_COSINE, embeddingsCollapsed, type EmbeddingSpread } from '../metrics/embedding-spread';

export interface SeedStudy {
  dir: string;
  seed: number;
  scale: string;
  verdict: Claim[];
  /** the comparisons beyond the verdict: the external check's, then the attention mass's (empty where the study has none) */
  checks?: Claim[];
  /** the cohort's size as its experiment run validated it (studyCohortSize); absent where the run has no validation.json */
  cohort?: string;
  /** `mrcl study reproduce --augment`: the study's pretraining augmentation (study.json); absent without */
  augment?: AugmentOptions;
  /** `mrcl study reproduce --width`: the study's image-encoder width where it is not the scale's own (study.json); absent otherwise */
  width?: number;
  /** `mrcl study reproduce --text-pretrained`: the pretrained text encoder's folder (study.json); absent otherwise */
  textPretrained?: string;
  /** whether the experiment's pretraining left its global embeddings collapsed (its retrieval.json); absent where the run did not record it */
  globalSpread?: EmbeddingSpread;
}

export interface SeedCell {
  seed: number;
  status: ClaimStatus;
  /** comparisons: the study's difference of fold means (paper's direction > 0) */
  difference?: number;
  p?: number | null;
  /** comparisons: the study's 95 % paired bootstrap interval of the difference (verdict.ts, differenceCi) */
  ci?: { lower: number; upper: number };
  /** retrieval: the smaller of the two recall@5-over-chance ratios */
  ratio?: number;
}

export interface ClaimAcrossSeeds {
  id: string;
  claim: string;
  /** comparisons: the metric of the differences */
  metric?: MetricKey;
  cells: SeedCell[];
  /** studies that measured the claim */
  measured: number;
  reproduced: number;
  /** comparisons: studies whose difference has the paper's sign (> 0) */
  paperDirection?: number;
  /** comparisons: exact two-sided sign test of the non-zero differences (null: none) */
  signP?: number | null;
  /** comparisons: mean of the per-seed differences */
  meanDifference?: number;
  /** comparisons: one-sample two-sided t-test of the per-seed differences against 0 (null: fewer than 2) */
  t?: { t: number; df: number; p: number } | null;
  /**
   * comparisons: the fewest seeds at which a one-sample t-test would give
   * p < SIGNIFICANCE if the per-seed differences kept this mean and standard
   * deviation (a planning number, not a result); null when the mean is not in
   * the paper's direction or fewer than 2 seeds measured the claim
   */
  seedsNeeded?: number | null;
  /** retrieval: mean and range of the per-seed ratios */
  ratio?: { mean: number; min: number; max: number };
  /** whether the claim holds across the seeds (rule in ACROSS_SEEDS_RULE) */
  holds: boolean;
}

export const ACROSS_SEEDS_RULE =
  `A comparison holds across seeds when the mean of the per-seed differences has the paper's sign and a one-sample two-sided t-test of those differences against 0 gives p < ${SIGNIFICANCE}; ` +
  `held-out retrieval holds when every seed reaches ${RECALL_FACTOR}× chance in both directions.`;

export const SEEDS_NEEDED_NOTE =
  `Where a comparison's mean has the paper's sign, "would take N seeds" is a planning number, not a result: the fewest seeds at which the t-test over seeds would give p < ${SIGNIFICANCE} if the per-seed differences kept the mean and standard deviation measured here.`;

/** Reads each study folder (study.json and its runs) and computes its verdict; studies of different scales, cohort sizes or settings, the same seed twice or the same folder twice are refused. */
export function readSeedStudies(dirs: readonly string[]): SeedStudy[] {
  if (dirs.length < 2) throw new Error(`a summary across seeds needs at least 2 study folders, got ${dirs.length}`);
  const seen = new Set<string>();
  // every folder's record and runs are checked before any run is read
  const folders = dirs.map((d) => {
    const dir = resolve(d);
    if (seen.has(dir)) throw new Error(`${dir}: given twice`);
    seen.add(dir);
    const runs = studyRuns(dir);
    const record = readStudyRecord(join(dir, STUDY_FILE));
    return { dir, seed: record.seed, scale: record.scale, runs, augment: record.augment, width: record.width, textPretrained: record.textPretrained };
  });
  const scales = groupsOf(folders, (s) => s.scale);
  if (scales) throw new Error(`the studies have different scales (${scales}); summarise one scale at a time`);
  // one scale's cohort size changed between versions (quick: 150 → 250 internal pairs): studies of both are not one population of draws
  const sized = folders.map((s) => ({ ...s, cohort: studyCohortSize(s.runs.experiment) }));
  const sizes = groupsOf(sized, (s) => s.cohort);
  if (sizes) throw new Error(`the studies' cohorts differ in size (${sizes}); summarise studies of one cohort size at a time (a study made by an earlier version can have another cohort size at the same scale)`);
  // one protocol: studies made with other settings (another version's defaults) are not draws of one method
  const settings = protocolDifferences(sized.map((s) => ({ dir: s.dir, protocol: studyProtocol(s.runs.experiment) })));
  if (settings) throw new Error(`the studies' experiments differ in settings other than the seed and paths (${settings}); summarise studies of one configuration at a time (a study made by an earlier version can have other settings at the same scale)`);
  const bySeed = new Map<number, string>();
  for (const s of folders) {
    const other = bySeed.get(s.seed);
    if (other) throw new Error(`${other} and ${s.dir} are both seed ${s.seed}: the same draw would count twice`);
    bySeed.set(s.seed, s.dir);
  }
  return sized.map(({ dir, seed, scale, runs, cohort, augment, width, textPretrained }) => {
    const { verdict, checks, mapChecks, probeChecks, experiment } = studyVerdictOf(runs);
    const globalSpread = experiment.retrieval?.globalSpread;
    return { dir, seed, scale, verdict, checks: [...checks, ...mapChecks, ...probeChecks], ...(cohort ? { cohort } : {}), ...(augment ? { augment } : {}), ...(width !== undefined ? { width } : {}), ...(textPretrained !== undefined ? { textPretrained } : {}), ...(globalSpread ? { globalSpread } : {}) };
  });
}

/**
 * "key: dir, dir; key: dir" for folders whose `key` takes more than one
 * value (folders without one are left out), in first-seen order; undefined
 * when they share one.
 */
function groupsOf<T extends { dir: string }>(folders: readonly T[], key: (f: T) => string | undefined): string | undefined {
  const groups = new Map<string, string[]>();
  for (const f of folders) {
    const k = key(f);
    if (k !== undefined) groups.set(k, [...(groups.get(k) ?? []), f.dir]);
  }
  return groups.size > 1 ? [...groups.entries()].map(([k, ds]) => `${k}: ${ds.join(', ')}`).join('; ') : undefined;
}

/**
 * The size of the cohort a study's experiment run validated, as
 * "N internal + M external cases" (its validation.json's summary);
 * undefined when the run has no validation.json. A malformed one is an
 * error naming it.
 */
export function studyCohortSize(experimentDir: string): string | undefined {
  const path = join(experimentDir, 'validation.json');
  if (!existsSync(path)) return undefined;
  const v = readJson<{ summary?: { byCohort?: Record<string, unknown> } }>(path);
  const by = v?.summary?.byCohort;
  const n = (k: string) => (by?.[k] === undefined ? 0 : by[k]);
  const internal = n('internal');
  const external = n('external');
  if (typeof by !== 'object' || by === null || !Number.isInteger(internal) || !Number.isInteger(external)) {
    throw new Error(`${path}: "summary.byCohort" must give the number of internal and external cases`);
  }
  return `${internal} internal + ${external} external cases`;
}

/** Settings in which the studies of one protocol differ: names, the seed and where things are. */
const PER_STUDY_SETTINGS = new Set(['name', 'seed', 'outDir', 'finetune.foldSeed', 'data.manifest', 'data.cacheDir', 'image.medicalNet']);

/**
 * A study's experiment settings: its run's config.json with the defaults of
 * this version filled in (a setting an earlier version did not have takes
 * its default, which is what that version did), as dotted key → JSON value,
 * less PER_STUDY_SETTINGS; undefined when the run has no config.json. A
 * config this version cannot read is an error naming it.
 */
export function studyProtocol(experimentDir: string): Map<string, string> | undefined {
  const path = join(experimentDir, 'config.json');
  if (!existsSync(path)) return undefined;
  const config = resolveConfig(readJson<unknown>(path), path);
  const out = new Map<string, string>();
  const walk = (v: unknown, key: string): void => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) for (const [k, x] of Object.entries(v)) walk(x, key ? `${key}.${k}` : k);
    else if (!PER_STUDY_SETTINGS.has(key)) out.set(key, JSON.stringify(v));
  };
  walk(config, '');
  return out;
}

/** "key (value: dir; value: dir); …" for the settings whose values differ among the folders that have them (at most 5 named); undefined when none does. */
function protocolDifferences(folders: readonly { dir: string; protocol: Map<string, string> | undefined }[]): string | undefined {
  const known = folders.filter((f): f is { dir: string; protocol: Map<string, string> } => f.protocol !== undefined);
  const keys = [...new Set(known.flatMap((f) => [...f.protocol.keys()]))];
  const diffs = keys.flatMap((k) => {
    const g = groupsOf(known, (f) => f.protocol.get(k) ?? 'absent');
    return g ? [`${k} (${g})`] : [];
  });
  if (!diffs.length) return undefined;
  return diffs.slice(0, 5).join('; ') + (diffs.length > 5 ? `; and ${diffs.length - 5} more` : '');
}

/** Above this many seeds seedsNeeded is not searched (the effect is then indistinguishable from 0 in practice). */
export const MAX_SEEDS_NEEDED = 1_000_000;

/**
 * The fewest n ≥ 2 for which a one-sample two-sided t-test of n differences
 * with mean `m` and sample standard deviation `sd` gives p < alpha:
 * t = m / (sd / √n), df = n − 1. p falls as n grows (t grows and the t
 * distribution narrows), so a binary search finds it. null when m ≤ 0 or
 * when not even MAX_SEEDS_NEEDED seeds would do; 2 when sd is 0.
 */
export function seedsForSignificance(m: number, sd: number, alpha = SIGNIFICANCE): number | null {
  if (!(m > 0) || !Number.isFinite(m) || !(sd >= 0) || !Number.isFinite(sd)) return null;
  if (sd === 0) return 2;
  const p = (n: number) => 2 * (1 - tCdf((m * Math.sqrt(n)) / sd, n - 1));
  if (p(MAX_SEEDS_NEEDED) >= alpha) return null;
  let lo = 2;
  let hi = MAX_SEEDS_NEEDED;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (p(mid) < alpha) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** seedsForSignificance at the differences' mean and sample standard deviation (n − 1, as the t-test uses); null below 2 differences. */
function seedsNeededFor(d: readonly number[]): number | null {
  if (d.length < 2) return null;
  const { mean: m, std } = summarize(d);
  return seedsForSignificance(m, std!);
}

/** Claim by claim, in the studies' verdict order, then the external check's comparisons where any study has them. */
export function summarizeSeeds(studies: readonly SeedStudy[]): ClaimAcrossSeeds[] {
  const first = studies[0];
  if (!first) return [];
  // every comparison beyond the verdict that some study has, in order of first appearance (older studies lack the later ones)
  const checks: Claim[] = [];
  for (const s of studies) for (const c of s.checks ?? []) if (!checks.some((x) => x.id === c.id)) checks.push(c);
  return [...first.verdict, ...checks].map(({ id, claim, metric }) => {
    const cells: SeedCell[] = studies.map((s) => {
      const c = [...s.verdict, ...(s.checks ?? [])].find((x) => x.id === id);
      if (!c) return { seed: s.seed, status: 'not measured' };
      const ratio = c.ratio ? Math.min(c.ratio.imageToReport, c.ratio.reportToImage) : undefined;
      return { seed: s.seed, status: c.status, difference: c.difference, p: c.p, ...(c.ci ? { ci: { lower: c.ci.lower, upper: c.ci.upper } } : {}), ratio };
    });
    const measured = cells.filter((c) => c.status !== 'not measured');
    const base = { id, claim, metric, cells, measured: measured.length, reproduced: measured.filter((c) => c.status === 'reproduced').length };
    if (id === 'retrieval') {
      const r = measured.flatMap((c) => (c.ratio === undefined ? [] : [c.ratio]));
      return {
        ...base,
        ratio: r.length ? { mean: mean(r), min: Math.min(...r), max: Math.max(...r) } : undefined,
        holds: measured.length === studies.length && r.length === studies.length && r.every((x) => x >= RECALL_FACTOR),
      };
    }
    const d = measured.flatMap((c) => (typeof c.difference === 'number' && Number.isFinite(c.difference) ? [c.difference] : []));
    const nonZero = d.filter((x) => x !== 0);
    const paperDirection = d.filter((x) => x > 0).length;
    const t = d.length >= 2 ? pairedTTest(d, d.map(() => 0)) : null;
    const meanDifference = d.length ? mean(d) : undefined;
    return {
      ...base,
      paperDirection,
      signP: nonZero.length ? signTest(nonZero.filter((x) => x > 0).length, nonZero.length) : null,
      meanDifference,
      t,
      seedsNeeded: seedsNeededFor(d),
      holds: meanDifference !== undefined && meanDifference > 0 && t !== null && t.p < SIGNIFICANCE,
    };
  });
}

function cellText(metric: MetricKey | undefined, c: SeedCell): string {
  if (c.status === 'not measured') return 'not measured';
  const mark = c.status === 'reproduced' ? '**reproduced**' : 'no';
  if (c.ratio !== undefined) return `${c.ratio.toFixed(1)}×: ${mark}`;
  if (c.difference === undefined) return mark;
  const ci = c.ci ? `; CI ${fmtDiff(metric ?? 'auc', c.ci.lower)} to ${fmtDiff(metric ?? 'auc', c.ci.upper)}` : '';
  return `${fmtDiff(metric ?? 'auc', c.difference)} (${fmtP(c.p)}${ci}): ${mark}`;
}

function acrossText(c: ClaimAcrossSeeds, n: number): string {
  if (c.ratio) return `${c.ratio.mean.toFixed(1)}× on average (${c.ratio.min.toFixed(1)}–${c.ratio.max.toFixed(1)}×)`;
  if (c.meanDifference === undefined) return 'not measured';
  const sign = c.signP === null || c.signP === undefined ? '' : ` (sign test ${fmtP(c.signP)})`;
  const m = fmtDiff(c.metric ?? 'auc', c.meanDifference);
  const t = c.t ? `; mean ${m}, t-test over seeds ${fmtP(c.t.p)}` : `; mean ${m}`;
  return `paper's direction in ${c.paperDirection} of ${n}${sign}${t}${seedsText(c)}`;
}

function seedsText(c: ClaimAcrossSeeds): string {
  if (c.seedsNeeded === undefined || !c.t) return '';
  if (c.seedsNeeded === null) return c.meanDifference !== undefined && c.meanDifference > 0 ? `; p < ${SIGNIFICANCE} would take more than ${MAX_SEEDS_NEEDED.toLocaleString('en-US')} seeds at this mean and spread` : '';
  return `; p < ${SIGNIFICANCE} at this mean and spread would take ${c.seedsNeeded} seeds`;
}

/** ", pretraining augmented (…)" where every study was made with --augment (readSeedStudies refuses a mix), else "". */
function augmentedWith(studies: readonly SeedStudy[]): string {
  const a = studies[0]?.augment;
  if (!a || !studies.every((s) => s.augment)) return '';
  return `, every pretraining augmented (\`--augment\`: pretrain.augment shift ${a.shift}, intensity ${a.intensity}; not the paper's method)`;
}

/** A study.json setting every study was made with, the same in each; undefined where one lacks it or they differ. */
function shared<K extends 'width' | 'textPretrained'>(studies: readonly SeedStudy[], key: K): SeedStudy[K] {
  const v = studies[0]?.[key];
  return v !== undefined && studies.every((s) => s[key] === v) ? v : undefined;
}

/** ", image encoder width W (…)" where every study was made with the same --width (study.json), else "". */
function widthOf(studies: readonly SeedStudy[]): string {
  const w = shared(studies, 'width');
  if (w === undefined) return '';
  const scale = studies[0]!.scale;
  return `, image encoder width ${w} (\`--width\`; the scale's ${STUDY_SCALES.includes(scale as StudyScale) ? studyWidth(scale as StudyScale) : 'own'}, the paper's ${PAPER_SCALE.image.width})`;
}

/** ", the text encoder pretrained (…)" where every study was made with the same --text-pretrained (study.json), else "". */
function textOf(studies: readonly SeedStudy[]): string {
  const t = shared(studies, 'textPretrained');
  if (t === undefined) return '';
  return `, text encoder pretrained (\`--text-pretrained\` ${t}; not trained from scratch)`;
}

/**
 * "| global embeddings … | 0.31 / 0.40 | **collapsed** 0.996 / 0.998 | … |
 * collapsed in 1 of 8 | |", with a note under the table; none where no
 * study recorded the spread.
 */
function globalSpreadRow(studies: readonly SeedStudy[]): string[] {
  const recorded = studies.filter((s) => s.globalSpread);
  if (recorded.length === 0) return [];
  const cell = (g: EmbeddingSpread | undefined): string =>
    g ? `${embeddingsCollapsed(g) ? '**collapsed** ' : ''}${g.image.toFixed(3)} / ${g.report.toFixed(3)}` : 'not recorded';
  const collapsed = recorded.filter((s) => embeddingsCollapsed(s.globalSpread!)).length;
  return [
    `| global embeddings: mean cosine of different cases, images / reports (beyond the verdict) | ${studies.map((s) => cell(s.globalSpread)).join(' | ')} | | collapsed in ${collapsed} of ${recorded.length} | |`,
    '',
    `Global embeddings: the experiment's pretrained global embeddings on the pairs retrieval is measured on (retrieval.json \`globalSpread\`); collapsed where either modality's mean cosine between different cases is ${COLLAPSED_COSINE} or more, and then retrieval and the global loss cannot leave chance (docs/METHOD.md §4). "Not recorded": a study made before the measure (\`mrcl evaluate RUN --global-spread\` on its experiment run adds it).`,
  ];
}

/** The summary as Markdown: one column per seed, then the counts and the test across seeds. */
export function seedsMarkdown(studies: readonly SeedStudy[], summary: readonly ClaimAcrossSeeds[]): string {
  const n = studies.length;
  const scale = studies[0]?.scale ?? '';
  const lines = [
    '# Reproduction studies across seeds',
    '',
    `${n} studies at scale ${scale}${studies[0]?.cohort && studies.every((s) => s.cohort === studies[0]!.cohort) ? ` (${studies[0].cohort} each)` : ''}, seeds ${studies.map((s) => s.seed).join(', ')}${augmentedWith(studies)}${widthOf(studies)}${textOf(studies)}. Each seed draws its own cohort, MedicalNet stand-in, folds and training.`,
    '',
    ...studies.map((s) => `- seed ${s.seed}: ${s.dir}`),
    '',
    ...(summary.some((c) => c.id.startsWith('check-')) ? ["Rows headed \"External check (beyond the verdict)\" are each study's experiment fold models, unchanged, scored on a second, larger external cohort of the same generator (the study's external-check step, or `mrcl evaluate RUN --external … --name external-check`); they do not count in \"claims reproduced\".", ''] : []),
    ...(summary.some((c) => c.id.startsWith('mass3d-')) ? ["Rows headed \"Attention mass (beyond the verdict, threshold-free)\" compare the share of the attention maps' mass on the tumour (internal test folds), read from the heatmaps before binarisation (for studies made before it was saved: `mrcl evaluate RUN --maps` on the experiment run, then `mrcl study report DIR`); they do not count in \"claims reproduced\".", ''] : []),
    ...(summary.some((c) => c.id.startsWith('probe-')) ? ["Rows headed \"Linear probe of the frozen encoders (beyond the verdict)\" compare each arm's starting encoder, frozen, with a logistic regression per fold on its features: what the representation holds before fine-tuning (the study's probe step, or for studies made before it `mrcl probe RUN --external DIR/external-check-cohort/manifest.json --name external-check` on the experiment run, then `mrcl study report DIR`); those ending \"after vs before pretraining\" compare CL's encoder with the one its pretraining started from, what pretraining itself changed; they do not count in \"claims reproduced\".", ''] : []),
    `Per seed: the study's own verdict (the difference of its fold means, paper's direction > 0, and its paired t-test over folds) with the 95 % paired bootstrap CI of the difference (both arms resampled with the same cases: the external cohort's cases once for all folds, which every fold's model scores, internal test cases within their folds). ${ACROSS_SEEDS_RULE} ${SEEDS_NEEDED_NOTE}`,
    '',
    `| claim | ${studies.map((s) => `seed ${s.seed}`).join(' | ')} | reproduced | across seeds | holds across seeds |`,
    `| --- | ${studies.map(() => '---').join(' | ')} | :---: | --- | :---: |`,
    ...summary.map((c) => `| ${c.claim} | ${c.cells.map((x) => cellText(c.metric, x)).join(' | ')} | ${c.reproduced} of ${c.measured} | ${acrossText(c, c.measured)} | ${c.measured === 0 ? 'not measured' : c.holds ? '**yes**' : 'no'} |`),
    `| claims reproduced | ${studies.map((s) => `${s.verdict.filter((c) => c.status === 'reproduced').length} of ${s.verdict.length}`).join(' | ')} | | | |`,
    ...globalSpreadRow(studies),
    '',
  ];
  return lines.join('\n');
}

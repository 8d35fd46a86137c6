// The study report's verdict: for each of the paper's claims, whether this
// study's numbers reproduce it, computed from the runs (never written by
// hand). A comparison claim is "reproduced" when the difference of the means
// over folds has the paper's sign and the paired two-sided t-test over folds
// gives p < 0.05; the same sign with p ≥ 0.05, or the other sign, is "not
// reproduced"; a claim whose arm, cohort or run is missing is "not measured".
// Beside the test, each comparison gets a 95 % paired bootstrap interval of
// the difference from the units' predictions: both arms resampled with the
// same cases, within folds for the internal test folds and once for all
// folds for the external cohort (which every fold's model scores, so the
// t-test over folds holds its cases fixed and the interval does not).
// follows: METHOD.md §7 (paired t-test over folds, bootstrap CIs, retrieval against chance)
import { METRIC_HEADERS, pairedFoldTest } from '../results/aggregate';
import { pairedTTest } from '../metrics/ttest';
import { aucDifferenceBootstrapCi, diceDifferenceBootstrapCi, DEFAULT_BOOTSTRAP_RESAMPLES } from '../metrics/bootstrap';
import { isCiMetric, sharedCases, type Resampling } from '../results/bootstrap-ci';
import { hashSeed } from '../util/rng';
import type { Prediction } from '../training/finetune';
import type { ArmResult, MetricKey, ResultsDoc, Split } from '../results/types';
import type { MetricCi } from '../results/bootstrap-ci';
import { ABLATION_ARMS } from '../results/paper';
import { armResult, type RunData, type UnitData } from './run-data';

export type ClaimStatus = 'reproduced' | 'not reproduced' | 'not measured';

export interface Claim {
  id: string;
  /** the paper's claim, in words */
  claim: string;
  status: ClaimStatus;
  /** the numbers behind the status, one sentence */
  detail: string;
  /** a − b of the means over folds (comparisons) */
  difference?: number;
  p?: number | null;
  folds?: number;
  /** comparisons: the metric the difference is in */
  metric?: MetricKey;
  /** comparisons: the paired bootstrap interval of the difference (absent without both arms' predictions) */
  ci?: DifferenceCi;
  /** retrieval: recall@5 over chance, each direction */
  ratio?: { imageToReport: number; reportToImage: number };
}

export const SIGNIFICANCE = 0.05;
export const RECALL_FACTOR = 3;

const fmt = (metric: MetricKey, v: number): string => (metric === 'auc' ? v.toFixed(3) : `${(v * 100).toFixed(1)}%`);
/** A difference of two arms' means: AUC in units, Dice in percentage points. */
export const fmtDiff = (metric: MetricKey, v: number): string => (metric === 'auc' ? `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(3)}` : `${v >= 0 ? '+' : '−'}${(Math.abs(v) * 100).toFixed(1)} points`);
/** A p-value as the verdicts print it. */
export const fmtP = (p: number | null | undefined): string => (p === null || p === undefined ? 'no p (fewer than 2 paired folds)' : p < 0.0001 ? 'p < 0.0001' : `p = ${p.toFixed(4)}`);
export const mean = (v: readonly number[]): number => v.reduce((s, x) => s + x, 0) / v.length;

export interface DifferenceCi {
  lower: number;
  upper: number;
  level: number;
  resampling: Resampling;
  /** cases resampled (the shared cohort's once) */
  cases: number;
  folds: number;
}

/**
 * The paired bootstrap interval of a − b for one split and metric from the
 * two arms' unit predictions: per fold the cases both arms scored (matched by
 * id, with the same label; for Dice those with a Dice in both), the folds
 * with both classes for AUC; shared cases when every fold holds the same
 * ones. Undefined when the arms have other folds, a fold's predictions are
 * missing, or its cases are not the same in both arms.
 */
export function differenceCi(unitsA: readonly UnitData[], unitsB: readonly UnitData[], split: Split, metric: MetricKey, seed: number): DifferenceCi | undefined {
  if (!isCiMetric(metric)) return undefined;
  const byFold = (us: readonly UnitData[]) => new Map(us.map((u) => [u.fold, u.predictions]));
  const A = byFold(unitsA);
  const B = byFold(unitsB);
  const folds: { id: string; label: 0 | 1; a: number; b: number }[][] = [];
  let foldCount = 0;
  // the same folds in both arms (the means the difference is of), each with the same cases
  if (A.size !== B.size || [...A.keys()].some((f) => !B.has(f))) return undefined;
  for (const fold of [...A.keys()].sort((x, y) => x - y)) {
    const pa = A.get(fold);
    const pb = B.get(fold);
    if (!pa || !pb) return undefined;
    const other = new Map(pb.filter((p) => p.cohort === split).map((p) => [p.id, p] as [string, Prediction]));
    if (other.size !== pa.filter((x) => x.cohort === split).length) return undefined;
    const value = (p: Prediction): number | null => (metric === 'auc' ? p.score : p[metric]);
    const rows: { id: string; label: 0 | 1; a: number; b: number }[] = [];
    for (const p of pa.filter((x) => x.cohort === split)) {
      const q = other.get(p.id);
      if (!q || q.label !== p.label) return undefined;
      const a = value(p);
      const b = value(q);
      if (a !== null && b !== null) rows.push({ id: p.id, label: p.label, a, b });
    }
    const pos = rows.filter((r) => r.label === 1).length;
    if (metric === 'auc' ? pos === 0 || pos === rows.length : rows.length === 0) continue;
    folds.push(rows);
    foldCount++;
  }
  if (folds.length === 0) return undefined;
  const shared = sharedCases(folds);
  const used = shared ?? folds;
  const options = { seed, resamples: DEFAULT_BOOTSTRAP_RESAMPLES, shared: shared !== null };
  const ci =
    metric === 'auc'
      ? aucDifferenceBootstrapCi(used.map((f) => ({ labels: f.map((r) => r.label), a: f.map((r) => r.a), b: f.map((r) => r.b) })), options)
      : diceDifferenceBootstrapCi(used.map((f) => ({ a: f.map((r) => r.a), b: f.map((r) => r.b) })), options);
  return { lower: ci.lower, upper: ci.upper, level: ci.level, resampling: shared ? 'shared cases' : 'within folds', cases: shared ? shared[0]!.length : folds.reduce((s, f) => s + f.length, 0), folds: foldCount };
}

/** The run's seed (its config, else results.json's), which seeds the difference intervals. */
const seedOf = (run: RunData): number => (typeof run.config?.seed === 'number' ? run.config.seed : typeof run.doc.config?.seed === 'number' ? run.doc.config.seed : 0);

function ciText(doc: ResultsDoc, arm: string, split: Split, metric: MetricKey, label: string): string | undefined {
  const c = doc.ci?.find((x: MetricCi) => x.arm === arm && x.split === split && x.metric === metric && !x.explanation);
  return c ? `${label} ${fmt(metric, c.estimate)} [95% CI ${fmt(metric, c.lower)}–${fmt(metric, c.upper)}]` : undefined;
}

/** Paired comparison of two arms of one run: results.json's t-test where it has one, else recomputed from the folds' metrics.json. */
export function compareArms(run: RunData, a: string, b: string, split: Split, metric: MetricKey, id: string, claim: string): Claim {
  const A = armResult(run, a);
  const B = armResult(run, b);
  if (!A || !B) return { id, claim, status: 'not measured', detail: `${!A ? a : b} has no finished folds in ${run.dir}` };
  const t = run.doc.tests.find((x) => x.split === split && x.metric === metric && ((x.a === a && x.b === b) || (x.a === b && x.b === a))) ?? pairedFoldTest(A, B, split, metric);
  const ci = differenceCi(run.units.filter((u) => u.arm === a), run.units.filter((u) => u.arm === b), split, metric, hashSeed(seedOf(run), `difference/${a}/${b}/${split}/${metric}`));
  return comparison(id, claim, A, B, split, metric, t.p, t.status === 'done' ? t.folds.length : 0, [ciText(run.doc, a, split, metric, A.label), ciText(run.doc, b, split, metric, B.label)], ci);
}

function differenceCiText(metric: MetricKey, ci: DifferenceCi, significant: boolean): string {
  const how = ci.resampling === 'shared cases' ? `its ${ci.cases} cases resampled once for all ${ci.folds} folds` : `cases resampled within ${ci.folds} folds`;
  const excludes = ci.lower > 0 || ci.upper < 0;
  const note =
    significant && !excludes && ci.resampling === 'shared cases'
      ? ' — it includes 0: the t-test over folds holds this cohort\'s cases fixed, the interval does not'
      : '';
  return `difference ${Math.round(ci.level * 100)}% CI ${fmtDiff(metric, ci.lower)} to ${fmtDiff(metric, ci.upper)} (paired bootstrap, ${how})${note}`;
}

function comparison(id: string, claim: string, A: ArmResult, B: ArmResult, split: Split, metric: MetricKey, p: number | null, folds: number, cis: (string | undefined)[], ci?: DifferenceCi): Claim {
  const va = foldValues(A, split, metric);
  const vb = foldValues(B, split, metric);
  if (va.size === 0 || vb.size === 0) return { id, claim, status: 'not measured', detail: `no ${split} ${METRIC_HEADERS[metric]} for ${va.size === 0 ? A.label : B.label}` };
  const ma = mean([...va.values()]);
  const mb = mean([...vb.values()]);
  const difference = ma - mb;
  const ok = difference > 0 && p !== null && p < SIGNIFICANCE;
  const why = difference <= 0 ? 'opposite direction or no difference' : p === null || p >= SIGNIFICANCE ? `same direction, not significant at ${SIGNIFICANCE}` : 'paper direction, significant';
  const ciPart = [ci ? differenceCiText(metric, ci, ok) : undefined, ...cis].filter(Boolean).join('; ');
  const detail = `${split} ${METRIC_HEADERS[metric]}: ${A.label} ${fmt(metric, ma)} vs ${B.label} ${fmt(metric, mb)}, difference ${fmtDiff(metric, difference)} (${why}; paired t-test over ${folds} folds, ${fmtP(p)})${ciPart ? `; ${ciPart}` : ''}`;
  return { id, claim, status: ok ? 'reproduced' : 'not reproduced', detail, difference, p, folds, metric, ...(ci ? { ci } : {}) };
}

function foldValues(arm: ArmResult, split: Split, metric: MetricKey): Map<number, number> {
  const out = new Map<number, number>();
  for (const f of arm.folds) {
    const v = f[split]?.[metric];
    if (typeof v === 'number') out.set(f.fold, v);
  }
  return out;
}

/** Held-out recall@5 ≥ 3× chance, both directions. */
export function retrievalClaim(run: RunData | undefined): Claim {
  const id = 'retrieval';
  const claim = `Held-out image↔report recall@5 is at least ${RECALL_FACTOR}× chance`;
  const r = run?.retrieval;
  if (!r) return { id, claim, status: 'not measured', detail: 'the pretraining stage has no retrieval.json' };
  const chance = r.chance['recall@5']!;
  const v = r['recall@5'];
  const facts = `recall@5 image→report ${v.imageToReport.toFixed(3)}, report→image ${v.reportToImage.toFixed(3)}, chance ${chance.toFixed(3)} (${(v.imageToReport / chance).toFixed(2)}× and ${(v.reportToImage / chance).toFixed(2)}×) over ${r.cases} pairs`;
  if (r.pairs !== 'held-out') return { id, claim, status: 'not measured', detail: `measured on the pairs pretraining learnt from, not held-out ones: ${facts}` };
  const ok = v.imageToReport >= RECALL_FACTOR * chance && v.reportToImage >= RECALL_FACTOR * chance;
  const ratio = { imageToReport: v.imageToReport / chance, reportToImage: v.reportToImage / chance };
  return { id, claim, status: ok ? 'reproduced' : 'not reproduced', detail: `${facts}; held-out pairs`, ratio };
}

/** Table 5: the proposed method has the best external AUC of the ablation arms. */
export function ablationClaim(run: RunData | undefined): Claim {
  const id = 'ablation-order';
  const claim = 'Ablation (Table 5): the proposed method has the best external AUC';
  if (!run) return { id, claim, status: 'not measured', detail: 'no ablation run in this study' };
  const means = ABLATION_ARMS.flatMap((arm) => {
    const a = armResult(run, arm);
    const v = a ? [...foldValues(a, 'external', 'auc').values()] : [];
    return v.length ? [{ arm, label: a!.label, mean: mean(v) }] : [];
  }).sort((x, y) => y.mean - x.mean);
  const proposed = means.find((m) => m.arm === 'proposed');
  if (!proposed || means.length < 2) return { id, claim, status: 'not measured', detail: 'the ablation run lacks the proposed arm or every other arm on the external cohort' };
  const order = means.map((m) => `${m.label} ${m.mean.toFixed(3)}`).join(' > ');
  const rival = means.find((m) => m.arm !== 'proposed')!;
  const t = run.doc.tests.find((x) => x.split === 'external' && x.metric === 'auc' && x.a === 'proposed' && x.b === rival.arm);
  const pPart = t ? `; proposed vs ${rival.label}: ${fmtP(t.p)}` : '';
  return { id, claim, status: means[0] === proposed ? 'reproduced' : 'not reproduced', detail: `external AUC, best first: ${order}${pPart}`, difference: proposed.mean - rival.mean, p: t?.p ?? null, metric: 'auc' };
}

/**
 * Location weighting helps: the proposed method against the same study with
 * useLocation false (external AUC, paired over folds). The check run is an
 * ablation holding 'proposed' and 'location-excluded', or an experiment whose
 * CL arm ran without location weighting (paired with the main experiment's).
 */
export function locationClaim(main: RunData, check: RunData | undefined): Claim {
  const id = 'location-weighting';
  const claim = 'Location weighting helps: the proposed CL beats the same method without it on external AUC';
  if (!check) return { id, claim, status: 'not measured', detail: 'no location-check run in this study' };
  if (check.doc.kind === 'ablation') return compareArms(check, 'proposed', 'location-excluded', 'external', 'auc', id, claim);
  const A = armResult(main, 'pretrained');
  const B0 = armResult(check, 'pretrained');
  if (!A || !B0) return { id, claim, status: 'not measured', detail: `${!A ? main.dir : check.dir} has no finished CL (pretrained) folds` };
  const B: ArmResult = { ...B0, label: `${B0.label} without location weighting` };
  const va = foldValues(A, 'external', 'auc');
  const vb = foldValues(B, 'external', 'auc');
  const folds = [...va.keys()].filter((f) => vb.has(f)).sort((x, y) => x - y);
  const p = folds.length >= 2 ? pairedTTest(folds.map((f) => va.get(f)!), folds.map((f) => vb.get(f)!)).p : null;
  const ci = differenceCi(main.units.filter((u) => u.arm === 'pretrained'), check.units.filter((u) => u.arm === 'pretrained'), 'external', 'auc', hashSeed(seedOf(main), 'difference/location-check/external/auc'));
  return comparison(id, claim, A, B, 'external', 'auc', p, folds.length, [ciText(main.doc, 'pretrained', 'external', 'auc', A.label), ciText(check.doc, 'pretrained', 'external', 'auc', B.label)], ci);
}

/** A measured comparison on a second external cohort says so, with its number of cases. */
function onSecondCohort(run: RunData, c: Claim): Claim {
  if (c.status === 'not measured') return c;
  const n = new Set(run.units.flatMap((u) => (u.predictions ?? []).filter((p) => p.cohort === 'external').map((p) => p.id))).size;
  return { ...c, detail: `Second external cohort, ${n} cases: ${c.detail}` };
}

/** The external check's evaluation folder name under the experiment run (RUN/external/external-check). */
export const EXTERNAL_CHECK = 'external-check';

/**
 * The external check (beyond the verdict): the experiment's fold models on a
 * second, larger external cohort; CL against random and MedicalNet
 * initialisation on its AUC and 3D attention Dice, judged and worded as the
 * verdict's comparisons. Empty without the evaluation.
 */
export function externalCheckClaims(run: RunData | undefined, unreadable?: string): Claim[] {
  const where = 'External check (beyond the verdict)';
  const comparisons: { other: 'random' | 'medicalnet'; metric: 'auc' | 'dice3d'; what: string }[] = [
    { other: 'random', metric: 'auc', what: 'CL beats random initialisation on external AUC' },
    { other: 'medicalnet', metric: 'auc', what: 'CL beats MedicalNet initialisation on external AUC' },
    { other: 'random', metric: 'dice3d', what: 'CL beats random initialisation on external 3D attention Dice' },
    { other: 'medicalnet', metric: 'dice3d', what: 'CL beats MedicalNet initialisation on external 3D attention Dice' },
  ];
  const idOf = (c: (typeof comparisons)[number]) => `check-${c.metric}-external-${c.other}`;
  if (unreadable !== undefined) return comparisons.map((c) => ({ id: idOf(c), claim: `${where}: ${c.what}`, status: 'not measured', detail: `the external check cannot be read: ${unreadable}` }));
  if (!run) return [];
  return comparisons.map((c) => onSecondCohort(run, compareArms(run, 'pretrained', c.other, 'external', c.metric, idOf(c), `${where}: ${c.what}`)));
}

/** Whether the run's CL arm recorded an internal measure (runs made before it was saved did not). */
const clRecorded = (run: RunData, key: 'dice3d' | 'mass3d'): boolean => armResult(run, 'pretrained')?.folds.some((f) => typeof f.internal?.[key] === 'number') ?? false;

/**
 * The threshold-free map measure (beyond the verdict): CL against random and
 * MedicalNet initialisation on the share of the attention map's mass inside
 * the tumour, internal cohort, judged as the verdict's comparisons. Empty
 * when no arm recorded it (runs made before it was saved).
 */
export function mapMassClaims(run: RunData): Claim[] {
  const where = 'Attention mass (beyond the verdict, threshold-free)';
  if (!clRecorded(run, 'mass3d')) return [];
  return (['random', 'medicalnet'] as const).map((other) =>
    compareArms(run, 'pretrained', other, 'internal', 'mass3d', `mass3d-internal-${other}`, `${where}: CL's attention maps put more of their mass on the tumour than ${other === 'random' ? 'random' : 'MedicalNet'} initialisation's (internal)`),
  );
}

/** The CL arm probed on the encoder its pretraining started from, as an arm of the probe's run data (`mrcl probe`'s RUN/probe/start). */
export const START_ARM = 'pretrain-start';

/**
 * The probe's run data with the start folder's CL units as one more arm,
 * START_ARM ("… before pretraining"), so the pretrained encoder's folds pair
 * with its starting encoder's (same folds, same cases).
 */
export function withPretrainingStart(probe: RunData, start: RunData): RunData {
  const arm = start.doc.arms.find((a) => a.arm === 'pretrained');
  const units = start.units.filter((u) => u.arm === 'pretrained').map((u) => ({ ...u, arm: START_ARM }));
  if (!arm || !units.length) return probe;
  return { ...probe, units: [...probe.units, ...units], doc: { ...probe.doc, arms: [...probe.doc.arms, { ...arm, arm: START_ARM, label: `${arm.label} before pretraining` }] } };
}

/**
 * The linear probe of the frozen starting encoders (beyond the verdict): CL
 * against random and MedicalNet initialisation on the probe's internal AUC,
 * and on its external AUC — the external check's cohort where the probe
 * scored it, else the study's own external cohort; and, where the probe
 * scored the frozen encoders' attention maps, CL against the other two on
 * their internal 3D Dice and mass on the tumour; and, with the probe's start
 * folder, CL's encoder against the one its pretraining started from on the
 * internal AUC, Dice and mass. Judged and worded as the verdict's
 * comparisons. Empty without a probe.
 */
export function probeClaims(probe: RunData | undefined, probeCheck: RunData | undefined, unreadable?: string, start?: RunData): Claim[] {
  const where = 'Linear probe of the frozen encoders (beyond the verdict)';
  const others = [
    ['random', 'random initialisation'],
    ['medicalnet', 'MedicalNet initialisation'],
  ] as const;
  const specs = [
    ...others.map(([other, name]) => ({ id: `probe-auc-internal-${other}`, other, split: 'internal' as const, check: false, what: `CL's encoder, before fine-tuning, holds more of the marker than ${name}'s: internal AUC of a logistic regression on its features` })),
    ...others.map(([other, name]) => ({
      id: probeCheck ? `probe-auc-check-${other}` : `probe-auc-external-${other}`,
      other,
      split: 'external' as const,
      check: probeCheck !== undefined,
      what: `CL's encoder, before fine-tuning, holds more of the marker than ${name}'s: ${probeCheck ? "the external check's" : 'external'} AUC of a logistic regression on its features`,
    })),
  ];
  if (unreadable !== undefined) return specs.map((c) => ({ id: c.id, claim: `${where}: ${c.what}`, status: 'not measured', detail: `the probe cannot be read: ${unreadable}` }));
  if (!probe) return [];
  const aucs = specs.map((c) => {
    const run = c.check ? probeCheck! : probe;
    const claim = compareArms(run, 'pretrained', c.other, c.split, 'auc', c.id, `${where}: ${c.what}`);
    return c.check ? onSecondCohort(run, claim) : claim;
  });
  // the frozen encoders' attention maps, each measure where the probe scored it (probes made before the maps were: none)
  const maps = others.flatMap(([other, name]) => [
    ...(clRecorded(probe, 'dice3d') ? [compareArms(probe, 'pretrained', other, 'internal', 'dice3d', `probe-dice3d-internal-${other}`, `${where}: CL's frozen encoder's attention maps overlap the tumour more than ${name}'s: internal 3D attention Dice before fine-tuning`)] : []),
    ...(clRecorded(probe, 'mass3d') ? [compareArms(probe, 'pretrained', other, 'internal', 'mass3d', `probe-mass3d-internal-${other}`, `${where}: CL's frozen encoder's attention maps put more of their mass on the tumour than ${name}'s (internal, before fine-tuning)`)] : []),
  ]);
  // what pretraining itself changed: CL's pretrained encoder against the encoder its pretraining started from (`mrcl probe`'s RUN/probe/start)
  const both = start ? withPretrainingStart(probe, start) : undefined;
  const moved = both && armResult(both, START_ARM)
    ? [
        compareArms(both, 'pretrained', START_ARM, 'internal', 'auc', 'probe-auc-internal-start', `${where}: pretraining adds to what CL's frozen encoder holds of the marker: internal AUC of a logistic regression on its features, after vs before pretraining`),
        ...(clRecorded(both, 'dice3d') ? [compareArms(both, 'pretrained', START_ARM, 'internal', 'dice3d', 'probe-dice3d-internal-start', `${where}: pretraining turns CL's frozen attention maps to the tumour: internal 3D attention Dice after vs before pretraining`)] : []),
        ...(clRecorded(both, 'mass3d') ? [compareArms(both, 'pretrained', START_ARM, 'internal', 'mass3d', 'probe-mass3d-internal-start', `${where}: pretraining moves CL's frozen attention maps' mass onto the tumour (internal, after vs before pretraining)`)] : []),
      ]
    : [];
  return [...aucs, ...maps, ...moved];
}

export interface VerdictInputs {
  experiment: RunData;
  locationCheck?: RunData;
  ablation?: RunData;
}

/** Every claim, in the paper's order. */
export function studyVerdict(runs: VerdictInputs): Claim[] {
  const e = runs.experiment;
  return [
    compareArms(e, 'pretrained', 'random', 'external', 'auc', 'auc-external-random', 'CL beats random initialisation on external AUC (Table 2)'),
    compareArms(e, 'pretrained', 'medicalnet', 'external', 'auc', 'auc-external-medicalnet', 'CL beats MedicalNet initialisation on external AUC (Table 2)'),
    compareArms(e, 'pretrained', 'random', 'internal', 'dice3d', 'dice3d-internal-random', 'CL beats random initialisation on internal 3D attention Dice (Table 3)'),
    compareArms(e, 'pretrained', 'medicalnet', 'internal', 'dice3d', 'dice3d-internal-medicalnet', 'CL beats MedicalNet initialisation on internal 3D attention Dice (Table 3)'),
    retrievalClaim(e),
    ablationClaim(runs.ablation),
    // a study with the ablations has no separate location run: the ablation's location-excluded arm is the check
    locationClaim(e, runs.locationCheck ?? runs.ablation),
  ];
}

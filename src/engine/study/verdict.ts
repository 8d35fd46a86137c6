// The study report's verdict: for each of the paper's claims, whether this
// study's numbers reproduce it, computed from the runs (never written by
// hand). A comparison claim is "reproduced" when the difference of the means
// over folds has the paper's sign and the paired two-sided t-test over folds
// gives p < 0.05; the same sign with p ≥ 0.05, or the other sign, is "not
// reproduced"; a claim whose arm, cohort or run is missing is "not measured".
// follows: METHOD.md §7 (paired t-test over folds, bootstrap CIs, retrieval against chance)
import { METRIC_HEADERS, pairedFoldTest } from '../results/aggregate';
import { pairedTTest } from '../metrics/ttest';
import type { ArmResult, MetricKey, ResultsDoc, Split } from '../results/types';
import type { MetricCi } from '../results/bootstrap-ci';
import { ABLATION_ARMS } from '../results/paper';
import { armResult, type RunData } from './run-data';

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
  return comparison(id, claim, A, B, split, metric, t.p, t.status === 'done' ? t.folds.length : 0, [ciText(run.doc, a, split, metric, A.label), ciText(run.doc, b, split, metric, B.label)]);
}

function comparison(id: string, claim: string, A: ArmResult, B: ArmResult, split: Split, metric: MetricKey, p: number | null, folds: number, cis: (string | undefined)[]): Claim {
  const va = foldValues(A, split, metric);
  const vb = foldValues(B, split, metric);
  if (va.size === 0 || vb.size === 0) return { id, claim, status: 'not measured', detail: `no ${split} ${METRIC_HEADERS[metric]} for ${va.size === 0 ? A.label : B.label}` };
  const ma = mean([...va.values()]);
  const mb = mean([...vb.values()]);
  const difference = ma - mb;
  const ok = difference > 0 && p !== null && p < SIGNIFICANCE;
  const why = difference <= 0 ? 'opposite direction or no difference' : p === null || p >= SIGNIFICANCE ? `same direction, not significant at ${SIGNIFICANCE}` : 'paper direction, significant';
  const ciPart = cis.filter(Boolean).join('; ');
  const detail = `${split} ${METRIC_HEADERS[metric]}: ${A.label} ${fmt(metric, ma)} vs ${B.label} ${fmt(metric, mb)}, difference ${fmtDiff(metric, difference)} (${why}; paired t-test over ${folds} folds, ${fmtP(p)})${ciPart ? `; ${ciPart}` : ''}`;
  return { id, claim, status: ok ? 'reproduced' : 'not reproduced', detail, difference, p, folds, metric };
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
  return comparison(id, claim, A, B, 'external', 'auc', p, folds.length, [ciText(main.doc, 'pretrained', 'external', 'auc', A.label), ciText(check.doc, 'pretrained', 'external', 'auc', B.label)]);
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

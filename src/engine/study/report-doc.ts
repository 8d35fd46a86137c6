// The study report's content, between the runs and the two renderings
// (report.md in report.ts, report.html in report-html.ts).
import type { StandinRecord } from '../training/medicalnet-standin';
import { augmentationEnabled } from '../training/augment';
import { TORCH_BN_EPS } from '../../shared/config';
import { pooledCases, retrievalStage, runArms, type RetrievalFile, type RunData, type ZeroShotFile } from './run-data';
import type { Claim } from './verdict';
import type { CrossAttentionStage, TumourReachFile } from '../experiment/probe';
import type { CrossAttentionSummary } from '../explain/cross-attention-maps';
import type { ReachSummary } from '../explain/tumour-reach';
import { LOCAL_PAIRING_FLOOR, LOCAL_PAIRING_SHORTCUT, localPairingDegenerate } from '../explain/local-pairing';
import { collapseWarning, embeddingsCollapsed, locationWeightOf, COLLAPSED_COSINE } from '../metrics/embedding-spread';
import { PAPER_SCALE } from '../results/paper';
import type { ExperimentConfigInput } from '../../shared/config';

export interface Figure {
  /** file name under figures/ */
  file: string;
  title: string;
  caption: string;
  svg: string;
}

export interface ReportDoc {
  verdict: Claim[];
  /** the external check's comparisons, beyond the verdict (empty without it) */
  checks: Claim[];
  /** the threshold-free attention-mass comparisons, beyond the verdict (empty where the runs did not record the mass) */
  mapChecks: Claim[];
  /** the linear probe's comparisons of the frozen starting encoders, beyond the verdict (empty without a probe) */
  probeChecks: Claim[];
  standin: StandinRecord | undefined;
  figures: Figure[];
  /** figures that could not be drawn, with why */
  missing: string[];
  runs: { role: string; run: RunData }[];
}

export const EXTERNAL_CHECK_NOTE =
  "The experiment's fold models, unchanged, scored on a second external cohort: more cases from the same generator and shifted scanner than the study's own external cohort holds (which has few positive cases, so its external claims are decided by a handful of cases). Each comparison is judged as the verdict's (paper's sign, paired t-test over folds), with the paired bootstrap interval of its difference; it does not count in the verdict, which stays the paper's protocol.";

export const MAP_MASS_NOTE =
  "The share of each attention map's mass on the tumour's voxels, read from the heatmap before it is binarised (so no threshold or top-5 % rule is involved; a flat map scores the tumour's share of the volume, shown in Tables 3–4 beside it). Judged as the verdict's comparisons; it does not count in the verdict, whose Dice claims stay the paper's.";

export const PROBE_NOTE =
  "How much of the marker each arm's encoder holds before fine-tuning: per fold, the encoder the fine-tuning started from, frozen (its batch norms' statistics recomputed over the fold's training images), and a logistic regression (L2, C = 1) on its global features of the fold's training cases, scored on the fold's test cases and the external cases (`mrcl probe`; the probe's tables in the experiment run's probe/ folder). The same frozen encoders' layer4 self-attention maps are scored on the same test cases as the fine-tuned models' (Dice with the study's rule, mass on the tumour): where pretraining itself points the attention. Rows \"after vs before pretraining\" compare CL's encoder with the one its pretraining started from (the stand-in's layers, or a random encoder, with the pretraining's freshly drawn self-attention; probe/start/): what pretraining itself changed. It measures the representation that pretraining made, without the fine-tuning that can erase or equalise it. Judged as the verdict's comparisons; it does not count in the verdict, which is about the fine-tuned models.";

/** The report's sections beyond the verdict: [heading, note, claims], those with claims. */
export function beyondVerdictSections(doc: ReportDoc): [string, string, Claim[]][] {
  const sections: [string, string, Claim[]][] = [
    ['External check (beyond the verdict)', EXTERNAL_CHECK_NOTE, doc.checks],
    ['Attention mass in the tumour (beyond the verdict)', MAP_MASS_NOTE, doc.mapChecks],
    ['Linear probe of the frozen encoders (beyond the verdict)', PROBE_NOTE, doc.probeChecks],
  ];
  return sections.filter(([, , claims]) => claims.length > 0);
}

export function standinNote(s: StandinRecord): string {
  return `The MedicalNet arm is initialised from a synthetic stand-in, not from MedicalNet's released Med3D weights: ${s.description} (checkpoint ${s.checkpoint}; trained ${s.training.epochs} epochs on ${s.cohort.train} synthetic cases).`;
}

/**
 * The experiment's pretraining augmentation (`mrcl study reproduce
 * --augment`, pretrain.augment), read from the run's config: a study made
 * with it does not follow the paper's method, and its report says so beside
 * the verdict. Undefined where pretraining was not augmented.
 */
export function augmentNote(doc: ReportDoc): string | undefined {
  const a = doc.runs[0]?.run.config?.pretrain?.augment;
  if (!augmentationEnabled(a)) return undefined;
  return `Pretraining augmented its images (pretrain.augment: a shift of up to ${a.shift} voxels per axis, an intensity change of up to ${a.intensity}; ours, not the paper's method, which pretrains without augmentation; docs/METHOD.md §6). Fine-tuning and evaluation are the paper's; the random and MedicalNet arms do not depend on pretraining.`;
}

export function allWarnings(doc: ReportDoc): string[] {
  return doc.runs.flatMap(({ role, run }) => {
    const collapsed = collapsedWarning(run);
    return [...(run.doc.warnings ?? []), ...(collapsed ? [collapsed] : [])].map((w) => `${role}: ${w}`);
  });
}

/** The ε of the global heads' input standardisation as the run's config sets it (a config from before heads.globalInputNormEps used PyTorch's ε); null where they do not standardise. */
function standardisedEpsOf(run: RunData): number | null {
  const h = run.config?.heads;
  return h?.globalInputNorm === 'batch' ? (h.globalInputNormEps ?? TORCH_BN_EPS) : null;
}

/** The pretraining stage's collapse warning (collapseWarning) where its retrieval.json says the global embeddings are collapsed. */
function collapsedWarning(run: RunData): string | undefined {
  const g = run.retrieval?.globalSpread;
  return g ? collapseWarning(retrievalStage(run.doc.kind), run.retrieval!.pairs, g, standardisedEpsOf(run), locationWeightOf(run.config?.loss)) : undefined;
}

/**
 * "Global embeddings (role, held-out pairs, 37): mean cosine of different
 * cases' embeddings 0.312 (images), 0.402 (reports); an image with its own
 * report 0.551, with another case's 0.196: spread" — retrieval.json
 * `globalSpread`. Undefined for a run that stored none.
 */
function globalSpreadLine(role: string, r: RetrievalFile): string | undefined {
  const g = r.globalSpread;
  if (!g) return undefined;
  const f = (v: number): string => v.toFixed(3);
  const verdict = embeddingsCollapsed(g)
    ? `collapsed (a mean cosine of ${COLLAPSED_COSINE} or more): retrieval and the global loss cannot leave chance; see the warning`
    : 'not collapsed';
  return `Global embeddings (${role}, ${r.pairs} pairs, ${g.cases}): mean cosine of different cases' embeddings ${f(g.image)} (images), ${f(g.report)} (reports); an image with its own report ${f(g.ownPair)}, with another case's ${f(g.otherPair)}: ${verdict}`;
}

export function zeroShotLine(z: ZeroShotFile): string {
  return `Zero-shot tumour location (${z.pairs ?? 'pairs'}): accuracy ${z.accuracy.toFixed(3)}, macro AUC ${z.macroAuc === null ? 'n/a' : z.macroAuc.toFixed(3)} over ${z.n} cases, classes ${z.classes.join(', ')}`;
}

/**
 * Which wrong items retrieval ranks above the true one: of the query's
 * tumour location or of others, each against chance (a model that encodes
 * the location and nothing else leaves no other-location item above and the
 * same-location ones at chance). Undefined for a run that stored no split.
 */
function retrievalLocationLine(role: string, r: RetrievalFile): string | undefined {
  const b = r.byLocation;
  if (!b) return undefined;
  const f = (v: number): string => v.toFixed(2);
  const dir = (label: string, d: 'imageToReport' | 'reportToImage'): string =>
    `${label} ${f(b[d].meanSameAbove)} of the query's location and ${f(b[d].meanOtherAbove)} of other locations`;
  const counts = Object.entries(b.counts).map(([l, n]) => `${l} ${n}`).join(', ');
  return `Retrieval misses by tumour location (${role}, ${r.pairs} pairs, ${counts}): wrong items ranked above the true one on average, ${dir('image → report', 'imageToReport')}; ${dir('report → image', 'reportToImage')}; chance ${f(b.chance.meanSameAbove)} and ${f(b.chance.meanOtherAbove)}`;
}

/**
 * "Location neighbours (role): the nearest other held-out image shares the
 * location for 35 % (report 48 %; chance 40 %); among the training pairs 66 %
 * (72 %; chance 39 %)". Undefined for a run that stored none.
 */
function locationNeighboursLine(role: string, r: RetrievalFile): string | undefined {
  const ln = r.locationNeighbours;
  if (!ln) return undefined;
  const pc = (v: number): string => `${Math.round(v * 100)} %`;
  const e = ln.evaluated;
  const t = ln.training;
  const training = t ? `; among the ${t.image.n} training pairs ${pc(t.image.agreement)} (reports ${pc(t.report.agreement)}; chance ${pc(t.image.chance)})` : '';
  return `Location neighbours (${role}): the nearest other ${r.pairs} image by cosine of the global embeddings has the same tumour location for ${pc(e.image.agreement)} of ${e.image.n} images, the nearest report for ${pc(e.report.agreement)} of the reports (chance ${pc(e.image.chance)})${training}`;
}

/**
 * "Local pairing (role, held-out pairs, 38): an image's patches against what
 * they read from its own report 0.815, from another case's report 0.815; …"
 * — retrieval.json `localPairing` (docs/METHOD.md §5), with whether the
 * local representation reads the other modality. Undefined for a run that
 * stored none.
 */
function localPairingLine(role: string, r: RetrievalFile): string | undefined {
  const lp = r.localPairing;
  if (!lp) return undefined;
  const f = (v: number): string => v.toFixed(3);
  const words = lp.words ? `; word by word (loss.localKind "word"'s scores) ${f(lp.words.own)} and ${f(lp.words.otherImage)}` : '';
  const verdict = !localPairingDegenerate(lp)
    ? 'the local representation reads the other modality'
    : `the local representation does not read the other modality (every difference under ${LOCAL_PAIRING_FLOOR}): ${LOCAL_PAIRING_SHORTCUT} (docs/METHOD.md §5)`;
  return `Local pairing (${role}, ${r.pairs} pairs, ${lp.cases}): cosine of an image's patches with what they read from its own report ${f(lp.image.own)}, from another case's report ${f(lp.image.otherReport)}; of a report's words with what they read from its own image ${f(lp.text.own)}, from another image ${f(lp.text.otherImage)}${words}: ${verdict}`;
}

/**
 * "Report → image cross-attention (role, stage pretrain): held-out pairs (37):
 * mass on the tumour 0.31 % (flat map 0.28 %), 3D Dice 1.2 %, peak on the
 * tumour 3 %, entropy 91 % of its maximum; training pairs (213): …" — one
 * stage of RUN/probe/cross-attention.json.
 */
export function crossAttentionLine(s: CrossAttentionStage, role?: string): string {
  const pc = (v: number): string => `${(100 * v).toFixed(v < 0.1 ? 2 : 1)} %`;
  const part = (label: string, m: CrossAttentionSummary | null): string | undefined =>
    m ? `${label} (${m.cases}): mass on the tumour ${pc(m.mass3d)} (flat map ${pc(m.massFloor3d)}${m.massReachable !== undefined && Math.abs(m.massReachable - m.massFloor3d) > 1e-9 ? `; flat over the patches the words can attend to ${pc(m.massReachable)}` : ''}), 3D Dice ${pc(m.dice3d)}, peak on the tumour ${pc(m.pointing)}, entropy ${pc(m.entropy)} of its maximum` : undefined;
  const parts = [part('held-out pairs', s.heldOut), part('training pairs', s.training)].filter((p): p is string => p !== undefined);
  return `Report → image cross-attention (${role ? `${role}, ` : ''}stage ${s.stage}; each report's words' attention over the layer3 patches, averaged, scored with the ${s.rule} rule): ${parts.length ? parts.join('; ') : 'no case with a mask'}`;
}

/**
 * "Tumour reach (role; frozen encoders, the first fold's 40 internal test
 * cases rendered with and without their tumour; a patch's feature change as a
 * share of the tumour patches', 1 / 2 / ≥ 3 patches away): input 0.02 / 0.00 /
 * 0.00; random layer3 0.81 / 0.53 / 0.23, layer4 …; the tumour patches (2.4 %
 * of them) hold 9.4 % (layer3) …" — RUN/probe/tumour-reach.json.
 */
export function tumourReachLine(f: TumourReachFile, role?: string): string {
  const rel = (m: ReachSummary): string => m.relative.slice(1).map((v) => (v === null ? '—' : v.toFixed(2))).join(' / ');
  const pc = (v: number | null): string => (v === null ? '—' : `${(100 * v).toFixed(1)} %`);
  const variants = new Set(f.encoders.map((e) => e.variant)).size > 1;
  const encoders = f.encoders.map((e) => `${e.arm}${variants ? ` (${e.variant})` : ''} layer3 ${rel(e.layer3)} (tumour patches' share of the squared change ${pc(e.layer3.tumourShare)}), layer4 ${rel(e.layer4)} (${pc(e.layer4.tumourShare)})`);
  return `Tumour reach (${role ? `${role}; ` : ''}frozen encoders of fold ${f.fold}, its ${f.cases.length} internal test cases rendered again with and without their tumour; each patch's feature change as a share of the tumour patches', 1 / 2 / ≥ 3 patches away; the tumour patches are ${pc(f.input.tumourFraction)} of them): input ${rel(f.input)}; ${encoders.join('; ')}`;
}

/** The tumour-reach line of each run of the report that `mrcl probe` measured. */
export function tumourReachLines(doc: ReportDoc): string[] {
  return doc.runs.flatMap(({ role, run }) => (run.tumourReach ? [tumourReachLine(run.tumourReach, role)] : []));
}

/** The cross-attention line of each stage each run of the report scored (`mrcl probe`). */
export function crossAttentionLines(doc: ReportDoc): string[] {
  return doc.runs.flatMap(({ role, run }) => (run.crossAttention ?? []).map((s) => crossAttentionLine(s, role)));
}

/** One global-embeddings line, one retrieval-by-location line, one location-neighbours line and one local-pairing line per run of the report that stored them. */
export function retrievalLocationLines(doc: ReportDoc): string[] {
  return doc.runs.flatMap(({ role, run }) => {
    if (!run.retrieval) return [];
    return [globalSpreadLine(role, run.retrieval), retrievalLocationLine(role, run.retrieval), locationNeighboursLine(role, run.retrieval), localPairingLine(role, run.retrieval)].filter((l): l is string => l !== undefined);
  });
}

export const SCALE_NOTE =
  "The setting of this study's runs beside the paper's (docs/METHOD.md §1–§6), read from the experiment run's config and folders. The verdict judges the paper's claims at this study's scale; it does not measure them at the paper's.";

/** x against the paper's ref: "as the paper's", "1/8 of the paper's", "2× the paper's". */
function againstPaper(x: number, ref: number): string {
  const r = (v: number): string => String(Math.round(v * 10) / 10);
  if (x === ref) return "as the paper's";
  return x < ref ? `1/${r(ref / x)} of the paper's` : `${r(x / ref)}× the paper's`;
}

/**
 * The study's scale beside the paper's (PAPER_SCALE): [item, this study,
 * the paper] rows from the experiment run's config.json, its units' attention
 * grid, its pretraining split and its predictions; a value the run did not
 * record (a config.json written by hand or by an older version) reads "not
 * recorded". Undefined for a run folder without config.json.
 */
export function scaleRows(doc: ReportDoc): [string, string, string][] | undefined {
  const run = doc.runs[0]?.run;
  // a config.json written by hand or by an older version may lack fields: read as the input form
  const c = run?.config as ExperimentConfigInput | undefined;
  if (!run || !c) return undefined;
  const NR = 'not recorded';
  const n = (v: number): string => v.toLocaleString('en-US');
  const lr = (v: number): string => v.toExponential();
  const dims = (d: readonly number[]): string => d.join('×');
  const voxels = (d: readonly number[]): number => d.reduce((a, b) => a * b, 1);
  const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;
  const p = PAPER_SCALE;
  const grid = run.units.map((u) => u.metrics?.attentionGrid).find((g) => Array.isArray(g));
  // distinct cases in the first arm with predictions (an internal case is tested once across folds, an external one by every fold)
  const first = runArms(run).find((a) => run.units.some((u) => u.arm === a && u.predictions));
  const cases = (cohort: 'internal' | 'external'): number | undefined => (first === undefined ? undefined : new Set(pooledCases(run, first, cohort).map((q) => q.id)).size);
  const internal = cases('internal');
  const external = cases('external');
  const shape = c.data?.shape;
  const input = Array.isArray(shape) && shape.length === 3 && shape.every(isNum) ? `${dims(shape)}: ${n(voxels(shape))} voxels, ${againstPaper(voxels(shape), voxels(p.input))}` : NR;
  const img = c.image;
  const attention = (self: boolean): string => (self ? 'self-attention on layer4' : 'no self-attention');
  const image =
    img && isNum(img.depth) && typeof img.shortcut === 'string' && isNum(img.width) && typeof img.selfAttention === 'boolean'
      ? `ResNet-${img.depth}-${img.shortcut}, width ${img.width} (${againstPaper(img.width, p.image.width)} channels per layer), ${attention(img.selfAttention)}`
      : NR;
  const t = c.text;
  const text =
    typeof t?.pretrained === 'string' && t.pretrained !== ''
      ? `pretrained Longformer (text.pretrained ${t.pretrained})${
          run.textModel
            ? `: ${run.textModel.layers} ${run.textModel.layers === 1 ? 'layer' : 'layers'}, hidden ${run.textModel.hidden} (${againstPaper(run.textModel.hidden, p.text.hidden)})${t.trainableLayers === 0 ? ', frozen' : isNum(t.trainableLayers) ? `, the last ${t.trainableLayers} trained` : ''}`
            : ''
        }`
      : isNum(t?.layers) && isNum(t?.hidden)
        ? `Longformer trained from scratch: ${t.layers} ${t.layers === 1 ? 'layer' : 'layers'}, hidden ${t.hidden} (${againstPaper(t.hidden, p.text.hidden)})`
        : NR;
  const schedule = (s: { epochs?: number; lr?: number } | undefined): string => (isNum(s?.epochs) && isNum(s?.lr) ? `${s.epochs} ${s.epochs === 1 ? 'epoch' : 'epochs'}, lr ${lr(s.lr)}` : `schedule ${NR}`);
  const folds = isNum(c.finetune?.folds) ? ` in ${c.finetune.folds} folds` : '';
  return [
    ['Input volume', input, `${dims(p.input)}: ${n(voxels(p.input))} voxels`],
    ['Layer4 attention grid', grid ? dims(grid) : NR, dims(p.attentionGrid)],
    ['Image encoder', image, `ResNet-${p.image.depth}-${p.image.shortcut}, width ${p.image.width}, ${attention(true)}`],
    ['Text encoder', text, `${p.text.name}, pretrained on clinical notes: ${p.text.layers} layers, hidden ${p.text.hidden}, the last ${p.text.trainableLayers} trained`],
    ['Pretraining', `${run.pretrainPairs === undefined ? `pairs ${NR}` : `${n(run.pretrainPairs)} pairs`}, ${schedule(c.pretrain)}`, `${p.pretrain.pairs} pairs, ${p.pretrain.epochs} epochs (the authors' code ${p.pretrain.codeEpochs}), lr ${lr(p.pretrain.lr)}`],
    ['Fine-tuning', `${internal === undefined ? `cases ${NR}` : `${n(internal)} cases`}${folds}, ${schedule(c.finetune)}`, `${p.finetune.cases} cases in ${p.finetune.folds} folds, ${p.finetune.epochs} epochs, lr ${lr(p.finetune.lr)}`],
    ['External cohort', external === undefined ? NR : `${n(external)} cases with a marker`, `${p.external.cases} cases`],
  ];
}

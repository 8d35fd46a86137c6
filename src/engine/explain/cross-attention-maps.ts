// Where the report's words look in the image: the pretraining stage's saved
// cross-attention (METHOD.md §4, S_B: each word's softmax over the layer3
// patches) as one map per case, scored against the tumour mask with the rule,
// Dice and mass the self-attention maps are scored with. Beyond the paper,
// which shows the word → region attention only as pictures: a number that says
// whether the reports point the cross-attention at the tumour at all, beside
// the flat map's score and the rows' entropy (how far from uniform they are).
//
//   report map(p) = 1/W Σ_w S_B[w, p]    over the report's W unmasked words
//   entropy       = 1/W Σ_w H(S_B[w, ·]) / ln P   (1: every word uniform)
//   reachable     = the patches the words can attend to: those where the
//                   map is > 0 (every patch, unless heads.
//                   crossAttentionForeground gives the others exactly 0);
//                   a map flat over them, scored the same way, is the
//                   reference a restricted map has to beat (a map flat over
//                   the head scores more on the tumour than one flat over
//                   the whole grid without looking at anything).
//
// Masks are read here for evaluation only (explain/masks.ts); nothing here is
// on a training path. Pure but for the file and mask reads.
// follows: METHOD.md §7 ("report → image cross-attention")
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ExperimentConfig } from '../../shared/config';
import type { CaseRecord } from '../data/manifest';
import { caseFile } from '../io/safe-path';
import { gridToVolumeOrder } from '../networks/image-input';
import type { Grid3 } from './attention-map';
import { loadCrossAttention, type CrossAttentionRecord } from './cross-attention-io';
import { explainMap, thresholdRule } from './dice-eval';
import type { EvaluationMasks } from './masks';

export interface ReportMap {
  /** mean of the words' S_B rows on the patch grid, Volume order (x fastest) */
  map: Float32Array;
  grid: Grid3;
  /** the words averaged (rows that sum to 0, masked slots, left out) */
  words: number;
  /** mean over those words of the row's entropy ÷ ln P, in [0, 1]; 1 when P is 1 */
  entropy: number;
}

/** The report's map of one cross-attention record; undefined when no word has a row (an empty report). */
export function reportAttentionMap(r: CrossAttentionRecord): ReportMap | undefined {
  const [X, Y, Z] = r.patchGrid;
  const P = X * Y * Z;
  const W = r.words.length;
  const sum = new Float64Array(P);
  let words = 0;
  let entropy = 0;
  for (let w = 0; w < W; w++) {
    const row = r.textToImage.subarray(w * P, (w + 1) * P);
    let total = 0;
    for (let p = 0; p < P; p++) total += row[p]!;
    if (!(total > 0.5)) continue; // a masked word's row is all zeros
    words++;
    let h = 0;
    for (let p = 0; p < P; p++) {
      const v = row[p]!;
      sum[p] += v;
      if (v > 0) h -= v * Math.log(v);
    }
    // float32 rows that sum to 1 within rounding can exceed the maximum by a hair: clamped to it
    entropy += P > 1 ? Math.min(1, h / Math.log(P)) : 1;
  }
  if (words === 0) return undefined;
  for (let p = 0; p < P; p++) sum[p] /= words;
  return { map: gridToVolumeOrder(sum, [X, Y, Z]), grid: [X, Y, Z], words, entropy: entropy / words };
}

export interface CrossAttentionCase {
  id: string;
  /** the mass on the tumour of a map flat over the reachable patches (= massFloor3d when every patch is) */
  massReachable: number;
  /** whether pretraining learnt from the pair ('training') or kept it out ('held-out') */
  pairs: 'held-out' | 'training';
  words: number;
  entropy: number;
  dice3d: number;
  mass3d: number;
  massFloor3d: number;
  pointing: 0 | 1;
}

export interface CrossAttentionSummary {
  cases: number;
  /** means over the cases */
  dice3d: number;
  mass3d: number;
  massFloor3d: number;
  massReachable: number;
  pointing: number;
  entropy: number;
}

export interface CrossAttentionScores {
  /** the patch grid of the stage's maps; null when no case was scored */
  grid: Grid3 | null;
  /** the rule the binary maps were made with (explain.rule) */
  rule: string;
  /** per pair set; null where the stage had none of them with a mask */
  heldOut: CrossAttentionSummary | null;
  training: CrossAttentionSummary | null;
  /** internal pairs not scored: without a mask (or an empty one), without an attention file (a stage that saved none for them), or whose report kept no word */
  skipped: { noMask: number; noFile: number; noWords: number };
  cases: CrossAttentionCase[];
}

/** Means of the scored cases; null for none. */
export function summarizeCrossAttention(cases: readonly CrossAttentionCase[]): CrossAttentionSummary | null {
  if (!cases.length) return null;
  const mean = (k: 'dice3d' | 'mass3d' | 'massFloor3d' | 'massReachable' | 'pointing' | 'entropy') => cases.reduce((s, c) => s + c[k], 0) / cases.length;
  return { cases: cases.length, dice3d: mean('dice3d'), mass3d: mean('mass3d'), massFloor3d: mean('massFloor3d'), massReachable: mean('massReachable'), pointing: mean('pointing'), entropy: mean('entropy') };
}

/**
 * Scores the report maps of a pretraining stage's saved cross-attention
 * (`stageDir/attention/ID.json`) for `cases` against their masks, on the
 * image grid `config.data.shape`, with config.explain's rule. `heldOut` holds
 * the ids pretraining kept out. Undefined when the stage saved no attention
 * folder; an unreadable file is an error naming it.
 */
export function scoreCrossAttention(
  config: ExperimentConfig,
  stageDir: string,
  cases: readonly CaseRecord[],
  masks: EvaluationMasks,
  heldOut: ReadonlySet<string>,
): CrossAttentionScores | undefined {
  const dir = join(stageDir, 'attention');
  if (!existsSync(dir)) return undefined;
  const imageDims = config.data.shape as Grid3;
  const rule = thresholdRule(config.explain);
  const scored: CrossAttentionCase[] = [];
  const skipped = { noMask: 0, noFile: 0, noWords: 0 };
  let grid: Grid3 | undefined;
  for (const c of cases) {
    const file = caseFile(dir, c.id, '.json', stageDir);
    if (!existsSync(file)) {
      skipped.noFile++;
      continue;
    }
    const mask = masks.get(c);
    if (!mask) {
      skipped.noMask++;
      continue;
    }
    const record = loadCrossAttention(file);
    if (record.caseId !== c.id) throw new Error(`${file}: holds case ${JSON.stringify(record.caseId)}, not ${JSON.stringify(c.id)}`);
    const m = reportAttentionMap(record);
    if (!m) {
      skipped.noWords++;
      continue;
    }
    if (grid && grid.join() !== m.grid.join()) throw new Error(`${file}: patch grid [${m.grid.join(', ')}] differs from the stage's other files' [${grid.join(', ')}]`);
    grid = m.grid;
    const scoring = { grid: m.grid, imageDims, rule, threshold: config.explain.threshold, topPercent: config.explain.topPercent, smooth: config.explain.smooth, mask, caseId: c.id };
    const ex = explainMap({ ...scoring, map: m.map }, `${file} (report map)`);
    if (ex.dice3d === undefined) {
      skipped.noMask++; // an empty mask: nothing to point at
      continue;
    }
    // a map flat over every patch is the flat map (normalised or raw, its mass is the floor): scored only when some patch is out of reach
    const massReachable = m.map.every((v) => v > 0) ? ex.massFloor3d! : explainMap({ ...scoring, map: m.map.map((v) => (v > 0 ? 1 : 0)) }, `${file} (flat over the reachable patches)`).mass3d!;
    scored.push({ id: c.id, pairs: heldOut.has(c.id) ? 'held-out' : 'training', words: m.words, entropy: m.entropy, dice3d: ex.dice3d, mass3d: ex.mass3d!, massFloor3d: ex.massFloor3d!, massReachable, pointing: ex.pointing! });
  }
  return {
    grid: grid ?? null,
    rule,
    heldOut: summarizeCrossAttention(scored.filter((c) => c.pairs === 'held-out')),
    training: summarizeCrossAttention(scored.filter((c) => c.pairs === 'training')),
    skipped,
    cases: scored,
  };
}

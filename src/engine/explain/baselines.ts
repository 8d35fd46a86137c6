// Baseline explanations beside the self-attention maps (config
// explain.baselines): Grad-CAM (grad-cam.ts) and occlusion sensitivity
// (occlusion.ts), each binarised and scored exactly as the attention maps
// (explainMap: the same rule, threshold, top-percent and smoothing), so a
// run reports for each method the same Dice and foreground fraction.
// Per case they go to explain-baselines.csv, per split their means to
// metrics.json ("baselines").
// follows: METHOD.md §7 (baseline explanations)
import type { ExperimentConfig } from '../../shared/config';
import type { Volume } from '../io/volume';
import type { MarkerClassifier } from '../model/classifier';
import { writeFileAtomic } from '../io/atomic';
import { READ_LIMITS, readTextBounded } from '../io/bounded-read';
import { volumesToInput } from '../networks/image-input';
import { quoteForMessage } from '../util/quote';
import type { Grid3 } from './attention-map';
import { explainMap, thresholdRule } from './dice-eval';
import { gradCam } from './grad-cam';
import { occlusionSensitivity } from './occlusion';

export type BaselineMethod = ExperimentConfig['explain']['baselines'][number];
export const BASELINE_METHODS: readonly BaselineMethod[] = ['gradCam', 'occlusion'];

/** One case's score under one method (a row of explain-baselines.csv). */
export interface BaselineScore {
  id: string;
  cohort: 'internal' | 'external';
  method: BaselineMethod;
  /** null without a non-empty mask */
  dice2d: number | null;
  dice3d: number | null;
  /** the binary map's foreground voxels / all voxels */
  foreground: number;
  /** threshold-free (mass.ts): mass share on the tumour, peak on the tumour (0/1); null without a non-empty mask, undefined in older files */
  mass3d?: number | null;
  pointing?: number | null;
}

export interface BaselineCase {
  id: string;
  cohort: 'internal' | 'external';
  volume: Pick<Volume, 'data' | 'dims'>;
  /** tumour mask on the image grid (Volume order), if any */
  mask?: ArrayLike<number>;
}

/**
 * The scores of explain.baselines' methods for one batch of cases of equal
 * dims: Grad-CAM in one forward and backward pass of the batch, occlusion
 * case by case (its cost: occlusion.ts), its occluded volumes `batchSize` to
 * a forward pass (default occlusion.ts's; the maps do not depend on it, the
 * model being in eval mode). The model is used in eval mode and left
 * unchanged; no tensor is left behind.
 */
export function explainBaselines(
  model: MarkerClassifier,
  cases: readonly BaselineCase[],
  explain: ExperimentConfig['explain'],
  options: { batchSize?: number } = {},
): BaselineScore[] {
  const methods = explain.baselines;
  if (methods.length === 0 || cases.length === 0) return [];
  for (const m of methods) if (!BASELINE_METHODS.includes(m)) throw new Error(`explainBaselines: unknown method ${JSON.stringify(m)} (expected ${BASELINE_METHODS.join(' or ')})`);
  const scoring = { rule: thresholdRule(explain), threshold: explain.threshold, topPercent: explain.topPercent, smooth: explain.smooth };
  const out: BaselineScore[] = [];
  const row = (c: BaselineCase, method: BaselineMethod, map: ArrayLike<number>, grid: Grid3): BaselineScore => {
    const ex = explainMap({ ...scoring, map, grid, imageDims: c.volume.dims, mask: c.mask, caseId: `${c.id} (${method})` });
    return { id: c.id, cohort: c.cohort, method, dice2d: ex.dice2d ?? null, dice3d: ex.dice3d ?? null, foreground: ex.foreground, mass3d: ex.mass3d ?? null, pointing: ex.pointing ?? null };
  };
  if (methods.includes('gradCam')) {
    const x = volumesToInput(
      cases.map((c) => c.volume),
      cases.map((c) => c.id),
    );
    let cams: ReturnType<typeof gradCam>;
    try {
      cams = gradCam(model, x, { layer: explain.gradCamLayer });
    } finally {
      x.dispose();
    }
    cases.forEach((c, b) => out.push(row(c, 'gradCam', cams.maps[b]!, cams.grid)));
  }
  if (methods.includes('occlusion')) {
    for (const c of cases) {
      const occ = occlusionSensitivity(model, c.volume, {
        patch: explain.occlusionPatch,
        stride: explain.occlusionStride,
        fill: explain.occlusionFill,
        batchSize: options.batchSize,
      });
      out.push(row(c, 'occlusion', occ.map, c.volume.dims));
    }
  }
  return out;
}

export interface BaselineSummary {
  /** cases with a map */
  n: number;
  /** means over the cases with a Dice (null: none) */
  dice2d: number | null;
  dice3d: number | null;
  /** mean over the cases with a Dice, as the attention maps' `foreground` */
  foreground: number | null;
  /** means over the same cases; absent when the rows do not record them (older files) */
  mass3d?: number | null;
  pointing?: number | null;
}

/** Means per method of one split's rows (the same cases as the attention Dice: those with a non-empty mask). */
export function summariseBaselines(rows: readonly BaselineScore[]): Partial<Record<BaselineMethod, BaselineSummary>> {
  const out: Partial<Record<BaselineMethod, BaselineSummary>> = {};
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  for (const method of BASELINE_METHODS) {
    const mine = rows.filter((r) => r.method === method);
    if (!mine.length) continue;
    const scored = mine.filter((r) => r.dice3d !== null);
    // files written before the mass columns have none (undefined); a row with a Dice has both since
    const recorded = scored.length > 0 && scored.every((r) => typeof r.mass3d === 'number' && typeof r.pointing === 'number');
    out[method] = {
      n: mine.length,
      dice2d: mean(scored.map((r) => r.dice2d!)),
      dice3d: mean(scored.map((r) => r.dice3d!)),
      foreground: mean(scored.map((r) => r.foreground)),
      ...(recorded ? { mass3d: mean(scored.map((r) => r.mass3d!)), pointing: mean(scored.map((r) => r.pointing!)) } : {}),
    };
  }
  return out;
}

const HEADER = 'id,cohort,method,dice2d,dice3d,foreground,mass3d,pointing';
/** explain-baselines.csv as written before the mass and pointing columns */
const HEADER_BEFORE_MASS = 'id,cohort,method,dice2d,dice3d,foreground';

export function writeBaselineScores(path: string, rows: readonly BaselineScore[]): void {
  const q = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = rows.map((r) => [q(r.id), r.cohort, r.method, r.dice2d ?? '', r.dice3d ?? '', r.foreground, r.mass3d ?? '', r.pointing ?? ''].join(','));
  writeFileAtomic(path, [Buffer.from(`${HEADER}\n${lines.map((l) => `${l}\n`).join('')}`)]);
}

/** Splits one CSV line (RFC 4180 quotes; no newlines inside fields: ids have none). */
function csvFields(line: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) return undefined;
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += line[i++];
      }
      if (i < line.length && line[i] !== ',') return undefined;
    } else {
      const end = line.indexOf(',', i);
      field = end < 0 ? line.slice(i) : line.slice(i, end);
      i = end < 0 ? line.length : end;
    }
    out.push(field);
    if (i >= line.length) return out;
    i++; // the comma
  }
}

/** Reads explain-baselines.csv as written by writeBaselineScores; errors name the file and row (the header is row 1). */
export function readBaselineScores(path: string): BaselineScore[] {
  const text = readTextBounded(path, { maxBytes: READ_LIMITS.predictions, what: 'explain-baselines file' });
  const [header, ...rows] = text.replace(/\r\n/g, '\n').trimEnd().split('\n');
  if (header !== HEADER && header !== HEADER_BEFORE_MASS) throw new Error(`${path}: not an explain-baselines file (header ${quoteForMessage(header ?? '')}, expected ${HEADER})`);
  const columns = header.split(',').length;
  const num = (s: string, at: string, what: string, nullable: boolean): number | null => {
    if (s === '' && nullable) return null;
    const v = Number(s);
    if (s === '' || !Number.isFinite(v) || v < 0 || v > 1) throw new Error(`${at}: ${what} must be a number in [0, 1]${nullable ? ' or empty' : ''}, got ${quoteForMessage(s)}`);
    return v;
  };
  return rows.map((line, i) => {
    const at = `${path}: row ${i + 2}`;
    const f = csvFields(line);
    if (!f) throw new Error(`${at}: malformed quotes`);
    if (f.length !== columns) throw new Error(`${at}: ${f.length} fields, the header has ${columns}`);
    const [id, cohort, method, d2, d3, fg, mass, point] = f as [string, string, string, string, string, string, string?, string?];
    if (!id) throw new Error(`${at}: empty id`);
    if (cohort !== 'internal' && cohort !== 'external') throw new Error(`${at}: bad cohort ${quoteForMessage(cohort)}`);
    if (!BASELINE_METHODS.includes(method as BaselineMethod)) throw new Error(`${at}: unknown method ${quoteForMessage(method)} (expected ${BASELINE_METHODS.join(' or ')})`);
    return {
      id,
      cohort,
      method: method as BaselineMethod,
      dice2d: num(d2, at, 'dice2d', true),
      dice3d: num(d3, at, 'dice3d', true),
      foreground: num(fg, at, 'foreground', false)!,
      ...(mass === undefined ? {} : { mass3d: num(mass, at, 'mass3d', true), pointing: num(point!, at, 'pointing', true) }),
    };
  });
}

// The report's charts: ROC curves per arm, Dice box plots per arm, retrieval
// recall@k curves. Each takes plain numbers and returns an SVG document whose
// data elements carry their values (data-* attributes), so a reader or a
// test can check them against the saved predictions.
// follows: METHOD.md §7 (ROC AUC, Dice, retrieval recall@k)
import { checkScoresLabels } from '../metrics/labels';
import { percentile } from '../metrics/bootstrap';
import { c3, colour, footnote, frame, legend, px, py, svgDocument, xml, PLOT, type Axes, type LegendEntry } from './svg';

// ---- ROC ----

/** The ROC curve's points, (0, 0) to (1, 1): one point per distinct score, thresholds descending (sklearn's roc_curve without dropping collinear points). */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>): { fpr: number[]; tpr: number[] } {
  const y = checkScoresLabels(scores, labels, 'rocCurve');
  const n1 = y.reduce((a, b) => a + b, 0);
  const n0 = y.length - n1;
  if (n1 === 0 || n0 === 0) throw new Error(`rocCurve: the curve is undefined with only one class present (${n1} positives, ${n0} negatives)`);
  const order = Array.from({ length: y.length }, (_, i) => i).sort((a, b) => scores[b] - scores[a]);
  const fpr = [0];
  const tpr = [0];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < order.length; i++) {
    if (y[order[i]] === 1) tp++;
    else fp++;
    // a run of tied scores is one threshold: one point after the whole run (its segment is the diagonal a tie contributes half of)
    if (i + 1 < order.length && scores[order[i + 1]] === scores[order[i]]) continue;
    fpr.push(fp / n0);
    tpr.push(tp / n1);
  }
  return { fpr, tpr };
}

/** Trapezoidal area under a polyline given by ascending x. */
export function trapezoidArea(x: readonly number[], y: readonly number[]): number {
  let a = 0;
  for (let i = 1; i < x.length; i++) a += ((x[i] - x[i - 1]) * (y[i] + y[i - 1])) / 2;
  return a;
}

export interface RocSeries {
  label: string;
  scores: number[];
  labels: (0 | 1)[];
}

const UNIT: Axes = { x0: 0, x1: 1, y0: 0, y1: 1 };
const TENTHS = [0, 0.2, 0.4, 0.6, 0.8, 1];

/** ROC curves of several arms on one cohort, pooled over folds; an arm with one class only is listed as "no curve". */
export function rocChart(title: string, series: readonly RocSeries[]): string {
  const body = frame(UNIT, { title, xLabel: 'False positive rate (1 − specificity)', yLabel: 'True positive rate (sensitivity)', xTicks: TENTHS, yTicks: TENTHS });
  body.push(`<line x1="${c3(px(UNIT, 0))}" y1="${c3(py(UNIT, 0))}" x2="${c3(px(UNIT, 1))}" y2="${c3(py(UNIT, 1))}" stroke="#888888" stroke-dasharray="4 4"/>`);
  const entries: LegendEntry[] = [];
  series.forEach((s, i) => {
    const n1 = s.labels.filter((l) => l === 1).length;
    if (s.scores.length === 0 || n1 === 0 || n1 === s.labels.length) {
      entries.push({ label: `${s.label}: no curve (${s.scores.length} cases, ${n1} positive)`, colour: colour(i), kind: 'dashed' });
      return;
    }
    const { fpr, tpr } = rocCurve(s.scores, s.labels);
    const auc = trapezoidArea(fpr, tpr);
    const points = fpr.map((f, j) => `${c3(px(UNIT, f))},${c3(py(UNIT, tpr[j]))}`).join(' ');
    body.push(`<polyline class="roc" data-arm="${xml(s.label)}" data-auc="${auc}" data-n="${s.scores.length}" data-positives="${n1}" points="${points}" fill="none" stroke="${colour(i)}" stroke-width="2"/>`);
    entries.push({ label: `${s.label} (AUC ${auc.toFixed(3)}, n = ${s.scores.length})`, colour: colour(i) });
  });
  entries.push({ label: 'chance', colour: '#888888', kind: 'dashed' });
  body.push(...legend(entries));
  body.push(footnote('Cases of all folds pooled; each fold scores with its own model.'));
  return svgDocument(PLOT.width, PLOT.height, title, body);
}

// ---- box plots ----

export interface BoxStats {
  n: number;
  q1: number;
  median: number;
  q3: number;
  /** whiskers: the most extreme values within 1.5 IQR of the box (Tukey, matplotlib's default) */
  low: number;
  high: number;
  outliers: number[];
}

/** Quartiles by numpy.percentile (linear), Tukey whiskers. */
export function boxStats(values: readonly number[]): BoxStats {
  if (values.length === 0) throw new Error('boxStats: no values');
  const s = [...values].sort((a, b) => a - b);
  const q1 = percentile(s, 25);
  const median = percentile(s, 50);
  const q3 = percentile(s, 75);
  const iqr = q3 - q1;
  const inside = s.filter((v) => v >= q1 - 1.5 * iqr && v <= q3 + 1.5 * iqr);
  return { n: s.length, q1, median, q3, low: inside[0]!, high: inside[inside.length - 1]!, outliers: s.filter((v) => v < q1 - 1.5 * iqr || v > q3 + 1.5 * iqr) };
}

export interface BoxGroup {
  /** the arm */
  label: string;
  /** one box per kind (e.g. 2D, 3D Dice), in `kinds` order; empty: no values */
  values: number[][];
}

/** Box plots of fractions in [0, 1] (shown in percent): one group per arm, one box per kind. */
export function boxChart(title: string, yLabel: string, kinds: readonly string[], groups: readonly BoxGroup[]): string {
  const a: Axes = { x0: 0, x1: Math.max(1, groups.length), y0: 0, y1: 1 };
  const body = frame(a, { title, xLabel: 'Model', yLabel, xTicks: [], yTicks: TENTHS, yTickText: (v) => `${Math.round(v * 100)}%` });
  const slot = PLOT.plotWidth / Math.max(1, groups.length);
  const boxWidth = Math.min(36, (slot * 0.7) / Math.max(1, kinds.length));
  groups.forEach((g, gi) => {
    const centre = PLOT.left + slot * (gi + 0.5);
    body.push(`<text x="${c3(centre)}" y="${PLOT.top + PLOT.plotHeight + 18}" text-anchor="middle">${xml(g.label)}</text>`);
    kinds.forEach((kind, ki) => {
      const v = g.values[ki] ?? [];
      const x = centre + (ki - (kinds.length - 1) / 2) * (boxWidth + 6);
      if (v.length === 0) {
        body.push(`<text class="nobox" data-arm="${xml(g.label)}" data-kind="${xml(kind)}" x="${c3(x)}" y="${c3(py(a, 0) - 6)}" text-anchor="middle" font-size="10">n/a</text>`);
        return;
      }
      const b = boxStats(v);
      const col = colour(ki);
      const half = boxWidth / 2;
      const attrs = `data-arm="${xml(g.label)}" data-kind="${xml(kind)}" data-n="${b.n}" data-q1="${b.q1}" data-median="${b.median}" data-q3="${b.q3}" data-low="${b.low}" data-high="${b.high}"`;
      body.push(`<g class="box" ${attrs}>`);
      body.push(`<line x1="${c3(x)}" y1="${c3(py(a, b.low))}" x2="${c3(x)}" y2="${c3(py(a, b.q1))}" stroke="${col}"/>`);
      body.push(`<line x1="${c3(x)}" y1="${c3(py(a, b.q3))}" x2="${c3(x)}" y2="${c3(py(a, b.high))}" stroke="${col}"/>`);
      for (const w of [b.low, b.high]) body.push(`<line x1="${c3(x - half / 2)}" y1="${c3(py(a, w))}" x2="${c3(x + half / 2)}" y2="${c3(py(a, w))}" stroke="${col}"/>`);
      body.push(`<rect x="${c3(x - half)}" y="${c3(py(a, b.q3))}" width="${c3(boxWidth)}" height="${c3(py(a, b.q1) - py(a, b.q3))}" fill="${col}" fill-opacity="0.35" stroke="${col}"/>`);
      body.push(`<line x1="${c3(x - half)}" y1="${c3(py(a, b.median))}" x2="${c3(x + half)}" y2="${c3(py(a, b.median))}" stroke="#000000" stroke-width="2"/>`);
      for (const o of b.outliers) body.push(`<circle cx="${c3(x)}" cy="${c3(py(a, o))}" r="2.5" fill="none" stroke="${col}"/>`);
      body.push('</g>');
    });
  });
  body.push(...legend(kinds.map((k, i) => ({ label: k, colour: colour(i), kind: 'box' as const }))));
  body.push(footnote('Cases of all folds pooled. Box: quartiles (linear interpolation); whiskers: within 1.5 IQR; circles: beyond.'));
  return svgDocument(PLOT.width, PLOT.height, title, body);
}

// ---- retrieval ----

export interface RecallSeries {
  label: string;
  /** (k, recall@k) points, k ascending */
  points: [number, number][];
}

/** recall@k against k, with the chance line min(k, N)/N over k = 1…N. */
export function retrievalChart(title: string, n: number, series: readonly RecallSeries[], note: string): string {
  const a: Axes = { x0: 0, x1: Math.max(1, n), y0: 0, y1: 1 };
  const step = n <= 10 ? 1 : n <= 50 ? 5 : n <= 100 ? 10 : Math.ceil(n / 10 / 10) * 10;
  const xTicks: number[] = [];
  for (let k = 0; k <= n; k += step) xTicks.push(k);
  const body = frame(a, { title, xLabel: `k (of N = ${n} pairs)`, yLabel: 'Recall@k', xTicks, yTicks: TENTHS });
  body.push(`<polyline class="chance" points="${c3(px(a, 0))},${c3(py(a, 0))} ${c3(px(a, n))},${c3(py(a, 1))}" fill="none" stroke="#888888" stroke-dasharray="4 4"/>`);
  series.forEach((s, i) => {
    const pts = s.points.map(([k, r]) => `${c3(px(a, k))},${c3(py(a, r))}`).join(' ');
    const data = s.points.map(([k, r]) => `${k}:${r}`).join(' ');
    body.push(`<g class="recall" data-direction="${xml(s.label)}" data-points="${data}">`);
    if (s.points.length > 1) body.push(`<polyline points="${pts}" fill="none" stroke="${colour(i)}" stroke-width="2"/>`);
    for (const [k, r] of s.points) if (s.points.length <= 12) body.push(`<circle cx="${c3(px(a, k))}" cy="${c3(py(a, r))}" r="3" fill="${colour(i)}"/>`);
    body.push('</g>');
  });
  body.push(...legend([...series.map((s, i) => ({ label: s.label, colour: colour(i) })), { label: 'chance (k/N)', colour: '#888888', kind: 'dashed' as const }]));
  body.push(footnote(note));
  return svgDocument(PLOT.width, PLOT.height, title, body);
}

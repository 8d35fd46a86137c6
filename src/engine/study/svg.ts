// Hand-written SVG for the study report's figures: a plot frame with axes,
// ticks, labels and a legend, in a fixed geometry so every figure is small,
// deterministic (same numbers, same bytes) and its data can be read back from
// the coordinates (the tests invert `PLOT`'s mapping).

/** The plot area of every chart, in SVG user units. */
export const PLOT = { width: 760, height: 400, left: 64, top: 36, plotWidth: 300, plotHeight: 300 } as const;

/** Data → SVG coordinates of a chart whose axes span [x0, x1] × [y0, y1]. */
export interface Axes {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

export const px = (a: Axes, x: number): number => PLOT.left + ((x - a.x0) / (a.x1 - a.x0)) * PLOT.plotWidth;
export const py = (a: Axes, y: number): number => PLOT.top + (1 - (y - a.y0) / (a.y1 - a.y0)) * PLOT.plotHeight;

/** A coordinate with 3 decimals (the tests read the curves back to about 1e-5). */
export const c3 = (v: number): string => String(Math.round(v * 1000) / 1000);

/** Escapes text for XML content and attribute values. */
export function xml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[ch]!);
}

/** One colour per series, distinguishable in colour and in greyscale print. */
export const SERIES_COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'] as const;
export const colour = (i: number): string => SERIES_COLOURS[i % SERIES_COLOURS.length]!;

export function svgDocument(width: number, height: number, title: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>${xml(title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

export interface FrameOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  xTicks: number[];
  yTicks: number[];
  /** tick text (default: the value with up to 2 decimals) */
  xTickText?: (v: number) => string;
  yTickText?: (v: number) => string;
}

const tickText = (v: number): string => String(Math.round(v * 100) / 100);

/** The axes box, ticks, tick labels, axis labels and title. */
export function frame(a: Axes, o: FrameOptions): string[] {
  const { left, top, plotWidth: w, plotHeight: h } = PLOT;
  const out = [`<text x="${left + w / 2}" y="${top - 14}" text-anchor="middle" font-size="14" font-weight="bold">${xml(o.title)}</text>`];
  out.push(`<rect x="${left}" y="${top}" width="${w}" height="${h}" fill="none" stroke="#000000"/>`);
  for (const t of o.xTicks) {
    const x = c3(px(a, t));
    out.push(`<line x1="${x}" y1="${top + h}" x2="${x}" y2="${top + h + 5}" stroke="#000000"/>`);
    out.push(`<text x="${x}" y="${top + h + 18}" text-anchor="middle">${xml((o.xTickText ?? tickText)(t))}</text>`);
  }
  for (const t of o.yTicks) {
    const y = c3(py(a, t));
    out.push(`<line x1="${left - 5}" y1="${y}" x2="${left}" y2="${y}" stroke="#000000"/>`);
    out.push(`<text x="${left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${xml((o.yTickText ?? tickText)(t))}</text>`);
  }
  out.push(`<text x="${left + w / 2}" y="${top + h + 38}" text-anchor="middle">${xml(o.xLabel)}</text>`);
  out.push(`<text x="${left - 46}" y="${top + h / 2}" text-anchor="middle" transform="rotate(-90 ${left - 46} ${top + h / 2})">${xml(o.yLabel)}</text>`);
  return out;
}

export interface LegendEntry {
  label: string;
  colour: string;
  /** 'line' (default), 'dashed' or 'box' */
  kind?: 'line' | 'dashed' | 'box';
}

/** The legend, right of the plot area. */
export function legend(entries: readonly LegendEntry[]): string[] {
  const x = PLOT.left + PLOT.plotWidth + 16;
  const out = [`<g class="legend">`];
  entries.forEach((e, i) => {
    const y = PLOT.top + 10 + i * 20;
    if (e.kind === 'box') out.push(`<rect x="${x}" y="${y - 6}" width="20" height="12" fill="${e.colour}" fill-opacity="0.35" stroke="${e.colour}"/>`);
    else out.push(`<line x1="${x}" y1="${y}" x2="${x + 20}" y2="${y}" stroke="${e.colour}" stroke-width="2"${e.kind === 'dashed' ? ' stroke-dasharray="5 4"' : ''}/>`);
    out.push(`<text x="${x + 26}" y="${y}" dominant-baseline="middle">${xml(e.label)}</text>`);
  });
  out.push('</g>');
  return out;
}

/** A note under the plot (e.g. "no cases"), in grey. */
export function footnote(text: string, line = 0): string {
  return `<text x="${PLOT.left}" y="${PLOT.top + PLOT.plotHeight + 56 + line * 15}" fill="#555555" font-size="11">${xml(text)}</text>`;
}

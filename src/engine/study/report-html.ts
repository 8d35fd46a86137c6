// report.html: the study report as one self-contained page. No external
// reference of any kind: the styles are inline, the figures are inline SVG
// (their pixels PNG data URIs), nothing is fetched. The tables are
// results.json's, cell texts and footnote marks as in results.md.
import type { Cell, ResultTable, ResultsDoc } from '../results/types';
import { METRIC_FORMATS, METRIC_HEADERS } from '../results/aggregate';
import { formatNumber } from '../results/tables';
import { xml } from './svg';
import { allWarnings, augmentNote, beyondVerdictSections, crossAttentionLines, tumourReachLines, retrievalLocationLines, scaleRows, SCALE_NOTE, standinNote, zeroShotLine, type ReportDoc } from './report-doc';

const STYLE = `body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#111}
table{border-collapse:collapse;margin:0.5em 0 1em}th,td{border:1px solid #bbb;padding:3px 8px;text-align:center}
td:first-child,th:first-child{text-align:left}.reproduced{color:#0a6b0a;font-weight:bold}
.not-reproduced{color:#a30000;font-weight:bold}.not-measured{color:#666;font-style:italic}
.warn{background:#fff4e0;border-left:4px solid #e09000;padding:0.4em 0.8em}figure{margin:1em 0}
figcaption{font-size:0.9em;color:#333;max-width:900px}.notes{font-size:0.85em;color:#333}`;

/** An SVG document as inline HTML: no XML namespace URL (HTML parsing puts <svg> in the SVG namespace itself). */
export function inlineSvg(svg: string): string {
  return svg.replace(/\s+xmlns(:\w+)?="[^"]*"/g, '').trim();
}

function cellHtml(c: Cell, tag: 'td' | 'th'): string {
  const marks = c.footnotes.length ? `<sup>${c.footnotes.map((n) => `[${n}]`).join('')}</sup>` : '';
  return `<${tag}>${xml(c.text)}${marks}</${tag}>`;
}

function tableHtml(t: ResultTable): string[] {
  const out = [`<h4>${xml(t.title)}</h4>`];
  for (const w of t.warnings ?? []) out.push(`<p class="warn"><b>Warning:</b> ${xml(w)}</p>`);
  out.push('<table>', `<tr>${t.columns.map((c) => `<th>${xml(c.header)}</th>`).join('')}</tr>`);
  for (const r of t.rows) out.push(`<tr>${r.cells.map((c) => cellHtml(c, 'td')).join('')}</tr>`);
  out.push('</table>');
  const notes = [...t.footnotes.map((f, i) => `[${i + 1}] ${f}`), ...t.notes];
  if (notes.length) out.push(`<div class="notes">${notes.map((n) => `<div>${xml(n)}</div>`).join('')}</div>`);
  return out;
}

function ciHtml(doc: ResultsDoc): string[] {
  if (!doc.ci?.length) return [];
  const out = ['<h4>Bootstrap 95% confidence intervals</h4>', '<table>', '<tr><th>Model</th><th>Cohort</th><th>Metric</th><th>Mean over folds</th><th>95% CI</th><th>Folds</th><th>Cases</th><th>Resampling</th></tr>'];
  for (const c of doc.ci) {
    const f = (v: number) => formatNumber(v, METRIC_FORMATS[c.metric]);
    out.push(`<tr><td>${xml(c.label)}</td><td>${c.split}</td><td>${xml(METRIC_HEADERS[c.metric])}</td><td>${f(c.estimate)}</td><td>${f(c.lower)} – ${f(c.upper)}</td><td>${c.folds.length}</td><td>${c.cases}</td><td>${c.resampling ?? 'within folds'}</td></tr>`);
  }
  out.push('</table>');
  return out;
}

export function reportHtml(doc: ReportDoc): string {
  const body: string[] = ['<h1>Reproduction study report</h1>', '<h2>Verdict</h2>', '<ul>'];
  for (const c of doc.verdict) body.push(`<li><span class="${c.status.replace(' ', '-')}">${xml(c.status)}</span>: ${xml(c.claim)}. ${xml(c.detail)}.</li>`);
  body.push('</ul>', "<p class=\"notes\">A comparison is reproduced when the difference has the paper's sign and the paired t-test over folds gives p &lt; 0.05.</p>");
  for (const [heading, note, claims] of beyondVerdictSections(doc)) {
    body.push(`<h2>${xml(heading)}</h2>`, `<p class="notes">${xml(note)}</p>`, '<ul>');
    for (const c of claims) body.push(`<li><span class="${c.status.replace(' ', '-')}">${xml(c.status)}</span>: ${xml(c.claim)}. ${xml(c.detail)}.</li>`);
    body.push('</ul>');
  }
  const augment = augmentNote(doc);
  if (augment) body.push(`<p class="warn"><b>Note:</b> ${xml(augment)}</p>`);
  if (doc.standin) body.push(`<p class="warn"><b>Note:</b> ${xml(standinNote(doc.standin))}</p>`);
  const scale = scaleRows(doc);
  if (scale) {
    body.push("<h2>This study's scale and the paper's</h2>", `<p class="notes">${xml(SCALE_NOTE)}</p>`, '<table>', '<tr><th></th><th>This study</th><th>The paper</th></tr>');
    for (const row of scale) body.push(`<tr>${row.map((c) => `<td>${xml(c)}</td>`).join('')}</tr>`);
    body.push('</table>');
  }
  const warnings = allWarnings(doc);
  if (warnings.length) body.push('<h2>Warnings</h2>', ...warnings.map((w) => `<p class="warn">${xml(w)}</p>`));
  body.push('<h2>Runs</h2>', '<ul>', ...doc.runs.map(({ role, run }) => `<li>${xml(role)}: <code>${xml(run.dir)}</code></li>`));
  const z = doc.runs[0]?.run.zeroShot;
  if (z) body.push(`<li>${xml(zeroShotLine(z))}</li>`);
  for (const l of [...retrievalLocationLines(doc), ...crossAttentionLines(doc), ...tumourReachLines(doc)]) body.push(`<li>${xml(l)}</li>`);
  body.push('</ul>');
  body.push('<h2>Figures</h2>');
  for (const f of doc.figures) body.push('<figure>', inlineSvg(f.svg), `<figcaption>${xml(f.caption)}</figcaption>`, '</figure>');
  for (const m of doc.missing) body.push(`<p class="notes">Not drawn: ${xml(m)}</p>`);
  for (const { role, run } of doc.runs) {
    body.push(`<h2>Tables: ${xml(role)}</h2>`, `<p class="notes">${xml(run.doc.title)}; run ${xml(run.doc.runId)}</p>`);
    for (const t of run.doc.tables) body.push(...tableHtml(t));
    body.push(...ciHtml(run.doc));
  }
  return ['<!DOCTYPE html>', '<html lang="en">', '<head>', '<meta charset="utf-8">', '<title>Reproduction study report</title>', `<style>${STYLE}</style>`, '</head>', '<body>', ...body, '</body>', '</html>', ''].join('\n');
}

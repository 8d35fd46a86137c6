// A run folder for the webview checks, made from a synthetic cohort's first
// internal case: config.json pointing at the manifest, a heatmap and binary
// map on the mask's grid (a blob overlapping the tumour), predictions.csv
// and a cross-attention file whose words are the report's first words; the
// case's report as <case>.txt in the workspace (inline attention finds the
// attention file by that name); and a second run with other results to
// compare with. The runs live outside the workspace, so that nothing in it
// matches the extension's workspaceContains activation events until
// runIntoWorkspace() copies the run in.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseManifest } from '../../../src/engine/data/manifest';
import { readNifti } from '../../../src/engine/io/nifti';
import { writeNifti } from '../../../src/engine/io/nifti-write';
import { saveCrossAttention } from '../../../src/engine/explain/cross-attention-io';
import { buildResults } from '../../../src/engine/results/tables';
import type { EngineEvent } from '../../../src/shared/events';

export interface PanelFixture {
  runDir: string;
  caseId: string;
  words: string[];
  /** the case's report, named <caseId>.txt */
  reportPath: string;
  resultsPath: string;
  /** results.json of a second run (same tables, other values) */
  otherResultsPath: string;
}

function softmaxRows(rows: number, cols: number, seed: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += out[r * cols + c] = Math.exp(3 * Math.sin(seed + r * 1.7 + c * 2.3));
    for (let c = 0; c < cols; c++) out[r * cols + c]! /= s;
  }
  return out;
}

export function makePanelFixture(workspace: string, runsRoot: string, manifestPath: string): PanelFixture {
  const c = parseManifest(manifestPath).cases.find((x) => x.mask && x.report);
  if (!c || !c.mask) throw new Error(`${manifestPath}: no case with a mask and a report`);
  const runDir = join(runsRoot, 'panels-20260101-000000');
  const fold = join(runDir, 'finetune', 'pretrained', 'fold-0');
  mkdirSync(join(fold, 'heatmaps'), { recursive: true });
  mkdirSync(join(runDir, 'pretrain', 'attention'), { recursive: true });
  writeFileSync(join(runDir, 'config.json'), JSON.stringify({ data: { manifest: manifestPath }, explain: { threshold: 0.3 } }));
  writeFileSync(join(runDir, 'run.json'), JSON.stringify({ status: 'done' }));
  const mask = readNifti(c.mask);
  const [nx, ny, nz] = mask.dims;
  // centre of mass of the mask, shifted a little: the heatmap overlaps it partly
  let sx = 0, sy = 0, sz = 0, n = 0;
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) if (mask.data[i + nx * (j + ny * k)]! > 0.5) (sx += i), (sy += j), (sz += k), n++;
  const [cx, cy, cz] = n ? [sx / n + 1, sy / n, sz / n] : [nx / 2, ny / 2, nz / 2];
  const heat = new Float32Array(mask.data.length);
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) heat[i + nx * (j + ny * k)] = Math.exp(-((i - cx) ** 2 + (j - cy) ** 2 + (k - cz) ** 2) / 18);
  writeNifti(join(fold, 'heatmaps', `${c.id}.heatmap.nii.gz`), { ...mask, data: heat });
  writeNifti(join(fold, 'heatmaps', `${c.id}.binary.nii.gz`), { ...mask, data: Float32Array.from(heat, (v) => (v > 0.3 ? 1 : 0)) }, { datatype: 'uint8' });
  writeFileSync(join(fold, 'predictions.csv'), `id,cohort,label,score,dice2d,dice3d\n${c.id},internal,1,0.8,0.5,0.4\n`);
  // the random-init arm's heatmap of the same case: a blob away from the tumour (the viewer switches between arms)
  const randomFold = join(runDir, 'finetune', 'random', 'fold-0');
  mkdirSync(join(randomFold, 'heatmaps'), { recursive: true });
  const far = Float32Array.from(heat, (_, idx) => {
    const i = idx % nx, j = Math.floor(idx / nx) % ny, k = Math.floor(idx / (nx * ny));
    return Math.exp(-((i - (nx - 1 - cx)) ** 2 + (j - (ny - 1 - cy)) ** 2 + (k - cz) ** 2) / 18);
  });
  writeNifti(join(randomFold, 'heatmaps', `${c.id}.heatmap.nii.gz`), { ...mask, data: far });
  writeFileSync(join(randomFold, 'predictions.csv'), `id,cohort,label,score,dice2d,dice3d\n${c.id},internal,1,0.4,0.0,0.0\n`);
  const r = c.report!;
  const text = r.kind === 'file' ? readFileSync(r.path, 'utf8') : r.text;
  let reportPath = r.kind === 'file' ? r.path : '';
  if (basename(reportPath) !== `${c.id}.txt` || !reportPath.startsWith(workspace)) {
    reportPath = join(workspace, 'reports', `${c.id}.txt`);
    mkdirSync(dirname(reportPath), { recursive: true });
    writeFileSync(reportPath, text);
  }
  const words = text.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean).slice(0, 24);
  const grid: [number, number, number] = [3, 3, 2];
  const p = 18;
  saveCrossAttention(join(runDir, 'pretrain', 'attention', `${c.id}.json`), {
    caseId: c.id, words, patchGrid: grid, imageToText: softmaxRows(p, words.length, 1), textToImage: softmaxRows(words.length, p, 2),
  });
  // a short training history for the dashboard and a results document for the results panel
  const events: EngineEvent[] = [];
  for (let step = 1; step <= 12; step++) {
    events.push({ type: 'step', stage: 'pretrain', epoch: Math.ceil(step / 4), step, loss: 2 / step, global: 1.2 / step, local: 0.8 / step, alpha: 0.6, beta: 0.4, lr: 1e-4, seconds: 0.1 });
  }
  events.push({ type: 'progress', stage: 'pretrain', done: 12, total: 12, epoch: 3, epochs: 3, etaSeconds: 0 });
  events.push({ type: 'metrics', stage: 'finetune/pretrained/fold-0', metrics: { aucInternal: 0.75, aucExternal: null } });
  writeFileSync(join(runDir, 'events.jsonl'), events.map((e, i) => JSON.stringify({ ...e, time: i })).join('\n') + '\n');
  const sm = (auc: number) => ({ n: 8, positives: 3, auc, precision: 0.5, recall: 0.5, f1: 0.5, dice2d: 0.3, dice3d: 0.2 });
  const arm = (name: string, label: string, aucs: number[]) => ({ arm: name, label, status: 'done' as const, folds: aucs.map((a, fold) => ({ arm: name, fold, internal: sm(a), external: null })) });
  const results = (runId: string, aucs: [number[], number[]]) =>
    JSON.stringify(buildResults({ kind: 'experiment', runId, arms: [arm('random', 'Random init', aucs[0]), arm('pretrained', 'Proposed CL', aucs[1])], showPaper: false }));
  const resultsPath = join(runDir, 'results.json');
  writeFileSync(resultsPath, results('panels', [[0.6, 0.7, 0.65], [0.8, 0.85, 0.9]]));
  const otherDir = join(runsRoot, 'panels-b-20260102-000000');
  mkdirSync(otherDir, { recursive: true });
  const otherResultsPath = join(otherDir, 'results.json');
  writeFileSync(otherResultsPath, results('panels-b', [[0.55, 0.6, 0.62], [0.7, 0.72, 0.95]]));
  return { runDir, caseId: c.id, words, reportPath, resultsPath, otherResultsPath };
}

/** Copies the run into the workspace, as if it had been made there; returns the copy. */
export function runIntoWorkspace(fx: PanelFixture, workspace: string): string {
  const to = join(workspace, 'runs', basename(fx.runDir));
  cpSync(fx.runDir, to, { recursive: true });
  return to;
}

// The study report on a real tiny experiment: the Figure-3 panel shows the
// external case of median tumour size, on the slice of the mask's largest
// cross-section, with each arm's heatmap; its numbers are the saved ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { PNG } from 'pngjs';
import { loadConfig } from '../../../src/engine/config/resolve';
import { runStudy } from '../../../src/engine/experiment/study';
import { readPredictions } from '../../../src/engine/training/finetune';
import { readNifti, writeNifti } from '../../../src/engine/io/nifti';
import { loadManifest } from '../../../src/engine/data/manifest';
import { evaluationMasks } from '../../../src/engine/explain/masks';
import { readJson } from '../../../src/engine/training/run-folder';
import type { ExperimentConfig } from '../../../src/shared/config';
import { renderStudyReport } from '../../../src/engine/study/report';
import { largestMaskSlice } from '../../../src/engine/study/panel';
import { tinyWorkspace } from '../experiment/helpers';
import { parseXml } from './xml-check';

test('the Figure-3 panel of a tiny experiment: median-size external case, largest mask slice, every arm', { timeout: 600_000 }, async () => {
  const ws = await tinyWorkspace();
  const { config, baseDir } = loadConfig(ws.configPath);
  const outcome = await runStudy({ kind: 'experiment', config, baseDir, emit: () => {} });
  assert.equal(outcome.status, 'done', outcome.error);
  const runDir = outcome.runDir!;
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-study-'));
  const report = renderStudyReport({ dir, experiment: runDir });
  assert.ok(report.figures.some((f) => f.endsWith('attention-panel.svg')), report.markdown);
  // the zero-shot location result of the pretraining stage, as stored
  const z = readJson<{ accuracy: number; n: number }>(join(runDir, 'pretrain', 'zero-shot.json'));
  assert.ok(report.markdown.includes(`accuracy ${z.accuracy.toFixed(3)}`) && report.markdown.includes(`over ${z.n} cases`));
  assert.ok(report.html.includes(`accuracy ${z.accuracy.toFixed(3)}`));

  // the case: lower median of the external cases' floor3d (monotone in the mask size), ties by id
  const rows = readPredictions(join(runDir, 'finetune', 'pretrained', 'fold-0', 'predictions.csv')).filter((p) => p.cohort === 'external' && p.dice3d !== null);
  rows.sort((a, b) => a.floor3d! - b.floor3d! || (a.id < b.id ? -1 : 1));
  const chosen = rows[Math.floor((rows.length - 1) / 2)]!;
  const els = parseXml(readFileSync(join(dir, 'figures', 'attention-panel.svg'), 'utf8'));
  assert.match(els.find((e) => e.name === 'title')!.text, new RegExp(`external case ${chosen.id}$`));

  // its mask's largest slice, recomputed from the mask
  const rec = readJson<ExperimentConfig>(join(runDir, 'config.json'));
  const manifest = loadManifest(rec.data.manifest!);
  const c = manifest.cases.find((x) => x.id === chosen.id)!;
  const mask = evaluationMasks(rec, rec.data.manifest!).get(c)!;
  const k = largestMaskSlice(mask, [24, 24, 16]);
  let best = -1;
  for (let z = 0; z < 16; z++) {
    let area = 0;
    for (let p = 0; p < 24 * 24; p++) area += mask[p + 24 * 24 * z]!;
    if (area > best) best = area;
  }
  let areaK = 0;
  for (let p = 0; p < 24 * 24; p++) areaK += mask[p + 24 * 24 * k]!;
  assert.equal(areaK, best);
  assert.ok(report.markdown.includes(`axial slice k = ${k} of 16`), report.markdown);

  // one panel for the MRI and one per arm, each a 24×24 RGB PNG; the arms' Dice are the predictions'
  const panels = els.filter((e) => e.attrs.class === 'panel');
  assert.deepEqual(panels.map((p) => p.attrs['data-title']), ['MRI slice and tumour mask', 'Random init', 'Proposed CL']);
  const images = els.filter((e) => e.name === 'image');
  assert.equal(images.length, 3);
  for (const img of images) {
    const href = img.attrs.href!;
    assert.ok(href.startsWith('data:image/png;base64,'));
    const bytes = Buffer.from(href.slice('data:image/png;base64,'.length), 'base64');
    const png = PNG.sync.read(bytes);
    assert.deepEqual([png.width, png.height, bytes[25]], [24, 24, 2], '24×24, colour type 2 (RGB)');
  }
  const grey = PNG.sync.read(Buffer.from(images[0]!.attrs.href!.split(',')[1]!, 'base64')).data; // RGBA
  for (let p = 0; p < grey.length; p += 4) assert.ok(grey[p] === grey[p + 1] && grey[p] === grey[p + 2], 'the MRI panel is grey');
  for (const [i, arm] of ['random', 'pretrained'].entries()) {
    const row = readPredictions(join(runDir, 'finetune', arm, 'fold-0', 'predictions.csv')).find((p) => p.id === chosen.id)!;
    assert.equal(panels[i + 1]!.attrs['data-dice2d'], String(row.dice2d ?? ''));
    assert.equal(panels[i + 1]!.attrs['data-dice3d'], String(row.dice3d ?? ''));
  }
  // a heatmap with contrast is blended over the slice: colour where it is high, the grey image where it is 0
  const heatPath = join(runDir, 'finetune', 'pretrained', 'fold-0', 'heatmaps', `${chosen.id}.heatmap.nii.gz`);
  const heat = readNifti(heatPath);
  const ramp = new Float32Array(heat.data.length);
  for (let p = 0; p < ramp.length; p++) ramp[p] = p % 24 >= 12 ? 1 : 0; // right half of every row hot
  writeNifti(heatPath, { data: ramp, dims: heat.dims, pixdim: heat.pixdim, affine: heat.affine }, { datatype: 'float32' });
  const again = parseXml(readFileSync(renderStudyReport({ dir, experiment: runDir }).figures.find((f) => f.endsWith('attention-panel.svg'))!, 'utf8'));
  const cl = PNG.sync.read(Buffer.from(again.filter((e) => e.name === 'image')[2]!.attrs.href!.split(',')[1]!, 'base64')).data;
  for (let row = 0; row < 24; row++) {
    for (let i = 0; i < 24; i++) {
      const o = (row * 24 + i) * 4;
      if (i < 12) assert.deepEqual([...cl.subarray(o, o + 3)], [...grey.subarray(o, o + 3)], `cold pixel ${i},${row} is the grey image`);
      else assert.ok(cl[o]! !== cl[o + 1]! || cl[o]! !== cl[o + 2]!, `hot pixel ${i},${row} is coloured`);
    }
  }
  // the outline is drawn on every panel, and the html embeds the panel without any external reference
  assert.equal(els.filter((e) => e.name === 'path' && e.attrs.d!.length > 0).length, 3);
  assert.doesNotMatch(report.html, /https?:|\bsrc\s*=/i);
  assert.ok(report.html.includes('data:image/png;base64,'));
});

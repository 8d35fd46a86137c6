// A tiny end-to-end experiment: every artifact exists, metrics are
// recomputable from the saved predictions, heatmaps overlay the image,
// cross-attention files load, the same seed gives the same metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../../src/engine/config/resolve';
import { runStudy } from '../../../src/engine/experiment/study';
import { readJson, readEvents } from '../../../src/engine/training/run-folder';
import { readPredictions, splitMetrics } from '../../../src/engine/training/finetune';
import { readNifti } from '../../../src/engine/io/nifti';
import { loadCrossAttention } from '../../../src/engine/explain/cross-attention-io';
import { readSafetensors } from '../../../src/engine/io/safetensors';
import type { FoldResult, ResultsDoc } from '../../../src/engine/results/types';
import type { EngineEvent } from '../../../src/shared/events';
import { printResultsWarnings } from '../../../src/cli/commands/study';
import type { CommandContext } from '../../../src/cli/command';
import { tinyWorkspace } from './helpers';

async function runTiny(configPath: string) {
  const { config, baseDir } = loadConfig(configPath);
  const events: EngineEvent[] = [];
  const outcome = await runStudy({ kind: 'experiment', config, baseDir, emit: (e) => events.push(e) });
  assert.equal(outcome.status, 'done', outcome.error);
  return { runDir: outcome.runDir!, events };
}

test('a tiny experiment writes every artifact, and its numbers are recomputable', { timeout: 600_000 }, async () => {
  const ws = await tinyWorkspace();
  const { runDir, events } = await runTiny(ws.configPath);
  for (const f of ['config.json', 'run.json', 'plan.json', 'events.jsonl', 'results.json', 'results.md', 'pretrain/model.safetensors', 'pretrain/tokenizer.json', 'pretrain/done.json']) {
    assert.ok(existsSync(join(runDir, f)), `${f} missing`);
  }
  assert.equal(readJson<{ status: string }>(join(runDir, 'run.json')).status, 'done');
  // the recorded config is the resolved one (defaults filled, paths absolute)
  const recorded = readJson<{ loss: { globalMargin: number }; data: { manifest: string } }>(join(runDir, 'config.json'));
  assert.equal(recorded.loss.globalMargin, 0.25);
  assert.equal(recorded.data.manifest, join(ws.dir, 'cohort', 'manifest.json'));
  // events.jsonl holds what was emitted, with times
  const logged = readEvents(runDir);
  assert.ok(logged.some((e) => e.type === 'step' && e.stage === 'pretrain'));
  assert.ok(logged.every((e) => typeof e.time === 'number'));
  assert.ok(events.some((e) => e.type === 'progress'));
  // our checkpoints are safetensors PyTorch can read, with the config inside
  const st = readSafetensors(join(runDir, 'pretrain', 'model.safetensors'));
  assert.ok(st.tensors.has('image_encoder.conv1.weight'));
  assert.deepEqual(st.tensors.get('image_encoder.conv1.weight')!.shape, [2, 1, 7, 7, 7]);
  assert.equal(JSON.parse(st.metadata.config!).name, 'tiny');
  // beside it, the image encoder's description for PyTorch (docs/formats.md)
  const meta = readJson<{ format: string; weights: string; network: { width: number }; input: { shape: number[] } }>(join(runDir, 'pretrain', 'metadata.json'));
  assert.equal(meta.format, 'mrcl-image-encoder-1');
  assert.equal(meta.weights, 'model.safetensors');
  assert.equal(meta.network.width, 2);
  assert.deepEqual(meta.input.shape, [1, 1, 24, 24, 16]);

  for (const arm of ['random', 'pretrained']) {
    for (const fold of [0, 1]) {
      const dir = join(runDir, 'finetune', arm, `fold-${fold}`);
      const metrics = readJson<FoldResult & { threshold: number }>(join(dir, 'metrics.json'));
      const preds = readPredictions(join(dir, 'predictions.csv'));
      assert.deepEqual(metrics.internal, splitMetrics(preds.filter((p) => p.cohort === 'internal'), metrics.threshold));
      assert.deepEqual(metrics.external, splitMetrics(preds.filter((p) => p.cohort === 'external'), metrics.threshold));
      assert.equal(preds.filter((p) => p.cohort === 'external').length, 6 - countOther(ws.dir));
      // heatmaps: a NIfTI pair and a segmentation with its label file per evaluated case, on the preprocessed grid
      const heat = readNifti(join(dir, 'heatmaps', `${preds[0]!.id}.heatmap.nii.gz`));
      assert.deepEqual(heat.dims, [24, 24, 16]);
      assert.equal(readdirSync(join(dir, 'heatmaps')).length, 4 * preds.length);
      const checkpoints = join(dir, 'checkpoints');
      const steps = readdirSync(checkpoints).filter((n) => n.startsWith('step-'));
      assert.ok(steps.length > 0, `${checkpoints}: no checkpoint`);
      for (const step of steps) {
        assert.ok(existsSync(join(checkpoints, step, 'metadata.json')), `${step}/metadata.json missing`);
      }
      // with a mask the segmentation holds the Dice classes, else the one attention segment
      for (const p of preds) {
        const seg = readFileSync(join(dir, 'heatmaps', `${p.id}.attention.seg.nrrd`), 'latin1');
        assert.match(seg, p.dice3d !== null ? /Segment2_ID:=false_negative\n/ : /^NRRD0004\n[^]*Segment0_ID:=/, p.id);
      }
    }
  }
  assert.ok(!existsSync(join(runDir, 'finetune', 'medicalnet')), 'the MedicalNet arm must not run without a checkpoint');
  const results = readJson<{ notes?: unknown }>(join(runDir, 'results.json'));
  assert.match(JSON.stringify(results), /not run/);
  assert.match(readFileSync(join(runDir, 'results.md'), 'utf8'), /MedicalNet[^\n]*not run/);
  // 24×24×16 at output stride 32: a 1×1×1 attention grid. Its maps cannot localise anything,
  // and the tables, results.json and the document's warnings say so.
  const fold0 = join(runDir, 'finetune', 'pretrained', 'fold-0');
  assert.deepEqual(readJson<FoldResult>(join(fold0, 'metrics.json')).attentionGrid, [1, 1, 1]);
  const withMask = readPredictions(join(fold0, 'predictions.csv')).filter((p) => p.dice3d !== null);
  assert.ok(withMask.length > 0);
  for (const p of withMask) {
    // one grid cell: the best map of whole cells is the whole volume, i.e. the floor
    assert.equal(p.bound3d, p.floor3d);
    assert.ok(p.foreground !== null && p.floor3d! > 0 && p.floor3d! < 1);
  }
  const doc = readJson<ResultsDoc>(join(runDir, 'results.json'));
  assert.deepEqual(doc.arms.filter((a) => a.status === 'done').map((a) => a.attentionGrid), [[1, 1, 1], [1, 1, 1]]);
  assert.ok(doc.explain?.some((c) => c.arm === 'pretrained' && c.split === 'internal' && c.coarseGrid));
  assert.ok(doc.warnings?.some((w) => /^Warning: internal cohort, attention maps: attention grid 1×1×1 < 4×4×3: a perfect map made of whole grid cells would reach at most \d+\.\d% 3D Dice/.test(w)), JSON.stringify(doc.warnings));
  assert.match(readFileSync(join(runDir, 'results.md'), 'utf8'), /## Table 3\. Explainability, internal cohort \(Dataset 1\)\n\n> \*\*Warning:\*\* attention grid 1×1×1 < 4×4×3/);
  assert.match(readFileSync(join(runDir, 'tables', 'table3.csv'), 'utf8'), /Warning: attention grid 1×1×1 < 4×4×3/);
  assert.match(readFileSync(join(runDir, 'tables', 'table3.tex'), 'utf8'), /\\textbf\{Warning:\} attention grid 1\$\\times\$1\$\\times\$1/);
  // the CLI prints them when the run ends
  const printed: string[] = [];
  printResultsWarnings(runDir, { stderr: (s: string) => printed.push(s) } as unknown as CommandContext);
  assert.ok(printed.some((l) => /^Warning: external cohort, attention maps: attention grid 1×1×1 < 4×4×3/.test(l)), printed.join(''));
  // cross-attention for every internal case with a report
  const att = readdirSync(join(runDir, 'pretrain', 'attention'));
  assert.equal(att.length, 16);
  const rec = loadCrossAttention(join(runDir, 'pretrain', 'attention', att[0]!));
  assert.ok(rec.words.length > 0);
  const retrieval = readJson<Record<string, { imageToReport: number; reportToImage: number }> & { cases: number }>(join(runDir, 'pretrain', 'retrieval.json'));
  assert.equal(retrieval.cases, 16);
  assert.equal((retrieval as unknown as { pairs: string }).pairs, 'training', 'pretrain.heldOut 0: the training pairs');
  for (const k of ['recall@1', 'recall@5', 'recall@10']) {
    for (const v of Object.values(retrieval[k]!)) assert.ok(v >= 0 && v <= 1);
  }
  assert.ok(retrieval['recall@10']!.imageToReport >= retrieval['recall@1']!.imageToReport);
  // ranks (1-based, of 16) and chance beside the recall
  for (const d of ['imageToReport', 'reportToImage'] as const) {
    assert.ok(retrieval.medianRank![d] >= 1 && retrieval.medianRank![d] <= 16);
    assert.ok(retrieval.meanRank![d] >= 1 && retrieval.meanRank![d] <= 16);
  }
  assert.deepEqual((retrieval as unknown as { chance: Record<string, number> }).chance, { 'recall@1': 1 / 16, 'recall@5': 5 / 16, 'recall@10': 10 / 16, medianRank: 8.5, meanRank: 8.5 });
  // zero-shot location of the same 16 images from the default prompts (the synthetic cases all have a location)
  const zs = readJson<{ n: number; classes: string[]; accuracy: number; perCase: { id: string; location: string; predicted: string }[] }>(join(runDir, 'pretrain', 'zero-shot.json'));
  assert.equal(zs.n, 16);
  assert.deepEqual(zs.classes, ['supratentorial', 'infratentorial', 'transtentorial']);
  assert.equal(zs.accuracy, zs.perCase.filter((c) => c.predicted === c.location).length / 16);
  // bootstrap CIs of the tables' AUC and Dice means, from the saved predictions
  const ciDoc = readJson<ResultsDoc>(join(runDir, 'results.json'));
  assert.ok(ciDoc.ci?.some((c) => c.arm === 'pretrained' && c.split === 'internal' && c.metric === 'dice3d'), JSON.stringify(ciDoc.ci));
  for (const c of ciDoc.ci!) assert.ok(c.resamples === 2000 && c.lower <= c.upper && c.folds.length > 0);
});

/** External cases whose marker is excluded downstream ("other"). */
function countOther(dir: string): number {
  const m = JSON.parse(readFileSync(join(dir, 'cohort', 'manifest.json'), 'utf8')) as { cases: { cohort: string; marker: string }[] };
  return m.cases.filter((c) => c.cohort === 'external' && c.marker === 'other').length;
}

test('the same seed gives identical metrics; bad configs fail before any training', { timeout: 600_000 }, async () => {
  const ws = await tinyWorkspace({ finetune: { initializations: ['random'] } });
  const a = await runTiny(ws.configPath);
  const b = await runTiny(ws.configPath);
  for (const fold of [0, 1]) {
    const rel = join('finetune', 'random', `fold-${fold}`, 'predictions.csv');
    assert.equal(readFileSync(join(a.runDir, rel), 'utf8'), readFileSync(join(b.runDir, rel), 'utf8'));
  }

  const { config, baseDir } = loadConfig(ws.configPath);
  const runsBefore = readdirSync(join(ws.dir, 'runs')).length;
  const tooManyFolds = { ...config, finetune: { ...config.finetune, folds: 12 } };
  await assert.rejects(runStudy({ kind: 'experiment', config: tooManyFolds, baseDir, emit: () => {} }), /fold/i);
  const missingWeights = { ...config, image: { ...config.image, medicalNet: 'nope/resnet_18.pth' } };
  await assert.rejects(runStudy({ kind: 'experiment', config: missingWeights, baseDir, emit: () => {} }), /resnet_18\.pth: MedicalNet checkpoint not found/);
  const missingManifest = { ...config, data: { ...config.data, manifest: 'nowhere/manifest.json' } };
  await assert.rejects(runStudy({ kind: 'experiment', config: missingManifest, baseDir, emit: () => {} }), /manifest\.json/);
  assert.equal(readdirSync(join(ws.dir, 'runs')).length, runsBefore, 'no run folder is created for a config that cannot run');
});

// `mrcl probe RUN`: the linear probe of each arm's frozen starting encoder
// on a finished tiny run. Each unit's scores are those of a logistic
// regression fitted on the fold's training cases only, on the features of
// the encoder the unit started from (recomputed here from the public pieces:
// the unit's seed, the pretraining stage's weights, recalibrated batch norms,
// the standardiser and fitLogistic, itself checked against SciPy); its map
// columns those of the same frozen encoder's attention maps; the encoder's
// files are not touched; an extra cohort gets its own folder with
// the same internal rows; the CL units are probed again on the encoder their
// pretraining started from (the pretraining's seed and MedicalNet checkpoint,
// checked weight by weight against the contrastive model pretraining builds);
// a second call redoes nothing, another C redoes and moves the scores; bad
// input is named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '../../../src/engine/backend';
import { loadConfig } from '../../../src/engine/config/resolve';
import { runStudy } from '../../../src/engine/experiment/study';
import { linearProbe, pretrainingStart, startClassifier, type CrossAttentionProbeFile, type PretrainingStart, type TumourReachFile } from '../../../src/engine/experiment/probe';
import { minmaxScale } from '../../../src/engine/data/normalize';
import { measureTumourReach, type ReachSummary } from '../../../src/engine/explain/tumour-reach';
import { synthesizeCase } from '../../../src/engine/synth/case';
import { headGrid } from '../../../src/engine/synth/grid';
import { summarizeCrossAttention } from '../../../src/engine/explain/cross-attention-maps';
import { loadCrossAttention } from '../../../src/engine/explain/cross-attention-io';
import { explainMap } from '../../../src/engine/explain/dice-eval';
import { evaluationMasks } from '../../../src/engine/explain/masks';
import { ContrastiveModel } from '../../../src/engine/model/contrastive';
import { loadMedicalNet } from '../../../src/engine/networks/medicalnet';
import { readPlan } from '../../../src/engine/experiment/study';
import { resolve } from 'node:path';
import { synthesizeCohort } from '../../../src/engine/synth/cohort';
import { RunFolder, readJson } from '../../../src/engine/training/run-folder';
import { downstreamFolds, evaluateCases, globalFeatures, readPredictions, recalibrateClassifier } from '../../../src/engine/training/finetune';
import { downstreamCases, openDataset, pretrainingCases } from '../../../src/engine/training/dataset';
import { MarkerClassifier } from '../../../src/engine/model/classifier';
import { loadModelWeights } from '../../../src/engine/training/checkpoint';
import { fitLogistic, fitStandardizer, logisticScores, standardize } from '../../../src/engine/metrics/logistic';
import { hashSeed } from '../../../src/engine/util/rng';
import type { ResultsDoc } from '../../../src/engine/results/types';
import { CancelledError } from '../../../src/engine/training/loop';
import { tinyWorkspace } from './helpers';
import { runCli } from '../cli/run-cli';

const quiet = () => {};

test('the probe: each unit\'s scores are a logistic regression on its frozen starting encoder, fitted on the fold\'s training cases; extra cohort, resume, C and bad input', { timeout: 600_000 }, async () => {
  // output stride 8: a 3×3×2 attention grid (at the default 32 the map is one cell, flat in every arm)
  // pairs held out of pretraining: the cross-attention's held-out row
  const ws = await tinyWorkspace({ image: { outputStride: 8 }, pretrain: { heldOut: 0.25 }, finetune: { initializations: ['random', 'pretrained'] } });
  const { config: input, baseDir } = loadConfig(ws.configPath);
  const outcome = await runStudy({ kind: 'experiment', config: input, baseDir, emit: quiet });
  assert.equal(outcome.status, 'done', outcome.error);
  const run = RunFolder.open(outcome.runDir!);
  const config = run.config;
  const pretrained = run.path('pretrain', 'model.safetensors');
  const encoderBytes = readFileSync(pretrained);
  await synthesizeCohort({ out: join(ws.dir, 'site-b'), internal: 0, external: 10, shape: [24, 24, 16], seed: 9 });
  const siteB = join(ws.dir, 'site-b', 'manifest.json');

  const tensors = tf.memory().numTensors;
  const out = await linearProbe(run, { external: { manifest: siteB }, emit: quiet });
  assert.equal(tf.memory().numTensors, tensors, 'no tensor left behind (encoders, recalibration, features)');
  assert.deepEqual([out.probed, out.skipped], [6, 0], '4 units, and the 2 CL units again on the pretraining\'s start');
  assert.equal(out.startDir, run.path('probe', 'start'));
  assert.equal(out.dir, run.path('probe'));
  assert.equal(out.externalDir, run.path('probe', 'external', 'site-b'));
  assert.deepEqual(readFileSync(pretrained), encoderBytes, 'the pretrained encoder is read, never written');
  const doc = readJson<ResultsDoc>(run.path('probe', 'results.json'));
  assert.deepEqual(doc.arms!.map((a) => [a.arm, a.status, a.folds.length]), [['random', 'done', 2], ['pretrained', 'done', 2]]);
  assert.deepEqual(readJson(run.path('probe', 'probe.json')), { format: 'mrcl-probe-1', C: 1, features: 'global', maps: 'attention', external: { manifest: siteB, name: 'site-b', cohortDigest: readJson<{ external: { cohortDigest: string } }>(run.path('probe', 'probe.json')).external.cohortDigest } });

  // the reference, from the public pieces, for both arms of fold 1
  const ds = openDataset(config, '/');
  const { cases, splits } = downstreamFolds(config, ds);
  const external = downstreamCases(ds).external;
  const fit = splits[1]!.fit.map((k) => cases[k]!);
  const test_ = splits[1]!.test.map((k) => cases[k]!);
  const scoresOf = (arm: string) => readPredictions(run.path('probe', 'finetune', arm, 'fold-1', 'predictions.csv'));
  for (const arm of ['random', 'pretrained']) {
    const model = new MarkerClassifier(config, hashSeed(config.seed, `finetune:${arm}:1`));
    if (arm === 'pretrained') loadModelWeights(pretrained, model.image, { prefix: 'image_encoder.', strict: true });
    recalibrateClassifier(config, ds, model, fit);
    const scaler = fitStandardizer(globalFeatures(config, ds, model, fit));
    const lr = fitLogistic(standardize(scaler, globalFeatures(config, ds, model, fit)), fit.map((c) => c.label), { C: 1 });
    const expect = (cs: typeof fit) => logisticScores(lr, standardize(scaler, globalFeatures(config, ds, model, cs))).map((z) => 1 / (1 + Math.exp(-z)));
    const want = [...expect(test_), ...expect(external)];
    // the same frozen encoder's attention maps, scored as a fine-tuned model's are (no baselines)
    const mapConfig = { ...config, explain: { ...config.explain, baselines: [] } };
    const wantMaps = evaluateCases(mapConfig, ds, model, [...test_.map((c) => ({ ...c, cohort: 'internal' as const })), ...external.map((c) => ({ ...c, cohort: 'external' as const }))], { dir: ws.dir, stage: 'reference', emit: quiet }, { heatmaps: false }).predictions;
    model.dispose();
    const got = scoresOf(arm);
    assert.deepEqual(got.map((p) => p.id), [...test_, ...external].map((c) => c.case.id), `${arm}: the fold's test cases, then the external ones`);
    got.forEach((p, i) => assert.ok(Math.abs(p.score - want[i]!) < 1e-6, `${arm} ${p.id}: ${p.score} vs ${want[i]}`));
    assert.ok(got.every((p) => typeof p.dice3d === 'number' && typeof p.mass3d === 'number'), 'every case has a mask: every map is scored');
    got.forEach((p, i) => {
      for (const k of ['dice3d', 'dice2d', 'mass3d', 'foreground', 'pointing'] as const) assert.ok(Math.abs(p[k]! - wantMaps[i]![k]!) < 1e-6, `${arm} ${p.id} ${k}: ${p[k]} vs ${wantMaps[i]![k]}`);
    });
    assert.ok(!existsSync(run.path('probe', 'finetune', arm, 'fold-1', 'heatmaps')), 'no heatmap files');
    const m = readJson<{ probe: { train: string[]; C: number; features: number }; internal: { n: number } }>(run.path('probe', 'finetune', arm, 'fold-1', 'metrics.json'));
    assert.deepEqual(m.probe.train, fit.map((c) => c.case.id), 'fitted on the fold\'s training cases only');
    assert.equal(m.probe.features, new MarkerClassifier(config, 0).image.featureChannels.global);
  }
  // the two arms' encoders differ, so do their probes and their maps
  assert.notDeepEqual(scoresOf('random').map((p) => p.score), scoresOf('pretrained').map((p) => p.score));
  assert.notDeepEqual(scoresOf('random').map((p) => p.mass3d), scoresOf('pretrained').map((p) => p.mass3d));
  const fold1 = readJson<{ internal: { dice3d: number | null; mass3d: number | null }; probe: { maps?: string } }>(run.path('probe', 'finetune', 'pretrained', 'fold-1', 'metrics.json'));
  assert.equal(fold1.probe.maps, 'attention');
  const internalMaps = scoresOf('pretrained').filter((p) => p.cohort === 'internal');
  assert.ok(Math.abs(fold1.internal.mass3d! - internalMaps.reduce((a, p) => a + p.mass3d!, 0) / internalMaps.length) < 1e-9, 'the fold\'s mean mass is its cases\'');

  // the pretraining stage's report → image cross-attention against the masks: every pair, held-out and training apart, each case's
  // map recomputed here from its saved file (the mean of its words' rows, put in Volume order by hand) and scored as any map
  const xa = readJson<CrossAttentionProbeFile>(run.path('probe', 'cross-attention.json'));
  assert.equal(xa.format, 'mrcl-probe-cross-attention-1');
  assert.deepEqual(out.crossAttention, { path: run.path('probe', 'cross-attention.json'), stages: xa.stages });
  assert.deepEqual(xa.stages.map((st) => st.stage), ['pretrain'], 'one stage, however many CL units start from it');
  const [xs] = xa.stages;
  const dsAll = openDataset(config, '/');
  const split = readJson<{ heldOutIds: string[] }>(run.path('pretrain', 'split.json'));
  assert.ok(split.heldOutIds.length > 0, 'the tiny run keeps pairs out (else the held-out row would prove nothing)');
  assert.deepEqual(xs!.cases.map((c) => c.id).sort(), pretrainingCases(dsAll).map((c) => c.id).sort(), 'every pair has a mask and a file');
  assert.deepEqual(xs!.cases.filter((c) => c.pairs === 'held-out').map((c) => c.id).sort(), [...split.heldOutIds].sort());
  assert.deepEqual(xs!.heldOut, summarizeCrossAttention(xs!.cases.filter((c) => c.pairs === 'held-out')));
  assert.deepEqual(xs!.training, summarizeCrossAttention(xs!.cases.filter((c) => c.pairs === 'training')));
  const masks = evaluationMasks(config, dsAll.manifest.path);
  for (const c of xs!.cases.slice(0, 3)) {
    const rec = loadCrossAttention(run.path('pretrain', 'attention', `${c.id}.json`));
    const [X, Y, Z] = rec.patchGrid;
    const P = X * Y * Z;
    const W = rec.words.length;
    const map = new Float32Array(P);
    for (let x = 0; x < X; x++) for (let y = 0; y < Y; y++) for (let z = 0; z < Z; z++) {
      let v = 0;
      for (let w = 0; w < W; w++) v += rec.textToImage[w * P + (x * Y + y) * Z + z]!;
      map[x + X * (y + Y * z)] = v / W;
    }
    const ex = explainMap({ map, grid: rec.patchGrid, imageDims: config.data.shape as [number, number, number], rule: config.explain.rule, threshold: config.explain.threshold, topPercent: config.explain.topPercent, mask: masks.get(dsAll.manifest.cases.find((k) => k.id === c.id)!) });
    assert.equal(c.words, W);
    for (const k of ['dice3d', 'mass3d', 'massFloor3d', 'pointing'] as const) assert.ok(Math.abs(c[k] - ex[k]!) < 1e-6, `${c.id} ${k}: ${c[k]} vs ${ex[k]}`);
    assert.ok(c.entropy > 0 && c.entropy <= 1 + 1e-9);
    assert.equal(c.massReachable, c.massFloor3d, 'without heads.crossAttentionForeground every patch is reachable');
  }

  // how far the tumour reaches into each arm's frozen features (a synthetic cohort): fold 0's encoders on its internal test
  // cases, each rendered again with and without its tumour, recomputed here from the public pieces for CL's arm
  const reach = readJson<TumourReachFile>(run.path('probe', 'tumour-reach.json'));
  assert.equal(reach.format, 'mrcl-probe-tumour-reach-1');
  assert.deepEqual(out.tumourReach, { path: run.path('probe', 'tumour-reach.json'), file: reach });
  const fold0 = splits[0]!.test.map((k) => cases[k]!);
  assert.deepEqual(reach.cases, fold0.map((c) => c.case.id), "fold 0's internal test cases (every one has a tumour)");
  assert.deepEqual(reach.encoders.map((e) => e.arm), ['random', 'pretrained']);
  {
    const shape = config.data.shape as [number, number, number];
    const reachCases = fold0.map(({ case: c }) => {
      const g = synthesizeCase(3, c.id, 'internal', headGrid(shape), undefined, { tumourFree: true });
      const image = minmaxScale(g.image.data);
      const tumourFree = minmaxScale(g.tumourFree!.data, g.image.data);
      return { id: c.id, image: { data: image, dims: shape }, tumourFree: { data: tumourFree, dims: shape }, mask: { data: Float32Array.from(masks.get(c)!), dims: shape } };
    });
    const model = new MarkerClassifier(config, hashSeed(config.seed, 'finetune:pretrained:0'));
    loadModelWeights(pretrained, model.image, { prefix: 'image_encoder.', strict: true });
    recalibrateClassifier(config, ds, model, splits[0]!.fit.map((k) => cases[k]!));
    const want = measureTumourReach(reachCases, [{ name: 'pretrained', encoder: model.image }]);
    model.dispose();
    const close = (a: ReachSummary, b: ReachSummary, what: string) => {
      assert.equal(a.cases, b.cases);
      const want = [...b.relative, b.tumourShare, b.tumourFraction];
      [...a.relative, a.tumourShare, a.tumourFraction].forEach((v, i) => assert.ok(v === null ? want[i] === null : Math.abs(v - want[i]!) < 1e-5, `${what} [${i}]: ${v} vs ${want[i]}`));
    };
    close(reach.input, want.input, 'input');
    close(reach.encoders[1]!.layer3, want.encoders[0]!.layer3, 'pretrained layer3');
    close(reach.encoders[1]!.layer4, want.encoders[0]!.layer4, 'pretrained layer4');
    assert.ok(reach.input.relative[0] === 1 && reach.encoders[1]!.layer3.relative[0] === 1, 'relative to the tumour patches');
    assert.notDeepEqual(reach.encoders[0]!.layer3.relative, reach.encoders[1]!.layer3.relative, 'the two arms\' encoders reach differently');
  }

  // the start of pretraining: the CL units only, on the encoder pretraining began with (its seed's initial weights, then MedicalNet's)
  const startDoc = readJson<ResultsDoc>(run.path('probe', 'start', 'results.json'));
  assert.deepEqual(startDoc.arms!.map((a) => [a.arm, a.status, a.folds.length]), [['pretrained', 'done', 2]]);
  const unit = readPlan(run).finetune.find((u) => u.arm === 'pretrained' && u.fold === 1)!;
  // the encoder pretraining built (the image encoder does not depend on the vocabulary), then the checkpoint it loaded, against the probe's
  const sameStart = (start: PretrainingStart, medicalNet?: string) => {
    const contrastive = new ContrastiveModel(config, { size: 64, padId: 1 }, config.seed);
    if (medicalNet) loadMedicalNet(contrastive.image, medicalNet);
    const began = startClassifier(start);
    const initial = new Map(contrastive.image.stateEntries().map(([k, w]) => [k, w.dataSync()]));
    const rebuilt = began.image.stateEntries();
    assert.equal(rebuilt.length, initial.size);
    for (const [k, w] of rebuilt) assert.deepEqual(w.dataSync(), initial.get(k), `${k}: the weight pretraining started from`);
    contrastive.dispose();
    began.dispose();
  };
  const start = pretrainingStart(run, config, unit)!;
  assert.equal(start.medicalNet, undefined, "done.json's imageInit: a random encoder");
  assert.equal(start.config.seed, config.seed);
  sameStart(start);
  // a pretraining that loaded MedicalNet (done.json's imageInit; a MedicalNet-format checkpoint of the tiny encoder, test/fixtures/resnet/make_fixtures.py)
  const R18A = resolve('test/fixtures/resnet/r18a_w2.pth');
  const donePath = run.path('pretrain', 'done.json');
  const doneText = readFileSync(donePath, 'utf8');
  writeFileSync(donePath, JSON.stringify({ ...JSON.parse(doneText), imageInit: { medicalNet: R18A } }));
  try {
    const fromMedicalNet = pretrainingStart(run, config, unit)!;
    assert.equal(fromMedicalNet.medicalNet, R18A);
    sameStart(fromMedicalNet, R18A);
    // a recorded checkpoint that is gone: refused, naming it, before any unit is written (another C would redo every unit)
    const gone = join(ws.dir, 'gone.pth');
    writeFileSync(donePath, JSON.stringify({ ...JSON.parse(doneText), imageInit: { medicalNet: gone } }));
    const untouched = readFileSync(run.path('probe', 'finetune', 'random', 'fold-0', 'metrics.json'), 'utf8');
    await assert.rejects(linearProbe(run, { C: 3, emit: quiet }), (e: Error) => e.message.startsWith(`${gone}: missing`) && /pretraining started from/.test(e.message));
    assert.equal(readFileSync(run.path('probe', 'finetune', 'random', 'fold-0', 'metrics.json'), 'utf8'), untouched, 'refused before any unit is written');
  } finally {
    writeFileSync(donePath, doneText);
  }
  const startScores = readPredictions(run.path('probe', 'start', 'finetune', 'pretrained', 'fold-1', 'predictions.csv'));
  assert.deepEqual(startScores.map((p) => p.id), scoresOf('pretrained').map((p) => p.id), 'the same cases as the pretrained encoder\'s probe');
  assert.notDeepEqual(startScores.map((p) => p.score), scoresOf('pretrained').map((p) => p.score), 'pretraining changed the encoder');
  assert.ok(startScores.every((p) => typeof p.mass3d === 'number'), "the starting encoder's maps are scored");

  // the extra cohort: the same internal rows, its own external ones
  const extra = readPredictions(run.path('probe', 'external', 'site-b', 'finetune', 'pretrained', 'fold-1', 'predictions.csv'));
  assert.deepEqual(extra.filter((p) => p.cohort === 'internal'), scoresOf('pretrained').filter((p) => p.cohort === 'internal'));
  const siteCases = downstreamCases(openDataset({ ...config, data: { ...config.data, manifest: siteB } }, '/')).external;
  assert.deepEqual(extra.filter((p) => p.cohort === 'external').map((p) => p.id), siteCases.map((c) => c.case.id));

  // a second call redoes nothing; a unit probed before the maps were scored is redone; another C redoes every unit and moves the scores
  const again = await linearProbe(run, { external: { manifest: siteB }, emit: quiet });
  assert.deepEqual([again.probed, again.skipped], [0, 6]);
  for (const f of [run.path('probe', 'finetune', 'random', 'fold-0', 'metrics.json'), run.path('probe', 'external', 'site-b', 'finetune', 'random', 'fold-0', 'metrics.json')]) {
    const m = readJson<{ probe: Record<string, unknown> }>(f);
    delete m.probe.maps;
    writeFileSync(f, JSON.stringify(m));
  }
  const older = await linearProbe(run, { external: { manifest: siteB }, emit: quiet });
  assert.deepEqual([older.probed, older.skipped], [1, 5]);
  const before = scoresOf('pretrained').map((p) => p.score);
  const strong = await linearProbe(run, { C: 1e-4, emit: quiet });
  assert.deepEqual([strong.probed, strong.skipped], [6, 0]);
  const after = scoresOf('pretrained').map((p) => p.score);
  assert.notDeepEqual(after, before);
  // a strong penalty pulls every probability towards the training prevalence
  const spread = (v: number[]) => Math.max(...v) - Math.min(...v);
  assert.ok(spread(after) < spread(before) / 10, `${spread(after)} vs ${spread(before)}`);

  // the CLI prints the comparisons; bad input is named
  const cli = await runCli(['probe', run.dir]);
  assert.equal(cli.code, 0, cli.err);
  assert.match(cli.err, /linear probe: Proposed CL vs Random init: internal AUC: /);
  assert.match(cli.err, /linear probe: Proposed CL vs Random init: internal 3D Dice Score: Proposed CL \d+\.\d% vs Random init \d+\.\d%/);
  assert.match(cli.err, /linear probe: Proposed CL vs Random init: internal Map mass in tumour: Proposed CL \d+\.\d% vs Random init \d+\.\d%/);
  assert.match(cli.err, /linear probe, after vs before pretraining: Proposed CL vs Proposed CL before pretraining: internal AUC: /);
  assert.match(cli.err, /linear probe, after vs before pretraining: Proposed CL vs Proposed CL before pretraining: internal Map mass in tumour: Proposed CL \d+\.\d% vs Proposed CL before pretraining \d+\.\d%/);
  assert.match(cli.err, /Report → image cross-attention \(stage pretrain; [^)]*\): held-out pairs \(\d+\): mass on the tumour \d+\.\d+ % \(flat map \d+\.\d+ %\), 3D Dice \d+\.\d+ %.*; training pairs \(\d+\): /);
  assert.match(cli.err, /Tumour reach \(frozen encoders of fold 0, its \d+ internal test cases [^)]*\): input \d\.\d\d \/ .*; random layer3 .*; pretrained layer3 \d\.\d\d \/ /);
  assert.match(cli.out, /^probed 6 units \(0 already done\); tables: .*probe\/results\.md, .*probe\/start\/results\.md\n$/);
  const badC = await runCli(['probe', run.dir, '--c', '0']);
  assert.equal(badC.code, 2);
  assert.match(badC.err, /--c must be a positive number/);
  await synthesizeCohort({ out: join(ws.dir, 'site-c'), internal: 4, external: 0, shape: [24, 24, 16], seed: 11 });
  await assert.rejects(linearProbe(run, { external: { manifest: join(ws.dir, 'site-c', 'manifest.json') }, emit: quiet }), (e: Error) => e.message.includes(join(ws.dir, 'site-c', 'manifest.json')) && /no external case with a fusion or V600E label/.test(e.message));
  // a cohort whose files are not what its synth.json renders: warned, no tumour reach written
  const synthPath = join(ws.dir, 'cohort', 'synth.json');
  const synthText = readFileSync(synthPath, 'utf8');
  writeFileSync(synthPath, JSON.stringify({ ...JSON.parse(synthText), options: { ...JSON.parse(synthText).options, seed: 4 } }));
  rmSync(run.path('probe', 'tumour-reach.json'));
  try {
    const warned: string[] = [];
    const tampered = await linearProbe(run, { emit: (e) => { if (e.type === 'log' && e.level === 'warn') warned.push(e.message); } });
    assert.equal(tampered.tumourReach, undefined);
    assert.ok(!existsSync(run.path('probe', 'tumour-reach.json')));
    assert.ok(warned.some((m) => /no tumour reach: .*is not the image the cohort's synth\.json renders for int-/.test(m)), warned.join('\n'));
    // an unreadable synth.json: the probe goes on, warned, without the tumour reach
    writeFileSync(synthPath, '{"generator": ');
    warned.length = 0;
    const unreadable = await linearProbe(run, { emit: (e) => { if (e.type === 'log' && e.level === 'warn') warned.push(e.message); } });
    assert.equal(unreadable.tumourReach, undefined);
    assert.ok(warned.some((m) => m.includes('no tumour reach: ') && m.includes(synthPath)), warned.join('\n'));
  } finally {
    writeFileSync(synthPath, synthText);
  }
  renameSync(pretrained, `${pretrained}.away`);
  try {
    const untouched = readFileSync(run.path('probe', 'finetune', 'random', 'fold-0', 'metrics.json'), 'utf8');
    await assert.rejects(linearProbe(run, { C: 2, emit: quiet }), (e: Error) => e.message.includes(pretrained) && /has not finished/.test(e.message));
    assert.equal(readFileSync(run.path('probe', 'finetune', 'random', 'fold-0', 'metrics.json'), 'utf8'), untouched, 'refused before any unit is written');
  } finally {
    renameSync(`${pretrained}.away`, pretrained);
  }
  // units are redone unless their own settings match: the C = 1 units written by the CLI are skipped at C = 1, not at C = 2
  assert.deepEqual([(await linearProbe(run, { emit: quiet })).probed], [0]);
  assert.deepEqual([(await linearProbe(run, { C: 2, emit: quiet })).probed], [6]);
  // a stop while it probes: Ctrl-C reaches the process as an event-loop callback (here a setImmediate after the first unit), so
  // the loop must return to the event loop between units, else every unit is probed before the stop is seen
  const during = new AbortController();
  let probed = 0;
  await assert.rejects(
    linearProbe(run, { C: 4, signal: during.signal, emit: (e) => { if (e.type === 'stage' && e.status === 'done') { probed++; setImmediate(() => during.abort()); } } }),
    (e: Error) => e instanceof CancelledError,
  );
  assert.equal(probed, 1, 'stopped after the unit it was probing');
});

// The study's configs at every scale are valid experiment configs with the
// protocol's settings; quick, full and paper have the paper's 8×8×5 attention
// grid; the paper scale has the paper's sizes on every axis of the report's
// scale table but the text encoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveConfig } from '../../../src/engine/config/resolve';
import { batchSizeIssues } from '../../../src/engine/training/batch-rules';
import { encoderGrids } from '../../../src/engine/networks/resnet3d';
import { STUDY_AUGMENT, STUDY_SCALES, scaleSpec, studyConfigs } from '../../../src/engine/study/scales';
import { studySteps } from '../../../src/engine/study/reproduce';
import { PAPER_SCALE } from '../../../src/engine/results/paper';
import { planCohortLabels } from '../../../src/engine/synth/cohort';
import { occlusionStarts } from '../../../src/engine/explain/occlusion';

test('every scale: valid configs, the protocol settings, and the location check differing only where it should', () => {
  for (const scale of STUDY_SCALES) {
    const spec = scaleSpec(scale);
    const inputs = studyConfigs(scale, 9);
    assert.deepEqual(Object.keys(inputs), spec.ablations ? ['experiment', 'location-excluded', 'ablation'] : ['experiment', 'location-excluded'], scale);
    for (const [name, input] of Object.entries(inputs)) {
      const c = resolveConfig(input, `${scale} ${name}`);
      assert.equal(c.name, name);
      assert.deepEqual([c.seed, c.finetune.foldSeed], [9, 9]);
      assert.deepEqual(c.data.shape, spec.cohort.shape);
      assert.equal(c.data.manifest, '../cohort/manifest.json');
      assert.equal(c.image.medicalNet, '../medicalnet-standin.pth');
      assert.equal(c.outDir, '../runs');
      assert.equal(c.pretrain.heldOut, 0.15);
      assert.equal(c.image.outputStride, scale === 'paper' ? 32 : 8, `${scale}/${name}: output stride`);
      assert.equal(c.image.dilate, false, `${scale}/${name}: layer3 and layer4 undilated on the 8×8×5 grid`);
      assert.equal(c.image.attentionScale, true, `${scale}/${name}: the self-attention's scores scaled by 1/√C`);
      assert.equal(c.heads.globalInputNorm, 'batch', `${scale}/${name}: global heads standardise their inputs`);
      assert.equal(c.heads.crossAttentionResidual, false, `${scale}/${name}: no query residual in the cross-attention`);
      assert.equal(c.image.attentionGamma, 0.1, `${scale}/${name}: the self-attention's gate starts open`);
      // whole reports in the local representation (the generator's cleaned reports have at most ≈ 130 words)
      if (scale !== 'tiny') assert.equal(c.text.maxWords, 160, `${scale}/${name}: word slots`);
      assert.deepEqual(batchSizeIssues(c), [], `${scale} ${name}: batch sizes`);
      assert.deepEqual(c.explain.baselines, name === 'experiment' ? ['gradCam', 'occlusion'] : []);
      assert.equal(c.explain.saveHeatmaps, name !== 'ablation', `${scale}/${name}: heatmap files`);
      assert.equal(c.loss.useLocation, name !== 'location-excluded');
      assert.deepEqual(c.finetune.initializations, name === 'location-excluded' ? ['pretrained'] : ['random', 'medicalnet', 'pretrained']);
      assert.equal(c.finetune.folds, scale === 'tiny' ? 2 : 5);
    }
    if (scale !== 'tiny') assert.deepEqual(encoderGrids(spec.cohort.shape, scale === 'paper' ? 32 : 8).layer4, [8, 8, 5], `${scale}: the 8×8×5 grid`);
    // the external check has more external cases than the study's own cohort
    assert.ok(spec.externalCheck > spec.cohort.external, `${scale}: external check ${spec.externalCheck} cases`);
    // with the ablations the location check is their location-excluded arm, not a run of its own
    assert.deepEqual(studySteps(scale), ['cohort', 'medicalnet-standin', 'experiment', spec.ablations ? 'ablation' : 'location-excluded', 'external-check', 'probe', 'report']);
  }
  assert.deepEqual([scaleSpec('full').cohort.internal, scaleSpec('full').cohort.external], [340, 80]);
});

test('--augment: every pretraining of every scale augments (STUDY_AUGMENT), and nothing else in the configs changes', () => {
  assert.deepEqual(STUDY_AUGMENT, { shift: 4, intensity: 0.1 });
  for (const scale of STUDY_SCALES) {
    const plain = studyConfigs(scale, 9);
    const augmented = studyConfigs(scale, 9, { augment: STUDY_AUGMENT });
    assert.deepEqual(Object.keys(augmented), Object.keys(plain), scale);
    for (const name of Object.keys(plain) as (keyof typeof plain)[]) {
      const a = resolveConfig(augmented[name]!, `${scale} ${name}`);
      const p = resolveConfig(plain[name]!, `${scale} ${name}`);
      assert.deepEqual(a.pretrain.augment, STUDY_AUGMENT, `${scale}/${name}`);
      assert.deepEqual(p.pretrain.augment, { shift: 0, intensity: 0 }, `${scale}/${name}: the paper's method by default`);
      assert.deepEqual({ ...a, pretrain: { ...a.pretrain, augment: p.pretrain.augment } }, p, `${scale}/${name}: only the augmentation differs`);
    }
  }
});

test("--scale paper: the paper's sizes (PAPER_SCALE, docs/METHOD.md §1–§7) on every axis but the text encoder", () => {
  const spec = scaleSpec('paper');
  const p = PAPER_SCALE;
  // Dataset 1's pairs and Dataset 2's cases, at the paper's input size
  assert.deepEqual(spec.cohort, { internal: p.pretrain.pairs, external: p.external.cases, shape: [...p.input] });
  // Table 6's proportions: about the paper's 204 downstream cases among the 341 (a seeded draw per case)
  for (const seed of [42, 7]) {
    const labels = planCohortLabels({ internal: spec.cohort.internal, external: 0, seed, markers: 'paper' });
    const downstream = labels.filter((c) => c.marker !== 'other').length;
    assert.ok(Math.abs(downstream - p.finetune.cases) <= 25, `seed ${seed}: ${downstream} downstream cases against the paper's ${p.finetune.cases}`);
  }
  for (const [name, input] of Object.entries(studyConfigs('paper', 42))) {
    const c = resolveConfig(input, `paper ${name}`);
    assert.deepEqual([c.image.depth, c.image.shortcut, c.image.width, c.image.selfAttention], [p.image.depth, p.image.shortcut, p.image.width, true], name);
    assert.deepEqual(encoderGrids(c.data.shape, c.image.outputStride).layer4, [...p.attentionGrid], name);
    // the paper's head sizes (Table 7) and batches (§6)
    assert.deepEqual([c.heads.globalDim, c.heads.localDim, c.pretrain.batchSize, c.finetune.batchSize], [512, 256, 16, 16], name);
    // pretraining: the paper's rate, epochs within its 340–400, the authors' StepLR(20, 0.8)
    assert.equal(c.pretrain.lr, p.pretrain.lr, name);
    assert.ok(c.pretrain.epochs >= 340 && c.pretrain.epochs <= 400, `${name}: ${c.pretrain.epochs} pretraining epochs`);
    assert.deepEqual([c.pretrain.stepSize, c.pretrain.gamma], [20, 0.8], name);
    // downstream: 20 epochs at 1e-4, a 10-epoch warm-up, halved every 10, in 5 folds
    assert.deepEqual([c.finetune.epochs, c.finetune.lr, c.finetune.folds], [p.finetune.epochs, p.finetune.lr, p.finetune.folds], name);
    assert.deepEqual([c.finetune.warmupEpochs, c.finetune.stepSize, c.finetune.gamma], [10, 10, 0.5], name);
    // occlusion keeps the other scales' 4×4×3 patches
    const patches = (shape: readonly number[], patch: number, stride: number) => shape.map((d) => occlusionStarts(d, patch, stride).length);
    const quick = resolveConfig(studyConfigs('quick', 42).experiment!, 'quick');
    assert.deepEqual(patches(c.data.shape, c.explain.occlusionPatch, c.explain.occlusionStride), patches(quick.data.shape, quick.explain.occlusionPatch, quick.explain.occlusionStride), name);
    assert.deepEqual(patches(c.data.shape, c.explain.occlusionPatch, c.explain.occlusionStride), [4, 4, 3], name);
    // the text encoder stays the full scale's, trained from scratch
    const full = resolveConfig(studyConfigs('full', 42).experiment!, 'full');
    assert.deepEqual(c.text, full.text, name);
  }
  assert.equal(spec.ablations, true, "Table 5's ablations, as the paper");
});

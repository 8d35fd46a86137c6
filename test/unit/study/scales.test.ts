// The study's configs at every scale are valid experiment configs with the
// protocol's settings; quick and full have the paper's 8×8×5 attention grid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveConfig } from '../../../src/engine/config/resolve';
import { batchSizeIssues } from '../../../src/engine/training/batch-rules';
import { encoderGrids } from '../../../src/engine/networks/resnet3d';
import { STUDY_AUGMENT, STUDY_SCALES, scaleSpec, studyConfigs } from '../../../src/engine/study/scales';
import { studySteps } from '../../../src/engine/study/reproduce';

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
      assert.equal(c.image.outputStride, 8);
      assert.equal(c.image.dilate, false, `${scale}/${name}: layer3 and layer4 undilated on the 8×8×5 grid`);
      assert.equal(c.image.attentionScale, true, `${scale}/${name}: the self-attention's scores scaled by 1/√C`);
      assert.equal(c.heads.globalInputNorm, 'batch', `${scale}/${name}: global heads standardise their inputs`);
      assert.equal(c.heads.crossAttentionResidual, false, `${scale}/${name}: no query residual in the cross-attention`);
      assert.equal(c.image.attentionGamma, 0.1, `${scale}/${name}: the self-attention's gate starts open`);
      // whole reports in the local representation (the generator's cleaned reports have at most ≈ 130 words)
      if (scale !== 'tiny') assert.equal(c.text.maxWords, 160, `${scale}/${name}: word slots`);
      assert.deepEqual(batchSizeIssues(c), [], `${scale} ${name}: batch sizes`);
      assert.deepEqual(c.explain.baselines, name === 'experiment' ? ['gradCam', 'occlusion'] : []);
      assert.equal(c.loss.useLocation, name !== 'location-excluded');
      assert.deepEqual(c.finetune.initializations, name === 'location-excluded' ? ['pretrained'] : ['random', 'medicalnet', 'pretrained']);
      assert.equal(c.finetune.folds, scale === 'tiny' ? 2 : 5);
    }
    if (scale !== 'tiny') assert.deepEqual(encoderGrids(spec.cohort.shape, 8).layer4, [8, 8, 5]);
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

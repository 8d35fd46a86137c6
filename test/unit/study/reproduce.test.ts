// `mrcl study reproduce` at the tiny scale: a whole study, a second
// invocation that skips every step, a cancelled study that resumes (its run
// folder reused, not restarted), and the refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { main } from '../../../src/cli/main';
import { loadConfig } from '../../../src/engine/config/resolve';
import { readJson } from '../../../src/engine/training/run-folder';
import { readStandinRecord } from '../../../src/engine/training/medicalnet-standin';
import { readResults } from '../../../src/engine/results';
import type { ExperimentConfig } from '../../../src/shared/config';
import type { StudyRecord } from '../../../src/engine/study/record';
import type { ProgressEvent } from '../../../src/shared/events';
import { EXTERNAL_CHECK_SEED_OFFSET, scaleSpec, STUDY_AUGMENT } from '../../../src/engine/study/scales';
import { StudyProgress } from '../../../src/engine/study/progress';
import { cohortProgress, paperScaleWarning } from '../../../src/engine/study/reproduce';
import { acquireLock, releaseLock } from '../../../src/engine/training/run-lock';

const STEPS = ['cohort', 'medicalnet-standin', 'experiment', 'location-excluded', 'external-check', 'probe', 'report'];

async function reproduce(args: string[], signal = new AbortController().signal, onErr?: (s: string) => void) {
  let out = '';
  let err = '';
  const code = await main(['study', 'reproduce', ...args], {
    stdout: (s) => void (out += s),
    stderr: (s) => {
      err += s;
      onErr?.(err);
    },
    tty: false,
    signal,
  });
  return { code, out, err };
}

const record = (dir: string) => readJson<StudyRecord>(join(dir, 'study.json'));

/** Each run step's config as the study wrote it (configs/) and as its run recorded it (config.json), with the run folder. */
const runConfigs = (dir: string, rec: StudyRecord) =>
  (['experiment', 'location-excluded'] as const).map((name) => {
    const runDir = join(dir, rec.steps.find((s) => s.name === name)!.runDir!);
    return { name, study: loadConfig(join(dir, rec.configs[name]!)).config, run: readJson<ExperimentConfig>(join(runDir, 'config.json')), runDir };
  });
const tmp = () => join(mkdtempSync(join(tmpdir(), 'mrcl-study-')), 'study');

test('a tiny study runs every step; its configs rerun as ordinary experiments; a second invocation skips everything; another scale or seed is refused', { timeout: 300_000 }, async () => {
  const dir = tmp();
  const first = await reproduce(['--scale', 'tiny', '--seed', '42', '--out', dir]);
  assert.equal(first.code, 0, first.err);
  const rec = record(dir);
  assert.equal(rec.status, 'done');
  assert.equal(rec.scale, 'tiny');
  assert.equal(rec.seed, 42);
  assert.deepEqual(rec.steps.map((s) => [s.name, s.status]), STEPS.map((s) => [s, 'done']));
  for (const s of STEPS) assert.match(first.err, new RegExp(`\\[started\\] study/${s}: step ${STEPS.indexOf(s) + 1}/${STEPS.length}`));
  // one overall progress: the study's total, steps prefixed by their study step
  assert.match(first.err, /\d+\/\d+ steps {2}ETA [\d:-]+ {2}location-excluded\/finetune\/pretrained\/fold-1/);
  // the cohorts' own progress, case by case (hours at the paper's scale): the study's and the external check's
  const tinySpec = scaleSpec('tiny');
  const cohortCases = tinySpec.cohort.internal + tinySpec.cohort.external;
  assert.match(first.err, new RegExp(`${cohortCases}/${cohortCases} steps {2}ETA 00:00 {2}study/cohort\n`));
  assert.match(first.err, new RegExp(`${tinySpec.externalCheck}/${tinySpec.externalCheck} steps {2}ETA 00:00 {2}study/external-check/cohort\n`));

  // the cohort: Table 6's proportions at the tiny size, external cases without reports
  const spec = scaleSpec('tiny');
  const manifest = readJson<{ cases: { cohort: string; marker: string; report?: string }[] }>(join(dir, 'cohort', 'manifest.json'));
  assert.equal(manifest.cases.filter((c) => c.cohort === 'internal').length, spec.cohort.internal);
  assert.equal(manifest.cases.filter((c) => c.cohort === 'external').length, spec.cohort.external);
  assert.ok(manifest.cases.filter((c) => c.cohort === 'external').every((c) => c.report === undefined));
  assert.ok(manifest.cases.some((c) => c.marker === 'other'), "paper markers: some cases are 'other'");
  const synth = readJson<{ options: { markers: string; seed: number } }>(join(dir, 'cohort', 'synth.json'));
  assert.deepEqual([synth.options.markers, synth.options.seed], ['paper', 42]);

  // the stand-in, in MedicalNet format with its record, for the study's encoder
  const standin = join(dir, 'medicalnet-standin.pth');
  const standinRecord = readStandinRecord(standin);
  assert.ok(standinRecord);
  assert.equal(standinRecord.encoder.width, 2);
  assert.equal(standinRecord.encoder.outputStride, 8);

  // the configs load as ordinary experiment configs and point at the study's files
  assert.deepEqual(Object.keys(rec.configs).sort(), ['experiment', 'location-excluded']);
  const exp = loadConfig(join(dir, rec.configs.experiment!)).config;
  const loc = loadConfig(join(dir, rec.configs['location-excluded']!)).config;
  assert.equal(exp.pretrain.heldOut, 0.15);
  assert.deepEqual(exp.explain.baselines, ['gradCam', 'occlusion']);
  assert.equal(exp.image.outputStride, 8);
  assert.equal(exp.loss.useLocation, true);
  assert.deepEqual(exp.finetune.initializations, ['random', 'medicalnet', 'pretrained']);
  assert.equal(exp.finetune.folds, 2);
  assert.equal(loc.loss.useLocation, false);
  assert.deepEqual(loc.finetune.initializations, ['pretrained']);
  // the location check differs from the experiment only in the loss flag, its arm and the baselines it skips
  const strip = (c: ExperimentConfig) => ({ ...c, name: '', loss: { ...c.loss, useLocation: true }, finetune: { ...c.finetune, initializations: [] }, explain: { ...c.explain, baselines: [] } });
  assert.deepEqual(strip(loc), strip(exp));

  // the run folders, with results; their recorded configs are the study's
  const runs = readdirSync(join(dir, 'runs')).sort();
  assert.equal(runs.length, 2);
  const expStep = rec.steps.find((s) => s.name === 'experiment')!;
  const locStep = rec.steps.find((s) => s.name === 'location-excluded')!;
  for (const step of [expStep, locStep]) {
    assert.ok(step.runDir && existsSync(join(dir, step.runDir, 'results.json')), `${step.name}: results.json`);
  }
  const expRun = readJson<ExperimentConfig>(join(dir, expStep.runDir!, 'config.json'));
  assert.equal(expRun.image.medicalNet, standin);
  assert.equal(expRun.data.manifest, join(dir, 'cohort', 'manifest.json'));
  assert.equal(readJson<ExperimentConfig>(join(dir, locStep.runDir!, 'config.json')).loss.useLocation, false);
  const expArms = readResults(join(dir, expStep.runDir!, 'results.json')).arms!;
  assert.deepEqual(expArms.map((a) => [a.arm, a.status, a.folds.length]), [['random', 'done', 2], ['medicalnet', 'done', 2], ['pretrained', 'done', 2]]);
  assert.match(expArms[1]!.label, /stand-in/);
  assert.deepEqual(readResults(join(dir, locStep.runDir!, 'results.json')).arms!.map((a) => [a.arm, a.folds.length]), [['pretrained', 2]]);
  // held-out retrieval was measured (pretrain.heldOut)
  assert.ok(existsSync(join(dir, expStep.runDir!, 'pretrain', 'split.json')));

  // the external check: more external cases of the generator (the study's seed + the offset), scored by the experiment's fold models unchanged
  const checkSynth = readJson<{ options: { internal: number; external: number; seed: number; markers: string } }>(join(dir, 'external-check-cohort', 'synth.json'));
  assert.deepEqual([checkSynth.options.internal, checkSynth.options.external, checkSynth.options.seed, checkSynth.options.markers], [0, spec.externalCheck, 42 + EXTERNAL_CHECK_SEED_OFFSET, 'paper']);
  const check = join(dir, expStep.runDir!, 'external', 'external-check');
  assert.equal(readJson<{ manifest: string }>(join(check, 'evaluation.json')).manifest, join(dir, 'external-check-cohort', 'manifest.json'));
  const checkArms = readResults(join(check, 'results.json')).arms!;
  assert.deepEqual(checkArms.map((a) => [a.arm, a.folds.length]), [['random', 2], ['medicalnet', 2], ['pretrained', 2]]);
  // the run's internal results as they were; the external ones the new cohort's
  for (const arm of ['random', 'medicalnet', 'pretrained']) {
    for (const fold of [0, 1]) {
      const m = readJson<{ internal: unknown; external: { n: number } }>(join(check, 'finetune', arm, `fold-${fold}`, 'metrics.json'));
      assert.deepEqual(m.internal, readJson<{ internal: unknown }>(join(dir, expStep.runDir!, 'finetune', arm, `fold-${fold}`, 'metrics.json')).internal);
      assert.ok(m.external.n > 0 && m.external.n <= spec.externalCheck);
    }
  }

  // the linear probe: every unit's starting encoder probed, on the study's cohorts and the external check's
  const probe = join(dir, expStep.runDir!, 'probe');
  assert.deepEqual(readResults(join(probe, 'results.json')).arms!.map((a) => [a.arm, a.folds.length]), [['random', 2], ['medicalnet', 2], ['pretrained', 2]]);
  const probeCheck = join(probe, 'external', 'external-check');
  assert.deepEqual(readResults(join(probeCheck, 'results.json')).arms!.map((a) => [a.arm, a.folds.length]), [['random', 2], ['medicalnet', 2], ['pretrained', 2]]);
  for (const arm of ['random', 'medicalnet', 'pretrained']) {
    const own = readJson<{ internal: { n: number }; external: { n: number } | null; probe: { C: number } }>(join(probe, 'finetune', arm, 'fold-0', 'metrics.json'));
    const fineTuned = readJson<{ internal: { n: number }; external: { n: number } }>(join(dir, expStep.runDir!, 'finetune', arm, 'fold-0', 'metrics.json'));
    assert.equal(own.probe.C, 1);
    assert.equal(own.internal.n, fineTuned.internal.n, 'the fold\'s test cases');
    assert.equal(own.external?.n, fineTuned.external.n, 'the study\'s external cases');
    const onCheck = readJson<{ external: { n: number } }>(join(probeCheck, 'finetune', arm, 'fold-0', 'metrics.json'));
    assert.equal(onCheck.external.n, readJson<{ external: { n: number } }>(join(check, 'finetune', arm, 'fold-0', 'metrics.json')).external.n);
  }

  // the report step wrote the report of these runs, with the external check's comparisons beside the verdict
  for (const f of ['report.md', 'report.html']) assert.ok(existsSync(join(dir, f)), f);
  const md = readFileSync(join(dir, 'report.md'), 'utf8');
  assert.match(md, /\n## External check \(beyond the verdict\)\n\nThe experiment's fold models, unchanged, scored on a second external cohort/);
  assert.match(md, /: External check \(beyond the verdict\): CL beats random initialisation on external AUC\. Second external cohort, \d+ cases: external AUC: /);
  assert.ok(md.indexOf('## External check') > md.indexOf('## Verdict') && md.indexOf('## External check') < md.indexOf('## Runs'));
  assert.match(md, /## Tables: External check/);
  // the study's scale beside the paper's, read from the experiment run (the tiny scale's sizes)
  const pairs = readJson<{ train: string[] }>(join(dir, expStep.runDir!, 'pretrain', 'split.json')).train.length;
  assert.ok(md.includes("\n## This study's scale and the paper's\n"));
  assert.ok(md.includes("| Input volume | 24×24×16: 9,216 voxels, 1/968.8 of the paper's | 240×240×155: 8,928,000 voxels |"));
  assert.ok(md.includes("| Image encoder | ResNet-18-A, width 2 (1/32 of the paper's channels per layer), self-attention on layer4 |"));
  assert.ok(md.includes(`| Pretraining | ${pairs} pairs, 1 epoch, lr 3e-4 |`), `${pairs} pairs`);
  assert.match(md, /\n## Linear probe of the frozen encoders \(beyond the verdict\)\n/);
  assert.match(md, /: Linear probe of the frozen encoders \(beyond the verdict\): CL's encoder, before fine-tuning, holds more of the marker than random initialisation's: the external check's AUC of a logistic regression on its features\. Second external cohort, \d+ cases: external AUC: /);
  assert.match(first.out, new RegExp(`Report: ${join(dir, 'report.md').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));

  // again: nothing runs
  const before = readFileSync(join(dir, 'study.json'), 'utf8');
  const second = await reproduce(['--out', dir]);
  assert.equal(second.code, 0, second.err);
  for (const s of STEPS) assert.match(second.err, new RegExp(`\\[skipped\\] study/${s}: done earlier`));
  assert.doesNotMatch(second.err, /\[started\]/);
  assert.match(second.err, /every step was already done/);
  const again = record(dir);
  assert.deepEqual(again.steps, JSON.parse(before).steps);
  assert.deepEqual(readdirSync(join(dir, 'runs')).sort(), runs);

  // an external check that fails (here: a saved score tampered with, so the reload check refuses the model) does not stop the
  // report, which says why it is not measured; the study is done and the next invocation tries the check again
  const predPath = join(dir, expStep.runDir!, 'finetune', 'random', 'fold-0', 'predictions.csv');
  const predText = readFileSync(predPath, 'utf8');
  const [head, firstRow, ...rest] = predText.split('\n');
  const cells = firstRow!.split(',');
  cells[3] = String(Number(cells[3]) > 0.5 ? Number(cells[3]) - 0.01 : Number(cells[3]) + 0.01);
  writeFileSync(predPath, [head, cells.join(','), ...rest].join('\n'));
  rmSync(join(dir, expStep.runDir!, 'external', 'external-check'), { recursive: true });
  const withCheckPending = record(dir);
  writeFileSync(join(dir, 'study.json'), JSON.stringify({ ...withCheckPending, steps: withCheckPending.steps.map((s) => (s.name === 'external-check' ? { ...s, status: 'pending' } : s)) }));
  const retried = await reproduce(['--out', dir]);
  assert.equal(retried.code, 0, retried.err);
  const failedCheck = record(dir).steps.find((s) => s.name === 'external-check')!;
  assert.equal(failedCheck.status, 'failed');
  assert.match(failedCheck.error!, /away from its saved prediction/);
  assert.equal(record(dir).status, 'done');
  assert.match(retried.err, /\[started\] study\/report/);
  const mdFailed = readFileSync(join(dir, 'report.md'), 'utf8');
  assert.match(mdFailed, /\*not measured\*: External check \(beyond the verdict\): CL beats random initialisation on external AUC\. the external check cannot be read: .*away from its saved prediction/);
  // put back, the next invocation does the check and renders the report again
  writeFileSync(predPath, predText);
  const fixed = await reproduce(['--out', dir]);
  assert.equal(fixed.code, 0, fixed.err);
  assert.equal(record(dir).steps.find((s) => s.name === 'external-check')!.status, 'done');
  assert.match(readFileSync(join(dir, 'report.md'), 'utf8'), /\*\*(not )?reproduced\*\*: External check \(beyond the verdict\): CL beats random initialisation on external AUC\. Second external cohort/);

  const settled = record(dir);

  // another scale or seed on this folder is refused, and the study is left as it was
  const other = await reproduce(['--scale', 'quick', '--out', dir]);
  assert.equal(other.code, 1);
  assert.match(other.err, /study\.json: this study folder holds a study made with --scale tiny --seed 42; it cannot continue with --scale quick/);
  const seed = await reproduce(['--seed', '7', '--out', dir]);
  assert.equal(seed.code, 1);
  assert.match(seed.err, /cannot continue with --seed 7/);
  const augment = await reproduce(['--augment', '--out', dir]);
  assert.equal(augment.code, 1);
  assert.match(augment.err, /made with --scale tiny --seed 42; it cannot continue with --augment/);
  assert.deepEqual(record(dir).steps, settled.steps);
  assert.doesNotMatch(readFileSync(join(dir, 'report.md'), 'utf8'), /Pretraining augmented/);

  // --augment: the same study with pretraining augmentation (recorded; every pretraining's config carries it; the report says so).
  // Fine-tuning does not depend on it: the random and MedicalNet arms' predictions equal the plain study's, while CL's pretrained weights differ.
  const aug = tmp();
  const withAug = await reproduce(['--scale', 'tiny', '--seed', '42', '--augment', '--out', aug]);
  assert.equal(withAug.code, 0, withAug.err);
  assert.match(withAug.err, /seed 42, pretraining augmentation \(shift 4, intensity 0\.1\)/);
  const augRec = record(aug);
  assert.deepEqual(augRec.augment, STUDY_AUGMENT);
  for (const { name, study, run } of runConfigs(aug, augRec)) {
    assert.deepEqual(study.pretrain.augment, STUDY_AUGMENT, name);
    assert.deepEqual(run.pretrain.augment, STUDY_AUGMENT, `${name}: the run's recorded config`);
  }
  assert.deepEqual(exp.pretrain.augment, { shift: 0, intensity: 0 }, 'the plain study does not augment');
  const augExp = augRec.steps.find((s) => s.name === 'experiment')!.runDir!;
  for (const arm of ['random', 'medicalnet']) {
    for (const fold of [0, 1]) {
      const preds = (d: string) => readFileSync(join(d, 'finetune', arm, `fold-${fold}`, 'predictions.csv'), 'utf8');
      assert.equal(preds(join(aug, augExp)), preds(join(dir, expStep.runDir!)), `${arm} fold ${fold}: the same predictions`);
    }
  }
  const weights = (d: string) => readFileSync(join(d, 'pretrain', 'model.safetensors'));
  assert.ok(!weights(join(aug, augExp)).equals(weights(join(dir, expStep.runDir!))), 'augmented pretraining learns other weights');
  for (const file of ['report.md', 'report.html']) assert.match(readFileSync(join(aug, file), 'utf8'), /Pretraining augmented its images \(pretrain\.augment: a shift of up to 4 voxels per axis, an intensity change of up to 0\.1; ours, not the paper/, file);
  // resumed without the flag it keeps its own; with it, it is accepted
  for (const args of [['--out', aug], ['--augment', '--out', aug]]) {
    const again = await reproduce(args);
    assert.equal(again.code, 0, again.err);
    assert.match(again.err, /every step was already done/);
    assert.deepEqual(record(aug).augment, STUDY_AUGMENT);
  }
  // studies with and without it are not draws of one method
  let mixedErr = '';
  const mixed = await main(['study', 'seeds', dir, aug], { stdout: () => undefined, stderr: (t) => void (mixedErr += t), tty: false, signal: new AbortController().signal });
  assert.equal(mixed, 1);
  assert.match(mixedErr, /differ in settings other than the seed and paths \(.*pretrain\.augment/);

  // --width: the same study with another image-encoder width, recorded; every run's config and the stand-in carry it; the report's scale table says it
  assert.equal(record(dir).width, undefined, 'the scale\'s own width is not recorded');
  const wide = tmp();
  const withWidth = await reproduce(['--scale', 'tiny', '--seed', '42', '--width', '3', '--out', wide]);
  assert.equal(withWidth.code, 0, withWidth.err);
  assert.match(withWidth.err, /seed 42, image encoder width 3 \(the scale's 2\)/);
  const wideRec = record(wide);
  assert.equal(wideRec.width, 3);
  for (const { name, study, run } of runConfigs(wide, wideRec)) {
    assert.equal(study.image.width, 3, name);
    assert.equal(run.image.width, 3, `${name}: the run's recorded config`);
  }
  assert.equal(readJson<{ encoder: { width: number } }>(join(wide, 'medicalnet-standin.pth.json')).encoder.width, 3, 'the stand-in of that width');
  assert.equal(readJson<{ encoder: { width: number } }>(join(dir, 'medicalnet-standin.pth.json')).encoder.width, 2);
  assert.ok(readFileSync(join(wide, 'report.md'), 'utf8').includes("| Image encoder | ResNet-18-A, width 3 (1/21.3 of the paper's channels per layer), self-attention on layer4 |"));
  // a study cannot continue at another width; resumed without the flag, or with its own width, it keeps its own
  const narrow = await reproduce(['--width', '2', '--out', wide]);
  assert.equal(narrow.code, 1);
  assert.match(narrow.err, /made with --scale tiny --seed 42 --width 3; it cannot continue with --width 2/);
  const widened = await reproduce(['--width', '3', '--out', dir]);
  assert.equal(widened.code, 1);
  assert.match(widened.err, /made with --scale tiny --seed 42; it cannot continue with --width 3/);
  for (const args of [['--out', wide], ['--width', '3', '--out', wide], ['--width', '2', '--out', dir]]) {
    const again = await reproduce(args);
    assert.equal(again.code, 0, again.err);
    assert.match(again.err, /every step was already done/);
  }
  assert.equal(record(wide).width, 3);
  // studies of two widths are not draws of one method
  let widthErr = '';
  const widths = await main(['study', 'seeds', dir, wide], { stdout: () => undefined, stderr: (t) => void (widthErr += t), tty: false, signal: new AbortController().signal });
  assert.equal(widths, 1);
  assert.match(widthErr, /differ in settings other than the seed and paths \(.*image\.width/);
});

test('a cancelled study says where it stopped and resumes: after the cohort, and inside the experiment (the same run folder, pretraining not redone)', { timeout: 300_000 }, async () => {
  const dir = tmp();
  const stopAt = (pattern: RegExp) => {
    const ac = new AbortController();
    return { signal: ac.signal, onErr: (err: string) => void (pattern.test(err) && !ac.signal.aborted && ac.abort()) };
  };
  // 1. stopped once the cohort is done: the stand-in is the interrupted step
  const a = stopAt(/\[done\] study\/cohort/);
  const first = await reproduce(['--scale', 'tiny', '--out', dir], a.signal, a.onErr);
  assert.equal(first.code, 130, first.err);
  assert.match(first.err, /resume with: mrcl study reproduce --out /);
  let rec = record(dir);
  assert.equal(rec.status, 'cancelled');
  assert.equal(rec.interrupted, 'medicalnet-standin');
  assert.deepEqual(rec.steps.map((s) => s.status), ['done', 'interrupted', 'pending', 'pending', 'pending', 'pending', 'pending']);
  assert.ok(!existsSync(join(dir, 'medicalnet-standin.pth')));

  // a step that fails (here: its config was broken) fails the study, which names the step and the file; fixed, it resumes
  const configPath = join(dir, 'configs', 'experiment.mrcl.json');
  const good = readFileSync(configPath, 'utf8');
  writeFileSync(configPath, '{ not json');
  const failed = await reproduce(['--out', dir]);
  assert.equal(failed.code, 1);
  assert.match(failed.err, /failed: medicalnet-standin: .*experiment\.mrcl\.json/);
  rec = record(dir);
  assert.equal(rec.status, 'failed');
  assert.equal(rec.steps[1]!.status, 'failed');
  assert.match(rec.steps[1]!.error!, /experiment\.mrcl\.json/);
  writeFileSync(configPath, good);

  // 2. resumed, then stopped inside the experiment once its pretraining is done
  const b = stopAt(/\[done\] pretrain\n/);
  const second = await reproduce(['--out', dir], b.signal, b.onErr);
  assert.equal(second.code, 130, second.err);
  assert.match(second.err, /\[skipped\] study\/cohort: done earlier/);
  assert.match(second.err, /\[started\] study\/medicalnet-standin: step 2\/7 \(resumed\)/);
  rec = record(dir);
  assert.equal(rec.interrupted, 'experiment');
  assert.deepEqual(rec.steps.map((s) => s.status), ['done', 'done', 'interrupted', 'pending', 'pending', 'pending', 'pending']);
  const runDir = rec.steps[2]!.runDir!;
  assert.ok(runDir);
  assert.equal(readJson<{ status: string }>(join(dir, runDir, 'run.json')).status, 'cancelled');
  assert.ok(existsSync(join(dir, runDir, 'pretrain', 'model.safetensors')));

  // a killed process leaves its step "running" (it could not say otherwise): the next invocation resumes it the same way
  writeFileSync(join(dir, 'study.json'), JSON.stringify({ ...rec, status: 'running', interrupted: undefined, steps: rec.steps.map((s) => (s.name === 'experiment' ? { ...s, status: 'running' } : s)) }));

  // 3. resumed to the end: the experiment continues in its folder without pretraining again
  const third = await reproduce(['--out', dir]);
  assert.match(third.err, /\[started\] study\/experiment: step 3\/7 \(resumed\)/);
  assert.equal(third.code, 0, third.err);
  const inExperiment = third.err.slice(third.err.indexOf('[started] study/experiment'), third.err.indexOf('[started] study/location-excluded'));
  assert.match(inExperiment, /resuming .*runs\/experiment-/);
  assert.doesNotMatch(inExperiment, /\[started\] pretrain\n/);
  rec = record(dir);
  assert.equal(rec.status, 'done');
  assert.equal(rec.interrupted, undefined);
  assert.deepEqual(rec.steps.map((s) => s.status), STEPS.map(() => 'done'));
  assert.equal(rec.steps[2]!.runDir, runDir);
  assert.equal(readdirSync(join(dir, 'runs')).length, 2);
  assert.ok(existsSync(join(dir, runDir, 'results.json')));
  assert.ok(rec.steps.every((s) => s.seconds > 0));
});

test('study reproduce refuses a folder that is not a study, a bad study.json and an unknown scale', async () => {
  const dir = tmp();
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'notes.txt'), 'x');
  const r = await reproduce(['--scale', 'tiny', '--out', dir]);
  assert.equal(r.code, 1);
  assert.match(r.err, /exists and is not a study folder \(no study\.json\)/);
  writeFileSync(join(dir, 'study.json'), JSON.stringify({ format: 'mrcl-study-1', scale: 'huge', seed: 1, steps: [] }));
  const bad = await reproduce(['--out', dir]);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /study\.json: not a study record of this version \("scale" is "huge"/);
  writeFileSync(join(dir, 'study.json'), JSON.stringify({ format: 'mrcl-study-1', scale: 'tiny', seed: 1, augment: { shift: -1, intensity: 0.1 }, configs: {}, steps: [{ name: 'cohort', status: 'pending', seconds: 0 }] }));
  const badAugment = await reproduce(['--out', dir]);
  assert.equal(badAugment.code, 1);
  assert.match(badAugment.err, /study\.json: not a study record of this version \("augment" must be \{ shift, intensity \} with numbers ≥ 0\)/);
  writeFileSync(join(dir, 'study.json'), JSON.stringify({ format: 'mrcl-study-1', scale: 'tiny', seed: 1, width: 2.5, configs: {}, steps: [{ name: 'cohort', status: 'pending', seconds: 0 }] }));
  const badWidth = await reproduce(['--out', dir]);
  assert.equal(badWidth.code, 1);
  assert.match(badWidth.err, /study\.json: not a study record of this version \("width" must be a whole number ≥ 1\)/);
  // a study folder another process is working in
  const busy = tmp();
  mkdirSync(busy, { recursive: true });
  const token = acquireLock(join(busy, '.study.lock'), 'test');
  try {
    const locked = await reproduce(['--scale', 'tiny', '--out', busy]);
    assert.equal(locked.code, 1);
    assert.match(locked.err, /\.study\.lock/);
    assert.ok(!existsSync(join(busy, 'study.json')), 'nothing written');
  } finally {
    releaseLock(join(busy, '.study.lock'), token);
  }
  const usage = await reproduce(['--scale', 'huge', '--out', dir]);
  assert.equal(usage.code, 2);
  assert.match(usage.err, /--scale must be one of quick, full, paper, tiny/);
  const zeroWidth = await reproduce(['--width', '0', '--out', dir]);
  assert.equal(zeroWidth.code, 2);
  assert.match(zeroWidth.err, /--width must be at least 1, got 0/);
  const positional = await reproduce([dir]);
  assert.equal(positional.code, 2);
  assert.match(positional.err, /reproduce takes its folder as --out /);
  const action = await main(['study', 'replicate'], { stdout: () => undefined, stderr: () => undefined, tty: false, signal: new AbortController().signal });
  assert.equal(action, 2);
});

test("the study's progress places each step's own steps in the sum of the planned work, with an ETA from the measured rate", () => {
  let t = 0;
  const p = new StudyProgress([['cohort', 0], ['medicalnet-standin', 4], ['experiment', 10], ['report', 0]], () => t);
  assert.equal(p.total, 14);
  assert.equal(p.base('experiment'), 4);
  const first = p.place('medicalnet-standin', { type: 'progress', stage: 'medicalnet-standin', done: 1, total: 4 });
  assert.deepEqual([first.stage, first.done, first.total, first.etaSeconds], ['medicalnet-standin/medicalnet-standin', 1, 14, undefined]);
  t = 3000; // 3 s for the next 2 steps: 1.5 s a step, 14 − 3 = 11 left
  const second = p.place('medicalnet-standin', { type: 'progress', stage: 'medicalnet-standin', done: 3, total: 4 });
  assert.deepEqual([second.done, second.etaSeconds], [3, 16.5]);
  t = 6000; // a run's own done (resumed runs count their earlier steps) sits after the stand-in's 4: 4 + 6 = 10, 7 steps in 6 s
  const third = p.place('experiment', { type: 'progress', stage: 'pretrain', done: 6, total: 10 });
  assert.deepEqual([third.stage, third.done, third.etaSeconds], ['experiment/pretrain', 10, (6 / 9) * 4]);
});

test("--scale paper: the paper's sizes in the study's configs, and off a GPU a warning before anything runs that says what the study would cost", async () => {
  const dir = tmp();
  const stop = new AbortController();
  stop.abort(); // cancelled at the first step: nothing of the 240×240×155 cohort is made
  const r = await reproduce(['--scale', 'paper', '--out', dir], stop.signal);
  assert.equal(r.code, 130, r.err);
  const rec = record(dir);
  assert.deepEqual([rec.scale, rec.seed, rec.status, rec.interrupted, rec.width], ['paper', 42, 'cancelled', 'cohort', undefined]);
  assert.deepEqual(rec.steps.map((s) => s.name), ['cohort', 'medicalnet-standin', 'experiment', 'ablation', 'external-check', 'probe', 'report']);
  assert.ok(!existsSync(join(dir, 'cohort', 'manifest.json')));
  const exp = loadConfig(join(dir, rec.configs.experiment!)).config;
  assert.deepEqual([exp.data.shape, exp.image.width, exp.image.outputStride, exp.pretrain.epochs, exp.pretrain.lr, exp.finetune.epochs, exp.finetune.lr], [[240, 240, 155], 64, 32, 400, 1e-4, 20, 1e-4]);
  assert.ok(existsSync(join(dir, rec.configs.ablation!)));
  // the tests run on the CPU backends: the warning, with the study's own count of pretrainings (the experiment's and the six Table 5 arms')
  assert.match(r.err, /warn: scale paper on cpu \(@tensorflow\/tfjs\), not a GPU: .* this study runs 7 pretrainings of 400 epochs\./);
  assert.ok(r.err.indexOf('warn: scale paper') < r.err.indexOf('[cancelled] study/cohort'), 'the warning comes before the first step');
  // a quick study says nothing of the kind
  const quick = await reproduce(['--scale', 'tiny', '--out', tmp()], stop.signal);
  assert.equal(quick.code, 130, quick.err);
  assert.doesNotMatch(quick.err, /not a GPU/);
});

test('paperScaleWarning: none on tfjs-node-gpu; on the CPU backends the cost, in the study\'s numbers', () => {
  assert.equal(paperScaleWarning({ name: 'tensorflow', provider: '@tensorflow/tfjs-node-gpu', skipped: [] }, 7, 400), undefined);
  assert.match(paperScaleWarning({ name: 'tensorflow', provider: '@tensorflow/tfjs-node', skipped: [] }, 2, 400)!, /scale paper on tensorflow \(@tensorflow\/tfjs-node\), not a GPU: .* 2 pretrainings of 400 epochs/);
  assert.match(paperScaleWarning({ name: 'cpu', provider: '@tensorflow/tfjs', skipped: [] }, 1, 340)!, /runs 1 pretraining of 340 epochs/);
});

test('--text-pretrained: every run loads the pretrained Longformer (its own tokenizer), recorded and named; checked before the study starts; a study cannot continue with another', { timeout: 300_000 }, async () => {
  const model = resolve('test/fixtures/longformer/tiny-longformer');
  // a folder that is not a model is refused before anything is written
  const refused = tmp();
  const bad = await reproduce(['--scale', 'tiny', '--out', refused, '--text-pretrained', 'test/fixtures/longformer']);
  assert.equal(bad.code, 1);
  assert.match(bad.err, new RegExp(`--text-pretrained: ${resolve('test/fixtures/longformer').replace(/[/.]/g, '\\$&')}: config\\.json is missing`));
  assert.ok(!existsSync(join(refused, 'study.json')));
  const missing = await reproduce(['--scale', 'tiny', '--out', refused, '--text-pretrained', join(refused, 'nowhere')]);
  assert.match(missing.err, /--text-pretrained: text model folder not found: .*nowhere/);

  const dir = tmp();
  // a relative folder is recorded as an absolute path (the configs live in DIR/configs)
  const r = await reproduce(['--scale', 'tiny', '--seed', '42', '--out', dir, '--text-pretrained', 'test/fixtures/longformer/tiny-longformer']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, new RegExp(`seed 42, text encoder ${model.replace(/[/.]/g, '\\$&')} \\(pretrained\\)`));
  const rec = record(dir);
  assert.equal(rec.textPretrained, model);
  for (const { name, study, run, runDir } of runConfigs(dir, rec)) {
    assert.equal(study.text.pretrained, model, name);
    assert.equal(run.text.pretrained, model, `${name}: the run's recorded config`);
    // the pretraining's tokenizer is the model's (its vocabulary), not one learnt from the cohort's reports
    const saved = readJson<{ model: { vocab: Record<string, number> } }>(join(runDir, 'pretrain', 'tokenizer.json'));
    assert.deepEqual(saved.model.vocab, readJson<Record<string, number>>(join(model, 'vocab.json')), `${name}: the model's vocabulary`);
  }
  const md = readFileSync(join(dir, 'report.md'), 'utf8');
  assert.ok(md.includes(`| Text encoder | pretrained Longformer (text.pretrained ${model}): 2 layers, hidden 32 (1/24 of the paper's), the last 2 trained |`));
  // resumed with the same folder or without the flag it keeps it; another folder is refused naming both
  for (const args of [['--out', dir], ['--out', dir, '--text-pretrained', model]]) {
    const again = await reproduce(args);
    assert.equal(again.code, 0, again.err);
    assert.match(again.err, /every step was already done/);
  }
  const other = mkdtempSync(join(tmpdir(), 'mrcl-model-'));
  for (const f of ['config.json', 'pytorch_model.bin', 'vocab.json', 'merges.txt']) writeFileSync(join(other, f), readFileSync(join(model, f)));
  const clash = await reproduce(['--out', dir, '--text-pretrained', other]);
  assert.equal(clash.code, 1);
  assert.ok(clash.err.includes(`made with --scale tiny --seed 42 --text-pretrained ${model}; it cannot continue with --text-pretrained ${other}`), clash.err);
  assert.equal(record(dir).textPretrained, model);
  // a study.json whose textPretrained is not an absolute path is refused
  const forged = tmp();
  mkdirSync(forged, { recursive: true });
  writeFileSync(join(forged, 'study.json'), JSON.stringify({ format: 'mrcl-study-1', scale: 'tiny', seed: 1, textPretrained: 'models/x', configs: {}, steps: [{ name: 'cohort', status: 'pending', seconds: 0 }] }));
  const forgedRun = await reproduce(['--out', forged]);
  assert.match(forgedRun.err, /study\.json: not a study record of this version \("textPretrained" must be an absolute folder path\)/);
});

test("a cohort's progress: cases done of all, the ETA from the rate of the cases made in this invocation (kept ones take no time); a cancelled study stops between cases", () => {
  let t = 0;
  const events: ProgressEvent[] = [];
  const stop = new AbortController();
  const onProgress = cohortProgress('study/cohort', 'cohort', (e) => void (e.type === 'progress' && events.push(e)), stop.signal, () => t);
  onProgress(0, 10, 0);
  t = 1000; // (ms) three cases kept from an interrupted run, at once
  onProgress(3, 10, 3);
  t = 21_000; // one case made: 21 s for it, so the 6 left ≈ 6 × 21 = 126 s (not 6 × 21 / 4)
  onProgress(4, 10, 3);
  t = 61_000; // two made in 61 s: the 5 left ≈ 5 × 61 / 2 = 152.5 s
  onProgress(5, 10, 3);
  assert.deepEqual(events.map((e) => [e.stage, e.done, e.total, e.etaSeconds]), [['study/cohort', 0, 10, undefined], ['study/cohort', 3, 10, undefined], ['study/cohort', 4, 10, 126], ['study/cohort', 5, 10, 152.5]]);
  stop.abort();
  assert.throws(() => onProgress(6, 10, 3), (e: Error) => e.name === 'CancelledError' || /cancel/i.test(e.message));
});

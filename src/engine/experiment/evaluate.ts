// `mrcl evaluate RUN`: metrics are recomputed from each unit's saved
// predictions (so tables always agree with predictions.csv). What is read is
// checked first against what the run recorded: every prediction is a case of
// the unit's test fold (internal) or of the external cohort, each once, with
// the manifest's label; a finished unit without its predictions is an
// error, not a stale metrics.json. Every problem names its file and row;
// nothing is written unless every unit checks out. The baseline explanations'
// means (metrics.json `baselines`) are recomputed the same way from the
// unit's explain-baselines.csv, whose rows are checked against the same cases.
// With `--maps` (rescoreMapMass), the threshold-free map measures of the
// attention maps (explain/mass.ts) are first recomputed from the heatmaps the
// unit saved and the evaluation masks, for runs made before they were saved.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { RunFolder } from '../training/run-folder';
import { readJson, writeJsonAtomic } from '../training/run-folder';
import { readPredictions, splitMetrics, downstreamFolds, type Prediction } from '../training/finetune';
import { downstreamCases, openDataset, type Dataset } from '../training/dataset';
import { acquireLock, releaseLock, WRITER_LOCK } from '../training/run-lock';
import { quoteForMessage } from '../util/quote';
import { BASELINE_METHODS, readBaselineScores, summariseBaselines, type BaselineScore } from '../explain/baselines';
import type { FoldBaselines, FoldResult } from '../results/types';
import { checkFingerprint } from './fingerprint';
import { evaluationMasks } from '../explain/masks';
import { mapMass } from '../explain/mass';
import { HEATMAP_SUFFIX } from '../explain/heatmap-io';
import { readNifti } from '../io/nifti';
import { caseFile } from '../io/safe-path';
import { writePredictions } from '../training/finetune';
import { variantConfig, type FinetuneUnitSpec } from './units';
import { buildStudyResults, readPlan } from './study';

type Metrics = FoldResult & Record<string, unknown> & { threshold?: number; thresholdSelection?: { rule?: string } };

/** The problems of one unit's predictions against the run's split and labels (empty: none). */
export function checkPredictions(path: string, preds: readonly Prediction[], expected: { internal: Map<string, 0 | 1>; external: Map<string, 0 | 1> }, fold: number): string[] {
  const problems: string[] = [];
  const seen = { internal: new Set<string>(), external: new Set<string>() };
  preds.forEach((p, i) => {
    const at = `${path}: row ${i + 2}`;
    const want = expected[p.cohort].get(p.id);
    if (want === undefined) {
      problems.push(`${at}: case ${quoteForMessage(p.id)} is not ${p.cohort === 'internal' ? `in fold ${fold}'s test cases` : 'an external case'} of this run's data`);
      return;
    }
    if (p.label !== want) problems.push(`${at}: case ${quoteForMessage(p.id)} has label ${p.label}, the manifest says ${want}`);
    seen[p.cohort].add(p.id);
  });
  for (const cohort of ['internal', 'external'] as const) {
    const missing = [...expected[cohort].keys()].filter((id) => !seen[cohort].has(id));
    if (missing.length) problems.push(`${path}: ${missing.length} ${cohort} case(s) missing: ${missing.slice(0, 8).map((id) => quoteForMessage(id)).join(', ')}${missing.length > 8 ? ', …' : ''}`);
  }
  return problems;
}

/**
 * The problems of one unit's explain-baselines.csv against the run's cases
 * (empty: none): every row a case of the unit's test fold or the external
 * cohort, each case once per method, and every case under each method present.
 */
export function checkBaselineScores(path: string, rows: readonly BaselineScore[], expected: { internal: Map<string, 0 | 1>; external: Map<string, 0 | 1> }, fold: number): string[] {
  const problems: string[] = [];
  const seen = new Map<string, Set<string>>(); // method\0cohort → ids
  rows.forEach((r, i) => {
    const at = `${path}: row ${i + 2}`;
    if (!expected[r.cohort].has(r.id)) {
      problems.push(`${at}: case ${quoteForMessage(r.id)} is not ${r.cohort === 'internal' ? `in fold ${fold}'s test cases` : 'an external case'} of this run's data`);
      return;
    }
    const key = `${r.method}\u0000${r.cohort}`;
    const ids = seen.get(key) ?? new Set<string>();
    seen.set(key, ids);
    if (ids.has(r.id)) problems.push(`${at}: case ${quoteForMessage(r.id)} repeats under ${r.method}`);
    ids.add(r.id);
  });
  for (const method of BASELINE_METHODS) {
    if (!rows.some((r) => r.method === method)) continue;
    for (const cohort of ['internal', 'external'] as const) {
      const ids = seen.get(`${method}\u0000${cohort}`) ?? new Set<string>();
      const missing = [...expected[cohort].keys()].filter((id) => !ids.has(id));
      if (missing.length) problems.push(`${path}: ${missing.length} ${cohort} case(s) missing under ${method}: ${missing.slice(0, 8).map((id) => quoteForMessage(id)).join(', ')}${missing.length > 8 ? ', …' : ''}`);
    }
  }
  return problems;
}

function expectedCases(run: RunFolder, ds: Dataset, u: FinetuneUnitSpec): { internal: Map<string, 0 | 1>; external: Map<string, 0 | 1> } {
  const config = variantConfig(run.config, u.variant);
  const { cases, splits } = downstreamFolds(config, ds);
  const split = splits[u.fold];
  if (!split) throw new Error(`${run.path(u.stage)}: fold ${u.fold} is not among the run's ${splits.length} folds`);
  return {
    internal: new Map(split.test.map((i) => [cases[i]!.case.id, cases[i]!.label])),
    external: new Map(downstreamCases(ds).external.map((c) => [c.case.id, c.label])),
  };
}

/** A unit's predictions, or undefined with the read error added to `problems`. */
function readOrNote(path: string, problems: string[]): Prediction[] | undefined {
  try {
    return readPredictions(path);
  } catch (e) {
    problems.push((e as Error).message);
    return undefined;
  }
}

export function recomputeRunMetrics(run: RunFolder): number {
  const plan = readPlan(run);
  const fixed = run.config.finetune.threshold;
  // the split and labels come from the run's data: it must be what the run was computed on
  checkFingerprint(run);
  let ds: Dataset | undefined;
  const problems: string[] = [];
  const updates: { path: string; value: unknown }[] = [];
  for (const u of plan.finetune) {
    const predPath = run.path(u.stage, 'predictions.csv');
    const metricsPath = run.path(u.stage, 'metrics.json');
    if (!existsSync(metricsPath)) continue; // the unit has not finished: the tables show it missing
    if (!existsSync(predPath)) {
      problems.push(`${predPath}: missing, so ${metricsPath} cannot be recomputed (restore it, or delete ${metricsPath} and resume the run to redo the unit)`);
      continue;
    }
    const preds = readOrNote(predPath, problems);
    if (!preds) continue;
    ds ??= openDataset(run.config, '/');
    const expected = expectedCases(run, ds, u);
    const bad = checkPredictions(predPath, preds, expected, u.fold);
    if (bad.length) {
      problems.push(...bad);
      continue;
    }
    const old = readJson<Metrics>(metricsPath);
    // the baseline explanations' means, from explain-baselines.csv (follows: METHOD.md §7, baseline explanations)
    const basePath = run.path(u.stage, 'explain-baselines.csv');
    let baselines: FoldBaselines | undefined;
    if (existsSync(basePath)) {
      let rows: BaselineScore[];
      try {
        rows = readBaselineScores(basePath);
      } catch (e) {
        problems.push((e as Error).message);
        continue;
      }
      const badRows = checkBaselineScores(basePath, rows, expected, u.fold);
      if (badRows.length) {
        problems.push(...badRows);
        continue;
      }
      baselines = {
        internal: summariseBaselines(rows.filter((r) => r.cohort === 'internal')),
        external: expected.external.size ? summariseBaselines(rows.filter((r) => r.cohort === 'external')) : null,
      };
    } else if (old.baselines !== undefined) {
      problems.push(`${basePath}: missing, so the baselines of ${metricsPath} cannot be recomputed (restore it, or delete ${metricsPath} and resume the run to redo the unit)`);
      continue;
    }
    // a threshold chosen on the unit's inner fold is kept; a fixed one is the config's
    const threshold = old.thresholdSelection?.rule === 'inner' && typeof old.threshold === 'number' ? old.threshold : fixed;
    const external = preds.filter((p) => p.cohort === 'external');
    updates.push({
      path: metricsPath,
      value: {
        ...old,
        internal: splitMetrics(preds.filter((p) => p.cohort === 'internal'), threshold),
        external: external.length ? splitMetrics(external, threshold) : null,
        threshold,
        ...(baselines ? { baselines } : {}),
      },
    });
  }
  if (problems.length) throw new Error(`cannot evaluate ${run.dir}: ${problems.length} problem(s) in its predictions (nothing was rewritten):\n  ${problems.join('\n  ')}`);
  for (const w of updates) writeJsonAtomic(w.path, w.value);
  return updates.length;
}

/**
 * The attention maps' mass and pointing measures (predictions.csv columns
 * mass3d, massFloor3d, pointing) recomputed from each finished unit's saved
 * heatmaps (heatmaps/<id>.heatmap.nii.gz, the map exactly as the Dice rule
 * saw it) and the evaluation masks, for every case with a Dice. Every unit is
 * checked before any file is written: a missing or mis-sized heatmap, or a
 * case without its mask, is an error naming the file. Returns the units and
 * cases rescored.
 */
export function rescoreMapMass(run: RunFolder): { units: number; cases: number } {
  const plan = readPlan(run);
  checkFingerprint(run);
  // a run configured not to save them has none to read (its measures are in predictions.csv as evaluated)
  if (run.config.explain.saveHeatmaps === false) throw new Error(`${run.path('config.json')}: explain.saveHeatmaps is false, so its units saved no heatmaps to recompute the map measures from (predictions.csv holds them as evaluated)`);
  const ds = openDataset(run.config, '/');
  const { internal, external } = downstreamCases(ds);
  const records = { internal: new Map(internal.map((c) => [c.case.id, c.case])), external: new Map(external.map((c) => [c.case.id, c.case])) };
  const masks = evaluationMasks(run.config, ds.manifest.path);
  const problems: string[] = [];
  const updates: { path: string; preds: Prediction[] }[] = [];
  let cases = 0;
  for (const u of plan.finetune) {
    const stage = run.path(u.stage);
    const predPath = join(stage, 'predictions.csv');
    if (!existsSync(join(stage, 'metrics.json')) || !existsSync(predPath)) continue; // unfinished: recomputeRunMetrics says what is missing
    const preds = readOrNote(predPath, problems);
    if (!preds) continue;
    if (!preds.some((p) => p.dice3d !== null)) continue; // no attention maps scored against masks
    const heatDir = join(stage, 'heatmaps');
    const before = problems.length;
    const rescored = preds.map((p): Prediction => {
      if (p.dice3d === null) return p;
      const file = caseFile(heatDir, p.id, HEATMAP_SUFFIX, stage);
      const record = records[p.cohort].get(p.id);
      if (!record) {
        problems.push(`${predPath}: case ${quoteForMessage(p.id)} (${p.cohort}) is not in the run's dataset`);
        return p;
      }
      if (!existsSync(file)) {
        problems.push(`${file}: missing, so the map measures of case ${quoteForMessage(p.id)} in ${predPath} cannot be recomputed (the unit saved no heatmaps?)`);
        return p;
      }
      const mask = masks.get(record);
      if (!mask) {
        problems.push(`${predPath}: case ${quoteForMessage(p.id)} has a Dice but no mask in the dataset`);
        return p;
      }
      const heat = readNifti(file).data;
      if (heat.length !== mask.length) {
        problems.push(`${file}: ${heat.length} voxels, the case's mask on the preprocessed grid has ${mask.length}`);
        return p;
      }
      const m = mapMass(heat, mask, file);
      if (!m) {
        problems.push(`${predPath}: case ${quoteForMessage(p.id)} has a Dice but an empty mask`);
        return p;
      }
      cases++;
      return { ...p, mass3d: m.mass3d, massFloor3d: m.massFloor3d, pointing: m.pointing };
    });
    if (problems.length === before) updates.push({ path: predPath, preds: rescored });
  }
  if (problems.length) throw new Error(`cannot rescore the maps of ${run.dir}: ${problems.length} problem(s) (nothing was rewritten):\n  ${problems.join('\n  ')}`);
  for (const w of updates) writePredictions(w.path, w.preds);
  return { units: updates.length, cases };
}

/** `evaluate`: recompute every unit's metrics and rebuild the tables, as the run's one writer meanwhile; `maps`: rescore the map measures from the saved heatmaps first. */
export function evaluateRun(run: RunFolder, options: { maps?: boolean } = {}): { units: number; results: string; rescored?: { units: number; cases: number } } {
  const lock = run.path(WRITER_LOCK);
  const token = acquireLock(lock, `run ${run.dir}`);
  try {
    const rescored = options.maps ? rescoreMapMass(run) : undefined;
    const units = recomputeRunMetrics(run);
    return { units, results: buildStudyResults(run, readPlan(run)), ...(rescored ? { rescored } : {}) };
  } finally {
    releaseLock(lock, token);
  }
}

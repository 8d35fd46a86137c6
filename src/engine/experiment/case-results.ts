// Each finished fine-tuning unit's evaluated cases (its predictions.csv), for
// the bootstrap confidence intervals of results.json (results/bootstrap-ci.ts).
// A unit whose predictions are missing or unreadable is left out (its arm
// then gets no intervals); `mrcl evaluate` is where such a file is reported.
// The baseline explanations' rows (explain-baselines.csv) come along where
// the unit has them; without them, or unreadable, the arm gets no baseline intervals.
import { existsSync } from 'node:fs';
import type { RunFolder } from '../training/run-folder';
import { readPredictions } from '../training/finetune';
import { readBaselineScores } from '../explain/baselines';
import type { BaselineCaseResult, FoldCases } from '../results/bootstrap-ci';
import type { FinetuneUnitSpec } from './units';

export function readFoldCases(run: Pick<RunFolder, 'path'>, units: readonly FinetuneUnitSpec[]): FoldCases[] {
  const out: FoldCases[] = [];
  for (const u of units) {
    const path = run.path(u.stage, 'predictions.csv');
    if (!existsSync(run.path(u.stage, 'metrics.json')) || !existsSync(path)) continue;
    try {
      const cases = readPredictions(path).map((p) => ({ id: p.id, cohort: p.cohort, label: p.label, score: p.score, dice2d: p.dice2d, dice3d: p.dice3d, mass3d: p.mass3d }));
      out.push({ arm: u.arm, fold: u.fold, cases, ...foldBaselines(run.path(u.stage, 'explain-baselines.csv')) });
    } catch {
      // left out: the tables are still built from metrics.json
    }
  }
  return out;
}

/** `{ baselines }` from a unit's explain-baselines.csv, or nothing when it has none or it cannot be read. */
function foldBaselines(path: string): { baselines?: BaselineCaseResult[] } {
  if (!existsSync(path)) return {};
  try {
    return { baselines: readBaselineScores(path).map((r) => ({ id: r.id, cohort: r.cohort, method: r.method, dice2d: r.dice2d, dice3d: r.dice3d })) };
  } catch {
    return {};
  }
}

// Each finished fine-tuning unit's evaluated cases (its predictions.csv), for
// the bootstrap confidence intervals of results.json (results/bootstrap-ci.ts).
// A unit whose predictions are missing or unreadable is left out (its arm
// then gets no intervals); `mrcl evaluate` is where such a file is reported.
import { existsSync } from 'node:fs';
import type { RunFolder } from '../training/run-folder';
import { readPredictions } from '../training/finetune';
import type { FoldCases } from '../results/bootstrap-ci';
import type { FinetuneUnitSpec } from './units';

export function readFoldCases(run: RunFolder, units: readonly FinetuneUnitSpec[]): FoldCases[] {
  const out: FoldCases[] = [];
  for (const u of units) {
    const path = run.path(u.stage, 'predictions.csv');
    if (!existsSync(run.path(u.stage, 'metrics.json')) || !existsSync(path)) continue;
    try {
      const cases = readPredictions(path).map((p) => ({ cohort: p.cohort, label: p.label, score: p.score, dice2d: p.dice2d, dice3d: p.dice3d }));
      out.push({ arm: u.arm, fold: u.fold, cases });
    } catch {
      // left out: the tables are still built from metrics.json
    }
  }
  return out;
}

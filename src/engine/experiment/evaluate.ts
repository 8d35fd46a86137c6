// `mrcl evaluate RUN`: metrics are recomputed from each unit's saved
// predictions (so tables always agree with predictions.csv).
import { existsSync } from 'node:fs';
import type { RunFolder } from '../training/run-folder';
import { readJson, writeJsonAtomic } from '../training/run-folder';
import { readPredictions, splitMetrics } from '../training/finetune';
import type { FoldResult } from '../results/types';
import { readPlan } from './study';

export function recomputeRunMetrics(run: RunFolder): number {
  const plan = readPlan(run);
  const fixed = run.config.finetune.threshold;
  let n = 0;
  for (const u of plan.finetune) {
    const predPath = run.path(u.stage, 'predictions.csv');
    const metricsPath = run.path(u.stage, 'metrics.json');
    if (!existsSync(predPath) || !existsSync(metricsPath)) continue;
    const preds = readPredictions(predPath);
    const old = readJson<FoldResult & Record<string, unknown> & { threshold?: number; thresholdSelection?: { rule?: string } }>(metricsPath);
    // a threshold chosen on the unit's inner fold is kept; a fixed one is the config's
    const threshold = old.thresholdSelection?.rule === 'inner' && typeof old.threshold === 'number' ? old.threshold : fixed;
    const external = preds.filter((p) => p.cohort === 'external');
    writeJsonAtomic(metricsPath, {
      ...old,
      internal: splitMetrics(preds.filter((p) => p.cohort === 'internal'), threshold),
      external: external.length ? splitMetrics(external, threshold) : null,
      threshold,
    });
    n++;
  }
  return n;
}

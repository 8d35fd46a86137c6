// Tumour masks, for evaluation only: this is the one place the engine reads
// them, and no training module imports it (a unit test checks both).
import { dirname } from 'node:path';
import type { ExperimentConfig } from '../../shared/config';
import type { CaseRecord } from '../data/manifest';
import { PreprocessCache } from '../data/cache';
import { resolveIn } from '../config/resolve';

export interface EvaluationMasks {
  /** the case's mask on the preprocessed grid (Volume order), or undefined without one */
  get(c: CaseRecord): Uint8Array | undefined;
}

export function evaluationMasks(config: ExperimentConfig, manifestPath: string): EvaluationMasks {
  const cache = new PreprocessCache(resolveIn(dirname(manifestPath), config.data.cacheDir));
  return {
    get(c) {
      if (!c.mask) return undefined;
      const v = cache.get(c.mask, {
        shape: config.data.shape as [number, number, number],
        isMask: true,
        maxInflatedBytes: config.data.maxInflatedMiB * 2 ** 20,
      });
      return Uint8Array.from(v.data, (x) => (x > 0.5 ? 1 : 0));
    },
  };
}

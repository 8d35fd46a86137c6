// An experiment small enough to run completely in seconds on the cpu
// backend, on the tiny cohort the driver synthesises (tiny-cohort/).
import type { ExperimentConfigInput } from '../../src/shared/config';

export const TINY = {
  data: { manifest: 'tiny-cohort/manifest.json', shape: [24, 24, 16] },
  tokenizer: { vocabSize: 400 },
  image: { width: 2 },
  text: { layers: 1, hidden: 16, heads: 2, intermediate: 32, attentionWindow: 16, maxWords: 32 },
  heads: { globalDim: 16, localDim: 8 },
  pretrain: { epochs: 1, batchSize: 6 },
  finetune: { epochs: 1, batchSize: 6, folds: 2, warmupEpochs: 0, initializations: ['random', 'pretrained'] },
} satisfies ExperimentConfigInput;

export function tinyConfig(name: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, ...TINY, ...overrides };
}

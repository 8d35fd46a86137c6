// The smallest batches training can learn from, and the config problems
// that follow from them. Free of TF.js: `mrcl config check` and the
// extension host's Problems panel use it as well as every run's preflight.
// follows: METHOD.md §5 (negatives are drawn from the other cases of a batch)
import type { ExperimentConfig } from '../../shared/config';

/** Fine-tuning drops batches of one case: batch normalisation over one case is degenerate. */
export const MIN_FINETUNE_BATCH = 2;

/** Smallest pretraining batch the configured loss and negative sampling can work with. */
export function minimumBatch(config: ExperimentConfig): number {
  if (config.loss.kind === 'infonce' && config.loss.components === 'global') return 2;
  return config.loss.negatives === 'random' ? 2 : 3;
}

function describeLoss(config: ExperimentConfig): string {
  if (config.loss.kind === 'infonce' && config.loss.components === 'global') return 'the global InfoNCE loss';
  return config.loss.negatives === 'semihard' ? 'semi-hard negatives' : `${config.loss.negatives} negatives`;
}

export interface BatchIssue {
  /** JSON pointer of the config field */
  path: '/pretrain/batchSize' | '/finetune/batchSize';
  message: string;
}

/**
 * Batch sizes with which every batch would be dropped, so a stage would take
 * no optimizer step at all. `pretraining`/`finetuning`: whether the run has
 * such stages; `variants`: the configs its pretraining stages use (ablations
 * change the loss), default the config itself.
 */
export function batchSizeIssues(
  config: ExperimentConfig,
  stages: { pretraining: boolean; finetuning: boolean; variants?: readonly ExperimentConfig[] } = { pretraining: true, finetuning: true },
): BatchIssue[] {
  const out: BatchIssue[] = [];
  if (stages.pretraining) {
    const variants = stages.variants?.length ? stages.variants : [config];
    const strictest = variants.reduce((a, b) => (minimumBatch(b) > minimumBatch(a) ? b : a));
    const need = minimumBatch(strictest);
    const size = config.pretrain.batchSize;
    if (size < need) {
      out.push({
        path: '/pretrain/batchSize',
        message: `pretrain.batchSize ${size} is below ${need}, the smallest batch ${describeLoss(strictest)} can learn from: every batch would be dropped and pretraining would train nothing; set it to at least ${need}`,
      });
    }
  }
  if (stages.finetuning && config.finetune.batchSize < MIN_FINETUNE_BATCH) {
    out.push({
      path: '/finetune/batchSize',
      message: `finetune.batchSize ${config.finetune.batchSize} is below ${MIN_FINETUNE_BATCH}: fine-tuning drops batches of one case, so it would train nothing; set it to at least ${MIN_FINETUNE_BATCH}`,
    });
  }
  return out;
}

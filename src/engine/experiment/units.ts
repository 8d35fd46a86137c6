// The work of an experiment or an ablation study, as units: pretraining
// stages and fine-tuning units (arm × fold). Units are what --workers runs
// in parallel and what a Slurm array task runs; each writes its result
// atomically into its own folder, so a unit is done when its file exists.
import { join } from 'node:path';
import type { ExperimentConfig } from '../../shared/config';
import { ABLATION_ARMS, type AblationArm } from '../results/paper';
import { armUnavailable, type Initialization } from '../training/finetune';

export interface PretrainUnit {
  kind: 'pretrain';
  /** stage name and folder (relative to the run folder) */
  stage: string;
  /** config variant (ablations change the loss) */
  variant: string;
}

export interface FinetuneUnitSpec {
  kind: 'finetune';
  stage: string;
  arm: string;
  init: Initialization;
  fold: number;
  /** pretraining stage (relative to the run folder, or an absolute folder of another run's stage) whose model initialises it (init 'pretrained') */
  pretrainStage?: string;
  variant: string;
}

export type Unit = PretrainUnit | FinetuneUnitSpec;

export interface Plan {
  kind: 'experiment' | 'ablation' | 'pretrain' | 'finetune';
  pretrain: PretrainUnit[];
  finetune: FinetuneUnitSpec[];
  /** arms not run, with the reason (every table shows them) */
  notRun: { arm: string; reason: string }[];
}

/** The config of an ablation variant (METHOD.md §7). */
export function variantConfig(config: ExperimentConfig, variant: string): ExperimentConfig {
  const c = structuredClone(config);
  switch (variant as AblationArm | 'base') {
    case 'base':
    case 'proposed':
      break;
    case 'global-only':
      c.loss.components = 'global';
      break;
    case 'local-only':
      c.loss.components = 'local';
      break;
    case 'location-excluded':
      c.loss.useLocation = false;
      break;
    case 'contrastive-loss':
      c.loss.kind = 'infonce';
      break;
    case 'hard-negatives':
      c.loss.negatives = 'hard';
      break;
    default:
      throw new Error(`unknown variant "${variant}"`);
  }
  return c;
}

export function experimentPlan(config: ExperimentConfig): Plan {
  const inits = config.finetune.initializations;
  const plan: Plan = { kind: 'experiment', pretrain: [], finetune: [], notRun: [] };
  if (inits.includes('pretrained')) plan.pretrain.push({ kind: 'pretrain', stage: 'pretrain', variant: 'base' });
  for (const init of inits) {
    const reason = armUnavailable(config, init);
    if (reason) {
      plan.notRun.push({ arm: init, reason });
      continue;
    }
    for (let fold = 0; fold < config.finetune.folds; fold++) {
      plan.finetune.push({
        kind: 'finetune',
        stage: join('finetune', init, `fold-${fold}`),
        arm: init,
        init,
        fold,
        pretrainStage: init === 'pretrained' ? 'pretrain' : undefined,
        variant: 'base',
      });
    }
  }
  return plan;
}

export function ablationPlan(config: ExperimentConfig): Plan {
  const plan: Plan = { kind: 'ablation', pretrain: [], finetune: [], notRun: [] };
  for (const arm of ABLATION_ARMS) {
    const stage = join('ablation', arm, 'pretrain');
    plan.pretrain.push({ kind: 'pretrain', stage, variant: arm });
    for (let fold = 0; fold < config.finetune.folds; fold++) {
      plan.finetune.push({ kind: 'finetune', stage: join('ablation', arm, `fold-${fold}`), arm, init: 'pretrained', fold, pretrainStage: stage, variant: arm });
    }
  }
  return plan;
}

export function allUnits(plan: Plan): Unit[] {
  return [...plan.pretrain, ...plan.finetune];
}

/** Stable unit ids for the CLI and job arrays: "pretrain", "finetune/random/fold-0", ... (the stage path). */
export function findUnit(plan: Plan, id: string): Unit {
  const u = allUnits(plan).find((x) => x.stage === id);
  if (!u) throw new Error(`no unit "${id}" in this run (units: ${allUnits(plan).map((x) => x.stage).join(', ')})`);
  return u;
}

/** Pretraining alone (`mrcl pretrain`). */
export function pretrainPlan(): Plan {
  return { kind: 'pretrain', pretrain: [{ kind: 'pretrain', stage: 'pretrain', variant: 'base' }], finetune: [], notRun: [] };
}

/**
 * Fine-tuning alone (`mrcl finetune`): the given initialisations × folds;
 * 'pretrained' takes its model from `pretrainedStage` (another run's
 * pretrain folder).
 */
export function finetunePlan(config: ExperimentConfig, inits: readonly Initialization[], pretrainedStage?: string): Plan {
  const plan: Plan = { kind: 'finetune', pretrain: [], finetune: [], notRun: [] };
  for (const init of inits) {
    const reason = init === 'pretrained' && !pretrainedStage ? 'no pretraining run given (--pretrained RUN)' : armUnavailable(config, init);
    if (reason) {
      plan.notRun.push({ arm: init, reason });
      continue;
    }
    for (let fold = 0; fold < config.finetune.folds; fold++) {
      plan.finetune.push({ kind: 'finetune', stage: join('finetune', init, `fold-${fold}`), arm: init, init, fold, pretrainStage: init === 'pretrained' ? pretrainedStage : undefined, variant: 'base' });
    }
  }
  return plan;
}

// A run folder as `mrcl pretrain` or `mrcl experiment` creates it (config,
// plan, fingerprint; nothing trained yet), on a fresh tiny workspace.
import { tinyWorkspace } from './helpers';
import { loadConfig } from '../../../src/engine/config/resolve';
import { absolutizePaths } from '../../../src/engine/experiment/study';
import { pretrainPlan, experimentPlan } from '../../../src/engine/experiment/units';
import { writeFingerprint } from '../../../src/engine/experiment/fingerprint';
import { RunFolder, claimRunDir, writeJsonAtomic } from '../../../src/engine/training/run-folder';
import type { ExperimentConfig, ExperimentConfigInput } from '../../../src/shared/config';

export async function createdRun(kind: 'pretrain' | 'experiment' = 'pretrain', overrides: ExperimentConfigInput = {}): Promise<{ run: RunFolder; config: ExperimentConfig; dir: string }> {
  const ws = await tinyWorkspace({ ...overrides, finetune: { initializations: ['random'], ...overrides.finetune } });
  const { config, baseDir } = loadConfig(ws.configPath);
  const c = absolutizePaths(config, baseDir);
  const run = RunFolder.create(claimRunDir(c.outDir, c.name), kind, c);
  writeJsonAtomic(run.path('plan.json'), kind === 'pretrain' ? pretrainPlan() : experimentPlan(c));
  writeFingerprint(run, c);
  return { run, config: c, dir: ws.dir };
}

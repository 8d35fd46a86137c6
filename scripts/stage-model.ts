// The set-up the model-measuring scripts share: `RUN [STAGE]` from the
// command line, the run's dataset, and the model and tokenizer a stage saved
// (STAGE: the pretraining folder, default pretrain).
import { join } from 'node:path';
import { setBackend } from '../src/engine/backend';
import { RunFolder } from '../src/engine/training/run-folder';
import { openDataset } from '../src/engine/training/dataset';
import { loadStageModel } from '../src/engine/explain/export-cross-attention';

/** `script`: the script's file name, for the usage line. */
export async function openStageModel(script: string) {
  await setBackend('auto');
  if (!process.argv[2]) throw new Error(`usage: node --import tsx scripts/${script} RUN [STAGE]`);
  const run = RunFolder.open(process.argv[2]);
  const config = run.config;
  if (!config.data.manifest) throw new Error(`${run.dir}: the run's config names no manifest`);
  const manifest = config.data.manifest;
  const ds = openDataset(config, '/');
  const stage = join(run.dir, process.argv[3] ?? 'pretrain');
  const { tokenizer, model } = await loadStageModel(config, stage);
  return { run, config, manifest, ds, stage, tokenizer, model };
}

// One entry point for every long-running engine command, used by the
// extension's worker process (the CLI calls the same functions): same code,
// same events, same run folders.
import { resolve } from 'node:path';
import type { EventSink } from '../../shared/events';
import type { RunOutcome, RunRequest } from '../../shared/protocol';
import { loadConfig } from '../config/resolve';
import { runStudy } from '../experiment/study';
import { pretrainPlan, finetunePlan } from '../experiment/units';
import { runDemo } from '../experiment/demo';
import { evaluateRun } from '../experiment/evaluate';
import { RunFolder } from '../training/run-folder';
import { synthesizeCohort } from '../synth/cohort';
import { validateDataset } from '../data/validate';
import { datasetValidationOptions } from '../config/semantic';
import { runImport } from '../import/run-import';

export interface RunContext {
  signal?: AbortSignal;
  emit: EventSink;
  /** called once the run folder exists (so a UI can show it at once) */
  onRunDir?: (dir: string) => void;
}

function need<T>(v: T | undefined, what: string, command: string): T {
  if (v === undefined || v === '') throw new Error(`${command}: ${what} is required`);
  return v;
}

export async function runEngineCommand(req: RunRequest, ctx: RunContext): Promise<RunOutcome> {
  const { command } = req;
  switch (command) {
    case 'experiment':
    case 'ablate':
    case 'pretrain':
    case 'finetune': {
      const kind = command === 'ablate' ? 'ablation' : command;
      if (req.resume || (req.runDir && !req.config)) {
        return runStudy({ kind, runDir: resolve(need(req.runDir, 'runDir', command)), workers: req.workers, signal: ctx.signal, emit: ctx.emit, onRunDir: ctx.onRunDir });
      }
      const { config, baseDir } = loadConfig(need(req.config, 'config', command));
      if (req.backend) config.backend = req.backend as typeof config.backend;
      const plan = command === 'pretrain' ? pretrainPlan() : command === 'finetune' ? finetunePlan(config, config.finetune.initializations.filter((i) => i !== 'pretrained')) : undefined;
      return runStudy({ kind, config, baseDir, plan, workers: req.workers, signal: ctx.signal, emit: ctx.emit, onRunDir: ctx.onRunDir });
    }
    case 'demo':
      return runDemo(resolve(req.out ?? 'demo-out'), ctx);
    case 'evaluate': {
      const run = RunFolder.open(resolve(need(req.runDir, 'runDir', command)));
      evaluateRun(run);
      return { status: 'done', runDir: run.dir };
    }
    case 'synth': {
      const out = resolve(need(req.out, 'out', command));
      await synthesizeCohort({ out, ...req.synth, onProgress: (done, total) => ctx.emit({ type: 'progress', stage: 'synth', done, total }) });
      return { status: 'done', runDir: out };
    }
    case 'validate': {
      const options = req.config ? datasetValidationOptions(loadConfig(req.config).config) : {};
      const report = await validateDataset(resolve(need(req.manifest, 'manifest', command)), options);
      for (const e of report.errors) ctx.emit({ type: 'log', level: 'error', message: `${e.caseId ? `${e.caseId}: ` : ''}${e.file ? `${e.file}: ` : ''}${e.message}` });
      for (const w of report.warnings) ctx.emit({ type: 'log', level: 'warn', message: `${w.caseId ? `${w.caseId}: ` : ''}${w.file ? `${w.file}: ` : ''}${w.message}` });
      return report.errors.length ? { status: 'failed', error: `${report.errors.length} errors in ${req.manifest}` } : { status: 'done' };
    }
    case 'import':
      return runImport(need(req.import, 'import (the source)', command), need(req.out, 'out', command), ctx);
    default: {
      const never: never = command;
      throw new Error(`unknown engine command "${String(never)}"`);
    }
  }
}

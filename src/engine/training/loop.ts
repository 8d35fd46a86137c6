// The epoch/step loop shared by pretraining and fine-tuning: learning-rate
// schedule, events, checkpoints every N epochs, exact resume (weights,
// optimizer moments, RNG, dropout counters, position in the epoch) and
// cancellation at a step boundary that leaves a resumable checkpoint.
// follows: minGPT trainer callbacks; METHOD.md §6
import { join } from 'node:path';
import type { ExperimentConfig } from '../../shared/config';
import type { EngineEvent } from '../../shared/events';
import { Rng } from '../util/rng';
import type { Module } from '../networks/module';
import { dropoutsOf } from '../model/contrastive';
import type { AdamW } from './adamw';
import { restoreCheckpoint, saveCheckpoint, type LoopState } from './checkpoint';
import { activeProfiler, phase, startProfiling, stopProfiling } from './profile';
import { eventLoopTurn } from '../util/yield';

export class CancelledError extends Error {
  constructor(readonly stage: string) {
    super(`${stage}: cancelled; the run can be resumed`);
    this.name = 'CancelledError';
  }
}

/** A stage that would take no optimizer step: it must fail, not report its initial weights as trained. */
export class NoTrainingError extends Error {
  constructor(
    readonly stage: string,
    why?: string,
  ) {
    super(`${stage}: no optimizer step to take${why ? ` (${why})` : ''}; nothing would be trained`);
    this.name = 'NoTrainingError';
  }
}

export interface StepMetrics {
  loss: number;
  global?: number;
  local?: number;
  alpha?: number;
  beta?: number;
}

export interface LoopSpec<B> {
  stage: string;
  /** checkpoints go to dir/checkpoints */
  dir: string;
  config: ExperimentConfig;
  model: Module;
  optimizer: AdamW;
  epochs: number;
  checkpointEvery: number;
  /** learning rate of an epoch (0-based) */
  lr(epoch: number): number;
  /** the batches of an epoch, deterministic in (seed, epoch) */
  batches(epoch: number): B[];
  /** forward + backward + optimizer step for one batch */
  step(batch: B, rng: Rng): StepMetrics;
  /** why an epoch can hold no batch (e.g. "5 case(s) in batches of 2 leave no batch of at least 3"), for the error when none does */
  noBatches?: string;
  seed: number;
  resume: boolean;
  signal?: AbortSignal;
  emit(event: EngineEvent): void;
  /** steps done before this loop in the whole command, and the command's total (for progress/ETA) */
  progress?: { offset: number; total: number };
}

export interface LoopResult {
  steps: number;
  lastEpoch: StepMetrics | undefined;
}

function mean(xs: number[]): number | undefined {
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : undefined;
}

export async function runLoop<B>(spec: LoopSpec<B>): Promise<LoopResult> {
  const profiler = startProfiling(spec.stage);
  try {
    return await loop(spec);
  } finally {
    if (profiler) {
      const p = profiler.write(spec.dir);
      spec.emit({ type: 'log', level: 'info', message: `${spec.stage}: profile of ${p.steps} step(s) written to ${join(spec.dir, 'profile.md')}` });
    }
    stopProfiling();
  }
}

async function loop<B>(spec: LoopSpec<B>): Promise<LoopResult> {
  const profiler = activeProfiler();
  const ckDir = join(spec.dir, 'checkpoints');
  const dropouts = dropoutsOf(spec.model);
  const rng = new Rng(spec.seed);
  let state: LoopState = { epoch: 0, stepInEpoch: 0, globalStep: 0, rng: rng.getState(), dropoutCalls: dropouts.map(() => 0) };
  // the newest checkpoint that loads; a corrupt one is reported and the previous one used
  const restored = spec.resume ? restoreCheckpoint(ckDir, spec.model, spec.optimizer, (message) => spec.emit({ type: 'log', level: 'warn', message: `${spec.stage}: ${message}` })) : undefined;
  const latest = restored?.path;
  if (restored) {
    state = restored.state;
    rng.setState(state.rng);
    if (state.dropoutCalls.length !== dropouts.length) throw new Error(`${latest}: checkpoint has ${state.dropoutCalls.length} dropout counters, the model ${dropouts.length}`);
    dropouts.forEach((d, i) => (d.callCount = state.dropoutCalls[i]!));
    spec.emit({ type: 'log', level: 'info', message: `${spec.stage}: resumed from ${latest} (epoch ${state.epoch + 1}, step ${state.stepInEpoch})` });
  }
  const save = (epoch: number, stepInEpoch: number, globalStep: number) => {
    const loop: LoopState = { epoch, stepInEpoch, globalStep, rng: rng.getState(), dropoutCalls: dropouts.map((d) => d.callCount) };
    const path = phase('checkpoints', () => saveCheckpoint(ckDir, `step-${String(globalStep).padStart(7, '0')}`, spec.model, spec.optimizer, loop, spec.config));
    spec.emit({ type: 'artifact', stage: spec.stage, kind: 'checkpoint', path });
  };

  const stepsPerEpoch = spec.batches(0).length;
  // a stage without a single optimizer step would leave its initial weights and report a NaN loss as if done
  if (stepsPerEpoch === 0 && state.epoch < spec.epochs) throw new NoTrainingError(spec.stage, spec.noBatches);
  const total = spec.progress?.total ?? spec.epochs * stepsPerEpoch;
  const offset = spec.progress?.offset ?? 0;
  const started = Date.now();
  const startStep = state.globalStep;
  let globalStep = state.globalStep;
  let last: StepMetrics | undefined;
  for (let epoch = state.epoch; epoch < spec.epochs; epoch++) {
    const lr = spec.lr(epoch);
    spec.optimizer.setLearningRate(lr);
    const batches = spec.batches(epoch);
    if (batches.length === 0) throw new NoTrainingError(spec.stage, spec.noBatches);
    const first = epoch === state.epoch ? state.stepInEpoch : 0;
    const seen: StepMetrics[] = [];
    const epochStart = Date.now();
    for (let s = first; s < batches.length; s++) {
      // yield to the event loop once per step, so Ctrl-C, a worker's stop
      // message or an AbortSignal can arrive at a step boundary
      await eventLoopTurn();
      if (spec.signal?.aborted) {
        save(epoch, s, globalStep);
        throw new CancelledError(spec.stage);
      }
      const t0 = Date.now();
      const batch = batches[s]!;
      const m = profiler ? await profiler.step(() => spec.step(batch, rng)) : spec.step(batch, rng);
      if (!Number.isFinite(m.loss)) {
        throw new Error(`${spec.stage}: loss became ${m.loss} at epoch ${epoch + 1}, step ${s + 1}; training diverged or met non-finite data, so the stage stops here (a lower learning rate may help)`);
      }
      globalStep++;
      seen.push(m);
      phase('events', () => {
        spec.emit({ type: 'step', stage: spec.stage, epoch, step: s, ...m, lr, seconds: (Date.now() - t0) / 1000 });
        const done = offset + globalStep;
        const rate = (Date.now() - started) / 1000 / Math.max(1, globalStep - startStep);
        spec.emit({ type: 'progress', stage: spec.stage, done, total, epoch, epochs: spec.epochs, etaSeconds: rate * (total - done) });
      });
    }
    const epochMetrics: StepMetrics = {
      loss: mean(seen.map((m) => m.loss)) ?? NaN,
      global: mean(seen.flatMap((m) => (m.global === undefined ? [] : [m.global]))),
      local: mean(seen.flatMap((m) => (m.local === undefined ? [] : [m.local]))),
      alpha: seen.at(-1)?.alpha,
      beta: seen.at(-1)?.beta,
    };
    last = epochMetrics;
    phase('events', () => spec.emit({ type: 'epoch', stage: spec.stage, epoch, epochs: spec.epochs, ...epochMetrics, lr, seconds: (Date.now() - epochStart) / 1000 }));
    const end = epoch + 1 === spec.epochs;
    if (end || (epoch + 1) % spec.checkpointEvery === 0) save(epoch + 1, 0, globalStep);
  }
  if (globalStep === 0 && spec.epochs > 0) throw new NoTrainingError(spec.stage, spec.noBatches);
  return { steps: globalStep, lastEpoch: last };
}

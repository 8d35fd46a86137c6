// Where a training stage's time goes: with MRCL_PROFILE=1 (or a command's
// --profile), every stage run by runLoop measures
//   - phases: wall time per phase, exclusive of the phases nested in it
//     (data, text, forward, losses, backward, metrics, optimizer, events,
//     checkpoints; "other" is the rest of the loop's wall time);
//   - kernels: the TF.js kernels of every step (tf.profile), by name, with
//     their time and number of calls;
// and writes STAGE_DIR/profile.json and profile.md when the stage ends
// (also when it is cancelled or fails). Profiling costs time itself (each
// kernel is timed one by one), so a profiled run is slower than a plain one;
// the shares, not the absolute times, are what it is for. Off, phase() is a
// plain call.
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic } from '../io/atomic';

export const PROFILE_ENV = 'MRCL_PROFILE';

export function profilingEnabled(): boolean {
  const v = process.env[PROFILE_ENV];
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

interface Tally {
  ms: number;
  calls: number;
}

export interface ProfileRow {
  name: string;
  ms: number;
  calls: number;
  /** fraction of the stage's measured wall time (phases) or of all kernel time (kernels) */
  share: number;
}

export interface StageProfile {
  stage: string;
  steps: number;
  wallSeconds: number;
  /** mean wall time of a step, first step excluded when there are several (it includes one-off set-up) */
  meanStepMs: number;
  firstStepMs: number;
  phases: ProfileRow[];
  kernels: ProfileRow[];
  /** the slowest single kernel calls, with their shapes (where a kernel's time goes) */
  slowestCalls: KernelCall[];
}

export interface KernelCall {
  name: string;
  ms: number;
  inputShapes: number[][];
  outputShapes: number[][];
}

const SLOWEST = 25;

function add(map: Map<string, Tally>, name: string, ms: number, calls = 1): void {
  const t = map.get(name) ?? { ms: 0, calls: 0 };
  t.ms += ms;
  t.calls += calls;
  map.set(name, t);
}

function rows(map: Map<string, Tally>, total: number): ProfileRow[] {
  return [...map.entries()]
    .map(([name, t]) => ({ name, ms: t.ms, calls: t.calls, share: total > 0 ? t.ms / total : 0 }))
    .sort((a, b) => b.ms - a.ms);
}

export class StageProfiler {
  private readonly phases = new Map<string, Tally>();
  private readonly kernels = new Map<string, Tally>();
  private slowest: KernelCall[] = [];
  /** time spent in the phases nested in each open phase */
  private readonly stack: number[] = [];
  private readonly stepMs: number[] = [];
  private readonly started = performance.now();

  constructor(readonly stage: string) {}

  /** Runs fn as phase `name`; its time minus its nested phases' goes to `name`. */
  time<T>(name: string, fn: () => T): T {
    this.stack.push(0);
    const t0 = performance.now();
    try {
      return fn();
    } finally {
      const elapsed = performance.now() - t0;
      const nested = this.stack.pop()!;
      add(this.phases, name, elapsed - nested);
      if (this.stack.length) this.stack[this.stack.length - 1]! += elapsed;
    }
  }

  /** Runs one training step under tf.profile, adding its kernels to the table. */
  async step<T>(fn: () => T): Promise<T> {
    let out: T | undefined;
    const check = tf.env().getBool('CHECK_COMPUTATION_FOR_ERRORS');
    // per-kernel NaN checks would read every kernel's output back: not the step's cost
    tf.env().set('CHECK_COMPUTATION_FOR_ERRORS', false);
    const t0 = performance.now();
    try {
      const info = await tf.profile(() => {
        out = fn();
      });
      for (const k of info.kernels) {
        const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
        add(this.kernels, k.name, ms);
        if (this.slowest.length < SLOWEST || ms > this.slowest[this.slowest.length - 1]!.ms) {
          this.slowest.push({ name: k.name, ms, inputShapes: k.inputShapes, outputShapes: k.outputShapes });
          this.slowest.sort((a, b) => b.ms - a.ms);
          if (this.slowest.length > SLOWEST) this.slowest.pop();
        }
      }
    } finally {
      tf.env().set('CHECK_COMPUTATION_FOR_ERRORS', check);
    }
    this.stepMs.push(performance.now() - t0);
    return out as T;
  }

  result(): StageProfile {
    const wallMs = performance.now() - this.started;
    const measured = [...this.phases.values()].reduce((a, t) => a + t.ms, 0);
    const phases = new Map(this.phases);
    if (wallMs > measured) add(phases, 'other', wallMs - measured, 0);
    const kernelTotal = [...this.kernels.values()].reduce((a, t) => a + t.ms, 0);
    const later = this.stepMs.length > 1 ? this.stepMs.slice(1) : this.stepMs;
    return {
      stage: this.stage,
      steps: this.stepMs.length,
      wallSeconds: wallMs / 1000,
      meanStepMs: later.length ? later.reduce((a, b) => a + b, 0) / later.length : 0,
      firstStepMs: this.stepMs[0] ?? 0,
      phases: rows(phases, Math.max(wallMs, measured)),
      kernels: rows(this.kernels, kernelTotal),
      slowestCalls: this.slowest.map((c) => ({ ...c })),
    };
  }

  /** Writes DIR/profile.json and DIR/profile.md (atomically). */
  write(dir: string): StageProfile {
    const p = this.result();
    const enc = new TextEncoder();
    writeFileAtomic(join(dir, 'profile.json'), [enc.encode(`${JSON.stringify(p, null, 2)}\n`)]);
    writeFileAtomic(join(dir, 'profile.md'), [enc.encode(renderProfile(p))]);
    return p;
  }
}

const shape = (s: number[] | undefined) => `[${(s ?? []).join('×')}]`;
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

export function renderProfile(p: StageProfile, topKernels = 30): string {
  const lines = [
    `# Profile of ${p.stage}`,
    '',
    `${p.steps} step(s) in ${p.wallSeconds.toFixed(1)} s; first step ${p.firstStepMs.toFixed(0)} ms, mean of the others ${p.meanStepMs.toFixed(0)} ms (profiled: every kernel timed one by one).`,
    '',
    '## Phases (exclusive wall time)',
    '',
    '| phase | ms | calls | share |',
    '| --- | ---: | ---: | ---: |',
    ...p.phases.map((r) => `| ${r.name} | ${r.ms.toFixed(1)} | ${r.calls} | ${pct(r.share)} |`),
    '',
    `## Kernels (top ${Math.min(topKernels, p.kernels.length)} of ${p.kernels.length}, all steps)`,
    '',
    '| kernel | ms | calls | share |',
    '| --- | ---: | ---: | ---: |',
    ...p.kernels.slice(0, topKernels).map((r) => `| ${r.name} | ${r.ms.toFixed(1)} | ${r.calls} | ${pct(r.share)} |`),
    '',
    `## The ${p.slowestCalls.length} slowest kernel calls`,
    '',
    '| kernel | ms | inputs | output |',
    '| --- | ---: | --- | --- |',
    ...p.slowestCalls.map((c) => `| ${c.name} | ${c.ms.toFixed(1)} | ${c.inputShapes.map(shape).join(', ')} | ${c.outputShapes.map(shape).join(', ')} |`),
    '',
  ];
  return lines.join('\n');
}

let active: StageProfiler | undefined;

/** The profiler of the stage now running, if profiling is on. */
export function activeProfiler(): StageProfiler | undefined {
  return active;
}

/** Starts profiling a stage when MRCL_PROFILE is set; undefined otherwise. */
export function startProfiling(stage: string): StageProfiler | undefined {
  active = profilingEnabled() ? new StageProfiler(stage) : undefined;
  return active;
}

export function stopProfiling(): void {
  active = undefined;
}

/** fn as phase `name` of the active profiler, or a plain call when none. */
export function phase<T>(name: string, fn: () => T): T {
  return active ? active.time(name, fn) : fn();
}

// One progress line for a whole study: each step's own progress (training
// steps of the stand-in and of every run) placed in the sum of the steps'
// planned work, with an ETA from the rate measured in this invocation. The
// ETA counts training steps only (evaluation and the cohort are not in it),
// so it is a lower bound that firms up as the study goes.
import type { EngineEvent, ProgressEvent } from '../../shared/events';

export class StudyProgress {
  private readonly order: string[];
  private readonly work: Map<string, number>;
  private first: { time: number; done: number } | undefined;

  /** `work`: planned training steps per step name, in the study's order. */
  constructor(
    work: [string, number][],
    private readonly now: () => number = () => Date.now(),
  ) {
    this.order = work.map(([k]) => k);
    this.work = new Map(work);
  }

  get total(): number {
    let t = 0;
    for (const w of this.work.values()) t += w;
    return t;
  }

  /** Work of the steps before `step`. */
  base(step: string): number {
    let b = 0;
    for (const k of this.order) {
      if (k === step) return b;
      b += this.work.get(k) ?? 0;
    }
    return b;
  }

  /** A step's progress (`done` of its own `total`) as the study's. */
  place(step: string, e: ProgressEvent): ProgressEvent {
    const own = this.work.get(step);
    if (own === undefined) return e;
    const done = this.base(step) + Math.min(own, Math.max(0, e.done));
    const t = this.now();
    let etaSeconds: number | undefined;
    if (!this.first) this.first = { time: t, done };
    else if (done > this.first.done) etaSeconds = (((t - this.first.time) / 1000) * (this.total - done)) / (done - this.first.done);
    return { ...e, stage: `${step}/${e.stage}`, done, total: this.total, etaSeconds };
  }

  /** An event sink for one step: its progress events placed, everything else as it is. */
  sink(step: string, emit: (e: EngineEvent) => void): (e: EngineEvent) => void {
    return (e) => emit(e.type === 'progress' ? this.place(step, e) : e);
  }
}

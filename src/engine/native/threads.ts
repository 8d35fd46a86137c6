// One thread setting for the native kernels: all cores for a single run,
// cores ÷ workers when several training processes share the machine, so
// that they never oversubscribe it. MRCL_THREADS overrides both.
import { availableParallelism } from 'node:os';

export function coreCount(): number {
  return Math.max(1, availableParallelism());
}

/** Threads for one process when `workers` processes run side by side. */
export function defaultThreads(workers = 1, env: string | undefined = process.env.MRCL_THREADS): number {
  if (env !== undefined && env.trim() !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) throw new Error(`MRCL_THREADS: expected a positive integer, got "${env}"`);
    return n;
  }
  if (!Number.isInteger(workers) || workers < 1) throw new Error(`workers must be a positive integer, got ${workers}`);
  return Math.max(1, Math.floor(coreCount() / workers));
}

// Node/V8 options for the processes that train (the CLI, the extension's
// engine worker, --workers children, Slurm tasks, the bench's TF.js side).
//
// --v8-pool-size=1: V8 runs garbage collection and compilation on a pool of
// background threads (4 by default). Each training op allocates fresh
// arrays, so GC helpers run often, and on a machine whose cores are all
// taken by the native kernels' OpenMP threads they preempt one of them: a
// statically split kernel then waits for its slowest thread. Measured on a
// 2-core machine (pretraining loop step, 64×64×40, batch 16): 590 → 480 ms at
// width 8, 690 → 590 ms at width 16, 680 → 655 ms at width 64 (batch 4).
// A --v8-pool-size already given (command line or NODE_OPTIONS) is kept.
export const TRAINING_NODE_FLAGS: readonly string[] = ['--v8-pool-size=1'];

/** Whether the options a node process runs with (its execArgv and NODE_OPTIONS) already set the pool size. */
export function hasTrainingNodeFlags(execArgv: readonly string[], nodeOptions: string): boolean {
  return [...execArgv, ...nodeOptions.split(/\s+/)].some((a) => a.startsWith('--v8-pool-size'));
}

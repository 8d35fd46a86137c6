// bin/mrcl.js starts here: a node process without TRAINING_NODE_FLAGS
// (src/shared/node-flags.ts) runs the CLI again as a child with them, and
// passes on its exit code, or the signal that ended it. SIGINT, SIGTERM
// and SIGHUP sent to this process go on to the child; a Ctrl-C in the
// terminal reaches both (same process group), and the CLI counts the pair
// as one Ctrl-C (main.ts). MRCL_RELAUNCH=0 runs the CLI in this process.
// Kept free of engine imports: it loads in milliseconds.
import { spawn } from 'node:child_process';
import { TRAINING_NODE_FLAGS, hasTrainingNodeFlags } from '../shared/node-flags';

// for scripts/bench.mjs, which spawns the TF.js side with the same flags
export { TRAINING_NODE_FLAGS };

export const RELAUNCH_ENV = 'MRCL_RELAUNCH';

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Runs `script args` in a child node process with the training flags and
 * returns true, or returns false (the caller runs the CLI itself) when this
 * process has them already or MRCL_RELAUNCH=0.
 */
export function relaunch(script: string, args: readonly string[]): boolean {
  if (process.env[RELAUNCH_ENV] === '0' || hasTrainingNodeFlags(process.execArgv, process.env.NODE_OPTIONS ?? '')) return false;
  const child = spawn(process.execPath, [...process.execArgv, ...TRAINING_NODE_FLAGS, script, ...args], { stdio: 'inherit' });
  const forward = (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  for (const s of FORWARDED) process.on(s, forward);
  child.on('error', (err) => {
    process.stderr.write(`mrcl: could not start ${process.execPath}: ${err.message}\n`);
    process.exitCode = 1;
  });
  child.on('exit', (code, signal) => {
    for (const s of FORWARDED) process.off(s, forward);
    if (signal) process.kill(process.pid, signal);
    else process.exitCode = code ?? 1;
  });
  return true;
}

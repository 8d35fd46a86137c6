// --workers N: independent units (folds, ablation pretrainings) as separate
// processes running `mrcl unit RUN UNIT`, at most N at once, with the CPU
// threads split between them. Each unit writes its own result files; the
// parent forwards the children's events.
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { EngineEvent } from '../../shared/events';
import type { RunFolder } from '../training/run-folder';
import { packageRootOf } from '../util/package-root';
import type { Unit } from './units';
import { RUN_LOCK_ENV } from '../training/run-lock';
import { TRAINING_NODE_FLAGS } from '../../shared/node-flags';

/** `runToken`: the parent's run lock, under which the children run (they refuse any other writer's). */
export async function runUnitsInWorkers(run: RunFolder, units: readonly Unit[], workers: number, signal: AbortSignal | undefined, emit: (e: EngineEvent) => void, runToken?: string): Promise<void> {
  const queue = [...units];
  const threads = Math.max(1, Math.floor(cpus().length / Math.min(workers, Math.max(1, units.length))));
  const cli = join(packageRootOf(__dirname), 'bin', 'mrcl.js');
  const failures: string[] = [];
  const runOne = (u: Unit) =>
    new Promise<void>((resolve) => {
      const child = spawn(process.execPath, [...TRAINING_NODE_FLAGS, cli, 'unit', run.dir, u.stage, '--json'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, MRCL_THREADS: String(threads), ...(runToken ? { [RUN_LOCK_ENV]: runToken } : {}) },
      });
      const onAbort = () => child.kill('SIGINT');
      signal?.addEventListener('abort', onAbort);
      let buf = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          try {
            emit(JSON.parse(line) as EngineEvent);
          } catch {
            // not an event line
          }
        }
      });
      child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
      child.on('close', (code) => {
        signal?.removeEventListener('abort', onAbort);
        if (code !== 0 && !signal?.aborted) failures.push(`${u.stage} (exit ${code}): ${err.trim().split('\n').slice(-3).join(' | ')}`);
        resolve();
      });
    });
  await Promise.all(
    Array.from({ length: Math.min(workers, queue.length) }, async () => {
      for (let u = queue.shift(); u; u = queue.shift()) {
        if (signal?.aborted) return;
        await runOne(u);
      }
    }),
  );
  if (signal?.aborted) {
    const { CancelledError } = await import('../training/loop');
    throw new CancelledError('workers');
  }
  if (failures.length) throw new Error(`units failed:\n  ${failures.join('\n  ')}`);
}

// How the extension starts engine processes: the worker for runs, the CLI
// for one-off queries (which backends load). Both are files of the
// extension (dist/), run by the Node that resolveNodeCommand picks; the
// engine's npm dependencies resolve from the extension's node_modules.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { resolveNodeCommand } from './node-path';
import type { WorkerSpawn } from './worker-process';
import { TRAINING_NODE_FLAGS } from '../../shared/node-flags';

export function workerSpawn(extensionPath: string, nodePathSetting: string, cwd?: string): WorkerSpawn {
  const script = join(extensionPath, 'dist', 'worker.js');
  if (!existsSync(script)) throw new Error(`${script} is missing: the extension is not built (npm run build)`);
  const node = resolveNodeCommand(nodePathSetting);
  return { command: node.command, args: [...TRAINING_NODE_FLAGS, script], env: { ...process.env, ...node.env }, ...(cwd ? { cwd } : {}) };
}

/** Runs `mrcl <args>` (dist/cli.js) and returns its stdout; rejects with its stderr. */
export function runCli(extensionPath: string, nodePathSetting: string, args: string[], timeoutMs = 60_000): Promise<string> {
  const cli = join(extensionPath, 'dist', 'cli.js');
  if (!existsSync(cli)) return Promise.reject(new Error(`${cli} is missing: the extension is not built (npm run build)`));
  const node = resolveNodeCommand(nodePathSetting);
  const script = `require(${JSON.stringify(cli)}).main(process.argv.slice(1)).then((c) => { process.exitCode = c; })`;
  return new Promise((resolve, reject) => {
    execFile(node.command, ['-e', script, ...args], { env: { ...process.env, ...node.env }, timeout: timeoutMs, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`mrcl ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

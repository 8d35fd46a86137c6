// Which Node runs the engine worker: the `mrcl.nodePath` setting, else the
// `node` on PATH, else the extension host's own runtime (Electron in desktop
// VS Code, which behaves as Node with ELECTRON_RUN_AS_NODE=1; plain node in
// code-server). Pure, so it is unit-tested without VS Code.
import { accessSync, constants, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

export interface NodeCommand {
  command: string;
  /** extra environment for the child */
  env: Record<string, string>;
  source: 'setting' | 'PATH' | 'extension host';
}

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The first of `names` found in the PATH folders, if any. */
export function findOnPath(
  names: readonly string[],
  pathEnv: string | undefined,
  separator: string = process.platform === 'win32' ? ';' : ':',
  exists: (p: string) => boolean = isExecutable,
): string | undefined {
  for (const dir of (pathEnv ?? '').split(separator)) {
    if (!dir) continue;
    for (const n of names) {
      const p = join(dir, n);
      if (exists(p)) return p;
    }
  }
  return undefined;
}

export function resolveNodeCommand(
  setting: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  execPath: string = process.execPath,
  exists: (p: string) => boolean = isExecutable,
  platform: NodeJS.Platform = process.platform,
): NodeCommand {
  const sep = platform === 'win32' ? ';' : ':';
  const configured = setting?.trim();
  if (configured) {
    // an absolute path, or a command name looked up on PATH
    const found = isAbsolute(configured) ? (exists(configured) ? configured : undefined) : findOnPath([configured], env.PATH, sep, exists);
    if (!found) throw new Error(`mrcl.nodePath: "${configured}" is not an executable file${isAbsolute(configured) ? '' : ' on PATH'}`);
    return { command: found, env: {}, source: 'setting' };
  }
  const onPath = findOnPath(platform === 'win32' ? ['node.exe'] : ['node'], env.PATH, sep, exists);
  if (onPath) return { command: onPath, env: {}, source: 'PATH' };
  // Electron runs as plain Node with this variable; node itself ignores it
  return { command: execPath, env: { ELECTRON_RUN_AS_NODE: '1' }, source: 'extension host' };
}

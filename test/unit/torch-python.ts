// The python3 with PyTorch that tests check files against (CI installs
// Debian's python3-torch); tests that need it skip with the reason otherwise.
import { spawnSync } from 'node:child_process';

/** The first python3 that imports torch, or why none does. */
export function findTorchPython(): { python?: string; why: string } {
  const tried: string[] = [];
  for (const py of [process.env.MRCL_PYTHON, '/usr/bin/python3', 'python3'].filter((p): p is string => !!p)) {
    const r = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' });
    if (r.status === 0) return { python: py, why: '' };
    tried.push(`${py}: ${r.error ? r.error.message : (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`)}`);
  }
  return { why: `no python3 with torch (install python3-torch): ${tried.join('; ')}` };
}

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The installed mri-report-cl package's root (from dist/ bundles and from sources alike). */
export function packageRootOf(from: string): string {
  let dir = from;
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'mri-report-cl') return dir;
      } catch {
        // not ours; keep looking
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the mri-report-cl package root above ${from}`);
    dir = up;
  }
}

// Peak memory of reading hostile files, measured in a child process: a
// small .nii.gz or .pth that inflates to gigabytes, or whose pickle would
// build gigabytes of objects, must be refused while the process's peak RSS
// grows by less than GROWTH_BOUND_MIB (docs/formats.md, "Size limits").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { niftiGzBomb, pthPickleBomb, pthPickleOpsBomb, pthStorageBomb } from './hostile-files';

const GROWTH_BOUND_MIB = 200;
const CHILD = join(__dirname, 'hostile-memory-child.ts');
const dir = mkdtempSync(join(tmpdir(), 'hostile-memory-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** Peak RSS (KiB) of a fresh process before and after reading `path`, and the error it gave. */
function peakOf(kind: 'nifti' | 'torch', path: string): { before: number; after: number; error: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CHILD, kind, path], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { before: number; after: number; error: string };
}

const cases: { name: string; kind: 'nifti' | 'torch'; make: (p: string) => void; error: RegExp }[] = [
  { name: 'a .nii.gz of a 2×2×2 header inflating to 512 MiB', kind: 'nifti', make: (p) => niftiGzBomb(p, 512), error: /inflates to more than/ },
  { name: 'a .pth whose data.pkl inflates to 1 GiB', kind: 'torch', make: (p) => pthPickleBomb(p, 1024), error: /data\.pkl" is 1073741824 bytes, more than the limit/ },
  { name: 'a .pth whose storage inflates to 1 GiB', kind: 'torch', make: (p) => pthStorageBomb(p, 1024), error: /holds 1073741824 bytes, past the limit/ },
  // 60 Mi EMPTY_DICT opcodes would build ~25 GiB of dicts; EMPTY_TUPLE ~8 GiB
  { name: 'a .pth whose 60 MiB data.pkl is EMPTY_DICT opcodes', kind: 'torch', make: (p) => pthPickleOpsBomb(p, 0x7d), error: /builds more than \d+ bytes of values/ },
  { name: 'a .pth whose 60 MiB data.pkl is EMPTY_TUPLE opcodes', kind: 'torch', make: (p) => pthPickleOpsBomb(p, 0x29), error: /builds more than \d+ bytes of values/ },
];

for (const c of cases) {
  test(`reading ${c.name} is refused with peak RSS growing by less than ${GROWTH_BOUND_MIB} MiB`, () => {
    const p = join(dir, `${cases.indexOf(c)}${c.kind === 'nifti' ? '.nii.gz' : '.pth'}`);
    c.make(p);
    assert.ok(statSync(p).size < 2 * 1024 * 1024, 'the hostile file itself is small');
    const { before, after, error } = peakOf(c.kind, p);
    assert.match(error, c.error);
    const growthMiB = (after - before) / 1024;
    assert.ok(growthMiB < GROWTH_BOUND_MIB, `peak RSS grew by ${growthMiB.toFixed(0)} MiB (${(before / 1024).toFixed(0)} → ${(after / 1024).toFixed(0)} MiB)`);
  });
}

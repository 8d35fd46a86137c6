// Configs are read through the bounded reader: a config linked to /dev/zero,
// a FIFO or a file over 16 MiB is refused at once, by the engine and by
// `mrcl config check` alike.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/engine/config/resolve';
import { main } from '../../../src/cli/main';

const dir = mkdtempSync(join(tmpdir(), 'config-bounded-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const hasDevZero = existsSync('/dev/zero');

async function cli(argv: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const code = await main(argv, { stdout: () => undefined, stderr: (s) => (err += s), tty: false, signal: new AbortController().signal });
  return { code, err };
}

test('loadConfig and `config check` refuse a config linked to /dev/zero at once', { skip: !hasDevZero }, async () => {
  const p = join(dir, 'zero.mrcl.json');
  symlinkSync('/dev/zero', p);
  const t0 = Date.now();
  assert.throws(() => loadConfig(p), { message: `${p}: config is a symbolic link to a character device, not a regular file; refusing to read it` });
  const r = await cli(['config', 'check', p]);
  assert.equal(r.code, 1);
  assert.match(r.err, /zero\.mrcl\.json: config is a symbolic link to a character device, not a regular file/);
  assert.ok(Date.now() - t0 < 2000);
});

test('loadConfig refuses a FIFO and a config over 16 MiB', async () => {
  const f = join(dir, 'pipe.mrcl.json');
  if (spawnSync('mkfifo', [f]).status === 0) {
    assert.throws(() => loadConfig(f), { message: `${f}: config is a named pipe (FIFO), not a regular file; refusing to read it` });
    assert.match((await cli(['config', 'check', f])).err, /pipe\.mrcl\.json: config is a named pipe/);
  }
  const big = join(dir, 'big.mrcl.json');
  const size = 16 * 1024 * 1024 + 1;
  writeFileSync(big, Buffer.alloc(size, 0x20));
  assert.throws(() => loadConfig(big), { message: `${big}: config is over its limit of 16 MiB (${size} bytes); refusing to read it` });
});

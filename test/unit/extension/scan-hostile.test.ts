// The experiments tree scans every config and run folder of the workspace: a
// cloned repository's config linked to /dev/zero, a FIFO or a huge file must
// be refused at once, with the problem shown, not read into the extension host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listRunFolders, readRunFolder } from '../../../src/extension/views/run-scan';
import { readExperiment } from '../../../src/extension/views/experiment-scan';

const ws = mkdtempSync(join(tmpdir(), 'mrcl-hostile-ws-'));
process.on('exit', () => rmSync(ws, { recursive: true, force: true }));
const hasDevZero = existsSync('/dev/zero');
const mkfifo = (p: string): boolean => spawnSync('mkfifo', [p]).status === 0;

test('a workspace config linked to /dev/zero is listed with its problem, at once', { skip: !hasDevZero }, () => {
  const p = join(ws, 'zero.mrcl.json');
  symlinkSync('/dev/zero', p);
  const t0 = Date.now();
  const e = readExperiment(p, () => []);
  assert.ok(Date.now() - t0 < 1000);
  assert.equal(e.problem, 'config is a symbolic link to a character device, not a regular file; refusing to read it');
  assert.equal(e.name, 'experiment');
});

test('a config that is a FIFO or over 16 MiB is refused, not read', () => {
  const f = join(ws, 'pipe.mrcl.json');
  if (mkfifo(f)) assert.equal(readExperiment(f, () => []).problem, 'config is a named pipe (FIFO), not a regular file; refusing to read it');
  const big = join(ws, 'big.mrcl.json');
  writeFileSync(big, Buffer.alloc(16 * 1024 * 1024 + 1, 0x20));
  assert.equal(readExperiment(big, () => []).problem, `config is over its limit of 16 MiB (${16 * 1024 * 1024 + 1} bytes); refusing to read it`);
});

test('run folders whose run.json, config.json or metrics.json are special files are listed without reading them', { skip: !hasDevZero }, () => {
  const runs = join(ws, 'runs');
  const bad = join(runs, 'exp-20260101-000000');
  mkdirSync(bad, { recursive: true });
  symlinkSync('/dev/zero', join(bad, 'run.json'));
  const run = readRunFolder(bad)!;
  assert.equal(run.status, 'failed');
  assert.equal(run.error, `${join(bad, 'run.json')}: cannot read: run file is a symbolic link to a character device, not a regular file; refusing to read it`);

  const odd = join(runs, 'exp-20260102-000000');
  mkdirSync(join(odd, 'pretrain'), { recursive: true });
  writeFileSync(join(odd, 'run.json'), JSON.stringify({ format: 'mrcl-run-1', id: 'exp-20260102-000000', kind: 'experiment', status: 'done', stages: { pretrain: 'done' } }));
  symlinkSync('/dev/zero', join(odd, 'config.json'));
  if (!mkfifo(join(odd, 'pretrain', 'metrics.json'))) symlinkSync('/dev/zero', join(odd, 'pretrain', 'metrics.json'));
  const t0 = Date.now();
  const listed = listRunFolders(runs);
  assert.ok(Date.now() - t0 < 1000);
  const r = listed.find((x) => x.id === 'exp-20260102-000000')!;
  assert.equal(r.status, 'done');
  assert.equal(r.name, undefined);
  assert.deepEqual(r.stages[0]!.metrics, {});
  assert.equal(listed.length, 2);
});

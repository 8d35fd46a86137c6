import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BoundedReadError, openRegularFile, readFileBounded, readTextBounded, readTextTail } from '../../../src/engine/io/bounded-read';

const dir = mkdtempSync(join(tmpdir(), 'bounded-read-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const hasDevZero = existsSync('/dev/zero');
/** A named pipe with no writer: reading it the ordinary way would wait forever. */
function fifo(name: string): string | undefined {
  const p = join(dir, name);
  const r = spawnSync('mkfifo', [p]);
  return r.status === 0 ? p : undefined;
}

const refused = (path: string, re: RegExp) => (e: unknown) => e instanceof BoundedReadError && e.path === path && e.message.startsWith(`${path}: `) && re.test(e.message);

test('a regular file is read whole up to and including its cap', () => {
  const p = join(dir, 'ten.json');
  writeFileSync(p, '0123456789');
  assert.equal(readTextBounded(p, { maxBytes: 10, what: 'config' }), '0123456789');
  assert.equal(readTextBounded(p, { maxBytes: 1 << 20, what: 'config' }), '0123456789');
  const empty = join(dir, 'empty.json');
  writeFileSync(empty, '');
  assert.equal(readFileBounded(empty, { maxBytes: 0, what: 'config' }).length, 0);
});

test('a file over its cap is refused, naming the file, its size and the cap', () => {
  const p = join(dir, 'eleven.json');
  writeFileSync(p, '01234567890');
  assert.throws(() => readTextBounded(p, { maxBytes: 10, what: 'config' }), (e: unknown) => e instanceof BoundedReadError && e.message === `${p}: config is over its limit of 10 bytes (11 bytes); refusing to read it`);
  const big = join(dir, 'big.jsonl');
  writeFileSync(big, Buffer.alloc(2 * 1024 * 1024 + 1, 0x20));
  assert.throws(() => readTextBounded(big, { maxBytes: 2 * 1024 * 1024, what: 'event log' }), refused(big, /event log is over its limit of 2 MiB \(2097153 bytes\)/));
});

test('a file whose size the system does not report is still cut at its cap + 1 bytes', { skip: !existsSync('/proc/self/status') }, () => {
  // /proc files are regular files of size 0 that read as text
  assert.match(readTextBounded('/proc/self/status', { maxBytes: 1 << 20, what: 'status' }), /VmHWM/);
  assert.throws(() => readTextBounded('/proc/self/status', { maxBytes: 16, what: 'status' }), refused('/proc/self/status', /status is over its limit of 16 bytes \(larger than that\)/));
});

test('a symlink to /dev/zero is refused at once, not read', { skip: !hasDevZero }, () => {
  const p = join(dir, 'zero.mrcl.json');
  symlinkSync('/dev/zero', p);
  const t0 = Date.now();
  assert.throws(() => readTextBounded(p, { maxBytes: 16 << 20, what: 'config' }), refused(p, /config is a symbolic link to a character device, not a regular file/));
  assert.throws(() => openRegularFile(p, 'checkpoint'), refused(p, /checkpoint is a symbolic link to a character device/));
  assert.ok(Date.now() - t0 < 1000);
});

test('a FIFO, a folder and a device are refused without opening them', () => {
  const f = fifo('pipe.json');
  if (f) {
    assert.throws(() => readTextBounded(f, { maxBytes: 1024, what: 'manifest' }), refused(f, /manifest is a named pipe \(FIFO\), not a regular file/));
    assert.throws(() => openRegularFile(f, 'image'), refused(f, /image is a named pipe/));
  }
  const d = join(dir, 'folder.json');
  mkdirSync(d);
  assert.throws(() => readTextBounded(d, { maxBytes: 1024, what: 'run file' }), refused(d, /run file is a folder, not a regular file/));
  if (hasDevZero) assert.throws(() => readTextBounded('/dev/zero', { maxBytes: 1024, what: 'config' }), refused('/dev/zero', /config is a character device/));
});

test('a symlink to a regular file is followed; missing files keep their fs error code', () => {
  const target = join(dir, 'target.json');
  writeFileSync(target, '{"a":1}');
  const link = join(dir, 'link.json');
  symlinkSync(target, link);
  assert.equal(readTextBounded(link, { maxBytes: 100, what: 'config' }), '{"a":1}');
  const { fd, size } = openRegularFile(link, 'config');
  closeSync(fd);
  assert.equal(size, 7);
  const dangling = join(dir, 'dangling.json');
  symlinkSync(join(dir, 'nowhere'), dangling);
  assert.throws(() => readTextBounded(dangling, { maxBytes: 100, what: 'config' }), (e: unknown) => (e as NodeJS.ErrnoException).code === 'ENOENT');
});

test('readTextTail returns the end of a file, without a cut character', () => {
  const p = join(dir, 'log.txt');
  writeFileSync(p, 'first line\nsecond é\nthird\n');
  assert.equal(readTextTail(p, 6, 'log'), 'third\n');
  // "é" is two bytes: a cut through it drops its second byte
  assert.equal(readTextTail(p, 8, 'log'), '\nthird\n');
  assert.equal(readTextTail(p, 1000, 'log'), 'first line\nsecond é\nthird\n');
  const f = fifo('log.fifo');
  if (f) assert.throws(() => readTextTail(f, 10, 'log'), refused(f, /log is a named pipe/));
});

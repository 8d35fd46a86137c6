// Whole-file writes that never leave a half-written target: write a sibling
// temp file, then rename over the target (atomic on one filesystem). And a
// lock file for read-modify-write of a file shared by processes.
import { closeSync, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export function writeFileAtomic(path: string, chunks: readonly Uint8Array[]): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx');
    for (const c of chunks) {
      let off = 0;
      while (off < c.byteLength) off += writeSync(fd, c, off, c.byteLength - off);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // already failing; the original error is the one to report
      }
    }
    try {
      unlinkSync(tmp);
    } catch {
      // the temp file may never have been created
    }
    throw e;
  }
}

/**
 * Runs `f` holding `lockPath` (created exclusively, removed afterwards), so
 * processes sharing a file (parallel units of one run) take turns. A lock
 * older than `staleMs` belongs to a killed process and is broken; waiting
 * longer than `timeoutMs` is an error naming the lock file.
 */
export function withFileLock<T>(lockPath: string, f: () => T, timeoutMs = 15_000, staleMs = 60_000): T {
  const start = Date.now();
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      closeSync(openSync(lockPath, 'wx'));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let age = 0;
    try {
      age = Date.now() - statSync(lockPath).mtimeMs;
    } catch {
      continue; // released meanwhile
    }
    if (age > staleMs) {
      try {
        unlinkSync(lockPath);
      } catch {
        // another waiter broke it first
      }
      continue;
    }
    if (Date.now() - start > timeoutMs) throw new Error(`${lockPath}: held by another process for over ${Math.round(timeoutMs / 1000)} s (delete it if no run is active)`);
    Atomics.wait(pause, 0, 0, 10 + Math.floor(Math.random() * 20));
  }
  try {
    return f();
  } finally {
    try {
      unlinkSync(lockPath);
    } catch {
      // a waiter judged it stale: nothing left to release
    }
  }
}

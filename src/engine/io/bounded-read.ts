// Bounded reads of configs, manifests, reports, run files and CSVs. A path is
// read only when it is (or a symlink leads to) a regular file, and never more
// than its cap + 1 bytes, so a config linked to /dev/zero, a FIFO or a huge
// file is refused at once with a message naming it. No TF.js and no vscode
// here: the engine, the CLI, the worker and the extension host all use it.
// The caps are documented in docs/formats.md ("Size limits").
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';

const MiB = 1024 * 1024;

/** The most bytes read of each kind of file (docs/formats.md, "Size limits"). */
export const READ_LIMITS = {
  /** experiment configs (.mrcl.json), a text model's config.json */
  config: 16 * MiB,
  /** dataset manifests (CSV or JSON) */
  manifest: 64 * MiB,
  /** one report file named by a manifest */
  report: 4 * MiB,
  /** run.json, plan.json, metrics.json, results.json, done.json, per-case files */
  runFile: 64 * MiB,
  /** events.jsonl, which grows with every step of a run */
  events: 256 * MiB,
  /** predictions.csv */
  predictions: 64 * MiB,
  /** tokenizer.json, vocab.json, merges.txt */
  tokenizer: 64 * MiB,
  /** pointer and marker files (a checkpoint's "latest", the synth marker) */
  small: 1 * MiB,
  /** the end of a log file shown to the user */
  logTail: 64 * 1024,
} as const;

/** A read refused by the checks here; the message starts with the path. */
export class BoundedReadError extends Error {
  constructor(
    readonly path: string,
    /** the message without the path */
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
    this.name = 'Error'; // printed like every other engine error
  }
}

export interface BoundedReadOptions {
  /** refuse the file when it holds more than this many bytes */
  maxBytes: number;
  /** what the file is, for messages ("config", "manifest", "run file") */
  what: string;
}

function describe(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function notRegular(path: string, what: string, st: Stats): BoundedReadError {
  let link = false;
  try {
    link = lstatSync(path).isSymbolicLink();
  } catch {
    // gone since: describe what was seen
  }
  return new BoundedReadError(path, `${what} is ${link ? 'a symbolic link to ' : ''}${describe(st)}, not a regular file; refusing to read it`);
}

function sizeText(n: number): string {
  return n >= MiB && n % MiB === 0 ? `${n / MiB} MiB` : n >= 1024 && n % 1024 === 0 ? `${n / 1024} KiB` : `${n} bytes`;
}

function tooBig(path: string, what: string, size: number | undefined, maxBytes: number): BoundedReadError {
  const of = size === undefined ? 'larger than that' : `${size} bytes`;
  return new BoundedReadError(path, `${what} is over its limit of ${sizeText(maxBytes)} (${of}); refusing to read it`);
}

// O_NONBLOCK: should the path become a FIFO between the stat and the open, the
// open does not wait for a writer (fstat then refuses it). Windows has no such flag.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

/**
 * Opens `path` for reading after checking that it is a regular file (a
 * symlink only when it leads to one); the caller closes the descriptor.
 * fs errors (ENOENT, EACCES, …) are thrown as they are.
 */
export function openRegularFile(path: string, what: string): { fd: number; size: number } {
  const st = statSync(path);
  if (!st.isFile()) throw notRegular(path, what, st);
  const fd = openSync(path, OPEN_FLAGS);
  try {
    const now = fstatSync(fd);
    if (!now.isFile()) throw notRegular(path, what, now);
    return { fd, size: now.size };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/**
 * The bytes of a regular file of at most `maxBytes` bytes. Reads at most
 * maxBytes + 1 bytes, so a file that grows while being read (or a /proc-like
 * file that reports size 0) is still refused at the cap.
 */
export function readFileBounded(path: string, options: BoundedReadOptions): Buffer {
  const { maxBytes, what } = options;
  if (!(Number.isSafeInteger(maxBytes) && maxBytes >= 0)) throw new Error(`readFileBounded: maxBytes must be a non-negative integer, got ${maxBytes}`);
  const { fd, size } = openRegularFile(path, what);
  try {
    if (size > maxBytes) throw tooBig(path, what, size, maxBytes);
    let buf = Buffer.allocUnsafe(size + 1);
    let got = 0;
    for (;;) {
      if (got === buf.length) {
        if (got > maxBytes) throw tooBig(path, what, undefined, maxBytes);
        const next = Buffer.allocUnsafe(Math.min(buf.length * 2 + 4096, maxBytes + 1));
        buf.copy(next, 0, 0, got);
        buf = next;
      }
      const n = readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** readFileBounded decoded as UTF-8 (a byte-order mark is kept, as readFileSync keeps it). */
export function readTextBounded(path: string, options: BoundedReadOptions): string {
  return readFileBounded(path, options).toString('utf8');
}

/** The last `maxBytes` bytes of a regular file as UTF-8 (a cut first character is dropped). */
export function readTextTail(path: string, maxBytes: number, what: string): string {
  const { fd, size } = openRegularFile(path, what);
  try {
    const start = Math.max(0, size - maxBytes);
    const buf = Buffer.allocUnsafe(size - start);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, start + got);
      if (n === 0) break;
      got += n;
    }
    let from = 0;
    // skip UTF-8 continuation bytes of a character cut by the start
    if (start > 0) while (from < got && (buf[from]! & 0xc0) === 0x80) from++;
    return buf.toString('utf8', from, got);
  } finally {
    closeSync(fd);
  }
}

// Reads members of a zip archive (PyTorch's checkpoint container) through
// positional reads: only the central directory and the requested members
// are ever loaded. Every offset and size is checked against the file before
// use, names must be unique, and each member's CRC-32 is verified.
// Zip64 is supported; stored and deflated members are read.
import { closeSync, readSync } from 'node:fs';
import { openRegularFile } from './bounded-read';
import * as zlib from 'node:zlib';

export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const MAX_CENTRAL_DIRECTORY = 256 * 1024 * 1024;
const latin1 = new TextDecoder('latin1');

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE, as zip uses) in plain JS, for Node versions without zlib.crc32 (< 20.15). */
export function crc32Js(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const crc32 = (data: Uint8Array): number => (typeof zlib.crc32 === 'function' ? zlib.crc32(data) >>> 0 : crc32Js(data));
const utf8 = new TextDecoder('utf-8');

/** Reads exactly `length` bytes at `position` into a fresh (8-byte aligned) buffer. */
export function readExactly(fd: number, position: number, length: number, file: string): Uint8Array {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, out, done, length - done, position + done);
    if (n === 0) throw new Error(`${file}: file ends early (truncated?) reading ${length} bytes at ${position}`);
    done += n;
  }
  return out;
}

function u64(dv: DataView, at: number, file: string): number {
  const v = dv.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${file}: zip field ${v} is out of range`);
  return Number(v);
}

export class ZipReader {
  readonly entries = new Map<string, ZipEntry>();
  private centralStart = 0;

  private constructor(
    private readonly fd: number,
    readonly size: number,
    readonly file: string,
  ) {}

  /** Opens `path` and reads its central directory; throws naming the file on anything malformed. */
  static open(path: string): ZipReader {
    const { fd, size } = openRegularFile(path, 'zip archive');
    try {
      const z = new ZipReader(fd, size, path);
      z.readCentralDirectory();
      return z;
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  private fail(msg: string): never {
    throw new Error(`${this.file}: ${msg}`);
  }

  private readCentralDirectory(): void {
    const tailLen = Math.min(this.size, 22 + 0xffff);
    if (tailLen < 22) this.fail('not a zip archive (too short)');
    const tailStart = this.size - tailLen;
    const tail = readExactly(this.fd, tailStart, tailLen, this.file);
    const tv = new DataView(tail.buffer);
    let at = -1;
    for (let i = tailLen - 22; i >= 0; i--) {
      if (tv.getUint32(i, true) === EOCD_SIG && i + 22 + tv.getUint16(i + 20, true) === tailLen) {
        at = i;
        break;
      }
    }
    if (at < 0) this.fail('no zip end-of-central-directory record (truncated or not a zip archive)');
    const eocdPos = tailStart + at;
    let total = tv.getUint16(at + 10, true);
    let cdSize = tv.getUint32(at + 12, true);
    let cdOffset = tv.getUint32(at + 16, true);
    let cdLimit = eocdPos;
    const disk = tv.getUint16(at + 4, true);
    if (total === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff || disk === 0xffff) {
      if (eocdPos < 20) this.fail('zip64 locator missing');
      const loc = readExactly(this.fd, eocdPos - 20, 20, this.file);
      const lv = new DataView(loc.buffer);
      if (lv.getUint32(0, true) !== ZIP64_LOCATOR_SIG) this.fail('zip64 locator missing');
      const z64Pos = u64(lv, 8, this.file);
      if (z64Pos + 56 > eocdPos - 20) this.fail('zip64 end record offset out of range');
      const rec = readExactly(this.fd, z64Pos, 56, this.file);
      const rv = new DataView(rec.buffer);
      if (rv.getUint32(0, true) !== ZIP64_EOCD_SIG) this.fail('bad zip64 end-of-central-directory record');
      if (rv.getUint32(16, true) !== 0 || rv.getUint32(20, true) !== 0) this.fail('multi-disk zip archives are not supported');
      total = u64(rv, 32, this.file);
      cdSize = u64(rv, 40, this.file);
      cdOffset = u64(rv, 48, this.file);
      cdLimit = z64Pos;
    } else if (disk !== 0 || tv.getUint16(at + 6, true) !== 0) {
      this.fail('multi-disk zip archives are not supported');
    }
    if (cdOffset + cdSize > cdLimit) this.fail(`central directory (offset ${cdOffset}, ${cdSize} bytes) lies outside the file`);
    if (cdSize > MAX_CENTRAL_DIRECTORY) this.fail(`central directory of ${cdSize} bytes is absurd`);
    if (total * 46 > cdSize) this.fail(`central directory claims ${total} entries in ${cdSize} bytes`);
    this.centralStart = cdOffset;
    const cd = readExactly(this.fd, cdOffset, cdSize, this.file);
    const cv = new DataView(cd.buffer);
    let p = 0;
    for (let n = 0; n < total; n++) {
      if (p + 46 > cdSize || cv.getUint32(p, true) !== CENTRAL_SIG) this.fail(`bad central directory entry ${n}`);
      const flags = cv.getUint16(p + 8, true);
      const nameLen = cv.getUint16(p + 28, true);
      const extraLen = cv.getUint16(p + 30, true);
      const commentLen = cv.getUint16(p + 32, true);
      const end = p + 46 + nameLen + extraLen + commentLen;
      if (end > cdSize) this.fail(`central directory entry ${n} runs past the directory`);
      const rawName = cd.subarray(p + 46, p + 46 + nameLen);
      const name = (flags & 0x800 ? utf8 : latin1).decode(rawName);
      const e: ZipEntry = {
        name,
        flags,
        method: cv.getUint16(p + 10, true),
        crc32: cv.getUint32(p + 16, true),
        compressedSize: cv.getUint32(p + 20, true),
        size: cv.getUint32(p + 24, true),
        localHeaderOffset: cv.getUint32(p + 42, true),
      };
      this.applyZip64Extra(e, cv, p + 46 + nameLen, extraLen);
      if (this.entries.has(name)) this.fail(`duplicate zip entry "${name}"`);
      if (e.localHeaderOffset + 30 > cdOffset) this.fail(`zip entry "${name}" has a local header offset out of range`);
      this.entries.set(name, e);
      p = end;
    }
  }

  private applyZip64Extra(e: ZipEntry, cv: DataView, start: number, len: number): void {
    const wants = [e.size === 0xffffffff, e.compressedSize === 0xffffffff, e.localHeaderOffset === 0xffffffff];
    if (!wants.some(Boolean)) return;
    for (let q = start; q + 4 <= start + len; ) {
      const id = cv.getUint16(q, true);
      const sz = cv.getUint16(q + 2, true);
      if (q + 4 + sz > start + len) break;
      if (id === 0x0001) {
        let r = q + 4;
        const next = (): number => {
          if (r + 8 > q + 4 + sz) this.fail(`zip entry "${e.name}" has a short zip64 field`);
          const v = u64(cv, r, this.file);
          r += 8;
          return v;
        };
        if (wants[0]) e.size = next();
        if (wants[1]) e.compressedSize = next();
        if (wants[2]) e.localHeaderOffset = next();
        return;
      }
      q += 4 + sz;
    }
    this.fail(`zip entry "${e.name}" lacks its zip64 sizes`);
  }

  /** The member's bytes (a fresh buffer); refuses members larger than `maxBytes`. */
  read(name: string, maxBytes = Number.MAX_SAFE_INTEGER): Uint8Array {
    const e = this.entries.get(name);
    if (!e) this.fail(`zip entry "${name}" is missing`);
    if (e.flags & 1) this.fail(`zip entry "${name}" is encrypted`);
    if (e.size > maxBytes) this.fail(`zip entry "${name}" is ${e.size} bytes, more than the limit of ${maxBytes}`);
    const lh = readExactly(this.fd, e.localHeaderOffset, 30, this.file);
    const lv = new DataView(lh.buffer);
    if (lv.getUint32(0, true) !== LOCAL_SIG) this.fail(`zip entry "${name}" has a bad local header`);
    const dataStart = e.localHeaderOffset + 30 + lv.getUint16(26, true) + lv.getUint16(28, true);
    if (dataStart + e.compressedSize > this.centralStart) this.fail(`zip entry "${name}" data (${e.compressedSize} bytes at ${dataStart}) lies outside the file`);
    let data: Uint8Array;
    if (e.method === 0) {
      if (e.compressedSize !== e.size) this.fail(`stored zip entry "${name}" has inconsistent sizes`);
      data = readExactly(this.fd, dataStart, e.size, this.file);
    } else if (e.method === 8) {
      const packed = readExactly(this.fd, dataStart, e.compressedSize, this.file);
      try {
        // never more than the directory's size; one output chunk of that size
        // (up to 1 GiB) so an honest member is not copied again to join chunks
        data = zlib.inflateRawSync(packed, { maxOutputLength: Math.max(1, e.size), chunkSize: Math.max(64, Math.min(e.size + 1, 2 ** 30)) });
      } catch (err) {
        return this.fail(`zip entry "${name}" does not inflate to its ${e.size} bytes (${(err as Error).message})`);
      }
      if (data.length !== e.size) this.fail(`zip entry "${name}" inflates to ${data.length} bytes, not ${e.size}`);
      if (data.byteOffset % 8 !== 0) data = data.slice();
    } else {
      return this.fail(`zip entry "${name}" uses unsupported compression method ${e.method}`);
    }
    if (crc32(data) !== e.crc32) this.fail(`zip entry "${name}" fails its CRC-32 check (corrupt file)`);
    return data;
  }
}

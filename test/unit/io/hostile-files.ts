// Small files that claim or inflate to far more than they hold, for the
// bounded-read tests. Each is built in O(its own size): the bombs are
// repeated compressed blocks, never inflated here.
import { readFileSync, writeFileSync } from 'node:fs';
import * as zlib from 'node:zlib';
import { writeNifti } from '../../../src/engine/io/nifti';
import { identityAffine } from '../../../src/engine/io/volume';
import { crc32Js } from '../../../src/engine/io/zip-reader';

const MiB = 1024 * 1024;

/**
 * A .nii.gz whose header is an honest 2×2×2 float32 volume (352 + 32 bytes)
 * followed by `mib` MiB of zeros: gzip members of 1 MiB of zeros, concatenated
 * (a valid multi-member gzip file of about 1 KiB per MiB).
 */
export function niftiGzBomb(path: string, mib: number): void {
  const plain = `${path}.plain.nii`;
  writeNifti(plain, { data: new Float32Array(8).fill(1), dims: [2, 2, 2], pixdim: [1, 1, 1], affine: identityAffine() });
  const zeros = zlib.gzipSync(Buffer.alloc(MiB), { level: 9 });
  const parts = [zlib.gzipSync(readFileSync(plain))];
  for (let i = 0; i < mib; i++) parts.push(zeros);
  writeFileSync(path, Buffer.concat(parts));
}

/** Raw deflate of `mib` MiB of zeros: sync-flushed blocks repeated, then an empty final block. */
function deflatedZeros(mib: number): Buffer {
  const block = zlib.deflateRawSync(Buffer.alloc(MiB), { finishFlush: zlib.constants.Z_SYNC_FLUSH, level: 9 });
  const parts: Buffer[] = [];
  for (let i = 0; i < mib; i++) parts.push(block);
  parts.push(Buffer.from([0x03, 0x00]));
  return Buffer.concat(parts);
}

interface ZipMember {
  name: string;
  /** stored bytes (method 8: raw deflate) */
  data: Buffer;
  method: 0 | 8;
  /** the inflated size the directory declares */
  size: number;
  crc: number;
}

/** A minimal zip archive (no zip64) of the given members. */
function zipOf(members: ZipMember[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const m of members) {
    const name = Buffer.from(m.name, 'utf8');
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt16LE(m.method, 8);
    lh.writeUInt32LE(m.crc, 14);
    lh.writeUInt32LE(m.data.length, 18);
    lh.writeUInt32LE(m.size, 22);
    lh.writeUInt16LE(name.length, 26);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(20, 4);
    ch.writeUInt16LE(20, 6);
    ch.writeUInt16LE(m.method, 10);
    ch.writeUInt32LE(m.crc, 16);
    ch.writeUInt32LE(m.data.length, 20);
    ch.writeUInt32LE(m.size, 24);
    ch.writeUInt16LE(name.length, 28);
    ch.writeUInt32LE(offset, 42);
    locals.push(lh, name, m.data);
    centrals.push(ch, name);
    offset += 30 + name.length + m.data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(members.length, 8);
  end.writeUInt16LE(members.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

const str = (s: string): Buffer => {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(b.length);
  return Buffer.concat([Buffer.from([0x58]), len, b]); // BINUNICODE
};
const int32 = (n: number): Buffer => {
  const b = Buffer.alloc(5);
  b[0] = 0x4a; // BININT
  b.writeInt32LE(n, 1);
  return b;
};

/** Protocol-2 pickle of {"w": tensor of shape [1] viewing float32 storage "0" of `numel` elements}. */
export function stateDictPickle(numel: number): Buffer {
  return Buffer.concat([
    Buffer.from([0x80, 0x02, 0x7d]), // PROTO 2, EMPTY_DICT
    str('w'),
    Buffer.from('ctorch._utils\n_rebuild_tensor_v2\n(', 'latin1'), // GLOBAL, MARK
    Buffer.from([0x28]), // MARK (persistent id tuple)
    str('storage'),
    Buffer.from('ctorch\nFloatStorage\n', 'latin1'),
    str('0'),
    str('cpu'),
    int32(numel),
    Buffer.from([0x74, 0x51]), // TUPLE, BINPERSID
    Buffer.from([0x4b, 0x00]), // storage offset 0
    Buffer.from([0x4b, 0x01, 0x85]), // size (1,)
    Buffer.from([0x4b, 0x01, 0x85]), // stride (1,)
    Buffer.from([0x89]), // requires_grad False
    Buffer.from('ccollections\nOrderedDict\n)R', 'latin1'), // backward hooks: OrderedDict()
    Buffer.from([0x74, 0x52, 0x73, 0x2e]), // TUPLE, REDUCE, SETITEM, STOP
  ]);
}

/** A torch zip checkpoint whose data.pkl is `mib` MiB of deflated zeros (declared in the directory). */
export function pthPickleBomb(path: string, mib: number): void {
  writeFileSync(path, zipOf([{ name: 'archive/data.pkl', data: deflatedZeros(mib), method: 8, size: mib * MiB, crc: 0 }]));
}

/**
 * A torch zip checkpoint whose data.pkl (under the 64 MiB pickle cap, CRC
 * right) is `mib` MiB of one opcode, e.g. EMPTY_DICT: each byte makes a new
 * object, so parsing it whole would build gigabytes.
 */
export function pthPickleOpsBomb(path: string, op: number, mib = 60): void {
  const pkl = Buffer.alloc(mib * MiB, op);
  const crc = (zlib as { crc32?: (d: Uint8Array) => number }).crc32;
  writeFileSync(
    path,
    zipOf([{ name: 'archive/data.pkl', data: zlib.deflateRawSync(pkl, { level: 9 }), method: 8, size: pkl.length, crc: crc ? crc(pkl) >>> 0 : crc32Js(pkl) }]),
  );
}

function pthOf(path: string, numel: number, storage: ZipMember): void {
  const pkl = stateDictPickle(numel);
  writeFileSync(path, zipOf([{ name: 'archive/data.pkl', data: pkl, method: 0, size: pkl.length, crc: crc32Js(pkl) }, storage]));
}

/** The same checkpoint as pthStorageBomb, honest: a stored float32 storage holding `values`. */
export function pthOneTensor(path: string, values: number[]): void {
  const data = Buffer.from(new Float32Array(values).buffer);
  pthOf(path, values.length, { name: 'archive/data/0', data, method: 0, size: data.length, crc: crc32Js(data) });
}

/**
 * A torch zip checkpoint with a one-element tensor whose storage record is
 * `mib` MiB of deflated zeros (the pickle says as much; the CRC is not).
 */
export function pthStorageBomb(path: string, mib: number): void {
  pthOf(path, (mib * MiB) / 4, { name: 'archive/data/0', data: deflatedZeros(mib), method: 8, size: mib * MiB, crc: 0 });
}

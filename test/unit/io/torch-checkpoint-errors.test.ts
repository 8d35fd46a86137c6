import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { loadTorchCheckpoint, type LoadTorchCheckpointOptions } from '../../../src/engine/io/torch-checkpoint';
import { unpickle } from '../../../src/engine/io/pickle';
import { crc32Js } from '../../../src/engine/io/zip-reader';
import { findTorchGlobal, StorageRef } from '../../../src/engine/io/torch-globals';

const FIX = join(__dirname, '../../fixtures/torch');
const dir = mkdtempSync(join(tmpdir(), 'torch-err-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const fixture = (name: string): Buffer => readFileSync(join(FIX, name));

let counter = 0;
function write(bytes: Uint8Array): string {
  const p = join(dir, `bad${counter++}.pth`);
  writeFileSync(p, bytes);
  return p;
}

/** Loading throws an Error whose message names the file and matches `re`. */
function refuses(p: string, re: RegExp, opts: LoadTorchCheckpointOptions = {}): void {
  assert.throws(
    () => loadTorchCheckpoint(p, opts),
    (e: unknown) => e instanceof Error && e.message.includes(p) && re.test(e.message),
  );
}

// ---- zip surgery: locate members through the central directory ----

interface Member {
  central: number; // offset of the central directory entry
  local: number; // offset of the local header
  data: number; // offset of the data
  size: number;
  name: string;
}

function members(b: Buffer): Member[] {
  const eocd = b.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const total = b.readUInt16LE(eocd + 10);
  let p = b.readUInt32LE(eocd + 16);
  const out: Member[] = [];
  for (let n = 0; n < total; n++) {
    const nameLen = b.readUInt16LE(p + 28);
    const local = b.readUInt32LE(p + 42);
    out.push({
      central: p,
      local,
      data: local + 30 + b.readUInt16LE(local + 26) + b.readUInt16LE(local + 28),
      size: b.readUInt32LE(p + 24),
      name: b.toString('latin1', p + 46, p + 46 + nameLen),
    });
    p += 46 + nameLen + b.readUInt16LE(p + 30) + b.readUInt16LE(p + 32);
  }
  return out;
}

function member(b: Buffer, suffix: string): Member {
  const m = members(b).find((x) => x.name.endsWith(suffix));
  assert.ok(m, suffix);
  return m;
}

/** Rewrites a stored member in place (same length) and fixes both CRC fields, so only the content is wrong. */
function patchMember(b: Buffer, suffix: string, edit: (data: Buffer) => void): Buffer {
  const m = member(b, suffix);
  const data = b.subarray(m.data, m.data + m.size);
  edit(data);
  const crc = crc32Js(data);
  b.writeUInt32LE(crc, m.local + 14);
  b.writeUInt32LE(crc, m.central + 16);
  return b;
}

function replaceOnce(data: Buffer, from: number[], to: number[]): void {
  const at = data.indexOf(Buffer.from(from));
  assert.ok(at >= 0, `pattern ${from}`);
  Buffer.from(to).copy(data, at);
}

// conv1.weight in data.pkl: numel of storage 0, then its size tuple
const CONV_NUMEL = [0x4b, 108, 0x74]; // BININT1 108, TUPLE
const CONV_SIZE = [0x28, 0x4b, 4, 0x4b, 1, 0x4b, 3, 0x4b, 3, 0x4b, 3, 0x74];

test('CRC-32 fallback matches the standard check value and zlib', () => {
  assert.equal(crc32Js(Buffer.from('123456789')), 0xcbf43926);
  assert.equal(crc32Js(new Uint8Array(0)), 0);
  const member0 = fixture('sd_zip.pth');
  if (typeof zlib.crc32 === 'function') assert.equal(crc32Js(member0), zlib.crc32(member0) >>> 0);
});

test('not a checkpoint: missing, empty, random, tar, safetensors', () => {
  refuses(join(dir, 'nope.pth'), /file not found/);
  refuses(write(new Uint8Array(0)), /empty file/);
  refuses(write(Buffer.from('hello world, not a checkpoint')), /unknown file signature/);
  const tar = Buffer.alloc(1024);
  tar.write('ustar', 257, 'latin1');
  refuses(write(tar), /tar-based/);
  refuses(write(fixture('sd.safetensors')), /readSafetensors/);
  refuses(dir, /checkpoint is a folder, not a regular file/);
});

test('pickled code is refused by name and never run (zip and legacy)', () => {
  for (const f of ['evil_zip.pth', 'evil_legacy.pth']) refuses(join(FIX, f), /refusing global "posix\.system"/);
  refuses(join(FIX, 'whole_model_zip.pth'), /refusing global "__main__\.Net".*state_dict\(\)/);
});

test('zip: truncated archives and a damaged central directory', () => {
  const good = fixture('sd_zip.pth');
  refuses(write(good.subarray(0, good.length >> 1)), /end-of-central-directory/);
  refuses(write(good.subarray(0, good.length - 1)), /end-of-central-directory/);
  refuses(write(good.subarray(0, 10)), /end-of-central-directory|too short/);
  const eocd = good.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const badSig = Buffer.from(good);
  badSig.writeUInt32LE(0xdeadbeef, members(good)[0].central);
  refuses(write(badSig), /bad central directory entry 0/);
  const farOffset = Buffer.from(good);
  farOffset.writeUInt32LE(0x7fffffff, eocd + 16);
  refuses(write(farOffset), /central directory .* outside the file/);
  const manyEntries = Buffer.from(good);
  manyEntries.writeUInt16LE(0xfffe, eocd + 10);
  refuses(write(manyEntries), /claims 65534 entries/);
  const localOut = Buffer.from(good);
  localOut.writeUInt32LE(0x7ffffff0, member(good, 'data/1').central + 42);
  refuses(write(localOut), /local header offset out of range/);
  const dup = Buffer.from(good);
  const m1 = member(good, 'data/1');
  dup.write('2', m1.central + 46 + m1.name.length - 1, 'latin1');
  refuses(write(dup), /duplicate zip entry ".*data\/2"/);
  const hugeSize = Buffer.from(good);
  hugeSize.writeUInt32LE(0xfffffff0, m1.central + 24);
  hugeSize.writeUInt32LE(0xfffffff0, m1.central + 20);
  refuses(write(hugeSize), /"sd_zip\/data\/1" holds 4294967280 bytes, expected 16/);
  const pklPastEnd = Buffer.from(good);
  const pk = member(good, 'data.pkl');
  pklPastEnd.writeUInt32LE(0xfffff0, pk.central + 24);
  pklPastEnd.writeUInt32LE(0xfffff0, pk.central + 20);
  refuses(write(pklPastEnd), /"sd_zip\/data\.pkl" data \(16777200 bytes at \d+\) lies outside the file/);
  const pklHuge = Buffer.from(good);
  pklHuge.writeUInt32LE(0xfffffff0, pk.central + 24);
  refuses(write(pklHuge), /"sd_zip\/data\.pkl" is 4294967280 bytes, more than the limit/);
});

test('zip: corrupt member bytes fail the CRC check', () => {
  const b = Buffer.from(fixture('sd_zip.pth'));
  b[member(b, 'data/0').data + 5] ^= 0xff;
  refuses(write(b), /"sd_zip\/data\/0" fails its CRC-32 check/);
  const p = Buffer.from(fixture('sd_zip.pth'));
  p[member(p, 'data.pkl').data + 40] ^= 0xff;
  refuses(write(p), /data\.pkl" fails its CRC-32 check/);
});

test('zip: a damaged deflate stream and a damaged zip64 end record', () => {
  const b = Buffer.from(fixture('sd_deflate64.pth'));
  // sizes and offsets there live in zip64 fields: find the local header by name
  let local = -1;
  for (let at = b.indexOf('PK\x03\x04', 0, 'latin1'); at >= 0; at = b.indexOf('PK\x03\x04', at + 1, 'latin1')) {
    if (b.toString('latin1', at + 30, at + 30 + b.readUInt16LE(at + 26)) === 'sd_zip/data/0') local = at;
  }
  assert.ok(local >= 0);
  b[local + 30 + b.readUInt16LE(local + 26) + b.readUInt16LE(local + 28) + 3] ^= 0x55;
  refuses(write(b), /"sd_zip\/data\/0" (does not inflate|inflates to|fails its CRC)/);
  const z = Buffer.from(fixture('sd_deflate64.pth'));
  const eocd = z.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  z.writeUInt32LE(0xffffffff, eocd + 16);
  z.writeUInt32LE(0, eocd - 20); // locator signature gone
  refuses(write(z), /zip64 locator missing/);
  const r = Buffer.from(fixture('sd_deflate64.pth'));
  r.writeUInt32LE(0xffffffff, eocd + 16);
  r.writeBigUInt64LE(BigInt(r.length), eocd - 20 + 8); // zip64 record "after" the locator
  refuses(write(r), /zip64 end record offset out of range/);
});

test('zip: missing storage record, wrong storage size, view past its storage', () => {
  const renamed = Buffer.from(fixture('sd_zip.pth'));
  const m = member(renamed, 'data/0');
  renamed.write('Z', m.central + 46 + m.name.length - 1, 'latin1');
  renamed.write('Z', m.local + 30 + m.name.length - 1, 'latin1');
  refuses(write(renamed), /storage record "sd_zip\/data\/0" is missing/);
  const numel = patchMember(Buffer.from(fixture('sd_zip.pth')), 'data.pkl', (d) => replaceOnce(d, CONV_NUMEL, [0x4b, 109, 0x74]));
  refuses(write(numel), /"sd_zip\/data\/0" holds 432 bytes, expected 436/);
  const size = patchMember(Buffer.from(fixture('sd_zip.pth')), 'data.pkl', (d) => replaceOnce(d, CONV_SIZE, [0x28, 0x4b, 5, ...CONV_SIZE.slice(3)]));
  refuses(write(size), /"conv1\.weight" .* reaches past its storage of 108 elements/);
  const op = patchMember(Buffer.from(fixture('sd_zip.pth')), 'data.pkl', (d) => replaceOnce(d, [0x63, 0x74, 0x6f], [0xff, 0x74, 0x6f]));
  refuses(write(op), /data\.pkl\): pickle: unsupported opcode 0xff/);
  const pkl = fixture('sd_zip.pth');
  const cut = write(pkl.subarray(0, member(pkl, 'data.pkl').data + 100));
  refuses(cut, /end-of-central-directory/);
});

test('maxBytes bounds the tensor data materialised', () => {
  refuses(join(FIX, 'sd_zip.pth'), /"conv1\.weight" .* limit of 100 bytes/, { maxBytes: 100 });
});

// ---- legacy format ----

/** Offset just past the magic, protocol and sys-info pickles of a legacy file. */
function legacyHeaderEnd(b: Uint8Array): number {
  let pos = 0;
  for (let i = 0; i < 3; i++) pos = unpickle(b, { file: 'x', start: pos, findClass: () => { throw new Error('no'); } }).end;
  return pos;
}

test('legacy: bad magic, truncation inside the pickles and inside the storages', () => {
  const good = fixture('sd_legacy.pth');
  const magic = Buffer.from(good);
  magic[5] ^= 0x01;
  refuses(write(magic), /bad magic number/);
  refuses(write(good.subarray(0, 200)), /ends early/);
  refuses(write(good.subarray(0, good.length - 1)), /file ends inside storage/);
  refuses(write(good.subarray(0, good.length - 10)), /file ends (inside|before) storage/);
  refuses(write(good.subarray(0, 3)), /ends early/);
});

test('legacy: a storage record whose element count disagrees with the pickle', () => {
  const good = fixture('sd_legacy.pth');
  let pos = legacyHeaderEnd(good);
  // only the end offsets matter here, not the values
  const persistentLoad = () => new StorageRef('0', 'float32', 1 << 20);
  pos = unpickle(good, { file: 'x', start: pos, findClass: findTorchGlobal, persistentLoad }).end; // object
  pos = unpickle(good, { file: 'x', start: pos, findClass: findTorchGlobal }).end; // keys
  const b = Buffer.from(good);
  b.writeBigInt64LE(b.readBigInt64LE(pos) + 1n, pos);
  refuses(write(b), /record holds \d+ elements, expected \d+/);
});

// A tiny pickle writer for hand-made legacy files (protocol 2 opcodes).
const u32 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
const str = (s: string) => [0x58, ...u32(Buffer.byteLength(s)), ...Buffer.from(s)];
const glob = (m: string, n: string) => [0x63, ...Buffer.from(`${m}\n${n}\n`, 'latin1')];
function int(n: number | bigint): number[] {
  let v = BigInt(n);
  const out: number[] = [];
  for (let i = 0; i < 9; i++, v >>= 8n) out.push(Number(v & 0xffn)); // LONG1, 9 bytes two's complement
  return [0x8a, 9, ...out];
}
const tuple = (...items: number[][]) => [0x28, ...items.flat(), 0x74];
const MARK = 0x28;
const STOP = 0x2e;

/** _rebuild_tensor_v2 on FloatStorage "0" of `numel` elements. */
function tensorOp(numel: number | bigint, size: (number | bigint)[], stride: (number | bigint)[], offset = 0): number[] {
  const pid = [...tuple(str('storage'), glob('torch', 'FloatStorage'), str('0'), str('cpu'), int(numel), [0x4e]), 0x51];
  return [
    ...glob('torch._utils', '_rebuild_tensor_v2'),
    ...tuple(pid, int(offset), tuple(...size.map(int)), tuple(...stride.map(int)), [0x89], [...glob('collections', 'OrderedDict'), 0x29, 0x52]),
    0x52,
  ];
}

/** A legacy file: the fixture's header pickles, `object`, the key list ['0'], then storage "0". */
function legacyFile(object: number[], storageNumel: number | bigint, storageBytes: number): Uint8Array {
  const good = fixture('sd_legacy.pth');
  const head = good.subarray(0, legacyHeaderEnd(good));
  const keys = [0x80, 2, 0x5d, ...str('0'), 0x61, STOP];
  const numel = Buffer.alloc(8);
  numel.writeBigInt64LE(BigInt(storageNumel));
  return Buffer.concat([head, Buffer.from([0x80, 2, ...object, STOP]), Buffer.from(keys), numel, Buffer.alloc(storageBytes)]);
}
const dict = (...pairs: number[][]) => [0x7d, MARK, ...pairs.flat(), 0x75];

test('hand-made legacy files: the writer itself produces a readable one', () => {
  const p = write(legacyFile(dict(str('w'), tensorOp(3, [3], [1])), 3, 12));
  assert.deepEqual([...loadTorchCheckpoint(p).tensors.get('w')!.data], [0, 0, 0]);
});

test('stride-0 expansion to 2^40 elements is refused by maxBytes, not allocated', () => {
  refuses(write(legacyFile(dict(str('w'), tensorOp(1, [2 ** 40], [0])), 1, 4)), /"w" \[1099511627776\] would pass the limit/);
});

test('absurd element counts and offsets are refused', () => {
  refuses(write(legacyFile(dict(str('w'), tensorOp(2 ** 40, [1], [1])), 2 ** 40, 4)), /file ends inside storage "0"/);
  refuses(write(legacyFile(dict(str('w'), tensorOp(2 ** 52, [1], [1])), 2 ** 52, 4)), /storage "0" claims 4503599627370496 elements/);
  refuses(write(legacyFile(dict(str('w'), tensorOp(2n ** 62n, [1], [1])), 1, 4)), /numel of storage "0" 4611686018427387904 is out of range/);
  refuses(write(legacyFile(dict(str('w'), tensorOp(1, [1], [1], 5)), 1, 4)), /reaches past its storage of 1 elements/);
  refuses(write(legacyFile(dict(str('w'), tensorOp(4, [2, 2], [2 ** 52, 1])), 4, 16)), /reaches past its storage/);
  refuses(write(legacyFile(dict(str('w'), tensorOp(1, [-1], [1])), 1, 4)), /size\[0\] -1 is out of range/);
  refuses(write(legacyFile(dict(str('w'), tensorOp(1, [1], [1], -2)), 1, 4)), /storage offset -2 is out of range/);
});

test('top-level objects that are not a state dict', () => {
  refuses(write(legacyFile([0x5d, ...tensorOp(1, [1], [1]), 0x61], 1, 4)), /top-level object is a list/);
  refuses(write(legacyFile(dict(str('epoch'), int(3)), 1, 4)), /storage "0" is listed but never used/);
  let nested = tensorOp(1, [1], [1]);
  for (let i = 0; i < 40; i++) nested = dict(str('d'), nested);
  refuses(write(legacyFile(nested, 1, 4)), /nested more than 32 deep/);
  // each level holds the one below twice: 2^30 paths through 30 small dicts
  let shared = [...dict(str('t'), tensorOp(1, [0], [1])), 0x71, 0];
  for (let i = 1; i <= 30; i++) shared = [...dict(str('a'), shared, str('b'), [0x68, i - 1]), 0x71, i];
  refuses(write(legacyFile(shared, 1, 4)), /more than 1000000 entries/);
});

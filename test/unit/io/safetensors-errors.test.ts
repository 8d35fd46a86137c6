import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tf } from '../../../src/engine/backend';
import { readSafetensors, writeSafetensors } from '../../../src/engine/io/safetensors';
import type { RawTensor } from '../../../src/engine/io/raw-tensor';

const FIX = join(__dirname, '../../fixtures/torch');
const dir = mkdtempSync(join(tmpdir(), 'safetensors-err-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function write(bytes: Uint8Array): string {
  const p = join(dir, `bad${counter++}.safetensors`);
  writeFileSync(p, bytes);
  return p;
}

/** A file with the given header (JSON text or object) and `dataBytes` zero bytes of data. */
function file(header: unknown, dataBytes: number): string {
  const text = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(text.length));
  return write(Buffer.concat([len, text, Buffer.alloc(dataBytes)]));
}

function refuses(p: string, re: RegExp): void {
  assert.throws(
    () => readSafetensors(p),
    (e: unknown) => e instanceof Error && e.message.includes(p) && re.test(e.message),
  );
}

const t = (dtype: string, shape: unknown, offsets: unknown) => ({ dtype, shape, data_offsets: offsets });

test('not a safetensors file: missing, short, absurd header length, bad JSON', () => {
  refuses(join(dir, 'nope.safetensors'), /file not found/);
  refuses(dir, /safetensors file is a folder, not a regular file/);
  refuses(write(Buffer.from([1, 2, 3])), /too short/);
  const huge = Buffer.alloc(16);
  huge.writeBigUInt64LE(2n ** 63n);
  refuses(write(huge), /header length 9223372036854775808 is impossible/);
  refuses(write(readFileSync(join(FIX, 'sd_zip.pth'))), /header length \d+ is impossible/);
  refuses(file('{"a": ', 0), /not valid UTF-8 JSON/);
  refuses(file(Buffer.from([0x7b, 0xff, 0x7d]).toString('latin1'), 0), /not valid UTF-8 JSON|is not a JSON object/);
  refuses(file('[1, 2]', 0), /is not a JSON object/);
});

test('truncated files', () => {
  const good = readFileSync(join(FIX, 'sd.safetensors'));
  refuses(write(good.subarray(0, good.length - 1)), /cover \d+ bytes but the data section holds \d+/);
  refuses(write(good.subarray(0, 100)), /header length \d+ is impossible/);
  refuses(write(Buffer.concat([good, Buffer.from([0])])), /trailing data/);
});

test('entries: unknown dtype, bad shape, bad offsets, size mismatch', () => {
  refuses(file({ a: t('F8_E4M3', [1], [0, 1]) }, 1), /"a" has unsupported dtype "F8_E4M3"/);
  refuses(file({ a: t('F32', [-1], [0, 4]) }, 4), /bad dimension -1/);
  refuses(file({ a: t('F32', [1.5], [0, 4]) }, 4), /bad dimension 1.5/);
  refuses(file({ a: t('F32', 'x', [0, 4]) }, 4), /"a" has no valid shape/);
  refuses(file({ a: t('F32', [2 ** 40, 2 ** 40], [0, 4]) }, 4), /too many elements/);
  refuses(file({ a: t('F32', [1], [4, 0]) }, 4), /bad data_offsets \[4, 0\]/);
  refuses(file({ a: t('F32', [1], [0]) }, 4), /no valid data_offsets/);
  refuses(file({ a: t('F32', [1], [-4, 0]) }, 4), /bad data_offsets/);
  refuses(file({ a: t('F32', [2], [0, 4]) }, 4), /"a" spans 4 bytes but shape \[2\] × F32 needs 8/);
  refuses(file({ a: t('F32', [1], [0, 4]) }, 400), /trailing data/);
  refuses(file({ a: t('F32', [1000], [0, 4000]) }, 4), /data section holds 4/);
  refuses(file({ a: 5 }, 0), /"a" is not an object/);
});

test('overlapping tensors and holes (polyglot files) are refused', () => {
  refuses(file({ a: t('F32', [2], [0, 8]), b: t('F32', [2], [4, 12]) }, 12), /"b" starts at 4, expected 8 \(overlapping data\)/);
  refuses(file({ a: t('F32', [1], [0, 4]), b: t('F32', [1], [8, 12]) }, 12), /"b" starts at 8, expected 4 \(a hole in the data\)/);
  refuses(file({ a: t('F32', [1], [0, 4]), b: t('F32', [1], [0, 4]) }, 4), /overlapping/);
});

test('metadata must map strings to strings', () => {
  refuses(file({ __metadata__: { epoch: 3 } }, 0), /metadata "epoch" is not a string/);
  refuses(file({ __metadata__: [] }, 0), /"__metadata__" is not an object/);
  const p = file('{"__metadata__":{"__proto__":"x"}}', 0);
  const m = readSafetensors(p).metadata;
  assert.equal(Object.getPrototypeOf(m), Object.prototype);
  assert.deepEqual(Object.keys(m), ['__proto__']);
});

function refusesWrite(tensors: Map<string, tf.Tensor | RawTensor>, re: RegExp, meta?: Record<string, string>, p = join(dir, 'w.safetensors')): void {
  assert.throws(
    () => writeSafetensors(p, tensors, meta),
    (e: unknown) => e instanceof Error && e.message.includes(p) && re.test(e.message),
  );
}

test('writer refuses what it cannot store and leaves no file behind', () => {
  const s = tf.tensor(['a'], [1], 'string');
  refusesWrite(new Map([['s', s]]), /"s" has dtype string/);
  s.dispose();
  const gone = tf.scalar(1);
  gone.dispose();
  refusesWrite(new Map([['g', gone]]), /"g" is a disposed tensor/);
  const raw: RawTensor = { dtype: 'float32', shape: [3], data: new Float32Array(2) };
  refusesWrite(new Map([['r', raw]]), /"r" has 2 values for shape \[3\]/);
  refusesWrite(new Map([['__metadata__', { ...raw, shape: [2] }]]), /invalid tensor name "__metadata__"/);
  refusesWrite(new Map([['', { ...raw, shape: [2] }]]), /invalid tensor name ""/);
  refusesWrite(new Map([['f', { dtype: 'int64', shape: [1], data: new Float64Array(1) } as unknown as RawTensor]]), /"f" is int64 but its data is a Float64Array/);
  refusesWrite(new Map([['x', { dtype: 'complex64', shape: [1], data: new Float32Array(1) } as unknown as RawTensor]]), /unsupported dtype complex64/);
  refusesWrite(new Map(), /metadata "n" is not a string/, { n: 3 } as unknown as Record<string, string>);
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('w.safetensors') || f.includes('.tmp')), []);
  const missingDir = join(dir, 'no', 'such', 'dir', 'x.safetensors');
  refusesWrite(new Map(), /cannot write safetensors/, undefined, missingDir);
});

test('a failed write leaves an existing file untouched', () => {
  const p = join(dir, 'keep.safetensors');
  writeSafetensors(p, new Map<string, RawTensor>([['a', { dtype: 'uint8', shape: [1], data: Uint8Array.from([9]) }]]));
  const before = readFileSync(p);
  refusesWrite(new Map([['b', { dtype: 'float32', shape: [2], data: new Float32Array(1) } as RawTensor]]), /"b" has 1 values/, undefined, p);
  assert.deepEqual(readFileSync(p), before);
});

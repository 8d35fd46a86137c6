import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tf } from '../../../src/engine/backend';
import { readSafetensors, writeSafetensors } from '../../../src/engine/io/safetensors';
import { checkpointToTensors, type RawTensor } from '../../../src/engine/io/raw-tensor';
import { loadTorchCheckpoint } from '../../../src/engine/io/torch-checkpoint';

const FIX = join(__dirname, '../../fixtures/torch');
const dir = mkdtempSync(join(tmpdir(), 'safetensors-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const expected = JSON.parse(readFileSync(join(FIX, 'expected.json'), 'utf8')).safetensors as {
  metadata: Record<string, string>;
  tensors: Record<string, { dtype: string; shape: number[]; values: (number | string)[]; bits?: number[] }>;
};
const RAW: Record<string, string> = { F64: 'float64', F32: 'float32', F16: 'float16', BF16: 'bfloat16', I64: 'int64', I32: 'int32', U8: 'uint8', BOOL: 'bool' };

test('reads every dtype of a spec-conformant file exactly', () => {
  const { tensors, metadata } = readSafetensors(join(FIX, 'sd.safetensors'));
  assert.deepEqual(metadata, expected.metadata);
  assert.deepEqual([...tensors.keys()].sort(), Object.keys(expected.tensors).sort());
  for (const [name, e] of Object.entries(expected.tensors)) {
    const t = tensors.get(name)!;
    assert.equal(t.dtype, RAW[e.dtype], name);
    assert.deepEqual(t.shape, e.shape, name);
    if (e.bits) assert.deepEqual([...t.data], e.bits, name);
    else if (t.dtype === 'int64') assert.deepEqual([...t.data].map(String), e.values, name);
    else assert.deepEqual([...t.data], e.values, name);
  }
});

test('16-bit floats decode to the values torch computes', () => {
  const { tensors } = readSafetensors(join(FIX, 'sd.safetensors'));
  const ts = checkpointToTensors(new Map([...tensors].filter(([k]) => k === 'b.f16' || k === 'c.bf16')));
  try {
    assert.deepEqual([...ts.get('b.f16')!.dataSync()], expected.tensors['b.f16'].values);
    assert.deepEqual([...ts.get('c.bf16')!.dataSync()], expected.tensors['c.bf16'].values);
  } finally {
    for (const t of ts.values()) t.dispose();
  }
});

test('rewriting what was read reproduces the file byte for byte (reference layout)', () => {
  const src = join(FIX, 'sd.safetensors');
  const { tensors, metadata } = readSafetensors(src);
  const out = join(dir, 'rewrite.safetensors');
  writeSafetensors(out, tensors, metadata);
  assert.deepEqual(readFileSync(out), readFileSync(src));
});

test('round trip of tf tensors (float32, int32, bool) and raw tensors, with metadata', () => {
  const a = tf.tensor([[1.5, -2], [3.25, 1e-8]], [2, 2], 'float32');
  const b = tf.tensor([-(2 ** 31), 7, 2 ** 31 - 1], [3], 'int32');
  const c = tf.tensor([true, false, true], [3], 'bool');
  const s = tf.scalar(42.5);
  const half: RawTensor = { dtype: 'float16', shape: [2], data: Uint16Array.from([0x3c00, 0xfbff]) };
  const big: RawTensor = { dtype: 'int64', shape: [1], data: BigInt64Array.from([-(2n ** 63n)]) };
  const p = join(dir, 'round.safetensors');
  const meta = { format: 'pt', epoch: '3', 'ünï': 'cödé ✓' };
  writeSafetensors(p, new Map<string, tf.Tensor | RawTensor>([['a', a], ['b', b], ['c', c], ['s', s], ['half', half], ['big', big]]), meta);
  const back = readSafetensors(p);
  assert.deepEqual(back.metadata, meta);
  assert.deepEqual(back.tensors.get('a'), { dtype: 'float32', shape: [2, 2], data: Float32Array.from([1.5, -2, 3.25, 1e-8]) });
  assert.deepEqual(back.tensors.get('b'), { dtype: 'int32', shape: [3], data: Int32Array.from([-(2 ** 31), 7, 2 ** 31 - 1]) });
  assert.deepEqual(back.tensors.get('c'), { dtype: 'bool', shape: [3], data: Uint8Array.from([1, 0, 1]) });
  assert.deepEqual(back.tensors.get('s'), { dtype: 'float32', shape: [], data: Float32Array.from([42.5]) });
  assert.deepEqual(back.tensors.get('half'), half);
  assert.deepEqual(back.tensors.get('big'), big);
  for (const t of [a, b, c, s]) t.dispose();
  // header padded so data starts 8-byte aligned; no temp files left behind
  const bytes = readFileSync(p);
  assert.equal(Number(bytes.readBigUInt64LE(0)) % 8, 0);
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
});

test('tensors are laid out widest dtype first, then by name, each aligned to its item size', () => {
  const p = join(dir, 'order.safetensors');
  writeSafetensors(p, new Map<string, RawTensor>([
    ['z8', { dtype: 'uint8', shape: [3], data: Uint8Array.from([1, 2, 3]) }],
    ['b64', { dtype: 'int64', shape: [1], data: BigInt64Array.from([5n]) }],
    ['a32', { dtype: 'float32', shape: [1], data: Float32Array.from([1]) }],
    ['a64', { dtype: 'float64', shape: [1], data: Float64Array.from([2]) }],
  ]));
  const bytes = readFileSync(p);
  const header = JSON.parse(bytes.toString('utf8', 8, 8 + Number(bytes.readBigUInt64LE(0))));
  assert.deepEqual(Object.keys(header), ['b64', 'a64', 'a32', 'z8']);
  assert.deepEqual(header.b64.data_offsets, [0, 8]);
  assert.deepEqual(header.a32.data_offsets, [16, 20]);
  assert.deepEqual(header.z8.data_offsets, [20, 23]);
});

test('a torch checkpoint (every dtype) converts to safetensors losslessly', () => {
  const ck = loadTorchCheckpoint(join(FIX, 'sd_zip.pth'));
  const p = join(dir, 'from-torch.safetensors');
  writeSafetensors(p, ck.tensors, { source: 'sd_zip.pth' });
  assert.deepEqual(readSafetensors(p).tensors, ck.tensors);
});

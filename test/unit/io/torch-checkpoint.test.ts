import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tf } from '../../../src/engine/backend';
import { loadTorchCheckpoint } from '../../../src/engine/io/torch-checkpoint';
import { checkpointToTensors, type RawTensor } from '../../../src/engine/io/raw-tensor';

const FIX = join(__dirname, '../../fixtures/torch');

interface Expected {
  dtype: string;
  shape: number[];
  values: (number | string)[];
  bits?: number[];
}
const expected = JSON.parse(readFileSync(join(FIX, 'expected.json'), 'utf8')) as {
  tensors: Record<string, Expected>;
  medicalnet: Record<string, Expected>;
  files: Record<string, { format: string; stateDictKey: string | null; keys: string[]; metadata: Record<string, unknown> }>;
};

function decodeFloat(v: number | string): number {
  return v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : (v as number);
}

/** Exact comparison of one raw tensor with torch's record of it. */
function assertMatches(name: string, t: RawTensor, e: Expected): void {
  assert.equal(t.dtype, e.dtype, name);
  assert.deepEqual(t.shape, e.shape, name);
  assert.equal(t.data.length, e.values.length, name);
  if (t.dtype === 'float16' || t.dtype === 'bfloat16') {
    assert.deepEqual([...t.data], e.bits, name);
  } else if (t.dtype === 'int64') {
    assert.deepEqual([...t.data].map(String), e.values, name);
  } else {
    [...t.data].forEach((v, i) => assert.ok(Object.is(v, decodeFloat(e.values[i])) || v === e.values[i], `${name}[${i}]: ${v} vs ${e.values[i]}`));
  }
}

for (const file of ['sd_zip.pth', 'sd_legacy.pth']) {
  test(`${file}: every dtype, view and shared storage matches torch`, () => {
    const ck = loadTorchCheckpoint(join(FIX, file));
    const meta = expected.files[file];
    assert.equal(ck.format, meta.format);
    assert.equal(ck.stateDictKey, null);
    assert.deepEqual(ck.metadata, {});
    assert.deepEqual(ck.skipped, []);
    assert.deepEqual([...ck.tensors.keys()], meta.keys);
    for (const [k, t] of ck.tensors) assertMatches(k, t, expected.tensors[k]);
  });
}

test('deflated members, zip64 extra fields and zip64 end records', () => {
  const ref = loadTorchCheckpoint(join(FIX, 'sd_zip.pth'));
  const deflated = loadTorchCheckpoint(join(FIX, 'sd_deflate64.pth'));
  assert.deepEqual(deflated.tensors, ref.tensors);
  // saturate the classic end record so only the zip64 one holds the real values
  const b = readFileSync(join(FIX, 'sd_deflate64.pth'));
  const eocd = b.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  b.writeUInt16LE(0xffff, eocd + 8);
  b.writeUInt16LE(0xffff, eocd + 10);
  b.writeUInt32LE(0xffffffff, eocd + 12);
  b.writeUInt32LE(0xffffffff, eocd + 16);
  const dir = mkdtempSync(join(tmpdir(), 'zip64-'));
  try {
    const p = join(dir, 'zip64.pth');
    writeFileSync(p, b);
    assert.deepEqual(loadTorchCheckpoint(p).tensors, ref.tensors);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('views are materialised as independent copies in C order', () => {
  const ck = loadTorchCheckpoint(join(FIX, 'sd_zip.pth'));
  // base = arange(12).reshape(3, 4) * 0.5; stored transposed (strides 1, 4)
  assert.deepEqual([...ck.tensors.get('fc.weight_t')!.data], [0, 2, 4, 0.5, 2.5, 4.5, 1, 3, 5, 1.5, 3.5, 5.5]);
  // buf = arange(20) - 3: shared.c = buf.view(4, 5)[:, 1:4]
  assert.deepEqual([...ck.tensors.get('shared.c')!.data], [-2, -1, 0, 3, 4, 5, 8, 9, 10, 13, 14, 15]);
  const a = ck.tensors.get('shared.a')!.data as Float32Array;
  a[0] = 99;
  assert.equal(ck.tensors.get('shared.b')!.data[0], 7);
});

test('MedicalNet-style legacy checkpoint: nested state_dict, scalar metadata, optimizer ignored', () => {
  const ck = loadTorchCheckpoint(join(FIX, 'medicalnet_legacy.pth'));
  const meta = expected.files['medicalnet_legacy.pth'];
  assert.equal(ck.format, 'legacy');
  assert.equal(ck.stateDictKey, 'state_dict');
  assert.deepEqual(ck.metadata, meta.metadata);
  assert.deepEqual([...ck.tensors.keys()], meta.keys);
  for (const [k, t] of ck.tensors) assertMatches(k, t, expected.medicalnet[k]);
});

test('stripPrefix removes DataParallel\'s "module."', () => {
  const ck = loadTorchCheckpoint(join(FIX, 'medicalnet_legacy.pth'), { stripPrefix: 'module.' });
  assert.deepEqual(
    [...ck.tensors.keys()],
    expected.files['medicalnet_legacy.pth'].keys.map((k) => k.slice('module.'.length)),
  );
});

test("{'model': state dict, ...} exposes the model and its plain scalar entries", () => {
  const ck = loadTorchCheckpoint(join(FIX, 'model_zip.pth'));
  const meta = expected.files['model_zip.pth'];
  assert.equal(ck.stateDictKey, 'model');
  assert.deepEqual(ck.metadata, meta.metadata); // 'history' (a list) is not a scalar
  assert.deepEqual([...ck.tensors.keys()], meta.keys);
  for (const [k, t] of ck.tensors) assertMatches(k, t, expected.tensors[k]);
});

test('checkpointToTensors: half and bfloat16 to float32, int64 to int32, bool kept', () => {
  const ck = loadTorchCheckpoint(join(FIX, 'sd_zip.pth'));
  const wanted = new Map([...ck.tensors].filter(([k]) => ['half.weight', 'bf16.weight', 'bn1.num_batches_tracked', 'mask', 'f64', 'i8', 'u8'].includes(k)));
  const before = tf.memory().numTensors;
  const ts = checkpointToTensors(wanted, 'sd_zip.pth');
  try {
    const half = ts.get('half.weight')!;
    assert.equal(half.dtype, 'float32');
    assert.deepEqual(half.shape, [2, 4]);
    const hv = [...half.dataSync()];
    expected.tensors['half.weight'].values.forEach((v, i) => assert.ok(Object.is(hv[i], decodeFloat(v)), `half[${i}]`));
    const bf = [...ts.get('bf16.weight')!.dataSync()];
    expected.tensors['bf16.weight'].values.forEach((v, i) => assert.ok(Object.is(bf[i], decodeFloat(v)), `bf16[${i}]`));
    const nbt = ts.get('bn1.num_batches_tracked')!;
    assert.equal(nbt.dtype, 'int32');
    assert.deepEqual(nbt.shape, []);
    assert.deepEqual([...nbt.dataSync()], [7]);
    assert.equal(ts.get('mask')!.dtype, 'bool');
    assert.deepEqual([...ts.get('mask')!.dataSync()], [1, 0, 1]);
    assert.deepEqual([...ts.get('f64')!.dataSync()], [Math.fround(Math.PI), -0]);
    assert.deepEqual([...ts.get('i8')!.dataSync()], [-128, 127]);
    assert.deepEqual([...ts.get('u8')!.dataSync()], [0, 255, 7]);
  } finally {
    for (const t of ts.values()) t.dispose();
  }
  assert.equal(tf.memory().numTensors, before);
});

test('checkpointToTensors refuses int64 values outside int32 and leaks nothing', () => {
  const ck = loadTorchCheckpoint(join(FIX, 'sd_zip.pth'));
  const before = tf.memory().numTensors;
  assert.throws(() => checkpointToTensors(ck.tensors, 'sd_zip.pth'), /sd_zip\.pth: "big\.int64" holds int64 value 1099511627779 at index 0/);
  assert.equal(tf.memory().numTensors, before);
});

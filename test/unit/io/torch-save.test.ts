// saveTorchCheckpoint writes torch.save's legacy format (MedicalNet's): our
// reader and PyTorch's torch.load (weights_only) read back the same names,
// shapes, dtypes and values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveTorchCheckpoint, type SaveTensor } from '../../../src/engine/io/torch-save';
import { loadTorchCheckpoint } from '../../../src/engine/io/torch-checkpoint';
import { findTorchPython } from '../torch-python';

const dir = mkdtempSync(join(tmpdir(), 'torch-save-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const torchPython = findTorchPython();

function tensors(): Map<string, SaveTensor> {
  const f = (shape: number[], k: number) => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(k + i) * 3) });
  return new Map<string, SaveTensor>([
    ['module.conv1.weight', f([4, 1, 3, 3, 3], 1)],
    ['module.bn1.weight', f([4], 2)],
    ['module.bn1.num_batches_tracked', { shape: [], data: BigInt64Array.of(123456789012n) }],
    ['module.layer1.0.conv1.weight', f([4, 4, 3, 3, 3], 3)],
    ['module.scale', f([], 4)],
    ['conv_seg.1.bias', f([0], 5)],
  ]);
}

test('our reader reads back every tensor and the scalars (MedicalNet layout)', () => {
  const path = join(dir, 'a.pth');
  const want = tensors();
  saveTorchCheckpoint(path, want, { scalars: { ecpoch: 200 } });
  const ck = loadTorchCheckpoint(path);
  assert.equal(ck.format, 'legacy');
  assert.equal(ck.stateDictKey, 'state_dict');
  assert.deepEqual(ck.metadata, { ecpoch: 200 });
  assert.deepEqual([...ck.tensors.keys()], [...want.keys()]);
  for (const [name, t] of want) {
    const got = ck.tensors.get(name)!;
    assert.deepEqual(got.shape, t.shape, name);
    assert.equal(got.dtype, t.data instanceof Float32Array ? 'float32' : 'int64', name);
    assert.deepEqual(Array.from(got.data as ArrayLike<number | bigint>), Array.from(t.data as ArrayLike<number | bigint>), name);
  }
});

test('a tensor whose values do not fit its shape is refused before anything is written', () => {
  const bad = new Map<string, SaveTensor>([['w', { shape: [2, 3], data: new Float32Array(5) }]]);
  assert.throws(() => saveTorchCheckpoint(join(dir, 'bad.pth'), bad), /bad\.pth: tensor "w" has 5 values for shape \[2, 3\]/);
});

test('PyTorch loads it with weights_only=True: same names, shapes, dtypes and values', { skip: torchPython.python ? false : torchPython.why, timeout: 120_000 }, () => {
  const path = join(dir, 'b.pth');
  const want = tensors();
  saveTorchCheckpoint(path, want, { scalars: { ecpoch: 7 } });
  const script = `
import json, sys, torch
ck = torch.load(sys.argv[1], map_location="cpu", weights_only=True)
out = {"ecpoch": ck["ecpoch"], "type": type(ck["state_dict"]).__name__, "tensors": [
  [k, list(v.shape), str(v.dtype), v.reshape(-1).tolist(), list(v.stride())] for k, v in ck["state_dict"].items()]}
print(json.dumps(out))
`;
  const r = spawnSync(torchPython.python!, ['-c', script, path], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout) as { ecpoch: number; type: string; tensors: [string, number[], string, number[], number[]][] };
  assert.equal(got.ecpoch, 7);
  assert.equal(got.type, 'OrderedDict');
  assert.deepEqual(got.tensors.map((t) => t[0]), [...want.keys()]);
  for (const [name, shape, dtype, values] of got.tensors) {
    const t = want.get(name)!;
    assert.deepEqual(shape, t.shape, name);
    assert.equal(dtype, t.data instanceof Float32Array ? 'torch.float32' : 'torch.int64', name);
    const expected = Array.from(t.data as ArrayLike<number | bigint>, Number);
    assert.deepEqual(values, expected, name);
  }
});

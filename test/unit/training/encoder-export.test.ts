// The image encoder for PyTorch users: metadata.json (from the config alone)
// and model.safetensors, loaded by the committed scripts/torch/load_encoder.py
// into a PyTorch module whose forward pass matches the engine's on a fixed
// input. Skips when no python3 with torch is found (CI installs python3-torch).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { tf } from '../../../src/engine/backend';
import { resolveConfig } from '../../../src/engine/config/resolve';
import { MarkerClassifier } from '../../../src/engine/model/classifier';
import { loadTorchState, torchStateDict } from '../../../src/engine/networks/module';
import { saveModelWeights } from '../../../src/engine/training/checkpoint';
import { encoderMetadata, writeEncoderMetadata } from '../../../src/engine/training/encoder-metadata';
import { findTorchPython } from '../torch-python';

const ROOT = resolve(__dirname, '../../..');
const SCRIPT = join(ROOT, 'scripts/torch/load_encoder.py');
const dir = mkdtempSync(join(tmpdir(), 'encoder-export-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const torchPython = findTorchPython();

test('metadata.json describes the encoder, its input and outputs from the config alone', () => {
  const config = resolveConfig({ data: { shape: [32, 32, 24], normalization: 'zscore' }, image: { depth: 18, width: 2, outputStride: 16 } }, 'inline');
  writeEncoderMetadata(dir, config);
  const meta = JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8'));
  assert.deepEqual(meta, encoderMetadata(config));
  assert.equal(meta.format, 'mrcl-image-encoder-1');
  assert.equal(meta.weights, 'model.safetensors');
  assert.equal(meta.keyPrefix, 'image_encoder.');
  assert.deepEqual(meta.network, {
    architecture: 'resnet3d-basicblock',
    depth: 18,
    blocks: [2, 2, 2, 2],
    width: 2,
    shortcut: 'A', // the default for depth 18 (MedicalNet's pairing)
    outputStride: 16,
    layer3: { stride: 2, dilation: 1 },
    layer4: { stride: 1, dilation: 2 },
    selfAttention: true,
    attentionScale: false,
    attentionResidual: true,
    attentionRegisters: 0,
    batchNormEps: 1e-5,
  });
  assert.deepEqual(meta.input.shape, [1, 1, 32, 32, 24]);
  assert.equal(meta.input.orientation, 'RAS');
  assert.equal(meta.input.normalization.mode, 'zscore');
  // 32 → 16 (conv1) → 8 (maxpool) → 4 (layer2) → 2 (layer3) → 2 (layer4, dilated); 24 → 12 → 6 → 3 → 2 → 2
  assert.deepEqual(meta.output.layer4.shape, [1, 16, 2, 2, 2]);
  assert.deepEqual(meta.output.global.shape, [1, 16]);
  assert.deepEqual(meta.output.attention?.shape, [1, 8, 8]);
  const plain = encoderMetadata(resolveConfig({ image: { selfAttention: false, shortcut: 'B' } }, 'inline'));
  assert.equal(plain.output.attention, undefined);
  assert.equal(plain.output.layer4.description, 'layer4');
  assert.equal(plain.network.shortcut, 'B');
  // image.dilate false and image.attentionScale reach the metadata
  const undilated = encoderMetadata(resolveConfig({ image: { outputStride: 8, dilate: false, attentionScale: true } }, 'inline'));
  assert.deepEqual([undilated.network.layer3, undilated.network.layer4, undilated.network.attentionScale], [{ stride: 1, dilation: 1 }, { stride: 1, dilation: 1 }, true]);
  // image.attentionResidual false: recorded, and the layer4 output described without the residual
  const plainAttention = encoderMetadata(resolveConfig({ image: { attentionResidual: false } }, 'inline'));
  assert.equal(plainAttention.network.attentionResidual, false);
  assert.equal(plainAttention.output.layer4.description, 'layer4 after self-attention without the residual: gamma * attended values');
  assert.equal(meta.output.layer4.description, 'layer4 after self-attention: gamma * attended values + layer4');
  // image.attentionRegisters: recorded, and the attention described as the positions' share
  const registers = encoderMetadata(resolveConfig({ image: { attentionRegisters: 4 } }, 'inline'));
  assert.equal(registers.network.attentionRegisters, 4);
  assert.match(registers.output.attention!.description, /4 registers .*positions' columns only/);
});

/** A deterministic value in [lo, hi) for index i (no RNG state to share with Python). */
const det = (i: number, lo: number, hi: number) => lo + (hi - lo) * ((Math.sin(i * 12.9898 + 78.233) * 43758.5453) % 1 + 1) % 1;

const CASES = [
  { name: 'depth 10, shortcut B, output stride 16', image: { depth: 10, width: 2, outputStride: 16 }, shape: [32, 32, 24] },
  { name: 'depth 18, shortcut A, output stride 8', image: { depth: 18, width: 2, outputStride: 8, shortcut: 'A' }, shape: [16, 16, 16] },
  { name: 'depth 18, output stride 8 undilated, scaled self-attention', image: { depth: 18, width: 2, outputStride: 8, dilate: false, attentionScale: true }, shape: [16, 16, 16] },
  { name: 'depth 18, output stride 8 undilated, self-attention without the residual', image: { depth: 18, width: 2, outputStride: 8, dilate: false, attentionScale: true, attentionResidual: false }, shape: [16, 16, 16] },
  { name: 'depth 10, output stride 8 undilated, self-attention with 3 registers', image: { depth: 10, width: 2, outputStride: 8, dilate: false, attentionScale: true, attentionRegisters: 3 }, shape: [16, 16, 16] },
] as const;

for (const c of CASES) {
  test(`load_encoder.py rebuilds the encoder from metadata.json and matches the engine's forward pass (${c.name})`, { skip: torchPython.python ? false : torchPython.why, timeout: 120_000 }, () => {
    const out = mkdtempSync(join(dir, 'case-'));
    const config = resolveConfig({ data: { shape: [...c.shape] }, image: { ...c.image } }, 'inline');
    const model = new MarkerClassifier(config, 7);
    try {
      // non-trivial BN statistics and γ, so every part of the forward pass counts
      const state = torchStateDict(model.image);
      const changed = new Map<string, tf.Tensor>();
      let n = 0;
      for (const [name, t] of state) {
        const size = t.size;
        if (name.endsWith('running_var')) changed.set(name, tf.tensor(Array.from({ length: size }, () => det(n++, 0.5, 1.5)), t.shape));
        else if (/bn\d\.(weight|bias|running_mean)$|downsample\.1\.(weight|bias|running_mean)$/.test(name)) changed.set(name, tf.tensor(Array.from({ length: size }, () => det(n++, -0.3, 0.5)), t.shape));
        else if (name === 'self_attention.gamma') changed.set(name, tf.tensor([0.7], t.shape));
        // the registers' keys large enough to take a share, their values (zero at the start) non-zero
        else if (name.startsWith('self_attention.register_')) changed.set(name, tf.tensor(Array.from({ length: size }, () => det(n++, -2, 2)), t.shape));
        else changed.set(name, t.clone());
      }
      for (const t of state.values()) t.dispose();
      loadTorchState(model.image, changed, { strict: true });
      for (const t of changed.values()) t.dispose();
      saveModelWeights(join(out, 'model.safetensors'), model, config);
      writeEncoderMetadata(out, config);

      const [X, Y, Z] = c.shape;
      // input in PyTorch's C order [1, 1, X, Y, Z] = the engine's NDHWC [1, X, Y, Z, 1]
      const input = Float32Array.from({ length: X * Y * Z }, (_, i) => det(i + 1000, -1, 2));
      writeFileSync(join(out, 'x.f32'), Buffer.from(input.buffer));
      const x = tf.tensor5d(input, [1, X, Y, Z, 1]);
      const enc = model.image.apply(x, { training: false });
      x.dispose();
      const r = spawnSync(torchPython.python!, [SCRIPT, join(out, 'metadata.json'), '--input', join(out, 'x.f32'), '--output', join(out, 'out.json')], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const py = JSON.parse(readFileSync(join(out, 'out.json'), 'utf8')) as Record<string, { shape: number[]; data: number[] }>;
      // layer4: engine NDHWC → PyTorch NCDHW
      const l4 = enc.layer4.transpose([0, 4, 1, 2, 3]);
      const expect: Record<string, tf.Tensor> = { layer4: l4, global: enc.global, attention: enc.attention! };
      for (const [k, t] of Object.entries(expect)) {
        assert.deepEqual(py[k]!.shape, t.shape, k);
        const e = t.dataSync();
        let worst = 0;
        e.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - py[k]!.data[i]!) / (1 + Math.abs(v)))));
        assert.ok(worst < 1e-4, `${k}: largest difference ${worst}`);
      }
      // the outputs are not trivially constant
      const g = Array.from(enc.global.dataSync());
      assert.ok(Math.max(...g) - Math.min(...g) > 1e-3, 'global varies over channels');
      for (const t of [l4, enc.layer3, enc.layer4, enc.global, enc.attention]) t?.dispose();
    } finally {
      model.dispose();
    }
  });
}

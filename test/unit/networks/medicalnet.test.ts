// The encoder against PyTorch: checkpoints and reference outputs made by
// test/fixtures/resnet/make_fixtures.py, loaded through loadMedicalNet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tf } from '../../../src/engine/backend';
import { loadMedicalNet, loadMedicalNetState } from '../../../src/engine/networks/medicalnet';
import { torchStateDict } from '../../../src/engine/networks/module';
import { resnet3d10, resnet3d18, type EncoderStage, type ImageEncoderOutput, type ResNet3dEncoder } from '../../../src/engine/networks/resnet3d';
import { assertClose, cpu, maxAbsDiff, noLeaks } from './helpers';
import { compareEncoderOutputs, disposeEncoderOutputs, FIXTURES, lossWeights, reference, referenceInput, type Outputs } from './reference';

const TOL = 1e-4;
const CASES = [
  { name: 'r18a', file: 'r18a_w2', attention: true },
  { name: 'r10b', file: 'r10b_w2', attention: false },
] as const;

function build(
  name: 'r18a' | 'r10b',
  options: { trainableFrom?: EncoderStage; selfAttention?: boolean; shortcutAGradient?: boolean; frozenBatchNorm?: 'train' | 'eval'; attentionRegisters?: number } = {},
): ResNet3dEncoder {
  // no dropout anywhere (a mask cannot be matched across frameworks)
  const common = { width: 2, init: 'zeros' as const, dropout: 0, attentionDropout: 0, ...options };
  return name === 'r18a' ? resnet3d18(common) : resnet3d10({ selfAttention: false, ...common });
}

function compare(o: ImageEncoderOutput, r: Outputs, what: string): void {
  compareEncoderOutputs(o, r, what, 1, true);
}

const disposeOut = disposeEncoderOutputs;

for (const c of CASES) {
  for (const format of ['', '_legacy']) {
    test(`${c.name}${format}: eval outputs match PyTorch after loadMedicalNet`, async () => {
      await cpu();
      const ref = reference(c.name);
      const enc = build(c.name);
      const res = loadMedicalNet(enc, join(FIXTURES, `${c.file}${format}.pth`));
      assert.deepEqual(res.ignored, ['module.conv_seg.0.weight', 'module.conv_seg.0.bias']);
      assert.deepEqual(res.keptInitial, []);
      const x = referenceInput(ref.inputShape);
      await noLeaks('eval forward', () => disposeOut(enc.apply(x)));
      const o = enc.apply(x);
      compare(o, ref.eval, 'eval');
      disposeOut(o);
      x.dispose();
      enc.dispose();
    });
  }

  test(`${c.name}: training-mode BN outputs and running statistics match PyTorch (all trainable, and conv1–layer2 frozen with frozenBatchNorm 'train' and 'eval')`, async () => {
    await cpu();
    const ref = reference(c.name);
    const x = referenceInput(ref.inputShape);
    for (const [key, from, frozenBatchNorm] of [
      ['trainAll', 'conv1', 'train'],
      // requires_grad = False only (the authors' code): the frozen BNs still normalise with batch statistics
      ['trainAll', 'layer3', 'train'],
      // frozen stages in eval mode: running statistics, kept
      ['trainFrozen', 'layer3', 'eval'],
    ] as const) {
      const enc = build(c.name, { trainableFrom: from, frozenBatchNorm });
      loadMedicalNet(enc, join(FIXTURES, `${c.file}.pth`));
      const o = enc.apply(x, { training: true });
      compare(o, ref[key], key);
      disposeOut(o);
      const sd = torchStateDict(enc);
      const names = Object.keys(ref[key].stats);
      assert.ok(names.length >= 3 * 9);
      for (const n of names) assertClose(sd.get(n)!.dataSync(), ref[key].stats[n], TOL, `${key} ${n}`);
      tf.dispose([...sd.values()]);
      enc.dispose();
    }
    x.dispose();
  });

  test(`${c.name}: gradients match PyTorch's autograd (shortcut A detached, as MedicalNet)`, async () => {
    await cpu();
    const ref = reference(c.name);
    const x = referenceInput(ref.inputShape);
    const gradients = (enc: ResNet3dEncoder) => {
      const names = Object.keys(ref.grad).filter((k) => k !== 'loss');
      const vars = new Map(enc.namedParameters());
      const perms = enc.torchPermutations();
      const { value, grads } = tf.variableGrads(
        () =>
          tf.tidy(() => {
            const o = enc.apply(x);
            const w = tf.tensor1d(lossWeights(o.global.size));
            return o.global.reshape([-1]).mul(w).sum().add(o.layer3.square().mean().mul(0.1)) as tf.Scalar;
          }),
        names.map((n) => vars.get(n)!),
      );
      const out = new Map<string, Float32Array>();
      for (const n of names) {
        const g = grads[vars.get(n)!.name];
        out.set(n, tf.tidy(() => (perms.has(n) ? tf.transpose(g, perms.get(n)) : g).dataSync() as Float32Array));
      }
      const loss = value.dataSync()[0];
      tf.dispose([value, ...Object.values(grads)]);
      return { loss, out };
    };
    const enc = build(c.name, { trainableFrom: 'conv1' });
    loadMedicalNet(enc, join(FIXTURES, `${c.file}.pth`));
    await noLeaks('gradient', () => void gradients(enc));
    const { loss, out } = gradients(enc);
    assertClose([loss], [ref.grad.loss], TOL, 'loss');
    for (const [n, g] of out) assertClose(g, ref.grad[n], 1e-4 * Math.max(1, ...ref.grad[n].map(Math.abs)), `∂L/∂${n}`);
    enc.dispose();
    if (c.name === 'r18a') {
      // a gradient through shortcut A reaches layer3 differently: the fixture tells the two apart
      const open = build(c.name, { trainableFrom: 'conv1', shortcutAGradient: true });
      loadMedicalNet(open, join(FIXTURES, `${c.file}.pth`));
      const g = gradients(open).out.get('layer3.0.conv1.weight')!;
      assert.ok(maxAbsDiff(g, ref.grad['layer3.0.conv1.weight']) > 1e-2);
      open.dispose();
    }
    x.dispose();
  });
}

test('a MedicalNet checkpoint without self-attention loads into the encoder with it (γ = 0 keeps layer4)', async () => {
  await cpu();
  const ref = reference('r10b');
  const enc = build('r10b', { selfAttention: true });
  const res = loadMedicalNet(enc, join(FIXTURES, 'r10b_w2.pth'));
  assert.deepEqual(res.keptInitial, [
    'self_attention.gamma',
    'self_attention.key_conv.weight',
    'self_attention.key_conv.bias',
    'self_attention.query_conv.weight',
    'self_attention.query_conv.bias',
    'self_attention.value_conv.weight',
    'self_attention.value_conv.bias',
  ]);
  const x = referenceInput(ref.inputShape);
  const o = enc.apply(x);
  assertClose(o.layer4.dataSync(), ref.eval.layer4, TOL, 'layer4');
  assertClose(o.global.dataSync(), ref.eval.global, TOL, 'global');
  disposeOut(o);
  x.dispose();
  enc.dispose();
});

test('a checkpoint with self-attention but without registers (the stand-in, a run before image.attentionRegisters) loads into an encoder with them; the registers keep their start', async () => {
  await cpu();
  const source = build('r10b', { selfAttention: true });
  source.selfAttention!.gamma.assign(tf.tensor1d([0.3]));
  const state = torchStateDict(source);
  const enc = build('r10b', { selfAttention: true, attentionRegisters: 2 });
  await noLeaks('loading into an encoder with registers', () => {
    const res = loadMedicalNetState(enc, state, 'standin.pth');
    assert.deepEqual(res.keptInitial, ['self_attention.register_key', 'self_attention.register_value']);
  });
  assert.deepEqual(enc.selfAttention!.gamma.dataSync(), Float32Array.from([0.3]), 'the block itself loads');
  // every other missing self-attention tensor is still refused
  const lacking = new Map([...state].filter(([k]) => k !== 'self_attention.gamma'));
  assert.throws(() => loadMedicalNetState(enc, lacking, 'standin.pth'), /standin\.pth: .*missing keys \(1\): self_attention\.gamma/);
  tf.dispose([...state.values()]);
  source.dispose();
  enc.dispose();
});

test('mismatched checkpoints fail with every problem listed and the file named', async () => {
  await cpu();
  const file = join(FIXTURES, 'r18a_w2.pth');
  // shortcut B expects downsample weights the A checkpoint lacks
  const b = resnet3d18({ width: 2, init: 'zeros', shortcut: 'B' });
  assert.throws(
    () => loadMedicalNet(b, file),
    (e: unknown) =>
      e instanceof Error &&
      e.message.startsWith(file) &&
      /missing keys \(15\): layer2\.0\.downsample\.0\.weight, layer2\.0\.downsample\.1\.weight/.test(e.message),
  );
  b.dispose();
  // a depth-10 encoder: unexpected second blocks
  const ten = resnet3d10({ width: 2, init: 'zeros', shortcut: 'A' });
  assert.throws(() => loadMedicalNet(ten, file), /unexpected keys \(\d+\): layer1\.1\.conv1\.weight/);
  const res = loadMedicalNet(ten, file, { strict: false });
  assert.ok(res.ignored.includes('layer1.1.conv1.weight'));
  ten.dispose();
  // width 4: every shape is wrong, and every one is reported
  const wide = resnet3d18({ width: 4, init: 'zeros' });
  assert.throws(
    () => loadMedicalNet(wide, file),
    (e: unknown) => e instanceof Error && e.message.includes(file) && /conv1\.weight: shape \[2,1,7,7,7\] does not match the model's \[4,1,7,7,7\]/.test(e.message) && /self_attention\.value_conv\.bias/.test(e.message),
  );
  wide.dispose();
  // a file that is not a checkpoint
  const dir = mkdtempSync(join(tmpdir(), 'medicalnet-'));
  try {
    const junk = join(dir, 'junk.pth');
    writeFileSync(junk, 'not a checkpoint');
    const enc = build('r18a');
    assert.throws(() => loadMedicalNet(enc, junk), (e: unknown) => e instanceof Error && e.message.includes(junk));
    assert.throws(() => loadMedicalNet(enc, join(dir, 'absent.pth')), (e: unknown) => e instanceof Error && e.message.includes('absent.pth'));
    // the copy of a good file still loads (the reader has no path-dependent state)
    copyFileSync(file, join(dir, 'copy.pth'));
    loadMedicalNet(enc, join(dir, 'copy.pth'));
    enc.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('loadMedicalNetState strips module., ignores conv_seg, tolerates absent BN counters, leaks nothing', async () => {
  await cpu();
  const enc = build('r10b');
  const state = torchStateDict(enc);
  const prefixed = new Map([...state].filter(([k]) => !k.endsWith('num_batches_tracked')).map(([k, v]) => [`module.${k}`, v] as [string, tf.Tensor]));
  const seg = tf.zeros([2, 16, 1, 1, 1]);
  prefixed.set('module.conv_seg.0.weight', seg);
  await noLeaks('loadMedicalNetState', () => {
    const res = loadMedicalNetState(enc, prefixed, 'mem.pth');
    assert.deepEqual(res.ignored, ['module.conv_seg.0.weight']);
    assert.ok(res.keptInitial.every((k) => k.endsWith('num_batches_tracked')));
  });
  const both = new Map(prefixed);
  both.set('conv1.weight', state.get('conv1.weight')!);
  assert.throws(() => loadMedicalNetState(enc, both, 'mem.pth'), /mem\.pth: key "conv1\.weight" appears both with and without/);
  assert.throws(() => loadMedicalNetState(enc, new Map(), 'empty.pth'), /empty\.pth: no tensors found/);
  tf.dispose([...state.values(), seg]);
  enc.dispose();
});

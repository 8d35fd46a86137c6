import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../../src/engine/backend';
import { encoderGrids, resnet3d10, resnet3d18, resnet3d34, resnet3dFromConfig, type ResNet3dEncoder } from '../../../src/engine/networks/resnet3d';
import { resolveConfig } from '../../../src/engine/config/resolve';
import { cpu, noLeaks, values } from './helpers';

function trainableNames(m: ResNet3dEncoder): string[] {
  return m
    .namedParameters()
    .filter(([, v]) => v.trainable)
    .map(([n]) => n);
}

test('ResNet-18-A width 64 with self-attention, conv1–layer2 frozen: 31,759,873 trainable parameters (paper Table 7)', async () => {
  await cpu();
  const m = resnet3d18({ init: 'zeros' });
  assert.equal(m.shortcut, 'A');
  assert.equal(m.countParameters(true), 31_759_873);
  // the same from the parts: layer3 + layer4 (convs and BN) + 3·(512·512+512) + 1
  const sum = (prefix: string) => m.namedParameters().filter(([n]) => n.startsWith(prefix)).reduce((s, [, v]) => s + v.size, 0);
  assert.equal(sum('layer3.') + sum('layer4.') + 3 * (512 * 512 + 512) + 1, 31_759_873);
  // all parameters, as PyTorch counts the same network (make_fixtures.py's Encoder)
  assert.equal(m.countParameters(), 33_774_145);
  assert.deepEqual(
    [...new Set(trainableNames(m).map((n) => n.split('.')[0]))],
    ['layer3', 'layer4', 'self_attention'],
  );
  m.dispose();
});

test('parameter and buffer names are MedicalNet’s', async () => {
  await cpu();
  const a = resnet3d18({ width: 2, init: 'zeros' });
  const names = a.namedParameters().map(([n]) => n);
  assert.equal(names[0], 'conv1.weight');
  for (const n of ['bn1.weight', 'bn1.bias', 'layer1.0.conv1.weight', 'layer1.1.bn2.bias', 'layer4.1.conv2.weight', 'self_attention.query_conv.weight', 'self_attention.query_conv.bias', 'self_attention.gamma']) {
    assert.ok(names.includes(n), n);
  }
  assert.ok(!names.some((n) => n.includes('downsample')), 'shortcut A has no parameters');
  const buffers = a.namedBuffers().map(([n]) => n);
  assert.deepEqual(buffers.slice(0, 3), ['bn1.running_mean', 'bn1.running_var', 'bn1.num_batches_tracked']);
  assert.equal(buffers.length, 17 * 3);
  a.dispose();

  const b = resnet3d10({ width: 2, init: 'zeros', selfAttention: false });
  assert.equal(b.shortcut, 'B');
  const bn = b.namedParameters().map(([n]) => n);
  assert.ok(bn.includes('layer2.0.downsample.0.weight') && bn.includes('layer2.0.downsample.1.weight'));
  assert.ok(!bn.includes('layer1.0.downsample.0.weight'), 'layer1 keeps its shape: no downsample');
  assert.ok(!bn.some((n) => n.startsWith('self_attention')));
  const w = new Map(b.namedParameters());
  assert.deepEqual(w.get('conv1.weight')!.shape, [7, 7, 7, 1, 2]);
  assert.deepEqual(b.torchPermutations().get('layer4.0.downsample.0.weight'), [4, 3, 0, 1, 2]);
  b.dispose();

  const c = resnet3d34({ width: 1, init: 'zeros' });
  assert.ok(c.namedParameters().some(([n]) => n === 'layer3.5.conv2.weight'));
  assert.ok(!c.namedParameters().some(([n]) => n.startsWith('layer3.6')));
  c.dispose();
});

test('trainableFrom freezes the earlier stages; the config builds the same encoder', async () => {
  await cpu();
  const m = resnet3d10({ width: 2, init: 'zeros', trainableFrom: 'conv1' });
  assert.equal(m.countParameters(true), m.countParameters());
  m.setTrainableFrom('layer2');
  assert.ok(m.conv1.frozen && m.bn1.frozen && m.layer1.frozen && !m.layer2.frozen);
  assert.deepEqual([...new Set(trainableNames(m).map((n) => n.split('.')[0]))], ['layer2', 'layer3', 'layer4', 'self_attention']);
  m.setTrainableFrom('layer4');
  assert.ok(m.layer3.frozen && !m.layer4.frozen && !m.selfAttention!.frozen);
  assert.throws(() => m.setTrainableFrom('layer9' as 'layer1'), /trainableFrom must be one of/);
  m.dispose();
  assert.throws(() => resnet3d18({ width: 0 }), /width must be a positive integer/);

  const config = resolveConfig({ image: { depth: 10, shortcut: 'B', width: 2, trainableFrom: 'layer1' } }, 'test');
  const fromCfg = resnet3dFromConfig(config.image, 0, 'zeros');
  assert.equal(fromCfg.depth, 10);
  assert.equal(fromCfg.shortcut, 'B');
  assert.equal(fromCfg.trainableFrom, 'layer1');
  assert.ok(fromCfg.selfAttention);
  // the defaults: strided (32), the authors' q/k/v dropout 0.2 and frozen BNs in train mode
  assert.equal(fromCfg.outputStride, 32);
  assert.equal(fromCfg.selfAttention!.dropout?.rate, 0.2);
  assert.equal(fromCfg.frozenBatchNorm, 'train');
  assert.equal(fromCfg.bn1.frozenMode, 'train');
  fromCfg.dispose();
  const other = resnet3dFromConfig(resolveConfig({ image: { width: 2, outputStride: 8, attentionDropout: 0, frozenBatchNorm: 'eval' } }, 'test').image, 0, 'zeros');
  assert.equal(other.outputStride, 8);
  assert.equal(other.layer4.blocks[1].conv2.dilation, 4);
  assert.equal(other.selfAttention!.dropout, null);
  assert.ok([other.bn1, other.layer1.blocks[0].bn2, other.layer4.blocks[0].bn1].every((bn) => bn.frozenMode === 'eval'));
  other.dispose();
  assert.throws(() => resolveConfig({ image: { outputStride: 4 } }, 'test'));
  assert.throws(() => resolveConfig({ image: { attentionDropout: 1 } }, 'test'));
  assert.throws(() => resolveConfig({ image: { frozenBatchNorm: 'fixed' } }, 'test'));
});

test('output strides 16 and 8: dilated layer4 (and layer3), grids as encoderGrids says; 64×64×40 at 8 gives 8×8×5', async () => {
  await cpu();
  // stride and dilation per block, as MedicalNet's resnet.py
  const layout = (m: ResNet3dEncoder) =>
    [m.layer1, m.layer2, m.layer3, m.layer4].map((l) => l.blocks.map((b) => [b.conv1.stride, b.conv1.dilation, b.conv1.padding, b.conv2.dilation, b.conv2.padding].join('')));
  const built = (outputStride: 32 | 16 | 8) => resnet3d18({ width: 1, seed: 4, outputStride, init: 'zeros' });
  const m32 = built(32);
  const m16 = built(16);
  const m8 = built(8);
  assert.deepEqual(layout(m32), [['11111', '11111'], ['21111', '11111'], ['21111', '11111'], ['21111', '11111']]);
  assert.deepEqual(layout(m16), [['11111', '11111'], ['21111', '11111'], ['21111', '11111'], ['12222', '12222']]);
  assert.deepEqual(layout(m8), [['11111', '11111'], ['21111', '11111'], ['12222', '12222'], ['14444', '14444']]);
  // no weight changes shape: the three state dicts have the same names and shapes
  const shapes = (m: ResNet3dEncoder) => m.stateEntries().map(([n, v]) => `${n}:${v.shape.join('x')}`);
  assert.deepEqual(shapes(m16), shapes(m32));
  assert.deepEqual(shapes(m8), shapes(m32));
  [m32, m16].forEach((m) => m.dispose());
  m8.dispose();

  assert.deepEqual(encoderGrids([64, 64, 40], 8), { layer3: [8, 8, 5], layer4: [8, 8, 5] });
  assert.deepEqual(encoderGrids([64, 64, 40], 16), { layer3: [4, 4, 3], layer4: [4, 4, 3] });
  assert.deepEqual(encoderGrids([64, 64, 40], 32), { layer3: [4, 4, 3], layer4: [2, 2, 2] });
  assert.deepEqual(encoderGrids([240, 240, 155]), { layer3: [15, 15, 10], layer4: [8, 8, 5] });
  assert.throws(() => encoderGrids([8, 8, 8], 4 as 8), /outputStride must be 32, 16 or 8/);
  assert.throws(() => resnet3d18({ outputStride: 64 as 32 }), /outputStride must be 32, 16 or 8/);
  for (const [shape, stride] of [
    [[64, 64, 40], 8],
    [[40, 33, 17], 16],
    [[40, 33, 17], 8],
  ] as const) {
    const m = resnet3d10({ width: 1, seed: 4, outputStride: stride });
    const x = tf.zeros([1, ...shape, 1]);
    const o = m.apply(x);
    const grids = encoderGrids(shape, stride);
    assert.deepEqual(o.layer3.shape.slice(1, 4), grids.layer3, `layer3 [${shape}] /${stride}`);
    assert.deepEqual(o.layer4.shape.slice(1, 4), grids.layer4, `layer4 [${shape}] /${stride}`);
    const p = grids.layer4.reduce((a, b) => a * b, 1);
    assert.deepEqual(o.attention!.shape, [1, p, p]);
    tf.dispose([x, o.layer3, o.layer4, o.attention!, o.global]);
    m.dispose();
  }
});

test('output shapes: overall stride 32, layer3 stride 16, attention over layer4 positions', async () => {
  await cpu();
  const m = resnet3d18({ width: 1, seed: 4 });
  const x = tf.tensor5d(values(1 * 40 * 33 * 17), [1, 40, 33, 17, 1]);
  const out = m.apply(x);
  // ceil(n / 2) per stage: 40 → 20 → 10 → 10 → 5 → 3 → 2;  33 → 17 → 9 → 9 → 5 → 3 → 2;  17 → 9 → 5 → 5 → 3 → 2 → 1
  assert.deepEqual(out.layer3.shape, [1, 3, 3, 2, 4]);
  assert.deepEqual(out.layer4.shape, [1, 2, 2, 1, 8]);
  assert.deepEqual(out.attention!.shape, [1, 4, 4]);
  assert.deepEqual(out.global.shape, [1, 8]);
  tf.dispose([x, out.layer3, out.layer4, out.attention!, out.global]);
  const bad = tf.zeros([1, 8, 8, 8, 2]);
  assert.throws(() => m.apply(bad), /ResNet3d input: expected 1 input channels/);
  bad.dispose();
  m.dispose();
});

for (const frozenBatchNorm of ['train', 'eval'] as const) {
  test(`encoder: no leaked tensors in eval, training and gradient; frozen BN statistics with frozenBatchNorm '${frozenBatchNorm}'`, async () => {
    await cpu();
    const m = resnet3d18({ width: 1, seed: 5, frozenBatchNorm });
    assert.equal(m.frozenBatchNorm, frozenBatchNorm);
    const x = tf.tensor5d(values(2 * 20 * 20 * 20), [2, 20, 20, 20, 1]);
    const frozenBefore = m.bn1.runningMean.dataSync().slice();
    const l3Before = m.layer3.blocks[0].bn1.numBatchesTracked.dataSync()[0];
    await noLeaks('encoder forward', () => {
      for (const training of [false, true]) {
        const o = m.apply(x, { training });
        tf.dispose([o.layer3, o.layer4, o.attention!, o.global]);
      }
    });
    await noLeaks('encoder gradient', () => {
      const { value, grads } = tf.variableGrads(() =>
        tf.tidy(() => {
          const o = m.apply(x, { training: true });
          return o.global.sum().add(o.layer3.mean()) as tf.Scalar;
        }),
      );
      // frozen weights (and frozen BN's weight and bias) get no gradient in either mode
      assert.equal(Object.keys(grads).length, m.trainableWeights.length);
      assert.ok(!m.trainableWeights.includes(m.bn1.weight));
      tf.dispose([value, ...Object.values(grads)]);
    });
    if (frozenBatchNorm === 'eval') {
      assert.deepEqual(m.bn1.runningMean.dataSync(), frozenBefore);
      assert.equal(m.bn1.numBatchesTracked.dataSync()[0], 0);
    } else {
      // as PyTorch in train mode with requires_grad = False: the statistics move
      assert.notDeepEqual(m.bn1.runningMean.dataSync(), frozenBefore);
      assert.equal(m.bn1.numBatchesTracked.dataSync()[0], 2);
    }
    // the trainable layer3 counts the two training passes, not the evaluation one
    assert.equal(m.layer3.blocks[0].bn1.numBatchesTracked.dataSync()[0], l3Before + 2);
    tf.dispose(x);
    m.dispose();
  });
}

test('encoder gradient wrt a conv weight matches finite differences', async () => {
  await cpu();
  // everything trainable, gradient through shortcut A, no dropout: a plain function of the weights
  const m = resnet3d10({ width: 1, seed: 6, shortcut: 'A', trainableFrom: 'conv1', shortcutAGradient: true, dropout: 0 });
  m.selfAttention!.gamma.assign(tf.tensor1d([0.6]));
  const x = tf.tensor5d(values(1 * 12 * 10 * 9, 8).map((v) => v + 0.5), [1, 12, 10, 9, 1]);
  const r = tf.tensor2d([[0.7, -1.3, 0.4, 1.1, -0.2, 0.9, -0.8, 0.3]]);
  const loss = () => tf.tidy(() => {
    const o = m.apply(x);
    return o.global.mul(r).sum().add(o.layer3.square().mean()) as tf.Scalar;
  });
  const w = m.layer1.blocks[0].conv1.weight;
  const { value, grads } = tf.variableGrads(loss, [w]);
  const g = grads[w.name].dataSync();
  const base = w.dataSync().slice();
  const eps = 1e-2;
  let checked = 0;
  for (const idx of [0, 5, 13, 26]) {
    const at = (delta: number) => {
      const t = base.slice();
      t[idx] += delta;
      w.assign(tf.tensor(t, w.shape));
      return loss().arraySync() as number;
    };
    const fd = (at(eps) - at(-eps)) / (2 * eps);
    w.assign(tf.tensor(base, w.shape));
    assert.ok(Math.abs(g[idx] - fd) <= 2e-2 * Math.max(1, Math.abs(fd)), `∂L/∂w[${idx}] = ${g[idx]}, finite difference ${fd}`);
    checked += Math.abs(fd) > 1e-4 ? 1 : 0;
  }
  assert.ok(checked >= 2, 'the checked entries must carry signal');
  tf.dispose([x, r, value, ...Object.values(grads)]);
  m.dispose();
});

test('in training, the frozen stages run untaped: the same gradients of the trainable stages, fewer bytes held at the peak', async () => {
  await cpu();
  // trainableFrom conv1 records the stem on the tape; layer3 runs it untaped. Dropout off and
  // batch norms on batch statistics either way ('train'), so both compute the same forward.
  const build = (trainableFrom: 'conv1' | 'layer3') => resnet3d18({ width: 16, seed: 3, dropout: 0, attentionDropout: 0, trainableFrom, frozenBatchNorm: 'train' });
  const taped = build('conv1');
  const untaped = build('layer3');
  const x = tf.tensor5d(values(2 * 64 * 64 * 40, 5), [2, 64, 64, 40, 1]);
  const run = async (m: ResNet3dEncoder) => {
    const vars = m.namedParameters().filter(([n]) => /^(layer3|layer4|self_attention)\./.test(n)).map(([, v]) => v);
    let grads: tf.NamedTensorMap = {};
    let value = 0;
    // tf.profile reuses one record per engine: read it before the next call
    const { peakBytes, newBytes } = await tf.profile(() => {
      const r = tf.variableGrads(() => {
        const out = m.apply(x, { training: true });
        return out.global.square().sum().add(out.layer3.mean()) as tf.Scalar;
      }, vars);
      value = r.value.dataSync()[0]!;
      grads = r.grads;
      r.value.dispose();
    });
    // the peak above what existed before (the second model's weights exist for both runs)
    return { value, grads: vars.map((v) => grads[v.name]!.dataSync().slice()), dispose: () => tf.dispose(Object.values(grads)), peak: peakBytes - (tf.memory().numBytes - newBytes) };
  };
  const a = await run(taped);
  const b = await run(untaped);
  try {
    assert.equal(b.value, a.value);
    assert.equal(b.grads.length, a.grads.length);
    b.grads.forEach((g, i) => assert.deepEqual(g, a.grads[i], `gradient ${i} differs`));
    assert.ok(b.peak < 0.6 * a.peak, `peak bytes ${b.peak} untaped vs ${a.peak} taped: the frozen stem's activations are still held`);
  } finally {
    a.dispose();
    b.dispose();
    tf.dispose(x);
    taped.dispose();
    untaped.dispose();
  }
});

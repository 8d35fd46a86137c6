// The encoder at output stride 32, 16 and 8 (MedicalNet's dilated layer3/4)
// against PyTorch: ONE MedicalNet-format checkpoint per network, loaded into
// every variant; references made by test/fixtures/resnet/make_dilated_fixtures.py.
// Each case runs on the pure-JS kernels (dilation as space-to-batch) and,
// when the addon is built, on the native ones (oneDNN's dilated conv).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tf } from '../../../src/engine/backend';
import { loadAddon, nativeMode } from '../../../src/engine/native/addon';
import { disableNativeKernels, enableNativeKernels, nativeKernelCalls, resetNativeKernelCalls } from '../../../src/engine/native/register';
import { loadMedicalNet } from '../../../src/engine/networks/medicalnet';
import { torchStateDict } from '../../../src/engine/networks/module';
import { encoderGrids, resnet3d10, resnet3d18, type EncoderStage, type ImageEncoderOutput, type OutputStride, type ResNet3dEncoder } from '../../../src/engine/networks/resnet3d';
import { batchEncodings, disposeTextBatch } from '../../../src/engine/networks/text-batch';
import { ContrastiveModel } from '../../../src/engine/model/contrastive';
import { resolveConfig } from '../../../src/engine/config/resolve';
import { assertClose, cpu, noLeaks } from './helpers';
import { compareEncoderOutputs, dilatedReference, disposeEncoderOutputs, everyNth, FIXTURES, lossWeights, referenceInput, type DilatedReference } from './reference';

const TOL = 1e-4;
const NETS = [
  { name: 'r18a', file: 'r18a_dilated_w2.pth' },
  { name: 'r10b', file: 'r10b_dilated_w2.pth' },
] as const;
const STRIDES: OutputStride[] = [32, 16, 8];
type Kernels = 'pure-JS' | 'native';

interface BuildOptions {
  trainableFrom?: EncoderStage;
  dilate?: boolean;
  frozenBatchNorm?: 'train' | 'eval';
  attentionDropout?: number;
}

function build(name: 'r18a' | 'r10b', ref: DilatedReference, outputStride: OutputStride, options: BuildOptions = {}): ResNet3dEncoder {
  const common = { width: ref.width, init: 'zeros' as const, dropout: 0, outputStride, ...options };
  const enc = name === 'r18a' ? resnet3d18(common) : resnet3d10({ selfAttention: false, ...common });
  // the undilated references use the same weights with batch norms calibrated on their layout
  const file = options.dilate === false ? `${name}_undilated${outputStride}_w2.pth` : NETS.find((n) => n.name === name)!.file;
  const res = loadMedicalNet(enc, join(FIXTURES, file));
  assert.deepEqual(res.keptInitial, [], 'every tensor comes from the checkpoint');
  return enc;
}

const disposeOut = disposeEncoderOutputs;

function compare(o: ImageEncoderOutput, r: DilatedReference['strides']['8']['eval'], step: number, what: string): void {
  compareEncoderOutputs(o, r, what, step);
}

/** L = Σ global·cos(0.7 i) + 0.1·mean(layer3²) and its gradients (PyTorch layout) w.r.t. `names` and the input. */
function gradients(enc: ResNet3dEncoder, x: tf.Tensor5D, names: string[], training: boolean) {
  const vars = new Map(enc.namedParameters());
  const perms = enc.torchPermutations();
  const input = tf.variable(x, true);
  const { value, grads } = tf.variableGrads(
    () =>
      tf.tidy(() => {
        const o = enc.apply(input as unknown as tf.Tensor5D, { training });
        const w = tf.tensor1d(lossWeights(o.global.size));
        return o.global.reshape([-1]).mul(w).sum().add(o.layer3.square().mean().mul(0.1)) as tf.Scalar;
      }),
    [...names.map((n) => vars.get(n)!), input],
  );
  const out = new Map<string, Float32Array>();
  for (const n of names) {
    const g = grads[vars.get(n)!.name];
    out.set(n, tf.tidy(() => (perms.has(n) ? tf.transpose(g, perms.get(n)) : g).dataSync() as Float32Array));
  }
  out.set('input', grads[input.name].dataSync() as Float32Array);
  const loss = value.dataSync()[0];
  tf.dispose([value, ...Object.values(grads), input]);
  return { loss, out };
}

function compareGradients(got: ReturnType<typeof gradients>, ref: DilatedReference, r: Record<string, number[]> & { loss: number }, what: string): void {
  assertClose([got.loss], [r.loss], TOL * Math.max(1, Math.abs(r.loss)), `${what} loss`);
  for (const [n, g] of got.out) {
    const want = r[n];
    const sub = everyNth(g, n === 'input' ? ref.step : ref.gradStep);
    assertClose(sub, want, 1e-4 * Math.max(1, ...want.map(Math.abs)), `${what} ∂L/∂${n}`);
  }
}

/** Selects the kernels; false (test skipped) when the native addon is not there. */
function useKernels(t: TestContext, kernels: Kernels): boolean {
  if (kernels === 'pure-JS') {
    disableNativeKernels();
    return true;
  }
  const mode = nativeMode();
  const load = mode === 'off' ? null : loadAddon(mode);
  if (!load?.addon) {
    t.skip(mode === 'off' ? 'native kernels disabled by MRCL_NATIVE=0' : load!.detail);
    return false;
  }
  assert.ok(enableNativeKernels().active);
  resetNativeKernelCalls();
  return true;
}

function checkKernelsUsed(kernels: Kernels): void {
  const ran = nativeKernelCalls();
  if (kernels === 'native') {
    for (const k of ['MrclConv3DPadded', 'MrclConv3DPaddedBackpropInput', 'MrclConv3DPaddedBackpropFilter']) assert.ok((ran[k] ?? 0) > 0, `${k} did not run natively`);
  }
  disableNativeKernels();
}

for (const { name } of NETS) {
  for (const kernels of ['pure-JS', 'native'] as Kernels[]) {
    test(`${name}: one checkpoint at output stride 32, 16 and 8: eval outputs and gradients (weights, input) match PyTorch (${kernels} kernels)`, async (t) => {
      await cpu();
      if (!useKernels(t, kernels)) return;
      const ref = dilatedReference(name);
      const x = referenceInput(ref.inputShape);
      for (const stride of STRIDES) {
        const r = ref.strides[String(stride) as '8'];
        // the authors' q/k/v dropout (default 0.2) is the identity in eval
        const enc = build(name, ref, stride, { trainableFrom: 'conv1' });
        const o = enc.apply(x);
        compare(o, r.eval, ref.step, `/${stride} eval`);
        disposeOut(o);
        const names = Object.keys(r.grad).filter((k) => k !== 'loss' && k !== 'input');
        compareGradients(gradients(enc, x, names, false), ref, r.grad, `/${stride} eval`);
        await noLeaks(`/${stride} forward and gradient`, () => {
          disposeOut(enc.apply(x, { training: true }));
          void gradients(enc, x, names, true);
        });
        enc.dispose();
      }
      x.dispose();
      checkKernelsUsed(kernels);
    });

    test(`${name}: undilated output stride 16 and 8 (image.dilate false): eval and training outputs, running statistics and gradients match PyTorch (${kernels} kernels)`, async (t) => {
      await cpu();
      if (!useKernels(t, kernels)) return;
      const ref = dilatedReference(name);
      const x = referenceInput(ref.inputShape);
      for (const stride of [16, 8] as const) {
        const key = `${stride}u` as const;
        const r = ref.strides[key];
        const enc = build(name, ref, stride, { trainableFrom: 'conv1', dilate: false, attentionDropout: 0 });
        assert.equal(enc.dilate, false);
        const o = enc.apply(x);
        compare(o, r.eval, ref.step, `/${key} eval`);
        disposeOut(o);
        const names = Object.keys(r.grad).filter((k) => k !== 'loss' && k !== 'input');
        compareGradients(gradients(enc, x, names, false), ref, r.grad, `/${key} eval`);
        const t2 = enc.apply(x, { training: true });
        compare(t2, r.trainAll!, ref.step, `/${key} trainAll`);
        disposeOut(t2);
        const sd = torchStateDict(enc);
        for (const n of Object.keys(r.trainAll!.stats)) assertClose(sd.get(n)!.dataSync(), r.trainAll!.stats[n], TOL, `/${key} trainAll ${n}`);
        tf.dispose([...sd.values()]);
        enc.dispose();
      }
      x.dispose();
      checkKernelsUsed(kernels);
    });

    test(`${name}: dilated training mode matches PyTorch: frozen BNs in 'train' (batch statistics, running statistics updated) and 'eval' (${kernels} kernels)`, async (t) => {
      await cpu();
      if (!useKernels(t, kernels)) return;
      const ref = dilatedReference(name);
      const x = referenceInput(ref.inputShape);
      const cases: Array<[OutputStride, 'trainAll' | 'trainFrozenEval', 'train' | 'eval']> = [
        [16, 'trainAll', 'train'],
        [8, 'trainAll', 'train'],
        [8, 'trainFrozenEval', 'eval'],
      ];
      for (const [stride, key, frozenBatchNorm] of cases) {
        const r = ref.strides[String(stride) as '8'][key]!;
        // conv1–layer2 frozen (the default); no dropout, so PyTorch's train mode is comparable
        const enc = build(name, ref, stride, { frozenBatchNorm, attentionDropout: 0 });
        const o = enc.apply(x, { training: true });
        compare(o, r, ref.step, `/${stride} ${key}`);
        disposeOut(o);
        const sd = torchStateDict(enc);
        const stats = Object.keys(r.stats);
        assert.ok(stats.some((n) => n.startsWith('bn1.')) && stats.some((n) => n.startsWith('layer4.')));
        for (const n of stats) assertClose(sd.get(n)!.dataSync(), r.stats[n], TOL, `/${stride} ${key} ${n}`);
        tf.dispose([...sd.values()]);
        enc.dispose();
      }
      // gradients through batch statistics everywhere (the authors' train mode), all stages trainable
      const r8 = ref.strides['8'];
      const enc = build(name, ref, 8, { trainableFrom: 'conv1', attentionDropout: 0 });
      const names = Object.keys(r8.gradTrain!).filter((k) => k !== 'loss' && k !== 'input');
      compareGradients(gradients(enc, x, names, true), ref, r8.gradTrain!, '/8 train');
      enc.dispose();
      x.dispose();
      checkKernelsUsed(kernels);
    });
  }
}

test('the pretraining model at output stride 8: a 64×64×40 input gives 8×8×5 patch and attention grids (and encoderGrids agrees)', async () => {
  await cpu();
  disableNativeKernels();
  const config = resolveConfig({
    data: { shape: [64, 64, 40] },
    image: { width: 1, outputStride: 8 },
    text: { layers: 1, hidden: 8, heads: 2, intermediate: 16, attentionWindow: 4, maxWords: 6 },
    heads: { globalDim: 8, localDim: 4 },
  });
  const model = new ContrastiveModel(config, { size: 32, padId: 1 }, 1);
  const x = tf.zeros([2, 64, 64, 40, 1]) as tf.Tensor5D;
  const tb = batchEncodings(
    [
      { ids: [0, 5, 6, 2], wordIds: [null, 0, 1, null] },
      { ids: [0, 8, 2], wordIds: [null, 0, null] },
    ],
    { padId: 1, maxWords: model.text.maxWords },
  );
  const [patchGrid, attentionGrid, attentionShape, patches] = tf.tidy(() => {
    const o = model.forward(x, tb, false);
    return [o.patchGrid, o.attentionGrid, o.attention!.shape, o.imageLocal.shape[1]];
  });
  assert.deepEqual(patchGrid, [8, 8, 5]);
  assert.deepEqual(attentionGrid, [8, 8, 5]);
  assert.deepEqual(attentionShape, [2, 320, 320]);
  assert.equal(patches, 320);
  assert.deepEqual(encoderGrids(config.data.shape, config.image.outputStride), { layer3: patchGrid, layer4: attentionGrid });
  x.dispose();
  disposeTextBatch(tb);
  model.dispose();
});

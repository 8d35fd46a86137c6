import { test } from 'node:test';
import { tf } from '../../../src/engine/backend';
import { resolveConfig } from '../../../src/engine/config/resolve';
import { ContrastiveModel } from '../../../src/engine/model/contrastive';
import { MarkerClassifier, bceWithLogits } from '../../../src/engine/model/classifier';
import { trainCorpusTokenizer } from '../../../src/engine/text/bpe-train';
import { disposeTextBatch } from '../../../src/engine/networks/text-batch';
import { Rng } from '../../../src/engine/util/rng';
import { compareNative, nativeAvailable, randomTensor, REPORTS, LOCATIONS } from './helpers';

// Attention key biases have a true gradient of exactly 0 (a softmax ignores
// a shift shared by all keys), so both runs give rounding noise there: they
// are left out of the comparison.
const KEY_BIAS = /(key|key_global|key_conv|key_img|key_txt)\.bias$/;
// Each learned cross-attention module uses three of its six projections (as
// the authors'); the idle three get no gradient at all.
const IDLE = /(patch_local_atten_layer\.(key_img|value_img|query_txt)|word_local_atten_layer\.(key_txt|value_txt|query_img))\./;
const comparable = (m: { namedParameters(): [string, tf.Variable][] }) =>
  m
    .namedParameters()
    .filter(([name, v]) => v.trainable && !KEY_BIAS.test(name) && !IDLE.test(name))
    .map(([, v]) => v);

// Dropout off: each run would otherwise draw the next masks. Frozen BNs on
// running statistics ('eval'), so the fused native batch norm is in the step
// (with 'train' they take the batch-statistics path, as trainable ones).
const config = resolveConfig(
  {
    image: { width: 4, dropout: 0, attentionDropout: 0, frozenBatchNorm: 'eval' },
    text: { layers: 1, hidden: 16, heads: 2, intermediate: 32, attentionWindow: 16, maxWords: 24, dropout: 0 },
    heads: { globalDim: 32, localDim: 16 },
    finetune: { dropout: 0 },
  },
  'native training-step test',
);

test('a full pretraining loss step native = pure JS (all losses, gradients of every trainable parameter)', async (t) => {
  if (!(await nativeAvailable(t))) return;
  const tokenizer = trainCorpusTokenizer(REPORTS, { vocabSize: 300, minFrequency: 1 });
  const model = new ContrastiveModel(config, { size: tokenizer.vocabSize, padId: tokenizer.padId }, 5);
  const text = model.text.batch(REPORTS.map((r) => tokenizer.encode(r, { maxTokens: model.text.maxTokens })));
  const x = randomTensor([4, 32, 32, 32, 1], 6) as tf.Tensor5D;
  const vars = comparable(model);
  compareNative(
    'pretraining step',
    () => {
      const rng = new Rng(7);
      const { value, grads } = tf.variableGrads(() => model.loss(model.forward(x, text, true), LOCATIONS, rng).total, vars);
      return [value, ...vars.map((v) => grads[v.name])];
    },
    ['MrclConv3DPadded', 'MrclConv3DPaddedBackpropFilter', 'BatchMatMul', 'MrclScaleShift', 'MrclBatchNormTrain', 'MrclBatchNormTrainGrad'],
    // the native batch norms sum their statistics and gradients in double,
    // the JS kernels in float32: 1e-5 relative apart on a few gradients
    5e-5,
  );
  tf.dispose(x);
  disposeTextBatch(text);
  model.dispose();
});

test('a fine-tuning loss step native = pure JS', async (t) => {
  if (!(await nativeAvailable(t))) return;
  const model = new MarkerClassifier(config, 8);
  const x = randomTensor([3, 32, 32, 32, 1], 9) as tf.Tensor5D;
  const labels = tf.tensor1d([0, 1, 1]);
  const vars = comparable(model);
  // The gradient reaches layer3 through the unscaled self-attention softmax,
  // whose sharp rows amplify float32 summation-order differences (oneDNN's
  // blocked convolutions vs the JS loops) to ~1e-4 relative on AVX-512/AMX
  // CPUs; a wrong kernel differs by orders of magnitude more.
  compareNative(
    'fine-tuning step',
    () => {
      const { value, grads } = tf.variableGrads(() => bceWithLogits(model.apply(x, true).logits, labels), vars);
      return [value, ...vars.map((v) => grads[v.name])];
    },
    [],
    3e-4,
  );
  tf.dispose([x, labels]);
  model.dispose();
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../../src/engine/backend';
import { infoNceLoss } from '../../../src/engine/losses';
import { cpu, gradients, noLeaks, value } from './helpers';

test('InfoNCE matches hand-derived values', async () => {
  await cpu();
  // S = I/τ for orthonormal pairs; τ = 1: −log(e / (e + 1)) = log(1 + e) − 1 in both directions
  const eye = tf.tensor2d([[1, 0], [0, 3]]);
  const got = value(() => infoNceLoss(eye, eye, { temperature: 1 }));
  assert.ok(Math.abs(got - (Math.log(1 + Math.E) - 1)) < 1e-6, `got ${got}`);
  // identical rows everywhere: every logit equal → log N
  const same = tf.tensor2d([[1, 2], [1, 2], [1, 2]]);
  const flat = value(() => infoNceLoss(same, same, {}));
  assert.ok(Math.abs(flat - Math.log(3)) < 1e-5, `identical: ${flat}`);
  // zero vectors: cosine 0 → log N, finite gradient
  const zeros = tf.zeros([3, 2]) as tf.Tensor2D;
  assert.ok(Math.abs(value(() => infoNceLoss(zeros, same)) - Math.log(3)) < 1e-5);
  for (const g of gradients((a, b) => infoNceLoss(a as tf.Tensor2D, b as tf.Tensor2D), [zeros, same])) assert.ok(g.every(Number.isFinite));
  // swapping the modalities gives the same symmetric loss
  const a = tf.tensor2d([[0.2, 0.9], [1, -0.3], [-0.5, 0.4]]);
  const b = tf.tensor2d([[0.1, 1.0], [0.8, 0.1], [-0.7, -0.2]]);
  assert.ok(Math.abs(value(() => infoNceLoss(a, b)) - value(() => infoNceLoss(b, a))) < 1e-6);
  assert.throws(() => infoNceLoss(a, b, { temperature: 0 }), /temperature must be a finite number > 0/);
  assert.throws(() => infoNceLoss(a, eye), /same shape/);
  noLeaks('loss', () => value(() => infoNceLoss(a, b)));
  noLeaks('gradient', () => gradients((x, y) => infoNceLoss(x as tf.Tensor2D, y as tf.Tensor2D, { temperature: 0.07 }), [a, b]));
  tf.dispose([eye, same, zeros, a, b]);
});

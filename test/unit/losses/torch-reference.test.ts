// The losses against test/fixtures/losses/losses.json, made by
// test/fixtures/losses/generate.py from PyTorch with the same negatives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../../src/engine/backend';
import { globalTripletLoss, infoNceLoss, localTripletLoss, type GlobalNegatives, type LocalNegatives } from '../../../src/engine/losses';
import { assertClose, cpu, fixture, gradients, value } from './helpers';

type Nested = number | Nested[];
interface Case {
  kind: 'global' | 'local' | 'infonce';
  name: string;
  loss: number;
  image: number[][];
  text: number[][];
  locations: number[] | null;
  margin: number;
  locationWeight: number;
  locationMode?: 'scale' | 'margin';
  sameMargin?: number;
  differentMargin?: number;
  temperature: number;
  negatives: GlobalNegatives & LocalNegatives;
  imageLocal: Nested;
  imageWeighted: Nested;
  textLocal: Nested;
  textWeighted: Nested;
  wordMask: number[][] | null;
  gradImage: number[][];
  gradText: number[][];
  grads: Nested[];
}

const { cases } = fixture<{ cases: Case[] }>('losses.json');
const flat = (x: Nested): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x]);
const t = (x: Nested) => tf.tensor(x as number[]);

test('fixture covers every loss', () => {
  assert.deepEqual([...new Set(cases.map((c) => c.kind))].sort(), ['global', 'infonce', 'local']);
});

for (const c of cases) {
  test(`${c.name}: value and gradients match PyTorch`, async () => {
    await cpu();
    let inputs: tf.Tensor[];
    let f: (...xs: tf.Tensor[]) => tf.Scalar;
    let expectedGrads: number[][];
    if (c.kind === 'global') {
      inputs = [t(c.image), t(c.text)];
      const opts = {
        negatives: c.negatives,
        locations: c.locations ?? undefined,
        margin: c.margin,
        locationWeight: c.locationWeight,
        locationMode: c.locationMode,
        sameMargin: c.sameMargin,
        differentMargin: c.differentMargin,
      };
      f = (a, b) => globalTripletLoss(a as tf.Tensor2D, b as tf.Tensor2D, opts);
      expectedGrads = [flat(c.gradImage), flat(c.gradText)];
    } else if (c.kind === 'local') {
      inputs = [t(c.imageLocal), t(c.imageWeighted), t(c.textLocal), t(c.textWeighted)];
      const opts = { negatives: c.negatives, wordMask: c.wordMask ?? undefined, margin: c.margin };
      f = (v, vh, w, wh) => localTripletLoss(v, vh, w, wh, opts);
      expectedGrads = c.grads.map(flat);
    } else {
      inputs = [t(c.image), t(c.text)];
      f = (a, b) => infoNceLoss(a as tf.Tensor2D, b as tf.Tensor2D, { temperature: c.temperature });
      expectedGrads = [flat(c.gradImage), flat(c.gradText)];
    }
    const got = value(() => f(...inputs));
    assert.ok(Math.abs(got - c.loss) <= 2e-6 * Math.max(1, Math.abs(c.loss)), `loss ${got} ≠ ${c.loss}`);
    const grads = gradients(f, inputs);
    grads.forEach((g, i) => assertClose(g, expectedGrads[i], 2e-5, `gradient of input ${i}`));
    tf.dispose(inputs);
  });
}

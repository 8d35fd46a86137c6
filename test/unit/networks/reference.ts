// The PyTorch reference outputs of test/fixtures/resnet (see make_fixtures.py).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { tf } from '../../../src/engine/backend';
import type { ImageEncoderOutput } from '../../../src/engine/networks/resnet3d';
import { assertClose } from './helpers';

export const FIXTURES = join(__dirname, '../../fixtures/resnet');

export interface Outputs {
  layer3: number[];
  layer3Shape: number[];
  layer4: number[];
  layer4Shape: number[];
  global: number[];
  attention?: number[];
  attentionShape?: number[];
}

export interface Reference {
  inputShape: [number, number, number, number, number];
  width: number;
  shortcut: 'A' | 'B';
  eval: Outputs;
  grad: Record<string, number[]> & { loss: number };
  trainAll: Outputs & { stats: Record<string, number[]> };
  trainFrozen: Outputs & { stats: Record<string, number[]> };
}

export function reference(name: 'r18a' | 'r10b'): Reference {
  return JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as Reference;
}

/** make_fixtures.py's input_value, element for element. */
export function referenceInput([n, d, h, w]: readonly number[]): tf.Tensor5D {
  const data = new Float32Array(n * d * h * w);
  let p = 0;
  for (let b = 0; b < n; b++)
    for (let z = 0; z < d; z++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) data[p++] = Math.sin(0.7 * z + 0.3 * y) * Math.cos(0.5 * x - 0.9 * b) + (0.1 * ((7 * z + 3 * y + 5 * x + 11 * b) % 13)) / 13;
  return tf.tensor5d(data, [n, d, h, w, 1]);
}

/** make_fixtures.py's loss weights cos(0.7·i). */
export function lossWeights(count: number): Float32Array {
  return Float32Array.from({ length: count }, (_, i) => Math.cos(0.7 * i));
}

/** make_dilated_fixtures.py's reference: one checkpoint, the encoder at output stride 32, 16 and 8. */
export interface StrideReference {
  eval: Outputs;
  grad: Record<string, number[]> & { loss: number };
  trainAll?: Omit<Outputs, 'attention' | 'attentionShape'> & { stats: Record<string, number[]> };
  trainFrozenEval?: Omit<Outputs, 'attention' | 'attentionShape'> & { stats: Record<string, number[]> };
  gradTrain?: Record<string, number[]> & { loss: number };
}

export interface DilatedReference {
  inputShape: [number, number, number, number, number];
  width: number;
  shortcut: 'A' | 'B';
  /** attention and input gradients keep every `step`-th element */
  step: number;
  /** weight gradients (PyTorch layout) keep every `gradStep`-th element */
  gradStep: number;
  strides: Record<'32' | '16' | '8' | '16u' | '8u', StrideReference>;
}

export function dilatedReference(name: 'r18a' | 'r10b'): DilatedReference {
  return JSON.parse(readFileSync(join(FIXTURES, `${name}_dilated.json`), 'utf8')) as DilatedReference;
}

/** Every `step`-th element, as Python's a[::step]. */
export function everyNth(a: ArrayLike<number>, step: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < a.length; i += step) out.push(a[i]);
  return out;
}

/** Tolerance of the encoder outputs against PyTorch (float32, a few layers deep). */
export const ENCODER_TOL = 1e-4;

/**
 * The encoder's outputs against a reference: shapes and values of layer3,
 * layer4, global and (when the reference has it) the attention, taking
 * every `step`-th attention value as the fixture does; with
 * `noAttentionUnlessReferenced`, an attention the reference lacks is an error.
 */
export function compareEncoderOutputs(o: ImageEncoderOutput, r: Outputs, what: string, step = 1, noAttentionUnlessReferenced = false): void {
  assert.deepEqual(o.layer3.shape, r.layer3Shape, `${what} layer3 shape`);
  assert.deepEqual(o.layer4.shape, r.layer4Shape, `${what} layer4 shape`);
  assertClose(o.layer3.dataSync(), r.layer3, ENCODER_TOL, `${what} layer3`);
  assertClose(o.layer4.dataSync(), r.layer4, ENCODER_TOL, `${what} layer4`);
  assertClose(o.global.dataSync(), r.global, ENCODER_TOL, `${what} global`);
  if (r.attention) {
    assert.deepEqual(o.attention?.shape, r.attentionShape, `${what} attention shape`);
    assertClose(step === 1 ? o.attention!.dataSync() : everyNth(o.attention!.dataSync(), step), r.attention, ENCODER_TOL, `${what} attention`);
  } else if (noAttentionUnlessReferenced) {
    assert.equal(o.attention, null);
  }
}

export const disposeEncoderOutputs = (o: ImageEncoderOutput): void => tf.dispose([o.layer3, o.layer4, o.global, ...(o.attention ? [o.attention] : [])]);

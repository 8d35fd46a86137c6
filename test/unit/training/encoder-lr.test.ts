// finetune.encoderLrScale: the image encoder's trainable weights learn at
// lr·scale, the head at lr. The optimizer's param groups are checked against
// torch in adamw.test.ts; here the wiring, on real tiny fine-tunings of the
// random arm (one optimizer step: the fold's training cases fit one batch),
// from the unit's own starting weights: at 0 the encoder's trainable weights
// end where they started while the head moves; at 1 (the default) the
// encoder moves; at 0.1 its move is a tenth of that at 1 (one AdamW step
// from zero moments is linear in the rate, decay included).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tf } from '../../../src/engine/backend';
import { loadConfig, resolveConfig } from '../../../src/engine/config/resolve';
import { runStudy } from '../../../src/engine/experiment/study';
import { MarkerClassifier } from '../../../src/engine/model/classifier';
import { loadModelWeights } from '../../../src/engine/training/checkpoint';
import { encoderLrScales, unitSeed } from '../../../src/engine/training/finetune';
import { RunFolder } from '../../../src/engine/training/run-folder';
import type { ExperimentConfig } from '../../../src/shared/config';
import { tinyWorkspace } from '../experiment/helpers';


/** Each parameter of a model, by name, as plain arrays. */
function weights(model: MarkerClassifier): Map<string, Float32Array> {
  return new Map(model.namedParameters().map(([n, v]) => [n, v.dataSync() as Float32Array]));
}

/** Fine-tunes the random arm at this scale; the weights it started from and ended with (fold 0), and the names of the encoder's trainable weights. */
async function fineTuned(scale: number | undefined, logs: string[] = []) {
  const ws = await tinyWorkspace({ finetune: { initializations: ['random'], epochs: 1, batchSize: 16, ...(scale === undefined ? {} : { encoderLrScale: scale }) } });
  const { config: input, baseDir } = loadConfig(ws.configPath);
  const outcome = await runStudy({ kind: 'experiment', config: input, baseDir, emit: (e) => (e.type === 'log' ? logs.push(e.message) : undefined) });
  assert.equal(outcome.status, 'done', outcome.error);
  const run = RunFolder.open(outcome.runDir!);
  const config = JSON.parse(readFileSync(run.path('config.json'), 'utf8')) as ExperimentConfig;
  const start = new MarkerClassifier(config, unitSeed(config, { arm: 'random', fold: 0 }));
  start.image.setTrainableFrom(config.image.trainableFrom);
  const encoderTrainable = new Set(start.image.namedParameters('image_encoder.').filter(([, v]) => v.trainable).map(([n]) => n));
  const before = weights(start);
  const dir = run.path('finetune', 'random', 'fold-0', 'checkpoints');
  const latest = readFileSync(`${dir}/latest`, 'utf8').trim();
  const end = new MarkerClassifier(config, 0);
  loadModelWeights(`${dir}/${latest}/model.safetensors`, end);
  const after = weights(end);
  start.dispose();
  end.dispose();
  const steps = readFileSync(run.path('events.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"type":"step"') && l.includes('finetune/random/fold-0')).length;
  return { before, after, encoderTrainable, steps, config };
}

const deltas = (r: Awaited<ReturnType<typeof fineTuned>>, names: Iterable<string>) =>
  [...names].flatMap((n) => Array.from(r.after.get(n)!, (x, i) => x - r.before.get(n)![i]!));

test('finetune.encoderLrScale: 0 keeps the encoder where it started and moves the head; 0.1 moves it a tenth of what 1 does', { timeout: 600_000 }, async () => {
  const logs: string[] = [];
  const frozen = await fineTuned(0, logs);
  const full = await fineTuned(undefined);
  const tenth = await fineTuned(0.1);
  assert.equal(full.steps, 1, 'one optimizer step (the fold fits one batch)');
  assert.equal(full.config.finetune.encoderLrScale, 1, 'the default is 1');
  assert.ok(frozen.encoderTrainable.size > 4, `${frozen.encoderTrainable.size} trainable encoder weights`);
  const head = [...frozen.before.keys()].filter((n) => n.startsWith('classifier.'));
  assert.ok(head.length > 0);
  // at 0: every trainable encoder weight unchanged, the head changed
  for (const n of frozen.encoderTrainable) assert.deepEqual(frozen.after.get(n), frozen.before.get(n), `${n} moved at scale 0`);
  assert.ok(Math.max(...deltas(frozen, head).map(Math.abs)) > 1e-6, 'the head learns at scale 0');
  assert.ok(logs.some((m) => /encoder's \d+ trainable weight tensor\(s\) learn at 0 × the head's rate \(finetune\.encoderLrScale\)/.test(m)), 'the run says so');
  // at 1: the encoder moves; at 0.1 by a tenth of that, the head as at 1
  const d1 = deltas(full, full.encoderTrainable);
  const d01 = deltas(tenth, tenth.encoderTrainable);
  const largest = Math.max(...d1.map(Math.abs));
  assert.ok(largest > 1e-5, `the encoder moves at scale 1 (${largest})`);
  d1.forEach((d, i) => assert.ok(Math.abs(d01[i]! - 0.1 * d) <= 1e-3 * largest, `element ${i}: ${d01[i]} at 0.1 vs ${d} at 1`));
  const h1 = deltas(full, head);
  const h01 = deltas(tenth, head);
  h1.forEach((d, i) => assert.ok(Math.abs(h01[i]! - d) <= 1e-6, `head element ${i}: ${h01[i]} vs ${d}`));
});

test('encoderLrScales: none at 1 (one rate), every trainable encoder weight and no head weight otherwise; the config refuses a scale outside [0, 1]', () => {
  const config = resolveConfig({ image: { width: 2 }, finetune: { encoderLrScale: 0.25 } }, 'test');
  const tensors = tf.memory().numTensors;
  const model = new MarkerClassifier(config, 1);
  model.image.setTrainableFrom(config.image.trainableFrom);
  const scales = encoderLrScales(config, model);
  assert.deepEqual(new Set(scales.keys()), new Set(model.image.trainableWeights));
  assert.ok([...scales.values()].every((s) => s === 0.25));
  assert.ok(model.head.trainableWeights.every((v) => !scales.has(v)));
  assert.equal(encoderLrScales(resolveConfig({ image: { width: 2 } }, 'test'), model).size, 0);
  // a config recorded before the option
  const old = { ...config, finetune: { ...config.finetune, encoderLrScale: undefined } } as unknown as ExperimentConfig;
  assert.equal(encoderLrScales(old, model).size, 0);
  model.dispose();
  assert.equal(tf.memory().numTensors, tensors, 'no tensor left behind');
  assert.throws(() => resolveConfig({ finetune: { encoderLrScale: 1.5 } }, 'test'), /encoderLrScale/);
  assert.throws(() => resolveConfig({ finetune: { encoderLrScale: -0.1 } }, 'test'), /encoderLrScale/);
});

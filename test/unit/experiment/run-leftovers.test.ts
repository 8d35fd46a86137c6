// Leftovers of failed runs (issue #14, class 8): a failed run's stage ends
// "failed", not "running"; a corrupt latest checkpoint falls back to the
// previous complete one, saying so in the events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createdRun } from './run-fixtures';
import { tinyWorkspace } from './helpers';
import { runStudy } from '../../../src/engine/experiment/study';
import { pretrainPlan } from '../../../src/engine/experiment/units';
import { loadConfig } from '../../../src/engine/config/resolve';
import { readEvents } from '../../../src/engine/training/run-folder';
import type { EngineEvent } from '../../../src/shared/events';

test('a run that fails inside a stage marks the stage failed, and no checkpoint to restore is an error listing why', async () => {
  const { run } = await createdRun();
  const ck = run.path('pretrain', 'checkpoints');
  mkdirSync(join(ck, 'step-0000004'), { recursive: true });
  writeFileSync(join(ck, 'step-0000004', 'state.json'), '{');
  writeFileSync(join(ck, 'step-0000004', 'model.safetensors'), 'not safetensors');
  writeFileSync(join(ck, 'latest'), 'step-0000004\n');
  const outcome = await runStudy({ kind: 'pretrain', runDir: run.dir, emit: () => {} });
  assert.equal(outcome.status, 'failed');
  assert.match(outcome.error ?? '', /no checkpoint can be restored:\n {2}.*step-0000004/);
  const info = JSON.parse(readFileSync(run.path('run.json'), 'utf8'));
  assert.equal(info.status, 'failed');
  assert.equal(info.stages.pretrain, 'failed');
  assert.ok(readEvents(run.dir).some((e) => e.type === 'stage' && e.stage === 'pretrain' && e.status === 'failed'));
});

test('a corrupt latest checkpoint: resume falls back to the previous complete one and says so', { timeout: 600_000 }, async () => {
  const ws = await tinyWorkspace({ pretrain: { epochs: 3, batchSize: 4, checkpointEvery: 1 } });
  const { config, baseDir } = loadConfig(ws.configPath);
  const ac = new AbortController();
  let steps = 0;
  const first = await runStudy({ kind: 'pretrain', config, baseDir, plan: pretrainPlan(), signal: ac.signal, emit: (e) => void (e.type === 'step' && ++steps === 10 && ac.abort()) });
  assert.equal(first.status, 'cancelled');
  const ck = join(first.runDir!, 'pretrain', 'checkpoints');
  // 4 steps an epoch: step-8 ends epoch 2, step-10 is the cancel's
  assert.equal(readFileSync(join(ck, 'latest'), 'utf8').trim(), 'step-0000010');
  assert.ok(existsSync(join(ck, 'step-0000008', 'state.json')));
  truncateSync(join(ck, 'step-0000010', 'model.safetensors'), 20);

  const events: EngineEvent[] = [];
  const again = await runStudy({ kind: 'pretrain', runDir: first.runDir, emit: (e) => events.push(e) });
  assert.equal(again.status, 'done', again.error);
  const logs = events.flatMap((e) => (e.type === 'log' ? [e.message] : []));
  assert.ok(
    logs.some((m) => m.startsWith(`pretrain: ${ck}: fell back to the checkpoint step-0000008: ${join(ck, 'step-0000010')}`)),
    logs.join('\n'),
  );
  assert.ok(logs.includes(`pretrain: resumed from ${join(ck, 'step-0000008')} (epoch 3, step 0)`), logs.join('\n'));
  const firstStep = events.find((e) => e.type === 'step');
  assert.deepEqual(firstStep && firstStep.type === 'step' ? [firstStep.epoch, firstStep.step] : [], [2, 0], 'training continues from step 8');
  assert.ok(existsSync(join(ck, 'corrupt-step-0000010')), 'the corrupt checkpoint is kept aside');
  assert.ok(existsSync(join(first.runDir!, 'pretrain', 'model.safetensors')));
});

// The engine query client against a stand-in worker: answers and errors by
// id, a crash or a hang fails only the questions asked of that process, an
// idle process goes and the next question starts a fresh one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { EngineQueryClient, type EngineQueryOptions } from '../../../src/extension/runs/engine-queries';

const FAKE = resolve('test/fixtures/extension/fake-worker.mjs');

function client(options: Partial<EngineQueryOptions> = {}): { c: EngineQueryClient; logs: string[]; spawns: () => number } {
  const logs: string[] = [];
  let spawns = 0;
  const c = new EngineQueryClient({
    spawnSpec: () => {
      spawns++;
      return { command: process.execPath, args: [FAKE] };
    },
    onLog: (level, message) => logs.push(`${level} ${message}`),
    ...options,
  });
  return { c, logs, spawns: () => spawns };
}

const pidOf = (table: string) => Number(table.replace('pid ', ''));

test('answers come back by id, in one process, with the worker\'s log lines', async () => {
  const { c, logs, spawns } = client();
  const [a, b] = await Promise.all([c.ask('modelSummary', { config: 'ok', text: 'abc' }), c.ask('modelSummary', { config: 'ok', text: 'abcdef' })]);
  assert.deepEqual(a.summary.pretrain.total, { trainable: 3, frozen: 1 });
  assert.deepEqual(b.summary.finetune.total, { trainable: 12, frozen: 1 });
  assert.equal(pidOf(a.table), pidOf(b.table), 'one worker answers both');
  assert.equal(spawns(), 1);
  assert.ok(logs.includes('info counting modelSummary'));
  await assert.rejects(c.ask('modelSummary', { config: 'fail' }), /^Error: fail: text\.pretrained: config\.json is missing$/);
  assert.ok(c.running, 'an error answer keeps the process');
  c.dispose();
  await assert.rejects(c.ask('modelSummary', { config: 'ok' }), /shut down/);
});

test('a crash fails the question with the last lines; the next question starts a fresh process', async () => {
  const { c, spawns } = client();
  await assert.rejects(c.ask('modelSummary', { config: 'crash' }), (e: Error) => /exited with code 4/.test(e.message) && /out of memory building the text encoder/.test(e.message));
  const ok = await c.ask('modelSummary', { config: 'ok', text: 'x' });
  assert.deepEqual(ok.summary.pretrain.total, { trainable: 1, frozen: 1 });
  assert.equal(spawns(), 2);
  c.dispose();
});

test('a question unanswered in time fails and its process is killed', async () => {
  const { c } = client({ timeoutMs: 300 });
  const t0 = Date.now();
  await assert.rejects(c.ask('modelSummary', { config: 'hang' }), /modelSummary: no answer from the engine after 0\.3 s; its process was stopped/);
  assert.ok(Date.now() - t0 < 5_000);
  for (let i = 0; i < 50 && c.running; i++) await new Promise((r) => setTimeout(r, 100));
  assert.equal(c.running, false, 'the hung process was killed');
  c.dispose();
});

test('an idle process goes; a later question gets a new one', async () => {
  const { c, spawns } = client({ idleMs: 100 });
  const first = await c.ask('modelSummary', { config: 'ok', text: '' });
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(c.running, false, 'the idle worker was shut down');
  const second = await c.ask('modelSummary', { config: 'ok', text: '' });
  assert.notEqual(pidOf(second.table), pidOf(first.table));
  assert.equal(spawns(), 2);
  c.dispose();
});

test('a process that cannot start fails the question with the reason', async () => {
  const { c } = client({ spawnSpec: () => ({ command: '/nonexistent/node', args: [] }) });
  await assert.rejects(c.ask('modelSummary', { config: 'ok' }), /cannot start \/nonexistent\/node: ENOENT/);
  c.dispose();
  const throwing = new EngineQueryClient({
    spawnSpec: () => {
      throw new Error('dist/worker.js is missing: the extension is not built');
    },
  });
  await assert.rejects(throwing.ask('modelSummary', { config: 'ok' }), /not built/);
  throwing.dispose();
});

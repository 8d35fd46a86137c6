// The real worker entry (src/worker/main.ts, run through tsx) driven by the
// run manager: the message sequence on stdout, a validated dataset, and the
// engine's error for a bad request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { synthesizeCohort } from '../../../src/engine/synth/cohort';
import { RunManager } from '../../../src/extension/runs/run-manager';
import type { WorkerMessage } from '../../../src/shared/protocol';

const WORKER = ['--import', 'tsx', resolve('src/worker/main.ts')];

async function tinyCohort(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-worker-'));
  await synthesizeCohort({ out: join(dir, 'cohort'), internal: 6, external: 2, shape: [16, 16, 16], seed: 5 });
  return join(dir, 'cohort', 'manifest.json');
}

test('the worker speaks the protocol: ready, started, events, finished — one JSON object per line', async () => {
  const manifest = await tinyCohort();
  const child = spawn(process.execPath, WORKER, { stdio: ['pipe', 'pipe', 'pipe'] });
  const messages: WorkerMessage[] = [];
  const lines = createInterface({ input: child.stdout });
  const finished = new Promise<void>((res) =>
    lines.on('line', (line) => {
      const m = JSON.parse(line) as WorkerMessage; // every stdout line is JSON
      messages.push(m);
      if (m.type === 'finished') res();
    }),
  );
  child.stdin.write(`${JSON.stringify({ type: 'start', id: 'v1', request: { command: 'validate', manifest } })}\n`);
  await finished;
  child.stdin.write(`${JSON.stringify({ type: 'shutdown' })}\n`);
  const code = await new Promise<number | null>((res) => child.on('close', res));
  assert.equal(code, 0);
  assert.equal(messages[0]!.type, 'ready');
  assert.deepEqual(messages[1], { type: 'started', id: 'v1' });
  const last = messages.at(-1)!;
  assert.deepEqual(last, { type: 'finished', id: 'v1', outcome: { status: 'done' } });
  for (const m of messages.slice(2, -1)) assert.equal(m.type, 'event');
});

test('validate through the run manager and the real worker', async () => {
  const manifest = await tinyCohort();
  const m = new RunManager({ spawnSpec: () => ({ command: process.execPath, args: WORKER }), maxParallel: () => 1 });
  const ok = await m.whenSettled(m.start({ command: 'validate', manifest }).id);
  assert.equal(ok.status, 'done', ok.error);

  const broken = join(mkdtempSync(join(tmpdir(), 'mrcl-worker-')), 'manifest.json');
  writeFileSync(broken, JSON.stringify({ version: 1, cases: [{ id: 'a', image: 'missing.nii.gz', cohort: 'internal' }] }));
  const bad = await m.whenSettled(m.start({ command: 'validate', manifest: broken }).id);
  assert.equal(bad.status, 'failed');
  assert.match(bad.error!, /error/);

  const noConfig = await m.whenSettled(m.start({ command: 'experiment' }).id);
  assert.equal(noConfig.status, 'failed');
  assert.match(noConfig.error!, /config is required/);
  await m.dispose();
});

test('a line that is not JSON is answered with a log message, and the worker keeps going', async () => {
  const child = spawn(process.execPath, WORKER, { stdio: ['pipe', 'pipe', 'pipe'] });
  const messages: WorkerMessage[] = [];
  const got = new Promise<void>((res) =>
    createInterface({ input: child.stdout }).on('line', (line) => {
      messages.push(JSON.parse(line) as WorkerMessage);
      if (messages.some((x) => x.type === 'finished')) res();
    }),
  );
  child.stdin.write('this is not json\n');
  child.stdin.write(`${JSON.stringify({ type: 'start', id: 'x', request: { command: 'evaluate' } })}\n`);
  await got;
  child.stdin.end(); // closing stdin shuts the worker down
  assert.equal(await new Promise((res) => child.on('close', res)), 0);
  assert.ok(messages.some((x) => x.type === 'log' && /not JSON/.test(x.message)));
  const fin = messages.find((x) => x.type === 'finished');
  assert.deepEqual(fin, { type: 'finished', id: 'x', outcome: { status: 'failed', error: 'evaluate: runDir is required' } });
});

test('Stop reaches a run whose training loop never yields to the event loop, at its next step', async () => {
  const manifest = await tinyCohort();
  const dir = join(manifest, '..', '..');
  const config = join(dir, 'long.mrcl.json');
  writeFileSync(
    config,
    JSON.stringify({
      name: 'long',
      data: { manifest: 'cohort/manifest.json', shape: [16, 16, 16] },
      tokenizer: { vocabSize: 300 },
      image: { width: 2 },
      text: { layers: 1, hidden: 8, heads: 2, intermediate: 16, attentionWindow: 8, maxWords: 16 },
      heads: { globalDim: 8, localDim: 8 },
      pretrain: { epochs: 200, batchSize: 2 },
      finetune: { epochs: 1, batchSize: 2, folds: 2, initializations: ['random'] },
    }),
  );
  const m = new RunManager({ spawnSpec: () => ({ command: process.execPath, args: WORKER }), maxParallel: () => 1 });
  let steps = 0;
  let stoppedAt = -1;
  m.onEvent(({ job, event }) => {
    if (event.type !== 'step') return;
    steps++;
    if (stoppedAt < 0) {
      stoppedAt = steps;
      m.stop(job.id);
    }
  });
  const job = m.start({ command: 'experiment', config });
  const j = await m.whenSettled(job.id);
  assert.equal(j.status, 'cancelled', j.error);
  assert.ok(steps - stoppedAt <= 3, `stopped within a few steps (asked after step ${stoppedAt}, ran ${steps})`);
  const info = JSON.parse(readFileSync(join(j.runDir!, 'run.json'), 'utf8'));
  assert.equal(info.status, 'cancelled');
  await m.dispose();
});

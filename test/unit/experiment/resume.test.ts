// A pretraining killed mid-epoch (SIGKILL, no chance to clean up) and
// resumed ends with the same weights as an uninterrupted run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tinyWorkspace } from './helpers';
import { readSafetensors } from '../../../src/engine/io/safetensors';

const ENTRY = join(__dirname, 'cli-entry.ts');

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', ENTRY, ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function runDirOf(outDir: string): string {
  const runs = readdirSync(outDir);
  assert.equal(runs.length, 1, `expected one run in ${outDir}, found ${runs.join(', ')}`);
  return join(outDir, runs[0]!);
}

function stepLines(runDir: string): number {
  const p = join(runDir, 'events.jsonl');
  if (!existsSync(p)) return 0;
  return readFileSync(p, 'utf8').split('\n').filter((l) => l.includes('"type":"step"')).length;
}

test('kill -9 mid-epoch, then --resume: same final weights as an uninterrupted run', { timeout: 900_000 }, async () => {
  const ws = await tinyWorkspace({ pretrain: { epochs: 3, batchSize: 4 }, outDir: 'runs-a' });
  // uninterrupted reference
  const ref = cli(['pretrain', ws.configPath]);
  assert.equal(ref.code, 0, ref.err);
  const refDir = runDirOf(join(ws.dir, 'runs-a'));

  // the same config into another folder, killed in its second epoch
  const cfg = JSON.parse(readFileSync(ws.configPath, 'utf8'));
  cfg.outDir = 'runs-b';
  const cfgB = join(ws.dir, 'b.mrcl.json');
  require('node:fs').writeFileSync(cfgB, JSON.stringify(cfg));
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, 'pretrain', cfgB], { stdio: 'ignore' });
  const stepsPerEpoch = 4; // 16 cases, batch 4
  const killedAt = await new Promise<number>((resolve, reject) => {
    const timer = setInterval(() => {
      const dirs = existsSync(join(ws.dir, 'runs-b')) ? readdirSync(join(ws.dir, 'runs-b')) : [];
      const n = dirs.length ? stepLines(join(ws.dir, 'runs-b', dirs[0]!)) : 0;
      if (n >= stepsPerEpoch + 2) {
        clearInterval(timer);
        child.kill('SIGKILL');
        resolve(n);
      }
    }, 20);
    child.on('exit', (code) => {
      clearInterval(timer);
      if (code === 0) reject(new Error('the run finished before it could be killed'));
    });
  });
  await new Promise((r) => child.once('exit', r).once('close', r));
  const runB = runDirOf(join(ws.dir, 'runs-b'));
  assert.ok(killedAt < 3 * stepsPerEpoch);
  assert.equal(JSON.parse(readFileSync(join(runB, 'run.json'), 'utf8')).status, 'running', 'a killed run is left as it was');
  assert.ok(!existsSync(join(runB, 'pretrain', 'model.safetensors')));

  const resumed = cli(['pretrain', '--resume', runB]);
  assert.equal(resumed.code, 0, resumed.err);
  // the files differ only in their metadata (the recorded config names its own outDir)
  const a = readSafetensors(join(refDir, 'pretrain', 'model.safetensors')).tensors;
  const b = readSafetensors(join(runB, 'pretrain', 'model.safetensors')).tensors;
  assert.deepEqual([...b.keys()], [...a.keys()]);
  for (const [name, t] of a) {
    assert.deepEqual(b.get(name)!.data, t.data, `${name}: resumed weights differ from the uninterrupted run`);
  }
  assert.equal(JSON.parse(readFileSync(join(runB, 'run.json'), 'utf8')).status, 'done');
});

test('cancellation stops at a step boundary and leaves a resumable run', { timeout: 600_000 }, async () => {
  const ws = await tinyWorkspace({ pretrain: { epochs: 2, batchSize: 4 } });
  const { loadConfig } = await import('../../../src/engine/config/resolve');
  const { runStudy } = await import('../../../src/engine/experiment/study');
  const { pretrainPlan } = await import('../../../src/engine/experiment/units');
  const { config, baseDir } = loadConfig(ws.configPath);
  const ac = new AbortController();
  let steps = 0;
  const outcome = await runStudy({
    kind: 'pretrain',
    config,
    baseDir,
    plan: pretrainPlan(),
    signal: ac.signal,
    emit: (e) => {
      if (e.type === 'step' && ++steps === 2) ac.abort();
    },
  });
  assert.equal(outcome.status, 'cancelled');
  assert.equal(steps, 2, 'no step runs after the cancel');
  const ck = join(outcome.runDir!, 'pretrain', 'checkpoints');
  const state = JSON.parse(readFileSync(join(ck, readFileSync(join(ck, 'latest'), 'utf8').trim(), 'state.json'), 'utf8'));
  assert.deepEqual([state.loop.epoch, state.loop.stepInEpoch], [0, 2]);
  const again = await runStudy({ kind: 'pretrain', runDir: outcome.runDir, emit: () => {} });
  assert.equal(again.status, 'done');
});

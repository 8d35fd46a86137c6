// MRCL_PROFILE / --profile: a training stage writes where its time went, by
// phase (exclusive of nested phases) and by TF.js kernel; off, nothing is
// written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StageProfiler, renderProfile, type StageProfile } from '../../../src/engine/training/profile';
import { main } from '../../../src/cli/main';
import { tinyWorkspace } from '../experiment/helpers';

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* spin */
  }
}

test('a phase gets its own time, not its nested phases\'; "other" fills the rest of the wall time', () => {
  const p = new StageProfiler('s');
  let outerTotal = 0;
  const t0 = performance.now();
  p.time('outer', () => {
    busy(15);
    p.time('inner', () => busy(10));
    p.time('inner', () => busy(10));
  });
  outerTotal = performance.now() - t0;
  busy(5);
  const r = p.result();
  const get = (n: string) => r.phases.find((x) => x.name === n)!;
  assert.equal(get('inner').calls, 2);
  assert.equal(get('outer').calls, 1);
  assert.ok(get('inner').ms >= 20, `inner ${get('inner').ms}`);
  assert.ok(get('outer').ms >= 15, `outer ${get('outer').ms}`);
  // exclusive: outer + inner add up to the outer call's wall time, not more
  assert.ok(Math.abs(get('outer').ms + get('inner').ms - outerTotal) < 1, `${get('outer').ms} + ${get('inner').ms} vs ${outerTotal}`);
  assert.ok(get('other').ms >= 5);
  const shares = r.phases.reduce((a, x) => a + x.share, 0);
  assert.ok(Math.abs(shares - 1) < 1e-9, `shares sum to ${shares}`);
});

test('a phase that throws is still counted and the stack stays balanced', () => {
  const p = new StageProfiler('s');
  assert.throws(() => p.time('a', () => p.time('b', () => { throw new Error('x'); })), /x/);
  p.time('c', () => busy(2));
  const names = p.result().phases.map((x) => x.name);
  for (const n of ['a', 'b', 'c']) assert.ok(names.includes(n), n);
});

test('mrcl pretrain --profile writes profile.json/.md with every phase and the kernels of every step; without it, none', { timeout: 300_000 }, async () => {
  const ws = await tinyWorkspace({ image: { width: 2 } }, { internal: 8, external: 2 });
  const io = { stdout: () => undefined, stderr: () => undefined, tty: false, signal: new AbortController().signal };
  const before = process.env.MRCL_PROFILE;
  try {
    delete process.env.MRCL_PROFILE;
    assert.equal(await main(['pretrain', ws.configPath, '--profile'], io), 0);
  } finally {
    if (before === undefined) delete process.env.MRCL_PROFILE;
    else process.env.MRCL_PROFILE = before;
  }
  const runs = join(ws.dir, 'runs');
  const { readdirSync } = await import('node:fs');
  const [run] = readdirSync(runs);
  const stage = join(runs, run!, 'pretrain');
  const p = JSON.parse(readFileSync(join(stage, 'profile.json'), 'utf8')) as StageProfile;
  const events = readFileSync(join(runs, run!, 'events.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"type":"step"'));
  assert.equal(p.steps, events.length, 'one profiled step per step event');
  const phases = new Set(p.phases.map((x) => x.name));
  for (const n of ['data', 'text', 'forward', 'losses', 'backward', 'metrics', 'optimizer', 'events', 'checkpoints', 'other']) assert.ok(phases.has(n), `phase ${n} in ${[...phases].join(', ')}`);
  const kernels = new Map(p.kernels.map((k) => [k.name, k]));
  // the forward convolution: tfjs's Conv3D, or the native kernels' padded one
  const conv = kernels.get('MrclConv3DPadded') ?? kernels.get('Conv3D');
  assert.ok(conv, `kernels: ${[...kernels.keys()].join(', ')}`);
  assert.ok(conv.calls > 0 && conv.calls % p.steps === 0, 'the same convolutions every step');
  assert.ok(kernels.has('MrclAdamW') || kernels.has('Sqrt'), 'the optimizer\'s kernels are in the step');
  assert.equal(readFileSync(join(stage, 'profile.md'), 'utf8'), renderProfile(p));

  const plain = await tinyWorkspace({ image: { width: 2 } }, { internal: 8, external: 2 });
  delete process.env.MRCL_PROFILE;
  assert.equal(await main(['pretrain', plain.configPath], io), 0);
  const [run2] = readdirSync(join(plain.dir, 'runs'));
  assert.ok(!existsSync(join(plain.dir, 'runs', run2!, 'pretrain', 'profile.json')));
  if (before !== undefined) process.env.MRCL_PROFILE = before;
});

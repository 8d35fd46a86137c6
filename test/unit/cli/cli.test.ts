import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { main, COMMANDS } from '../../../src/cli/main';
import type { CommandContext } from '../../../src/cli/command';

function capture(): { ctx: CommandContext; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    ctx: { stdout: (s) => (out += s), stderr: (s) => (err += s), tty: false, signal: new AbortController().signal },
    out: () => out,
    err: () => err,
  };
}

async function run(argv: string[]) {
  const c = capture();
  const code = await main(argv, c.ctx);
  return { code, out: c.out(), err: c.err() };
}

test('no arguments prints the overview and exits 2', async () => {
  const r = await run([]);
  assert.equal(r.code, 2);
  for (const c of COMMANDS) assert.match(r.out, new RegExp(`\\b${c.name}\\b`));
});

test('--help exits 0', async () => {
  const r = await run(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.out, /Usage: mrcl <command>/);
});

for (const cmd of COMMANDS) {
  test(`mrcl ${cmd.name} --help prints its usage and options`, async () => {
    const r = await run([cmd.name, '--help']);
    assert.equal(r.code, 0);
    assert.match(r.out, new RegExp(`Usage: mrcl ${cmd.name}`));
    for (const opt of Object.keys(cmd.options)) assert.match(r.out, new RegExp(`--${opt}\\b`));
  });
}

test('unknown command exits 2 with a message', async () => {
  const r = await run(['fly']);
  assert.equal(r.code, 2);
  assert.match(r.err, /unknown command "fly"/);
});

const misuse: [string[], RegExp][] = [
  [['synth'], /--out DIR is required/],
  [['synth', '--out', 'x', '--shape', '1,2'], /--shape must be three integers/],
  [['synth', '--out', 'x', '--internal', 'many'], /--internal must be an integer/],
  [['synth', '--out', 'x', '--bogus'], /Unknown option '--bogus'/],
  [['validate'], /missing MANIFEST/],
  [['validate', 'a.json', 'b.json'], /unexpected argument "b\.json"/],
  [['config', 'frobnicate'], /unknown action "frobnicate"/],
  [['config', 'check'], /FILE is required/],
];
for (const [argv, re] of misuse) {
  test(`misuse: mrcl ${argv.join(' ')} exits 2`, async () => {
    const r = await run(argv);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, re);
    assert.match(r.err, /Usage: mrcl/);
  });
}

test('failures exit 1 and name the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-cli-'));
  const r = await run(['config', 'check', join(dir, 'nope.json')]);
  assert.equal(r.code, 1);
  assert.match(r.err, /nope\.json: cannot read config/);
});

test('config init writes a valid config with every default; check accepts it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-cli-'));
  const file = join(dir, 'exp.mrcl.json');
  assert.equal((await run(['config', 'init', file, '--manifest', join(dir, 'data', 'manifest.json')])).code, 0);
  const written = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(written.data.manifest, join('data', 'manifest.json'));
  assert.equal(written.pretrain.lr, 1e-4);
  // the manifest it names does not exist yet: the semantic check says so
  const missing = await run(['config', 'check', file]);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /error: \/data\/manifest: .*manifest\.json/);
  assert.match(missing.err, /1 error\(s\)/);
  assert.equal((await run(['config', 'init', join(dir, 'bare.mrcl.json')])).code, 0);
  const bare = await run(['config', 'check', join(dir, 'bare.mrcl.json')]);
  assert.equal(bare.code, 0, 'no manifest yet is a warning');
  assert.match(bare.out, /warning: \/data\/manifest: no dataset manifest/);
  // the default 64×64×40 at stride 32 has a 2×2×2 attention grid: a warning too
  assert.match(bare.out, /warning: \/image\/outputStride: data\.shape 64×64×40 at output stride 32 gives a 2×2×2 attention grid/);
  assert.match(bare.out, /valid \(2 warning\(s\)\)/);
  const again = await run(['config', 'init', file]);
  assert.equal(again.code, 1);
  assert.match(again.err, /already exists/);
  writeFileSync(file, JSON.stringify({ pretrain: { lr: 0 } }));
  const bad = await run(['config', 'check', file]);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /\/pretrain\/lr/);
});

test('backend --json reports the active backend', async () => {
  const r = await run(['backend', '--backend', 'cpu', '--json']);
  assert.equal(r.code, 0);
  const j = JSON.parse(r.out);
  assert.equal(j.active.name, 'cpu');
  assert.ok(j.probes.some((p: { preference: string; available: boolean }) => p.preference === 'cpu' && p.available));
  // bf16: available exactly where the addon is active and the CPU has bf16, else the reason
  const { loadAddon } = await import('../../../src/engine/native/addon');
  const v = j.active.native?.active ? loadAddon().addon?.version() : undefined;
  assert.equal(j.precision.fp32.available, true);
  assert.equal(j.precision.bf16.available, v?.bf16 === true);
  assert.match(j.precision.bf16.detail, v?.bf16 ? new RegExp(`oneDNN ${v.isa}`) : /precision "bf16" needs/);
  const text = await run(['backend', '--backend', 'cpu']);
  assert.match(text.out, v?.bf16 ? /^precision bf16: yes, /m : /^precision bf16: no, precision "bf16" needs/m);
});

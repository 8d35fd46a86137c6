import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkConfig, semanticIssues, sniffWeightsFormat } from '../../../src/engine/config/semantic';
import { resolveConfig } from '../../../src/engine/config/resolve';
import { synthesizeCohort } from '../../../src/engine/synth/cohort';
import type { ExperimentConfigInput } from '../../../src/shared/config';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'mrcl-sem-'));
}

function file(path: string, bytes: Uint8Array | string): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, bytes);
  return path;
}

/** safetensors: u64 LE header length, then the JSON header. */
function safetensors(): Uint8Array {
  const header = Buffer.from('{"__metadata__":{}}');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([len, header]);
}

// these tests are about files and data; the attention-grid warning (default
// shape at the default stride) has its own test below
const check = async (input: ExperimentConfigInput, dir: string) => (await semanticIssues(resolveConfig(input), dir)).filter((i) => i.path !== '/image/outputStride');

test('sniffWeightsFormat: torch zip, legacy pickle, safetensors; anything else is refused naming the file', () => {
  const d = tmp();
  assert.equal(sniffWeightsFormat(file(join(d, 'a.pth'), Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0]))), 'torch-zip');
  assert.equal(sniffWeightsFormat(file(join(d, 'b.pth'), Buffer.from([0x80, 0x02, 0x8a, 0x0a]))), 'torch-legacy');
  assert.equal(sniffWeightsFormat(file(join(d, 'c.safetensors'), safetensors())), 'safetensors');
  const bad: [string, Uint8Array | string, RegExp][] = [
    ['empty.pth', '', /empty file/],
    ['text.pth', 'hello, not weights at all', /unrecognised header/],
    ['huge-header.safetensors', Buffer.concat([Buffer.from([0xff, 0xff, 0, 0, 0, 0, 0, 0]), Buffer.from('{"a":1}')]), /unrecognised header/],
    ['pickle9.pth', Buffer.from([0x80, 0x09, 0, 0]), /unrecognised header/],
  ];
  for (const [name, bytes, re] of bad) {
    const p = file(join(d, name), bytes);
    assert.throws(() => sniffWeightsFormat(p), (e: Error) => e.message.startsWith(`${p}: not a PyTorch checkpoint`) && re.test(e.message), name);
  }
  assert.throws(() => sniffWeightsFormat(join(d, 'missing.pth')), /missing\.pth: cannot read: ENOENT/);
});

test('no manifest is a warning; a missing manifest an error on /data/manifest', async () => {
  const d = tmp();
  assert.deepEqual(await check({}, d), [
    { path: '/data/manifest', severity: 'warning', message: 'no dataset manifest: set data.manifest before running (Generate Synthetic Cohort / `mrcl synth` writes one)' },
  ]);
  const issues = await check({ data: { manifest: 'nope/manifest.json' } }, d);
  assert.deepEqual(issues, [{ path: '/data/manifest', severity: 'error', message: `manifest not found: ${join(d, 'nope/manifest.json')}` }]);
  mkdirSync(join(d, 'adir'));
  assert.match((await check({ data: { manifest: 'adir' } }, d))[0]!.message, /manifest is a folder, expected a file/);
});

test('fold count vs cohort size lands on /finetune/folds; a usable dataset gives no issue', async () => {
  const d = tmp();
  const out = join(d, 'cohort');
  const summary = await synthesizeCohort({ out, internal: 20, external: 0, shape: [16, 16, 16], seed: 1 });
  assert.ok(summary.markers.v600e >= 2 && summary.markers.fusion >= 2, JSON.stringify(summary.markers));
  assert.deepEqual(await check({ data: { manifest: 'cohort/manifest.json' }, finetune: { folds: 2 } }, d), []);
  const issues = await check({ data: { manifest: 'cohort/manifest.json' }, finetune: { folds: 21 } }, d);
  assert.equal(issues.length, 2, 'both downstream classes are too small');
  for (const i of issues) {
    assert.equal(i.path, '/finetune/folds');
    assert.equal(i.severity, 'error');
    assert.match(i.message, /internal case\(s\), fewer than 21 folds \(dataset .*manifest\.json\)/);
  }
});

test('missing images are summarised on /data/manifest, listing the first few', async () => {
  const d = tmp();
  const cases = Array.from({ length: 5 }, (_, i) => ({ id: `c${i}`, image: `img/c${i}.nii.gz`, cohort: 'external', location: 'supratentorial', marker: 'fusion' }));
  file(join(d, 'm.json'), JSON.stringify({ version: 1, cases }));
  const issues = await check({ data: { manifest: 'm.json' } }, d);
  const m = issues.find((i) => i.path === '/data/manifest');
  assert.ok(m, JSON.stringify(issues));
  assert.match(m.message, /has 5 error\(s\): c0 image: .*; c1 image: .*; c2 image: .*; and 2 more \(run Validate Dataset for all\)/);
});

test('weights and model folders: missing, wrong format, incomplete', async () => {
  const d = tmp();
  file(join(d, 'good.pth'), Buffer.from([0x50, 0x4b, 0x03, 0x04]));
  file(join(d, 'bad.pth'), 'text');
  const base: ExperimentConfigInput = { data: { manifest: '' } };
  const only = async (input: ExperimentConfigInput) => (await check({ ...base, ...input }, d)).filter((i) => i.path !== '/data/manifest');
  assert.deepEqual(await only({ image: { medicalNet: 'good.pth' } }), []);
  assert.match((await only({ image: { medicalNet: 'bad.pth' } }))[0]!.message, /bad\.pth: not a PyTorch checkpoint/);
  assert.match((await only({ image: { medicalNet: 'gone.pth' } }))[0]!.message, /MedicalNet checkpoint not found: .*gone\.pth/);

  mkdirSync(join(d, 'lf'));
  const lf = await only({ text: { pretrained: 'lf' } });
  assert.deepEqual(lf.map((i) => i.path), ['/text/pretrained', '/text/pretrained', '/text/pretrained']);
  assert.match(lf.map((i) => i.message).join('\n'), /config\.json is missing[\s\S]*neither model\.safetensors nor pytorch_model\.bin[\s\S]*neither tokenizer\.json nor vocab\.json/);
  file(join(d, 'lf', 'config.json'), '{}');
  file(join(d, 'lf', 'model.safetensors'), safetensors());
  file(join(d, 'lf', 'tokenizer.json'), '{}');
  assert.deepEqual(await only({ text: { pretrained: 'lf' } }), []);
  file(join(d, 'lf2', 'config.json'), '{}');
  file(join(d, 'lf2', 'pytorch_model.bin'), 'not a checkpoint');
  file(join(d, 'lf2', 'vocab.json'), '{}');
  file(join(d, 'lf2', 'merges.txt'), '');
  assert.match((await only({ text: { pretrained: 'lf2' } }))[0]!.message, /pytorch_model\.bin: not a PyTorch checkpoint/);

  assert.match((await only({ tokenizer: { kind: 'pretrained', path: 'tok.json' } }))[0]!.message, /tokenizer not found: .*tok\.json/);
  file(join(d, 'runs-file'), 'x');
  assert.deepEqual(await only({ outDir: 'runs-file' }), [{ path: '/outDir', severity: 'error', message: `outDir is a file, expected a folder: ${join(d, 'runs-file')}` }]);
});

test('checkConfig: schema problems first (errors), semantic checks only on a valid config', async () => {
  const d = tmp();
  const schema = await checkConfig({ image: { depth: 11 }, data: { manifest: 'missing.json' } }, d);
  assert.deepEqual(schema, [{ path: '/image/depth', message: 'expected one of 10, 18, 34, got 11', severity: 'error' }]);
  const semantic = await checkConfig({ data: { manifest: 'missing.json' }, image: { outputStride: 8 } }, d);
  assert.deepEqual(semantic.map((i) => [i.path, i.severity]), [['/data/manifest', 'error']]);
  assert.deepEqual(await checkConfig([], d), [{ path: '', message: 'expected a JSON object', severity: 'error' }]);
});

test('a config whose attention grid is below 4×4×3 gets a warning naming the grid and the output stride that fixes it', async () => {
  const check = semanticIssues;
  const resolve = resolveConfig;
  const coarse = await check(resolve({ data: { shape: [64, 64, 40] }, image: { outputStride: 32 } }, 't'), '/');
  const w = coarse.find((i) => i.path === '/image/outputStride');
  assert.ok(w, JSON.stringify(coarse));
  assert.equal(w.severity, 'warning');
  assert.match(w.message, /64×64×40 at output stride 32 gives a 2×2×2 attention grid, smaller than 4×4×3.*output stride 16 gives 4×4×3/);
  const fine = await check(resolve({ data: { shape: [64, 64, 40] }, image: { outputStride: 8 } }, 't'), '/');
  assert.ok(!fine.some((i) => i.path === '/image/outputStride'));
  const paper = await check(resolve({ data: { shape: [240, 240, 155] } }, 't'), '/');
  assert.ok(!paper.some((i) => i.path === '/image/outputStride'), 'the paper: 8×8×5 at stride 32');
  const tiny = await check(resolve({ data: { shape: [16, 16, 8] }, image: { outputStride: 32 } }, 't'), '/');
  assert.match(tiny.find((i) => i.path === '/image/outputStride')!.message, /use a larger data\.shape/);
});

test('loss.localKind "word" without crossed negatives is refused on /loss/localNegatives, at load and by checkConfig; with them accepted', async () => {
  assert.throws(() => resolveConfig({ loss: { localKind: 'word' } }, 't'), /\/loss\/localNegatives: loss\.localKind "word" .* set loss\.localNegatives to "crossed" \(got "pair"\)/);
  const issues = await checkConfig({ loss: { localKind: 'word' } }, tmp());
  assert.deepEqual(issues.filter((i) => i.path === '/loss/localNegatives').map((i) => i.severity), ['error'], JSON.stringify(issues));
  assert.equal(resolveConfig({ loss: { localKind: 'word', localNegatives: 'crossed' } }, 't').loss.localKind, 'word');
});

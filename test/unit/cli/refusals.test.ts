// The command line refuses, with exit 1 and a message naming the problem,
// what used to fail late, exhaust memory or succeed without training.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { main } from '../../../src/cli/main';
import { writeNifti } from '../../../src/engine/io/nifti';

async function run(argv: string[]) {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s), tty: false, signal: new AbortController().signal });
  return { code, out, err };
}

const dir = mkdtempSync(join(tmpdir(), 'mrcl-cli-refusals-'));

test('mrcl synth: a case count that would exhaust the heap exits 1 before writing', async () => {
  const out = join(dir, 'huge');
  const r = await run(['synth', '--out', out, '--internal', '100000000']);
  assert.equal(r.code, 1);
  assert.match(r.err, /internal \+ external must be at most 10000, got 100000020/);
  assert.equal(existsSync(out), false);
});

test('mrcl config check: a 300-character name and batch sizes that train nothing are errors on their fields', async () => {
  const file = join(dir, 'long.mrcl.json');
  writeFileSync(file, JSON.stringify({ name: 'n'.repeat(300) }));
  const long = await run(['config', 'check', file]);
  assert.equal(long.code, 1);
  assert.match(long.err, /\/name: must be 1–100 characters without control characters \(run folders are named after it\); it has 300/);

  const small = join(dir, 'small.mrcl.json');
  writeFileSync(small, JSON.stringify({ pretrain: { batchSize: 2 }, finetune: { batchSize: 1 } }));
  const r = await run(['config', 'check', small]);
  assert.equal(r.code, 1);
  assert.match(r.err, /error: \/pretrain\/batchSize: pretrain\.batchSize 2 is below 3/);
  assert.match(r.err, /error: \/finetune\/batchSize: finetune\.batchSize 1 is below 2/);
});

test('mrcl pretrain / finetune: a batch size that trains nothing exits 1 before any run folder exists', async () => {
  const file = join(dir, 'pre.mrcl.json');
  writeFileSync(file, JSON.stringify({ outDir: 'runs-pre', pretrain: { batchSize: 2 } }));
  const pre = await run(['pretrain', file]);
  assert.equal(pre.code, 1);
  assert.match(pre.err, /^mrcl pretrain: config: pretrain\.batchSize 2 is below 3/);
  const fine = join(dir, 'fine.mrcl.json');
  writeFileSync(fine, JSON.stringify({ outDir: 'runs-fine', finetune: { batchSize: 1 } }));
  const r = await run(['finetune', fine, '--init', 'random']);
  assert.equal(r.code, 1);
  assert.match(r.err, /^mrcl finetune: config: finetune\.batchSize 1 is below 2/);
  assert.equal(existsSync(join(dir, 'runs-pre')) || existsSync(join(dir, 'runs-fine')), false);
});

test('mrcl validate: a truncated image is an error naming the case and the file', async () => {
  const image = join(dir, 'img.nii');
  writeNifti(image, { data: new Float32Array(64), dims: [4, 4, 4], pixdim: [1, 1, 1], affine: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]] });
  const bytes = readFileSync(image);
  writeFileSync(image, bytes.subarray(0, bytes.length - 8));
  const manifest = join(dir, 'manifest.json');
  writeFileSync(manifest, JSON.stringify({ version: 1, cases: [{ id: 'a', image: 'img.nii', report: 'Lesion in the pons.', location: 'infratentorial', marker: 'fusion' }] }));
  const r = await run(['validate', manifest]);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /case "a", image, img\.nii: truncated: 4×4×4 float32 at offset 352 needs 608 bytes, file has 600/);
});

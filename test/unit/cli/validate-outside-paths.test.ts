// `mrcl validate`: a manifest naming a file outside its folder fails, and
// passes only with the explicit opt-in (--allow-outside-paths or the
// config's data.allowOutsidePaths).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { main } from '../../../src/cli/main';
import { writeNifti } from '../../../src/engine/io/nifti';

async function run(argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await main(argv, { stdout: (s) => (out += s), stderr: (s) => (out += s), tty: false, signal: new AbortController().signal });
  return { code, out };
}

test('mrcl validate: a report outside the dataset folder is an error unless opted in', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-validate-outside-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ds = join(dir, 'a', 'ds');
  mkdirSync(ds, { recursive: true });
  writeNifti(join(ds, 'x.nii'), { data: new Float32Array(4 * 4 * 3), dims: [4, 4, 3], pixdim: [1, 1, 1], affine: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]] });
  writeFileSync(join(dir, 'outside.txt'), 'Lesion in the vermis.\n');
  const manifest = join(ds, 'manifest.json');
  writeFileSync(manifest, JSON.stringify([{ id: 'x', image: 'x.nii', report: '../../outside.txt', cohort: 'external' }]));

  const refused = await run(['validate', manifest]);
  assert.equal(refused.code, 1);
  assert.match(refused.out, /case "x", report, manifest\.json: case 1: "\.\.\/\.\.\/outside\.txt" lies outside the dataset folder/);

  const allowed = await run(['validate', manifest, '--allow-outside-paths']);
  assert.equal(allowed.code, 0, allowed.out);
  assert.match(allowed.out, /with report: 1/);

  const config = join(dir, 'c.mrcl.json');
  writeFileSync(config, JSON.stringify({ data: { manifest, allowOutsidePaths: true } }));
  // (the config's fold count still fails this one-case dataset: only the path error must go)
  const viaConfig = await run(['validate', manifest, '--config', config]);
  assert.doesNotMatch(viaConfig.out, /lies outside/);
  assert.match(viaConfig.out, /with report: 1/);
});

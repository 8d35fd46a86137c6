// `mrcl config check` (and the editor's Problems panel) report what would
// make a run train nothing or fail late: batch sizes below what the loss
// needs, an experiment name no run folder can carry. The checks stay free
// of TF.js, since the extension host runs them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { checkConfig } from '../../../src/engine/config/semantic';
import { configIssues, resolveConfig } from '../../../src/engine/config/resolve';
import { NAME_MAX_LENGTH } from '../../../src/shared/config';

const dir = mkdtempSync(join(tmpdir(), 'mrcl-run-checks-'));
const issuesAt = async (input: object, path: string) => (await checkConfig(input, dir)).filter((i) => i.path === path);

test('config check: a pretraining batch below what the negatives need is an error on /pretrain/batchSize', async () => {
  const [issue, ...rest] = await issuesAt({ pretrain: { batchSize: 2 } }, '/pretrain/batchSize');
  assert.deepEqual(rest, []);
  assert.equal(issue?.severity, 'error');
  assert.match(issue!.message, /pretrain\.batchSize 2 is below 3, the smallest batch semi-hard negatives can learn from/);
  assert.deepEqual(await issuesAt({ pretrain: { batchSize: 3 } }, '/pretrain/batchSize'), []);
  assert.deepEqual(await issuesAt({ pretrain: { batchSize: 2 }, loss: { negatives: 'random' } }, '/pretrain/batchSize'), []);
  // an experiment that does not pretrain: a warning (pretrain and ablate runs of it would still fail)
  const [w] = await issuesAt({ pretrain: { batchSize: 2 }, finetune: { initializations: ['random'] } }, '/pretrain/batchSize');
  assert.equal(w?.severity, 'warning');
  assert.match(w!.message, /this experiment does not pretrain/);
});

test('config check: fine-tuning batch size 1 is an error on /finetune/batchSize', async () => {
  const [issue] = await issuesAt({ finetune: { batchSize: 1 } }, '/finetune/batchSize');
  assert.equal(issue?.severity, 'error');
  assert.match(issue!.message, /^finetune\.batchSize 1 is below 2: fine-tuning drops batches of one case, so it would train nothing/);
  assert.deepEqual(await issuesAt({ finetune: { batchSize: 2 } }, '/finetune/batchSize'), []);
});

test('experiment name: 1–100 characters without control characters, else a clear error on /name', () => {
  const at = (name: string) => configIssues({ name }).filter((i) => i.path === '/name');
  assert.equal(NAME_MAX_LENGTH, 100);
  assert.deepEqual(at('x'.repeat(100)), []);
  assert.deepEqual(at('my study (v2), ünïcode'), []);
  assert.deepEqual(at('x'.repeat(300)), [{ path: '/name', message: 'must be 1–100 characters without control characters (run folders are named after it); it has 300' }]);
  assert.deepEqual(at('two\nlines'), [{ path: '/name', message: 'must be 1–100 characters without control characters (run folders are named after it); it holds U+000A' }]);
  assert.deepEqual(at(''), [{ path: '/name', message: 'must be 1–100 characters without control characters (run folders are named after it); it is empty' }]);
  assert.throws(() => resolveConfig({ name: 'n'.repeat(300) }, 'x.mrcl.json'), /x\.mrcl\.json: invalid config:\n {2}\/name: must be 1–100 characters/);
});

test('the config checks import no TF.js (the extension host runs them)', () => {
  // static import graph from semantic.ts: value imports only (`import type` is erased)
  const root = resolve(__dirname, '../../../src/engine/config/semantic.ts');
  const seen = new Set<string>();
  const offending: string[] = [];
  const visit = (file: string, via: string[]) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^import\s+(?!type\b)[^'"]*?from\s+'([^']+)'|^export\s+(?!type\b)[^'"]*?from\s+'([^']+)'/gm)) {
      const spec = m[1] ?? m[2]!;
      if (spec.startsWith('@tensorflow') || /(^|\/)backend$/.test(spec)) offending.push([...via, file, spec].join(' → '));
      if (!spec.startsWith('.')) continue;
      const base = resolve(dirname(file), spec);
      const next = [`${base}.ts`, join(base, 'index.ts')].find((p) => existsSync(p));
      if (next) visit(next, [...via, file]);
    }
  };
  visit(root, []);
  assert.ok(seen.size > 5, `walked ${seen.size} files`);
  assert.deepEqual(offending, []);
});

// Tumour masks are for evaluation only: while a whole experiment runs, every
// read of a mask file comes from the evaluation code (explain/masks.ts) or
// from the dataset validation before the run starts (data/validate.ts, which
// only reports problems), never from pretraining or the fine-tuning loop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../../src/engine/config/resolve';
import { runStudy } from '../../../src/engine/experiment/study';
import { tinyWorkspace } from './helpers';

test('no training path reads a mask file', { timeout: 600_000 }, async () => {
  const ws = await tinyWorkspace({ finetune: { initializations: ['pretrained'] } });
  const manifest = JSON.parse(readFileSync(join(ws.dir, 'cohort', 'manifest.json'), 'utf8')) as { cases: { mask?: string }[] };
  const masks = new Set(manifest.cases.flatMap((c) => (c.mask ? [resolve(ws.dir, 'cohort', c.mask)] : [])));
  assert.ok(masks.size > 0);
  const reads: { path: string; stack: string }[] = [];
  // reads of the file's content (a stat for existence reads nothing)
  const names = ['openSync', 'readFileSync', 'createReadStream'] as const;
  Error.stackTraceLimit = 64;
  const originals = names.map((n) => [n, (fs as unknown as Record<string, unknown>)[n]] as const);
  for (const [n, orig] of originals) {
    (fs as unknown as Record<string, unknown>)[n] = function (this: unknown, p: unknown, ...rest: unknown[]) {
      if (typeof p === 'string' && masks.has(resolve(p))) reads.push({ path: p, stack: new Error().stack ?? '' });
      return (orig as (...a: unknown[]) => unknown).call(this, p, ...rest);
    };
  }
  try {
    const { config, baseDir } = loadConfig(ws.configPath);
    const outcome = await runStudy({ kind: 'experiment', config, baseDir, emit: () => {} });
    assert.equal(outcome.status, 'done', outcome.error);
  } finally {
    for (const [n, orig] of originals) (fs as unknown as Record<string, unknown>)[n] = orig;
  }
  assert.ok(reads.some((r) => /explain[\\/]masks\.ts/.test(r.stack)), 'evaluation reads the masks (else this test would prove nothing)');
  const outside = reads.filter((r) => !/explain[\\/]masks\.ts|data[\\/]validate\.ts/.test(r.stack));
  assert.deepEqual(outside.map((r) => r.path), []);
  for (const r of reads) {
    assert.doesNotMatch(r.stack, /runLoop|pretrainStep|[\\/]pretrain\.ts/, 'a mask was read inside a training loop');
  }
});

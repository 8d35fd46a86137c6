// A tiny pretraining run on reports with planted identifiers (header fields,
// a known-names file, an institution, dates, a phone number, an e-mail and a
// street address, an age over 89): no file the run writes (tokenizer.json,
// attention/*.json, checkpoints, events, validation, …) holds any of them.
// Fine-tuning reads no report, so the pretraining run is the whole story.
// Also: the tokenizer's minDocuments rule holds in a real run, and is
// lowered (with a log line) for a corpus of 8 reports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../../src/engine/config/resolve';
import { runStudy } from '../../../src/engine/experiment/study';
import { pretrainPlan } from '../../../src/engine/experiment/units';
import { openDataset } from '../../../src/engine/training/dataset';
import { toByteSymbols } from '../../../src/engine/text/words';
import type { EngineEvent } from '../../../src/shared/events';
import { tinyWorkspace } from './helpers';
import { FOOTER, HEADER, PLANTED, files, found } from './planted';

test('no planted identifier reaches any file of a run', { timeout: 600_000 }, async () => {
  const ws = await tinyWorkspace({ report: { knownNamesFile: 'names.txt' } }, { internal: 12, external: 2 });
  writeFileSync(join(ws.dir, 'names.txt'), 'Hortensia Grimsby\n');
  const { config, baseDir } = loadConfig(ws.configPath);
  const manifest = JSON.parse(readFileSync(join(ws.dir, 'cohort', 'manifest.json'), 'utf8')) as { cases: { report?: string }[] };
  let planted = 0;
  for (const c of manifest.cases) {
    if (!c.report) continue;
    const p = join(ws.dir, 'cohort', c.report);
    writeFileSync(p, `${HEADER}\n${readFileSync(p, 'utf8')}\n${FOOTER}\n`);
    planted++;
  }
  assert.equal(planted, 12);
  // the search finds every planted identifier in a raw report, and without
  // de-identification the prepared reports would still hold the names
  const raw = readFileSync(join(ws.dir, 'cohort', manifest.cases[0]!.report!), 'utf8');
  assert.deepEqual(found(raw), PLANTED);
  const off = openDataset({ ...config, report: { ...config.report, deidentify: false } }, baseDir);
  assert.ok(found(off.report(off.manifest.cases[0]!)!).includes('Grimsby'));
  const on = openDataset(config, baseDir);
  assert.deepEqual(found(on.report(on.manifest.cases[0]!)!), []);

  const outcome = await runStudy({ kind: 'pretrain', config, baseDir, plan: pretrainPlan(), emit: () => {} });
  assert.equal(outcome.status, 'done', outcome.error);
  const all = files(outcome.runDir!);
  for (const f of ['pretrain/tokenizer.json', 'pretrain/model.safetensors', 'config.json', 'events.jsonl']) {
    assert.ok(all.includes(join(outcome.runDir!, f)), `${f} missing`);
  }
  assert.ok(all.some((f) => /[/\\]attention[/\\][^/\\]+\.json$/.test(f)), 'no attention/*.json');
  for (const f of all) assert.deepEqual(found(readFileSync(f).toString('latin1')), [], f);
  // and the same in UTF-8 for the text files (the tokenizer's byte symbols stay ASCII for these words)
  for (const f of all.filter((x) => /\.(json|jsonl|md|csv|txt)$/.test(x))) assert.deepEqual(found(readFileSync(f, 'utf8')), [], f);
  // tokenizer.minDocuments (5; 12 reports ≥ 2·5, so not lowered): every learnt token occurs in at least 5 prepared reports
  const prepared = on.manifest.cases.filter((c) => c.report).map((c) => toByteSymbols(on.report(c)!));
  const vocab = (JSON.parse(readFileSync(join(outcome.runDir!, 'pretrain', 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } }).model.vocab;
  const learnt = Object.entries(vocab).filter(([, id]) => id >= 260);
  assert.ok(learnt.length > 0, 'no token learnt');
  for (const [tok] of learnt) assert.ok(prepared.filter((r) => r.includes(tok)).length >= 5, tok);
});

test('a tiny corpus lowers tokenizer.minDocuments to half the reports, says so, and every learnt token still comes from that many reports', { timeout: 600_000 }, async () => {
  const ws = await tinyWorkspace({}, { internal: 8, external: 2 });
  const { config, baseDir } = loadConfig(ws.configPath);
  const events: EngineEvent[] = [];
  const outcome = await runStudy({ kind: 'pretrain', config, baseDir, plan: pretrainPlan(), emit: (e) => events.push(e) });
  assert.equal(outcome.status, 'done', outcome.error);
  const logs = events.flatMap((e) => (e.type === 'log' ? [e.message] : []));
  assert.ok(logs.includes('pretrain: only 8 reports, so the tokenizer learns tokens found in at least 4 reports (tokenizer.minDocuments is 5)'), JSON.stringify(logs));
  const ds = openDataset(config, baseDir);
  const prepared = ds.manifest.cases.filter((c) => c.report).map((c) => toByteSymbols(ds.report(c)!));
  assert.equal(prepared.length, 8);
  const vocab = (JSON.parse(readFileSync(join(outcome.runDir!, 'pretrain', 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } }).model.vocab;
  const learnt = Object.keys(vocab).filter((t) => vocab[t]! >= 260);
  assert.ok(learnt.length > 0, 'no token learnt');
  for (const tok of learnt) assert.ok(prepared.filter((r) => r.includes(tok)).length >= 4, tok);
});

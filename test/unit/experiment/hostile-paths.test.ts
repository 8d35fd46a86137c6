// Paths from data never leave their folder (issue: a case id such as
// `../../../../x` made the cross-attention export write outside the run).
// Every run command, through the worker's entry (runEngineCommand), refuses
// a manifest with a bad id or a path outside the dataset folder before it
// writes anything; the opt-in (data.allowOutsidePaths) lets such paths in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runEngineCommand } from '../../../src/engine/api/run';
import type { RunRequest } from '../../../src/shared/protocol';
import { loadConfig } from '../../../src/engine/config/resolve';
import { openDataset, pretrainingCases, type Dataset } from '../../../src/engine/training/dataset';
import { exportCrossAttention } from '../../../src/engine/explain/export-cross-attention';
import { tinyWorkspace } from './helpers';

/** Every file under `root` with its size and mtime: a write anywhere changes it. */
function snapshot(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else out.push(`${p.slice(root.length)} ${st.size} ${st.mtimeMs}`);
    }
  };
  walk(root);
  return out;
}

async function failure(req: RunRequest): Promise<string> {
  try {
    const r = await runEngineCommand(req, { emit: () => undefined });
    assert.equal(r.status, 'failed', `${req.command} should fail`);
    return r.error ?? '';
  } catch (e) {
    return (e as Error).message;
  }
}

const COMMANDS: RunRequest['command'][] = ['experiment', 'ablate', 'pretrain', 'finetune'];

test('a hostile case id or an outside report path: every run command refuses before writing anything', async (t) => {
  const ws = await tinyWorkspace({}, { internal: 6, external: 2 });
  t.after(() => rmSync(ws.dir, { recursive: true, force: true }));
  const manifestPath = join(ws.dir, 'cohort', 'manifest.json');
  const original = readFileSync(manifestPath, 'utf8');
  const tag = `mrcl-escape-${process.pid}-${Date.now()}`;
  // from <ws>/runs/<run>/pretrain/attention, five levels up is the temp folder itself
  const escapedId = `../../../../../${tag}`;
  const targets = [join(tmpdir(), `${tag}.json`), join(dirname(tmpdir()), `${tag}.json`), join(ws.dir, `${tag}.json`)];
  writeFileSync(join(ws.dir, 'outside.txt'), 'words from a file outside the dataset folder');

  const variants: { name: string; edit: (m: { cases: Record<string, string>[] }) => void; expect: RegExp }[] = [
    { name: 'id with ..', edit: (m) => (m.cases[0]!.id = escapedId), expect: /case 1: (id: )?"\.\.\/.*" is not a valid case id/ },
    { name: 'id with a newline', edit: (m) => (m.cases[0]!.id = 'a\nb'), expect: /case 1: (id: )?"a\\nb" is not a valid case id/ },
    { name: 'id with NUL', edit: (m) => (m.cases[0]!.id = 'a\0b'), expect: /case 1: (id: )?"a\\x00b" is not a valid case id/ },
    { name: 'report outside', edit: (m) => (m.cases[0]!.report = '../outside.txt'), expect: /case "int-001".*report.*"\.\.\/outside\.txt" lies outside the dataset folder/ },
  ];
  for (const v of variants) {
    const m = JSON.parse(original) as { cases: Record<string, string>[] };
    v.edit(m);
    writeFileSync(manifestPath, JSON.stringify(m));
    const before = snapshot(ws.dir);
    for (const command of COMMANDS) {
      const message = await failure({ command, config: ws.configPath, backend: 'cpu' });
      assert.match(message, v.expect, `${v.name}, ${command}`);
      assert.ok(message.includes(manifestPath), `${v.name}, ${command}: the error names the manifest: ${message}`);
    }
    assert.deepEqual(snapshot(ws.dir), before, `${v.name}: nothing written in the workspace`);
    assert.ok(!existsSync(join(ws.dir, 'runs')), `${v.name}: no run folder`);
    for (const p of targets) assert.ok(!existsSync(p), `${v.name}: ${p} written`);
  }
});

test('data.allowOutsidePaths lets a run read a report outside the dataset folder', async (t) => {
  const ws = await tinyWorkspace({}, { internal: 6, external: 2 });
  t.after(() => rmSync(ws.dir, { recursive: true, force: true }));
  const manifestPath = join(ws.dir, 'cohort', 'manifest.json');
  const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as { cases: Record<string, string>[] };
  m.cases[0]!.report = '../outside.txt';
  writeFileSync(manifestPath, JSON.stringify(m));
  writeFileSync(join(ws.dir, 'outside.txt'), 'Lesion in the vermis.');
  const { config, baseDir } = loadConfig(ws.configPath);
  assert.throws(() => openDataset(config, baseDir), /report: "\.\.\/outside\.txt" lies outside the dataset folder/);
  config.data.allowOutsidePaths = true;
  const ds = openDataset(config, baseDir);
  assert.match(ds.report(ds.manifest.cases[0]!) ?? '', /^Lesion in the vermis/);
});

test('the cross-attention export checks every file name before reading or writing anything', async (t) => {
  const ws = await tinyWorkspace({}, { internal: 6, external: 2 });
  t.after(() => rmSync(ws.dir, { recursive: true, force: true }));
  const { config, baseDir } = loadConfig(ws.configPath);
  const real = openDataset(config, baseDir);
  // a dataset that got past the manifest's checks some other way
  const cases = real.manifest.cases.map((c, n) => (n === 1 ? { ...c, id: '../../../x' } : c));
  const ds: Dataset = { ...real, manifest: { ...real.manifest, cases } };
  assert.equal(pretrainingCases(ds).length, 6);
  const stageDir = join(ws.dir, 'runs', 'r', 'pretrain');
  const before = snapshot(ws.dir);
  await assert.rejects(exportCrossAttention(config, ds, stageDir), /case id "\.\.\/\.\.\/\.\.\/x" cannot be used as a file name/);
  assert.deepEqual(snapshot(ws.dir), before);
});

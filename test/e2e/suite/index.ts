// End-to-end tests inside the real extension host (code-server), against
// the installed VSIX: activation, commands, schema completion and hover,
// diagnostics, and real engine runs in worker processes followed in the
// tree. The driver (test/e2e/driver.ts) prepares the workspace: a tiny
// synthetic cohort in tiny-cohort/.
import * as vscode from 'vscode';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { MrclApi } from '../../../src/extension/extension';
import type { Job } from '../../../src/extension/runs/job';
import { configIssues } from '../../../src/engine/config/resolve';
import { runCases, skip, waitFor, type TestCase } from './harness';
import { tinyConfig } from '../tiny-config';
import { untrustedCases } from './untrusted';
import { runCli } from '../../../src/extension/runs/engine-paths';

const EXT_ID = 'mri-report-cl.mri-report-cl';
const RUN_TIMEOUT_MS = 5 * 60_000;

interface Item {
  label: string;
  description: string;
  contextValue: string;
}

function ws(): string {
  const f = vscode.workspace.workspaceFolders?.[0];
  assert.ok(f, 'a workspace folder is open');
  return f.uri.fsPath;
}

function labelsOf(list: vscode.CompletionList | vscode.CompletionItem[] | undefined): string[] {
  const items = Array.isArray(list) ? list : (list?.items ?? []);
  return items.map((i) => (typeof i.label === 'string' ? i.label : i.label.label).replace(/^"|"$/g, ''));
}

async function openWith(path: string, text: string): Promise<vscode.TextDocument> {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(path));
  await vscode.window.showTextDocument(doc);
  return doc;
}

/** Completion at a position, retried while the JSON language server starts. */
async function completionAt(doc: vscode.TextDocument, pos: vscode.Position, expect: string): Promise<string[]> {
  return waitFor(`completion offering "${expect}" in ${doc.uri.fsPath}`, async () => {
    const list = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', doc.uri, pos);
    const labels = labelsOf(list);
    return labels.includes(expect) ? labels : undefined;
  }, 60_000, 500);
}

/** The tree's items, depth-first, as plain data (what a person sees). */
async function treeItems(api: MrclApi): Promise<Item[]> {
  const out: Item[] = [];
  type Node = Parameters<typeof api.tree.getTreeItem>[0];
  const walk = async (nodes: readonly Node[] | null | undefined, depth: number) => {
    for (const n of nodes ?? []) {
      const ti = api.tree.getTreeItem(n) as vscode.TreeItem;
      const label = typeof ti.label === 'string' ? ti.label : (ti.label?.label ?? '');
      out.push({ label: `${'  '.repeat(depth)}${label}`, description: String(ti.description ?? ''), contextValue: ti.contextValue ?? '' });
      if (depth < 2) await walk(await api.tree.getChildren(n), depth + 1);
    }
  };
  api.tree.refresh();
  await new Promise((r) => setTimeout(r, 400)); // the refresh is debounced
  await walk(await api.tree.getChildren(), 0);
  return out;
}

async function settle(api: MrclApi, job: Job | undefined, what: string): Promise<Job> {
  assert.ok(job, `${what}: the command started a job`);
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: not finished after ${RUN_TIMEOUT_MS} ms`)), RUN_TIMEOUT_MS));
  return Promise.race([api.manager.whenSettled(job.id), timeout]);
}

function writeConfig(path: string, name: string, overrides: Record<string, unknown> = {}): string {
  const config = tinyConfig(name, overrides);
  assert.deepEqual(configIssues(config), []);
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`);
  return path;
}

export async function run(): Promise<void> {
  // the driver starts a second workbench in Restricted Mode for these
  if (process.env.MRCL_E2E_SUITE === 'untrusted') return runCases(untrustedCases());
  let api: MrclApi | undefined;
  const need = (): MrclApi => api ?? skip('the extension did not activate');
  const cases: TestCase[] = [
    {
      name: 'the extension activates and exposes its run manager and tree',
      fn: async () => {
        const ext = vscode.extensions.getExtension<MrclApi>(EXT_ID);
        assert.ok(ext, `${EXT_ID} is installed`);
        api = await ext.activate();
        assert.equal(ext.isActive, true);
        assert.ok(api.manager && api.tree && api.diagnostics);
      },
    },
    {
      name: 'every contributed command is registered',
      fn: async () => {
        const ext = vscode.extensions.getExtension(EXT_ID)!;
        const contributed = (ext.packageJSON.contributes.commands as { command: string }[]).map((c) => c.command);
        assert.ok(contributed.length >= 15);
        const all = new Set(await vscode.commands.getCommands(true));
        assert.deepEqual(contributed.filter((c) => !all.has(c)), []);
      },
    },
    {
      name: 'the schema offers completion and hover docs in a *.mrcl.json',
      fn: async () => {
        const doc = await openWith(join(ws(), 'probe.mrcl.json'), '{\n  "pretrain": {\n    \n  },\n  "name": "probe"\n}\n');
        const top = await completionAt(doc, new vscode.Position(4, 2), 'finetune');
        for (const k of ['data', 'image', 'loss', 'explain']) assert.ok(top.includes(k), `top-level completion offers ${k}: ${top.join(', ')}`);
        const inner = await completionAt(doc, new vscode.Position(2, 4), 'epochs');
        for (const k of ['batchSize', 'lr', 'warmupEpochs']) assert.ok(inner.includes(k), `pretrain completion offers ${k}`);
        const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, new vscode.Position(1, 5));
        const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
        assert.match(text, /Contrastive pretraining/);
      },
    },
    {
      name: 'the schema also applies to experiments/*.json',
      fn: async () => {
        const doc = await openWith(join(ws(), 'experiments', 'probe.json'), '{\n  \n}\n');
        const labels = await completionAt(doc, new vscode.Position(1, 2), 'pretrain');
        assert.ok(labels.includes('outDir'));
      },
    },
    {
      name: 'diagnostics: schema and cross-field problems, then missing files, from the engine',
      fn: async () => {
        const a = need();
        const broken = join(ws(), 'broken.mrcl.json');
        writeFileSync(broken, '{\n  "name": "broken",\n  "image": { "depth": 11 },\n  "text": { "hidden": 64, "heads": 3 }\n}\n');
        const uri = vscode.Uri.file(broken);
        // written on disk, not opened: the file watcher triggers the check
        const diags = await waitFor('mrcl diagnostics on broken.mrcl.json', () => {
          const d = vscode.languages.getDiagnostics(uri).filter((x) => x.source === 'mrcl');
          return d.length ? d : undefined;
        });
        assert.deepEqual(diags.map((d) => [d.message, d.range.start.line, d.severity]), [['expected one of 10, 18, 34, got 11', 2, vscode.DiagnosticSeverity.Error]]);
        // fix the schema error in the editor: the cross-field check (heads | hidden) appears, unsaved text is checked
        const doc = await vscode.workspace.openTextDocument(uri);
        const editor = await vscode.window.showTextDocument(doc);
        await editor.edit((e) => e.replace(new vscode.Range(2, 22, 2, 24), '10'));
        await waitFor('the cross-field diagnostic after the edit', () => {
          const d = vscode.languages.getDiagnostics(uri).filter((x) => x.source === 'mrcl');
          return d.length === 1 && d[0]!.message === 'must divide text.hidden (64)' && d[0]!.range.start.line === 3;
        });
        await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');

        const missing = join(ws(), 'missing.mrcl.json');
        writeFileSync(missing, JSON.stringify({ name: 'm', data: { manifest: 'nowhere/manifest.json' }, image: { medicalNet: 'weights/none.pth' } }, null, 2));
        await a.diagnostics.check(vscode.Uri.file(missing));
        const sem = vscode.languages.getDiagnostics(vscode.Uri.file(missing)).filter((x) => x.source === 'mrcl');
        assert.deepEqual(sem.slice(0, 2).map((d) => [d.message.replace(ws(), '<ws>'), d.severity]), [
          ['manifest not found: <ws>/nowhere/manifest.json', vscode.DiagnosticSeverity.Error],
          ['MedicalNet checkpoint not found: <ws>/weights/none.pth', vscode.DiagnosticSeverity.Error],
        ]);
        // the default 64×64×40 at output stride 32: a 2×2×2 attention grid, a warning
        assert.equal(sem.length, 3);
        assert.match(sem[2]!.message, /output stride 32 gives a 2×2×2 attention grid, smaller than 4×4×3/);
        assert.equal(sem[2]!.severity, vscode.DiagnosticSeverity.Warning);
        // the JSON language service reports the schema error too (jsonValidation is bound)
        await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
        await waitFor('a JSON schema diagnostic on broken.mrcl.json', () => vscode.languages.getDiagnostics(uri).some((x) => x.source === 'json' || /Value is not accepted/.test(x.message)), 60_000);
      },
    },
    {
      name: 'Generate Synthetic Cohort runs in a worker process and its job shows done in the tree',
      fn: async () => {
        const a = need();
        const job = await vscode.commands.executeCommand<Job>('mrcl.generateSyntheticCohort', 'cohort');
        const done = await settle(a, job, 'synth');
        assert.equal(done.status, 'done', done.error);
        assert.ok(existsSync(join(ws(), 'cohort', 'manifest.json')));
        const items = await treeItems(a);
        const row = items.find((i) => i.label.trim() === 'Synthetic cohort → cohort');
        assert.ok(row, `tree rows: ${items.map((i) => i.label).join(' | ')}`);
        assert.equal(row.description, 'done');
      },
    },
    {
      name: 'Validate Dataset on the generated manifest',
      fn: async () => {
        const a = need();
        const job = await vscode.commands.executeCommand<Job>('mrcl.validateDataset', vscode.Uri.file(join(ws(), 'cohort', 'manifest.json')));
        const done = await settle(a, job, 'validate');
        assert.equal(done.status, 'done', done.error);
      },
    },
    {
      name: 'New Experiment scaffolds a config the engine accepts',
      fn: async () => {
        const file = await vscode.commands.executeCommand<string>('mrcl.newExperiment', { name: 'scaffolded', manifest: 'tiny-cohort/manifest.json', noOpen: true });
        assert.equal(file, join(ws(), 'scaffolded.mrcl.json'));
        const config = JSON.parse(readFileSync(file, 'utf8'));
        assert.deepEqual(configIssues(config), []);
        assert.equal(config.data.manifest, 'tiny-cohort/manifest.json');
        assert.equal(config.pretrain.epochs, 400, 'every default is spelled out');
      },
    },
    {
      name: 'Run Experiment: a tiny experiment finishes, with its run, stages and AUC in the tree',
      fn: async () => {
        const a = need();
        const config = writeConfig(join(ws(), 'tiny.mrcl.json'), 'tiny');
        const job = await vscode.commands.executeCommand<Job>('mrcl.runExperiment', vscode.Uri.file(config));
        const done = await settle(a, job, 'experiment');
        assert.equal(done.status, 'done', done.error);
        assert.ok(done.runDir && existsSync(join(done.runDir, 'results.md')));
        const snap = await a.tree.scan();
        const exp = snap.experiments.find((e) => e.name === 'tiny');
        assert.ok(exp, 'the experiment is listed');
        assert.deepEqual(exp.runs.map((r) => [r.dir, r.status]), [[done.runDir, 'done']]);
        const items = await treeItems(a);
        const i = items.findIndex((x) => x.label === 'tiny');
        assert.ok(i >= 0, `tree rows: ${items.map((x) => x.label).join(' | ')}`);
        const runRow = items[i + 1]!;
        assert.equal(runRow.label.trim(), done.runDir.split('/').pop());
        assert.match(runRow.description, /^done · AUC \d\.\d{3}/);
        assert.match(runRow.contextValue, /\bresults\b/);
        const stages = items.slice(i + 2, i + 4).map((x) => x.label.trim());
        assert.deepEqual(stages.sort(), ['finetune', 'pretrain']);
      },
    },
    {
      name: 'Stop Run leaves a cancelled, resumable run; Resume Run finishes it',
      fn: async () => {
        const a = need();
        const config = writeConfig(join(ws(), 'long.mrcl.json'), 'long', { pretrain: { epochs: 3, batchSize: 4 } });
        const job = await vscode.commands.executeCommand<Job>('mrcl.runExperiment', vscode.Uri.file(config));
        assert.ok(job);
        await waitFor('the first training step', () => a.manager.get(job.id)?.progress !== undefined || a.manager.get(job.id)?.status !== 'running' && a.manager.get(job.id)?.status !== 'queued', 120_000);
        await vscode.commands.executeCommand('mrcl.stopRun', job);
        const stopped = await settle(a, job, 'stopped experiment');
        assert.equal(stopped.status, 'cancelled', stopped.error);
        assert.ok(stopped.runDir);
        const info = JSON.parse(readFileSync(join(stopped.runDir, 'run.json'), 'utf8'));
        assert.equal(info.status, 'cancelled');
        const run = (await a.tree.scan()).experiments.find((e) => e.name === 'long')!.runs[0]!;
        assert.equal(run.status, 'cancelled');
        const row = (await treeItems(a)).find((x) => x.label.trim() === run.id);
        assert.ok(row);
        assert.match(row.contextValue, /\bresumable\b/);

        const resumed = await vscode.commands.executeCommand<Job>('mrcl.resumeRun', stopped.runDir ? await runNode(a, run.id) : undefined);
        const finished = await settle(a, resumed, 'resumed experiment');
        assert.equal(finished.status, 'done', finished.error);
        assert.equal(finished.runDir, stopped.runDir, 'resumed in the same run folder');
        assert.equal(JSON.parse(readFileSync(join(stopped.runDir, 'run.json'), 'utf8')).status, 'done');
      },
    },
    {
      name: 'Select Compute Backend: the packaged CLI reports which backends load; the choice is stored',
      fn: async () => {
        const ext = vscode.extensions.getExtension(EXT_ID)!;
        const probe = JSON.parse(await runCli(ext.extensionPath, '', ['backend', '--json'])) as { active: { name: string }; probes: { preference: string; available: boolean }[] };
        assert.ok(probe.probes.some((p) => p.preference === 'cpu' && p.available));
        assert.ok(['cpu', 'tensorflow'].includes(probe.active.name));
        const settings = vscode.workspace.getConfiguration('mrcl');
        try {
          assert.equal(await vscode.commands.executeCommand('mrcl.selectBackend', 'cpu'), 'cpu');
          assert.equal(vscode.workspace.getConfiguration('mrcl').get('backend'), 'cpu');
        } finally {
          await settings.update('backend', undefined, vscode.ConfigurationTarget.Global);
        }
      },
    },
    {
      name: 'a crashed worker fails its run with its last output',
      fn: async () => {
        const a = need();
        const fake = join(ws(), 'crashing-node.sh');
        writeFileSync(fake, '#!/bin/sh\necho "simulated crash: out of memory" >&2\nexit 7\n');
        chmodSync(fake, 0o755);
        const settings = vscode.workspace.getConfiguration('mrcl');
        await settings.update('nodePath', fake, vscode.ConfigurationTarget.Global);
        try {
          const job = await vscode.commands.executeCommand<Job>('mrcl.validateDataset', vscode.Uri.file(join(ws(), 'cohort', 'manifest.json')));
          const failed = await settle(a, job, 'crashing worker');
          assert.equal(failed.status, 'failed');
          assert.match(failed.error ?? '', /exited with code 7/);
          assert.match(failed.error ?? '', /simulated crash: out of memory/);
        } finally {
          await settings.update('nodePath', undefined, vscode.ConfigurationTarget.Global);
        }
      },
    },
  ];
  await runCases(cases);
}

/** The tree node of a run (commands invoked from the tree receive these). */
async function runNode(api: MrclApi, id: string): Promise<unknown> {
  const walk = async (nodes: readonly unknown[] | null | undefined): Promise<unknown> => {
    for (const n of nodes ?? []) {
      const ti = api.tree.getTreeItem(n as never) as vscode.TreeItem;
      if (ti.label === id && /^run\b/.test(ti.contextValue ?? '')) return n;
      const found = await walk(await api.tree.getChildren(n as never));
      if (found) return found;
    }
    return undefined;
  };
  api.tree.refresh();
  await new Promise((r) => setTimeout(r, 400));
  const node = await walk(await api.tree.getChildren());
  assert.ok(node, `run ${id} is in the tree`);
  return node;
}

// package.json's contributions against the code: every contributed command
// is registered (and every registered one contributed), menus and welcome
// views only name commands that exist, and every file they point to exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const contributes = pkg.contributes;
const contributed: string[] = contributes.commands.map((c: { command: string }) => c.command);
const ours = contributed.filter((c) => c.startsWith('mrcl.'));

/** Command ids registered in src/extension/commands (command('x', …), configRun('x', …)) and by the panels. */
function registeredInCode(): { ids: string[]; files: string[] } {
  const dir = 'src/extension/commands';
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  const ids: string[] = [];
  for (const f of files) {
    const text = readFileSync(join(dir, f), 'utf8');
    for (const m of text.matchAll(/\b(?:command|configRun)\(\s*'([A-Za-z][A-Za-z0-9]*)'/g)) ids.push(`mrcl.${m[1]}`);
  }
  // the panel commands (src/extension/panels/index.ts) are registered with registerCommand
  const panels = readFileSync('src/extension/panels/index.ts', 'utf8');
  for (const m of panels.matchAll(/registerCommand\(\s*'(mrcl\.[A-Za-z0-9]+)'/g)) ids.push(m[1]!);
  return { ids, files };
}

test('every contributed mrcl command is registered in code, and nothing else is', () => {
  const { ids } = registeredInCode();
  assert.deepEqual([...ids].sort(), [...ours].sort());
  assert.equal(new Set(ids).size, ids.length, 'no command registered twice');
});

test('every command file is part of ALL_COMMANDS', () => {
  const index = readFileSync('src/extension/commands/index.ts', 'utf8');
  const { files } = registeredInCode();
  for (const f of files) {
    if (f === 'index.ts' || f === 'define.ts' || f === 'targets.ts') continue;
    const text = readFileSync(join('src/extension/commands', f), 'utf8');
    const exported = [...text.matchAll(/export const (\w+): CommandDef\[\]/g)].map((m) => m[1]!);
    assert.ok(exported.length > 0, `${f} exports a CommandDef[]`);
    for (const name of exported) {
      assert.match(index, new RegExp(`import \\{ ${name} \\} from './${f.replace(/\.ts$/, '')}'`), `${name} imported in index.ts`);
      assert.match(index, new RegExp(`\\.\\.\\.${name}\\b`), `${name} spread into ALL_COMMANDS`);
    }
  }
});

test('contributed commands carry the category and a title', () => {
  for (const c of contributes.commands) {
    if (!c.command.startsWith('mrcl.')) continue;
    assert.equal(c.category, 'MRI-Report CL', c.command);
    assert.ok(c.title, c.command);
  }
});

test('menus, welcome views and walkthrough links name existing commands', () => {
  const builtIns = new Set(['workbench.trust.manage', 'workbench.action.files.openFolder', 'mrcl.experiments.focus']);
  const known = (id: string) => contributed.includes(id) || builtIns.has(id);
  for (const [menu, items] of Object.entries(contributes.menus) as [string, { command: string }[]][]) {
    for (const i of items) assert.ok(known(i.command), `${menu}: ${i.command}`);
  }
  const links = [
    ...contributes.viewsWelcome.map((w: { contents: string }) => w.contents),
    ...contributes.walkthroughs.flatMap((w: { steps: { description: string }[] }) => w.steps.map((s) => s.description)),
  ].join('\n');
  for (const m of links.matchAll(/\(command:([\w.]+)/g)) assert.ok(known(m[1]!), `link to ${m[1]}`);
});

test('view ids in menus and welcome views exist; files the manifest names exist', () => {
  const views = Object.values(contributes.views).flat().map((v) => (v as { id: string }).id);
  assert.ok(views.includes('mrcl.experiments'));
  for (const w of contributes.viewsWelcome) assert.ok(views.includes(w.view), w.view);
  for (const c of contributes.viewsContainers.activitybar) assert.ok(existsSync(c.icon), c.icon);
  for (const j of contributes.jsonValidation) assert.ok(existsSync(j.url), j.url);
  for (const w of contributes.walkthroughs) for (const s of w.steps) assert.ok(existsSync(s.media.markdown), s.media.markdown);
  assert.equal(pkg.main, './dist/extension.js');
  assert.ok(existsSync('src/extension/extension.ts') && existsSync('src/worker/main.ts'));
});

test('the schema is bound to *.mrcl.json and experiments/*.json, as the code recognises configs', async () => {
  const { isConfigPath } = await import('../../../src/extension/config/config-files');
  const fileMatch: string[] = contributes.jsonValidation.flatMap((j: { fileMatch: string[] }) => j.fileMatch);
  assert.deepEqual(fileMatch, ['*.mrcl.json', '**/experiments/*.json']);
  for (const [path, yes] of [
    ['/w/exp.mrcl.json', true],
    ['/w/sub/a.mrcl.json', true],
    ['/w/experiments/a.json', true],
    ['C:\\w\\experiments\\a.json', true],
    ['/w/experiments/sub/a.json', false],
    ['/w/runs/exp-1/config.json', false],
    ['/w/a.json', false],
  ] as const) {
    assert.equal(isConfigPath(path), yes, path);
  }
});

test('settings: every mrcl.* setting read in code is contributed with a default and a description', () => {
  const props = contributes.configuration.properties as Record<string, { default?: unknown; markdownDescription?: string; description?: string }>;
  const settings = readFileSync('src/extension/settings.ts', 'utf8');
  for (const m of settings.matchAll(/c\.get<[^>]+>\('([\w.]+)'/g)) {
    const key = `mrcl.${m[1]}`;
    assert.ok(props[key], `${key} contributed`);
  }
  for (const [k, p] of Object.entries(props)) {
    assert.ok('default' in p, `${k} has a default`);
    assert.ok(p.markdownDescription || p.description, `${k} is documented`);
  }
  assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
  assert.deepEqual(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations, ['mrcl.nodePath']);
});

test('NIfTI artifacts in the tree open with a contributed custom editor', () => {
  const viewer = /NIFTI_VIEWER = '([\w.]+)'/.exec(readFileSync('src/extension/views/tree-nodes.ts', 'utf8'))?.[1];
  assert.ok(viewer);
  const editors = (contributes.customEditors ?? []) as { viewType: string; selector: { filenamePattern: string }[] }[];
  const editor = editors.find((e) => e.viewType === viewer);
  assert.ok(editor, `${viewer} is contributed`);
  assert.ok(editor.selector.some((s) => s.filenamePattern === '*.nii.gz'));
});

/** The commands a tree item with `contextValue` offers (view/item/context `viewItem =~ /re/` clauses, as VS Code evaluates them). */
function treeMenu(contextValue: string): string[] {
  const items = contributes.menus['view/item/context'] as { command: string; when: string; group?: string }[];
  const offered = items.filter((i) => {
    const clauses = i.when.split('&&').map((c) => c.trim());
    return clauses.every((c) => {
      if (c === 'view == mrcl.experiments') return true;
      const m = /^viewItem =~ \/(.*)\/$/.exec(c);
      assert.ok(m, `unexpected clause "${c}" in ${i.command}`);
      return new RegExp(m[1]!).test(contextValue);
    });
  });
  return [...new Set(offered.map((i) => i.command))].sort();
}

test('tree menus: runs open their dashboard, tables and cases; heatmaps open their case; synthetic cohorts no dashboard', async () => {
  const { contextValue, jobContextValue, runContextValue } = await import('../../../src/extension/views/context-values');
  const run = { dir: '/r', id: 'r', kind: 'experiment', status: 'done' as const, stages: [], metrics: {}, artifacts: [], results: '/r/results.md' };
  const done = treeMenu(runContextValue(run, undefined));
  for (const c of ['mrcl.openDashboard', 'mrcl.openResultsPanel', 'mrcl.openCaseViewer', 'mrcl.openReportAttention', 'mrcl.openResults']) assert.ok(done.includes(c), `${c} on a finished run`);
  assert.ok(!treeMenu(runContextValue({ ...run, results: undefined }, undefined)).includes('mrcl.openResultsPanel'), 'no tables before results exist');
  const job = (command: 'experiment' | 'synth', status: 'running' | 'done') => ({ id: 'j', label: 'L', request: { command }, status, queuedAt: 0, ...(status === 'done' ? { runDir: '/r' } : {}) });
  assert.ok(treeMenu(jobContextValue(job('experiment', 'running'))).includes('mrcl.openDashboard'));
  assert.ok(!treeMenu(jobContextValue(job('synth', 'running'))).includes('mrcl.openDashboard'));
  assert.ok(!treeMenu(jobContextValue(job('synth', 'done'))).includes('mrcl.openDashboard'));
  const heat = treeMenu(contextValue('artifact', { file: true, nifti: true, case: true }));
  assert.deepEqual(heat.filter((c) => /Case|Report/.test(c)), ['mrcl.openCaseViewer', 'mrcl.openReportAttention']);
  assert.deepEqual(treeMenu(contextValue('artifact', { file: true, nifti: true })), [], 'a plain NIfTI opens by click only');
  const { isCaseArtifact } = await import('../../../src/extension/views/context-values');
  assert.ok(isCaseArtifact('/r/finetune/pretrained/fold-0/heatmaps/C01.heatmap.nii.gz'));
  assert.ok(isCaseArtifact('C:\\r\\finetune\\random\\fold-1\\heatmaps\\C01.binary.nii.gz'));
  assert.ok(isCaseArtifact('/r/pretrain/attention/C01.json'));
  assert.ok(!isCaseArtifact('/r/finetune/pretrained/fold-0/predictions.csv'));
  assert.ok(!isCaseArtifact('/r/cache/C01.nii.gz'));
});

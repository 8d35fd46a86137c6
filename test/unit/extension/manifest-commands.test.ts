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

/** Command ids registered in src/extension/commands: command('x', …) and configRun('x', …). */
function registeredInCode(): { ids: string[]; files: string[] } {
  const dir = 'src/extension/commands';
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  const ids: string[] = [];
  for (const f of files) {
    const text = readFileSync(join(dir, f), 'utf8');
    for (const m of text.matchAll(/\b(?:command|configRun)\(\s*'([A-Za-z][A-Za-z0-9]*)'/g)) ids.push(`mrcl.${m[1]}`);
  }
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

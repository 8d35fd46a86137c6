// Datasets and configs: generate a synthetic cohort, validate a dataset,
// scaffold a new experiment config.
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { loadConfig, resolveConfig, resolveIn } from '../../engine/config/resolve';
import { configFileName } from '../config/config-files';
import { EXCLUDE_GLOB } from '../config/config-files';
import { readSettings } from '../settings';
import { command, type CommandDef } from './define';
import { pathOf, pickManifestOrConfig, workspaceRoot } from './targets';
import type { RunRequest } from '../../shared/protocol';
import { SYNTH_DEFAULTS } from '../../shared/synth';

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export interface NewExperimentOptions {
  name?: string;
  /** manifest path, absolute or relative to the workspace folder */
  manifest?: string;
  /** folder for the config (default: the workspace folder) */
  folder?: string;
  /** do not open the new file */
  noOpen?: boolean;
}

async function askManifest(root: string): Promise<string | undefined> {
  const files = await vscode.workspace.findFiles('**/manifest.{json,csv}', EXCLUDE_GLOB, 100);
  const none = { label: '$(circle-slash) No dataset yet', description: 'set data.manifest later', path: '' };
  const picked = await vscode.window.showQuickPick(
    [...files.map((u) => ({ label: vscode.workspace.asRelativePath(u), description: 'manifest', path: u.fsPath })), none],
    { title: 'New Experiment: dataset', placeHolder: 'Dataset manifest for this experiment' },
  );
  if (!picked) return undefined;
  return picked.path ? relative(root, picked.path) : '';
}

interface SynthArg {
  out?: string;
  internal?: number;
  external?: number;
  shape?: [number, number, number];
  seed?: number;
}

function synthSize(a: SynthArg): RunRequest['synth'] {
  const size = { ...(a.internal !== undefined ? { internal: a.internal } : {}), ...(a.external !== undefined ? { external: a.external } : {}), ...(a.shape ? { shape: a.shape } : {}), ...(a.seed !== undefined ? { seed: a.seed } : {}) };
  return Object.keys(size).length ? size : undefined;
}

/** Cohort sizes offered by the command (the engine checks the numbers). */
const SYNTH_PRESETS: (vscode.QuickPickItem & { size: RunRequest['synth'] })[] = (
  [
    ['Standard', undefined, ''],
    ['Small', { internal: 24, external: 8, shape: [48, 48, 40] }, ': quick runs on a laptop CPU'],
    ['Tiny', { internal: 12, external: 4, shape: [24, 24, 16] }, ': for trying the tools'],
  ] as const
).map(([label, size, why]) => {
  const s = { ...SYNTH_DEFAULTS, ...size };
  return { label, description: `${s.internal} internal cases with reports + ${s.external} external, ${s.shape.join('×')} voxels${why}`, size: size ? { ...size, shape: [...size.shape] as [number, number, number] } : undefined };
});

export const dataCommands: CommandDef[] = [
  command('generateSyntheticCohort', async (s, arg) => {
    const root = workspaceRoot();
    // a folder (string), or { out, internal, external, shape, seed } from scripts and tests
    const given = typeof arg === 'object' && arg !== null && !(arg instanceof vscode.Uri) ? (arg as SynthArg) : {};
    let out = typeof arg === 'string' ? arg : given.out;
    let size: RunRequest['synth'] = synthSize(given);
    if (!out) {
      out = await vscode.window.showInputBox({
        title: 'Generate Synthetic Cohort',
        prompt: 'Output folder, relative to the workspace (created; must be empty or an earlier synthetic cohort)',
        value: readSettings().syntheticCohortFolder,
        validateInput: (v) => (v.trim() ? undefined : 'A folder is required'),
      });
      if (!out) return undefined;
      const preset = await vscode.window.showQuickPick(SYNTH_PRESETS, { title: 'Generate Synthetic Cohort: size' });
      if (!preset) return undefined;
      size = preset.size;
    }
    const abs = isAbsolute(out) ? out : join(root, out);
    return s.startRun({ command: 'synth', out: abs, ...(size ? { synth: size } : {}) });
  }),

  command('validateDataset', async (s, arg) => {
    const target = await pickManifestOrConfig(arg);
    if (!target) return undefined;
    if (target.config && !target.manifest) {
      // the config names the dataset; it is sent along for its labels and fold count
      const { config, baseDir } = loadConfig(target.config);
      if (!config.data.manifest) throw new Error(`${target.config}: data.manifest is empty: no dataset to validate`);
      target.manifest = resolveIn(baseDir, config.data.manifest);
    }
    return s.startRun({ command: 'validate', ...target });
  }),

  command('newExperiment', async (_s, arg) => {
    const opts: NewExperimentOptions = typeof arg === 'object' && arg !== null && !(arg instanceof vscode.Uri) ? (arg as NewExperimentOptions) : {};
    const root = workspaceRoot();
    const folder = opts.folder ?? (arg instanceof vscode.Uri ? pathOf(arg) : undefined) ?? root;
    const name =
      opts.name ??
      (await vscode.window.showInputBox({
        title: 'New Experiment',
        prompt: 'Experiment name (runs are written to runs/<name>-<timestamp>)',
        value: 'experiment',
        validateInput: (v) => (NAME_PATTERN.test(v) ? (existsSync(join(folder, configFileName(v))) ? `${configFileName(v)} already exists` : undefined) : 'Letters, digits, ".", "_" and "-"'),
      }));
    if (!name) return undefined;
    if (!NAME_PATTERN.test(name)) throw new Error(`"${name}" is not a valid experiment name (letters, digits, ".", "_" and "-")`);
    const file = join(folder, configFileName(name));
    if (existsSync(file)) throw new Error(`${file} already exists`);
    const manifestFromRoot = opts.manifest ?? (await askManifest(root));
    if (manifestFromRoot === undefined) return undefined;
    // the config stores the manifest relative to its own folder
    const manifest = manifestFromRoot ? relative(folder, isAbsolute(manifestFromRoot) ? manifestFromRoot : join(root, manifestFromRoot)) : '';
    // every default spelled out, validated by the engine (the same as `mrcl config init`)
    const config = resolveConfig({ name, data: { manifest } }, file);
    const text = `${JSON.stringify(config, null, 2)}\n`;
    const uri = vscode.Uri.file(file);
    const tmp = vscode.Uri.file(join(dirname(file), `.${configFileName(name)}.tmp`));
    await vscode.workspace.fs.writeFile(tmp, new TextEncoder().encode(text));
    await vscode.workspace.fs.rename(tmp, uri, { overwrite: false });
    if (!opts.noOpen) await vscode.window.showTextDocument(uri);
    return file;
  }),
];

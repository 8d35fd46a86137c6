// What a panel command was invoked on, as a run folder and optionally a case
// and a fine-tuned fold: `{ runDir, caseId, fold, word, patch }` arguments (hover
// links, tests), tree nodes (runs, jobs, stages, artifacts), URIs and paths
// (a run folder, a heatmap or binary map, a saved attention file, any file
// inside a run). Pure apart from looking for run.json/config.json.
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { runDirOf } from './run-case';

export interface PanelTarget {
  runDir: string;
  caseId?: string;
  /** finetune/<init>/fold-<k> folder whose heatmap to show */
  fold?: string;
  /** a word of the report whose patch map to show */
  word?: number;
  /** a patch (p = (x·Y + y)·Z + z of the saved attention's grid) to put the viewer's crosshair on */
  patch?: number;
}

const HEATMAP = /^(.+)\.(heatmap|binary)\.nii(\.gz)?$/;

function isRunDir(dir: string): boolean {
  return existsSync(join(dir, 'run.json')) && existsSync(join(dir, 'config.json'));
}

/** A run folder, or a file/folder inside one, as a target. */
export function targetFromPath(path: string): PanelTarget | undefined {
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    return undefined;
  }
  if (isDir && isRunDir(path)) return { runDir: path };
  // runDirOf looks from the folder holding its argument upwards
  const runDir = runDirOf(isDir ? join(path, '_') : path);
  if (!runDir) return undefined;
  const name = basename(path);
  const heat = HEATMAP.exec(name);
  if (heat && basename(dirname(path)) === 'heatmaps') return { runDir, caseId: heat[1]!, fold: dirname(dirname(path)) };
  if (name.endsWith('.json') && basename(dirname(path)) === 'attention' && basename(dirname(dirname(path))) === 'pretrain') {
    return { runDir, caseId: name.slice(0, -'.json'.length) };
  }
  if (isDir && /^fold-\d+$/.test(name)) return { runDir, fold: path };
  return { runDir };
}

interface Shapes {
  runDir?: unknown;
  caseId?: unknown;
  fold?: unknown;
  word?: unknown;
  patch?: unknown;
  fsPath?: unknown;
  path?: unknown;
  dir?: unknown;
  run?: { dir?: unknown };
  job?: { runDir?: unknown };
}

/** The target of a command argument; undefined when it names none (the command then asks). */
export function targetOf(arg: unknown): PanelTarget | undefined {
  if (typeof arg === 'string') return targetFromPath(arg);
  if (typeof arg !== 'object' || arg === null) return undefined;
  const o = arg as Shapes;
  if (typeof o.runDir === 'string') {
    return {
      runDir: o.runDir,
      ...(typeof o.caseId === 'string' ? { caseId: o.caseId } : {}),
      ...(typeof o.fold === 'string' ? { fold: o.fold } : {}),
      ...(typeof o.word === 'number' && Number.isInteger(o.word) && o.word >= 0 ? { word: o.word } : {}),
      ...(typeof o.patch === 'number' && Number.isInteger(o.patch) && o.patch >= 0 ? { patch: o.patch } : {}),
    };
  }
  // a Uri (fsPath), a tree node (path / run.dir / job.runDir)
  const path = [o.fsPath, o.path, o.dir, o.run?.dir, o.job?.runDir].find((x): x is string => typeof x === 'string' && x.length > 0);
  return path ? targetFromPath(path) : undefined;
}

// An experiment in the tree: a config file and the run folders it made
// (runs under its outDir whose recorded config has its name). Read-only and
// tolerant: a config being edited still lists, with the problem noted.
import { BoundedReadError, READ_LIMITS, readTextBounded } from '../../engine/io/bounded-read';
import { basename, dirname, resolve } from 'node:path';
import { parse, type ParseError } from 'jsonc-parser';
import { listRunFolders, type RunModel } from './run-scan';

export interface ExperimentModel {
  /** the config file */
  path: string;
  name: string;
  /** absolute folder its runs are written to */
  outDir: string;
  runs: RunModel[];
  /** why the config could not be read (the defaults are assumed) */
  problem?: string;
}

const DEFAULT_NAME = 'experiment';
const DEFAULT_OUT = 'runs';

/** The run-id prefix the engine gives runs of this experiment (newRunId). */
export function runIdPrefix(name: string): string {
  return `${name.replace(/[^A-Za-z0-9._-]+/g, '-')}-`;
}

/** Whether a run folder belongs to the experiment called `name`. */
export function belongsTo(run: RunModel, name: string): boolean {
  if (run.name !== undefined) return run.name === name;
  return run.id.startsWith(runIdPrefix(name));
}

export function readExperiment(path: string, readRuns: (dir: string) => RunModel[] = listRunFolders): ExperimentModel {
  let problem: string | undefined;
  let raw: unknown;
  try {
    const errors: ParseError[] = [];
    raw = parse(readTextBounded(path, { maxBytes: READ_LIMITS.config, what: 'config' }), errors, { allowTrailingComma: true });
    if (errors.length) problem = 'not valid JSON';
  } catch (e) {
    problem = e instanceof BoundedReadError ? e.problem : `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
  const obj = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const name = typeof obj.name === 'string' && obj.name ? obj.name : DEFAULT_NAME;
  const outDir = resolve(dirname(path), typeof obj.outDir === 'string' && obj.outDir ? obj.outDir : DEFAULT_OUT);
  const runs = readRuns(outDir).filter((r) => belongsTo(r, name));
  const model: ExperimentModel = { path, name, outDir, runs };
  if (problem) model.problem = problem;
  return model;
}

/** "exp (exp.mrcl.json)" style label parts. */
export function experimentLabel(e: ExperimentModel): { label: string; file: string } {
  return { label: e.name, file: basename(e.path) };
}

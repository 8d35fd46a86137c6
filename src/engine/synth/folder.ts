// The output folder of `mrcl synth`: created if missing, refused if it
// holds anything other than an earlier synthetic cohort, and written so that
// a killed run never leaves a manifest that points at missing files.
// `synth.json` marks a folder as ours and lists every file we wrote there.
import { accessSync, constants, existsSync, mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { READ_LIMITS, readTextBounded } from '../io/bounded-read';
import { join, normalize, sep } from 'node:path';
import { writeFileAtomic } from '../io/atomic';
import { dataPath } from '../io/safe-path';

export const SYNTH_MARKER_FILE = 'synth.json';
export const MANIFEST_FILE = 'manifest.json';
export const GENERATOR = 'mri-report-cl synth';

/** The part of synth.json this module reads back. */
interface MarkerFile {
  generator: string;
  files: string[];
}

/**
 * synth.json of `dir`, parsed (unchecked: its fields are the caller's to
 * test); undefined where there is none. Throws, naming the file, where it
 * cannot be read or is not JSON. Bounded as a run file: the marker records
 * every case (about 1.3 KB each), so a cohort of MAX_SYNTH_CASES needs
 * more than the small-file limit.
 */
export function readSynthMarker(dir: string): Record<string, unknown> | undefined {
  const path = join(dir, SYNTH_MARKER_FILE);
  if (!existsSync(path)) return undefined;
  const text = readTextBounded(path, { maxBytes: READ_LIMITS.runFile, what: 'marker file' });
  try {
    const m: unknown = JSON.parse(text);
    if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new Error('not an object');
    return m as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${path}: not valid JSON: ${(e as Error).message}`);
  }
}

function readMarker(dir: string): MarkerFile | null {
  try {
    const m = readSynthMarker(dir);
    if (!m || m.generator !== GENERATOR || !Array.isArray(m.files)) return null;
    return { generator: m.generator, files: m.files.filter((f): f is string => typeof f === 'string') };
  } catch {
    return null;
  }
}

/**
 * Makes `dir` ready for a cohort and returns the files an earlier cohort
 * left there (relative paths). Throws if `dir` is a file, cannot be
 * created or written, or is a non-empty folder without our marker.
 */
export function prepareOutputFolder(dir: string): string[] {
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw new Error(`${dir}: exists and is not a folder`);
  } else {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new Error(`${dir}: cannot create the output folder (${(e as Error).message})`);
    }
  }
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new Error(`${dir}: the output folder is not writable`);
  }
  let previous: string[] = [];
  if (readdirSync(dir).length > 0) {
    const marker = readMarker(dir);
    if (!marker) {
      throw new Error(`${dir}: the folder is not empty and is not a synthetic cohort (no ${SYNTH_MARKER_FILE} from mrcl synth); choose an empty or new folder`);
    }
    previous = marker.files.filter(isOwnRelativePath);
  }
  // an old manifest would point at a mix of old and new files while we run
  removeIfPresent(join(dir, MANIFEST_FILE));
  return previous;
}

const SUBFOLDERS = ['images', 'masks', 'reports'];

/**
 * Creates the sub-folders (after synth.json exists, so an interrupted run
 * still leaves a folder we recognise) and drops temp files a killed
 * run may have left in them.
 */
export function makeSubfolders(dir: string): void {
  for (const sub of SUBFOLDERS) {
    const path = join(dir, sub);
    try {
      mkdirSync(path, { recursive: true });
      for (const name of readdirSync(path)) if (/^\..+\.tmp$/.test(name)) removeIfPresent(join(path, name));
    } catch (e) {
      throw new Error(`${path}: cannot prepare folder (${(e as Error).message})`);
    }
  }
}

/** Only plain relative paths inside our sub-folders may ever be deleted. */
function isOwnRelativePath(p: string): boolean {
  const n = normalize(p);
  return !n.startsWith('..') && !n.startsWith(sep) && /^(images|masks|reports)[/\\][^/\\]+$/.test(n);
}

function removeIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as { code?: string }).code !== 'ENOENT') throw new Error(`${path}: cannot remove (${(e as Error).message})`);
  }
}

/** Deletes files an earlier cohort wrote that the new one does not. */
export function removeStale(dir: string, previous: readonly string[], current: ReadonlySet<string>): void {
  // the list comes from synth.json on disk: dataPath keeps a doctored one inside the folder
  for (const p of previous) if (!current.has(p)) removeIfPresent(dataPath(dir, p));
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeTextAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

export function writeTextAtomic(path: string, text: string): void {
  try {
    writeFileAtomic(path, [new TextEncoder().encode(text)]);
  } catch (e) {
    throw new Error(`${path}: cannot write (${(e as Error).message})`);
  }
}

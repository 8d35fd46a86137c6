// The one place where a path built from data is checked. Case ids, stage
// names read back from plan.json, file lists in synth.json: whatever a
// manifest or a run folder says, a file built from it stays inside the
// folder it belongs to, also once symlinks are followed. The rules are in
// docs/SECURITY.md.
import { realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { quoteForMessage } from '../util/quote';

/** Case ids: 1–128 letters, digits, '.', '_' or '-', starting with a letter, digit or '_'. */
export const MAX_CASE_ID_LENGTH = 128;
const CASE_ID = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/** A path that would leave its folder, or a name that cannot be a file name. */
export class UnsafePathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsafePathError';
  }
}

/** Why `id` is not a valid case id, or undefined when it is. */
export function caseIdProblem(id: unknown): string | undefined {
  if (typeof id !== 'string' || id.length === 0) return 'is empty';
  if (id.length > MAX_CASE_ID_LENGTH) return `is ${id.length} characters long, more than ${MAX_CASE_ID_LENGTH}`;
  if (!CASE_ID.test(id)) {
    const rule = `ids are letters, digits, ".", "_" and "-", starting with a letter, digit or "_"`;
    if (/^[.-]/.test(id)) return `starts with "${id[0]}" (${rule})`;
    const bad = [...id].find((ch) => !/[A-Za-z0-9._-]/.test(ch))!;
    return `holds ${quoteForMessage(bad)} (${rule})`;
  }
  return undefined;
}

/** Whether `path` is `root` or lies below it, by the names alone (both absolute). */
export function isWithin(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** The real path of `path`: symlinks resolved as far as the path exists, the missing rest appended. */
export function realpathAsFarAsExists(path: string): string {
  const missing: string[] = [];
  let p = resolve(path);
  for (;;) {
    try {
      return join(realpathSync(p), ...missing.reverse());
    } catch {
      const parent = dirname(p);
      if (parent === p) return join(p, ...missing.reverse());
      missing.push(p.slice(parent.length).replace(/^[\\/]+/, ''));
      p = parent;
    }
  }
}

/** Whether `path` lies inside `root` both as written and after following symlinks. */
export function isInsideFolder(root: string, path: string): boolean {
  const r = resolve(root);
  const p = resolve(r, path);
  return isWithin(r, p) && isWithin(realpathAsFarAsExists(r), realpathAsFarAsExists(p));
}

/**
 * `root` joined with `parts`, refused with an UnsafePathError unless the
 * result stays inside `root`: no `..` or absolute part may leave it, and no
 * symlink on the way (or at the target) may lead out of it. Every writer
 * that builds a path from data goes through here.
 */
export function dataPath(root: string, ...parts: string[]): string {
  const base = resolve(root);
  for (const part of parts) {
    if (typeof part !== 'string' || part.includes('\0')) throw new UnsafePathError(`${base}: ${quoteForMessage(String(part))} cannot be part of a file name`);
  }
  const path = resolve(base, ...parts);
  if (!isWithin(base, path)) {
    throw new UnsafePathError(`${base}: ${quoteForMessage(join(...parts))} leads outside this folder (to ${path})`);
  }
  if (!isWithin(realpathAsFarAsExists(base), realpathAsFarAsExists(path))) {
    throw new UnsafePathError(`${path}: a symbolic link leads outside ${base}`);
  }
  return path;
}

/**
 * `dir/<caseId><suffix>`, refused unless `caseId` is a valid case id (see
 * caseIdProblem) and the file stays inside `within` (default `dir`), as
 * dataPath checks it. `dir` itself is trusted like any root: pass the run or
 * stage folder as `within` to catch a `dir` that is a symlink leading out.
 */
export function caseFile(dir: string, caseId: string, suffix: string, within: string = dir): string {
  const problem = caseIdProblem(caseId);
  if (problem !== undefined) {
    throw new UnsafePathError(`${resolve(dir)}: case id ${quoteForMessage(String(caseId))} cannot be used as a file name: it ${problem}`);
  }
  if (/[/\\\0]/.test(suffix)) throw new UnsafePathError(`caseFile: suffix ${quoteForMessage(suffix)} must not hold a path separator`);
  const path = resolve(dir, `${caseId}${suffix}`);
  dataPath(within, relative(resolve(within), path));
  return path;
}

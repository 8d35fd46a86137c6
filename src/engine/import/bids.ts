// BIDS folders to import cases: the FLAIR of each subject, or of each
// session when the subject has sessions.
//
//   DIR/sub-<label>/anat/sub-<label>[_...]_FLAIR.nii[.gz]
//   DIR/sub-<label>/ses-<label>/anat/sub-<label>_ses-<label>[_...]_FLAIR.nii[.gz]
//
// Case ids are "sub-<label>" or "sub-<label>_ses-<label>", made safe
// (safeCaseId). A subject or session without a FLAIR, or with several
// (acq-/run- variants), is skipped and recorded with the reason. Every file
// lies inside DIR, also after symlinks (safe-path rule, docs/SECURITY.md):
// an entry leading out of it is skipped and recorded. BIDS holds no
// reports; cases are internal.
import { readdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { dataPath, UnsafePathError } from '../io/safe-path';
import { quoteForMessage } from '../util/quote';
import type { ImportCase } from './types';
import { safeCaseId, type ImportSkip, type SourceScan } from './source-scan';

const FLAIR_FILE = /_FLAIR\.nii(\.gz)?$/;

function kind(path: string): 'dir' | 'file' | 'other' {
  try {
    const st = statSync(path);
    return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
  } catch {
    return 'other';
  }
}

/** Names in `dir` starting with `prefix` that are folders inside `root`, sorted; the others recorded as skipped. */
function folders(root: string, rel: string[], prefix: string, skipped: ImportSkip[]): string[] {
  const names = readdirSync(dataPath(root, ...rel))
    .filter((n) => n.startsWith(prefix))
    .sort();
  return names.filter((n) => {
    const source = [...rel, n].join('/');
    try {
      if (kind(dataPath(root, ...rel, n)) === 'dir') return true;
    } catch (e) {
      if (!(e instanceof UnsafePathError)) throw e;
      skipped.push({ source, reason: 'leads outside the BIDS folder (a symbolic link)' });
      return false;
    }
    return false; // a file such as sub-01.json: not a subject or session
  });
}

/**
 * The FLAIR image of every subject/session of the BIDS folder `dir`.
 * Throws when `dir` is not a folder or holds no `sub-*` folder.
 */
export function scanBids(dir: string): SourceScan {
  const root = resolve(dir);
  if (kind(root) !== 'dir') throw new Error(`${root}: not a folder (a BIDS dataset is a folder of sub-* folders)`);
  const cases: ImportCase[] = [];
  const skipped: ImportSkip[] = [];
  const seen = new Map<string, string>();
  const subjects = folders(root, [], 'sub-', skipped);
  if (subjects.length === 0 && skipped.length === 0) throw new Error(`${root}: no sub-* folder (not a BIDS dataset)`);

  const take = (rel: string[], idParts: string[]): void => {
    const source = rel.join('/');
    let anat: string;
    try {
      anat = dataPath(root, ...rel, 'anat');
    } catch (e) {
      if (!(e instanceof UnsafePathError)) throw e;
      skipped.push({ source, reason: 'anat leads outside the BIDS folder (a symbolic link)' });
      return;
    }
    const names = kind(anat) === 'dir' ? readdirSync(anat).filter((n) => FLAIR_FILE.test(n)).sort() : [];
    const flair: string[] = [];
    for (const n of names) {
      try {
        const p = dataPath(root, ...rel, 'anat', n);
        if (kind(p) === 'file') flair.push(p);
      } catch (e) {
        if (!(e instanceof UnsafePathError)) throw e;
        skipped.push({ source: `${source}/anat/${n}`, reason: 'leads outside the BIDS folder (a symbolic link)' });
      }
    }
    if (flair.length !== 1) {
      skipped.push({ source, reason: flair.length ? `several FLAIR images (${names.join(', ')}); keep one` : 'no anat/*_FLAIR.nii or anat/*_FLAIR.nii.gz' });
      return;
    }
    const id = safeCaseId(idParts.join('_'));
    if (!id) {
      skipped.push({ source, reason: `no case id can be made from ${quoteForMessage(idParts.join('_'))}` });
      return;
    }
    const other = seen.get(id.toLowerCase());
    if (other) {
      skipped.push({ source, reason: `its case id "${id}" is also that of ${other} (ids must be unique, also ignoring case)` });
      return;
    }
    seen.set(id.toLowerCase(), source);
    cases.push({ id, image: flair[0]!, cohort: 'internal', metadata: { bids: source } });
  };

  for (const sub of subjects) {
    const sessions = folders(root, [sub], 'ses-', skipped);
    if (sessions.length === 0) take([sub], [sub]);
    else for (const ses of sessions) take([sub, ses], [sub, ses]);
  }
  return { cases, skipped };
}

// What a run was computed on, recorded at its creation (fingerprint.json):
// the manifest's bytes (SHA-256), each case's manifest values, the size and
// modification time of every file the manifest names, and the resolved
// config. Resuming compares them with what is there now and refuses a
// mismatch, naming what changed: units computed on different data or
// settings must not end up in one table.
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { READ_LIMITS, readFileBounded } from '../io/bounded-read';
import type { ExperimentConfig } from '../../shared/config';
import { loadManifest, type Manifest } from '../data/manifest';
import { readJson, writeJsonAtomic, type RunFolder } from '../training/run-folder';

export const FINGERPRINT_FILE = 'fingerprint.json';

export interface RunFingerprint {
  format: 'mrcl-fingerprint-1';
  manifest: { path: string; sha256: string; bytes: number };
  /** case id → SHA-256 of its manifest values */
  cases: Record<string, string>;
  /** every file the manifest names → size and modification time (null: missing) */
  files: Record<string, { bytes: number; mtimeMs: number } | null>;
  /** the resolved config, flattened: "finetune.lr" → its JSON */
  config: Record<string, string>;
}

const sha256 = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');

function flatten(value: unknown, prefix: string, out: Record<string, string>): Record<string, string> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out[prefix] = JSON.stringify(value) ?? 'undefined';
  }
  return out;
}

function fileStat(path: string): { bytes: number; mtimeMs: number } | null {
  try {
    const s = statSync(path);
    return { bytes: s.size, mtimeMs: s.mtimeMs };
  } catch {
    return null;
  }
}

export function computeFingerprint(config: ExperimentConfig, manifest: Manifest = loadManifest(config.data.manifest, { allowOutsidePaths: config.data.allowOutsidePaths })): RunFingerprint {
  const bytes = readFileBounded(manifest.path, { maxBytes: READ_LIMITS.manifest, what: 'manifest' });
  const cases: Record<string, string> = {};
  const files: Record<string, { bytes: number; mtimeMs: number } | null> = {};
  for (const c of manifest.cases) {
    cases[c.id] = sha256(JSON.stringify([c.cohort, c.raw]));
    for (const p of [c.image, c.mask, c.report?.kind === 'file' ? c.report.path : undefined]) if (p) files[p] = fileStat(p);
  }
  return { format: 'mrcl-fingerprint-1', manifest: { path: manifest.path, sha256: sha256(bytes), bytes: bytes.length }, cases, files, config: flatten(JSON.parse(JSON.stringify(config)), '', {}) }; // as config.json records it
}

export function writeFingerprint(run: RunFolder, config: ExperimentConfig, manifest?: Manifest): void {
  writeJsonAtomic(run.path(FINGERPRINT_FILE), computeFingerprint(config, manifest));
}

function list(xs: string[], max = 8): string {
  return xs.length > max ? `${xs.slice(0, max).join(', ')} and ${xs.length - max} more` : xs.join(', ');
}

/** What differs between a recorded fingerprint and the current one, one line each (empty: nothing). */
export function fingerprintChanges(was: RunFingerprint, now: RunFingerprint): string[] {
  const out: string[] = [];
  if (was.manifest.path !== now.manifest.path) out.push(`manifest: was ${was.manifest.path}, now ${now.manifest.path}`);
  else if (was.manifest.sha256 !== now.manifest.sha256) out.push(`manifest ${now.manifest.path}: its content changed (${was.manifest.bytes} → ${now.manifest.bytes} bytes)`);
  const ids = (r: Record<string, string>) => Object.keys(r);
  const added = ids(now.cases).filter((id) => !(id in was.cases));
  const removed = ids(was.cases).filter((id) => !(id in now.cases));
  const changed = ids(was.cases).filter((id) => id in now.cases && was.cases[id] !== now.cases[id]);
  if (added.length) out.push(`cases added: ${list(added)}`);
  if (removed.length) out.push(`cases removed: ${list(removed)}`);
  if (changed.length) out.push(`cases changed (label, cohort, report or paths): ${list(changed)}`);
  const fileChanges: string[] = [];
  for (const [p, w] of Object.entries(was.files)) {
    if (!(p in now.files)) continue; // no longer named: its case's change is reported above
    const n = now.files[p];
    if (!w && !n) continue;
    if (!n) fileChanges.push(`${p} (missing now)`);
    else if (!w) fileChanges.push(`${p} (appeared)`);
    else if (w.bytes !== n.bytes) fileChanges.push(`${p} (size ${w.bytes} → ${n.bytes} bytes)`);
    else if (w.mtimeMs !== n.mtimeMs) fileChanges.push(`${p} (modified ${new Date(w.mtimeMs).toISOString()} → ${new Date(n.mtimeMs).toISOString()})`);
  }
  if (fileChanges.length) out.push(`files changed: ${list(fileChanges, 5)}`);
  const keys = [...new Set([...Object.keys(was.config), ...Object.keys(now.config)])].filter((k) => was.config[k] !== now.config[k]).sort();
  if (keys.length) out.push(`config keys changed: ${list(keys.map((k) => `${k} (${was.config[k] ?? 'unset'} → ${now.config[k] ?? 'unset'})`), 8)}`);
  return out;
}

/**
 * Refuses to go on with a run whose data or config changed since it was
 * created. Runs created before fingerprints were recorded return false
 * (nothing to compare with).
 */
export function checkFingerprint(run: RunFolder): boolean {
  const path = run.path(FINGERPRINT_FILE);
  try {
    statSync(path);
  } catch {
    return false;
  }
  const was = readJson<RunFingerprint>(path);
  if (was.format !== 'mrcl-fingerprint-1') throw new Error(`${path}: not a run fingerprint (format ${String(was.format)})`);
  const changes = fingerprintChanges(was, computeFingerprint(run.config));
  if (changes.length) {
    throw new Error(`${run.dir}: the data or config changed since this run was created, so resuming it would mix results computed on different inputs (recorded in ${path}):\n  ${changes.join('\n  ')}\nRestore them, or start a new run.`);
  }
  return true;
}

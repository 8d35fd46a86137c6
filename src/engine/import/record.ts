// DATASET/import.json: what an import wrote, case by case, so that a re-run
// copies or converts only the cases whose source changed. Each case keeps a
// fingerprint of its source (file sizes and modification times, the labels,
// the report text), the fields the manifest has no column for (metadata,
// fold) and whatever the importer recorded (for DICOM: the series chosen and
// every series skipped, with the reason).
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { READ_LIMITS, readTextBounded } from '../io/bounded-read';
import type { ImportCase } from './types';

export const IMPORT_RECORD = 'import.json';
export const IMPORT_RECORD_VERSION = 1;

export interface ImportedCaseRecord {
  /** Fingerprint of the case's source; an unchanged one means the case is reused as it is. */
  fingerprint: string;
  fold?: number;
  metadata?: Record<string, string>;
  /** What de-identification replaced in the report, by type. */
  deidentified?: { type: string; count: number }[];
  /** The importer's own notes (e.g. the DICOM series chosen and skipped). */
  details?: Record<string, unknown>;
}

export interface ImportRecord {
  version: number;
  /** Which importer wrote the dataset ("dicom", "monai", "bids", ...). */
  importer: string;
  /** When the dataset was last written (ISO 8601). */
  written: string;
  /** The importer's settings (e.g. the series filter). */
  settings?: Record<string, unknown>;
  cases: Record<string, ImportedCaseRecord>;
}

/** The previous import.json of `out`, or undefined when there is none (or it cannot be used). */
export function readImportRecord(out: string): ImportRecord | undefined {
  const file = join(out, IMPORT_RECORD);
  if (!existsSync(file)) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(readTextBounded(file, { maxBytes: READ_LIMITS.runFile, what: 'import record' }));
  } catch {
    return undefined; // unreadable: everything is imported again
  }
  const r = doc as Partial<ImportRecord> | null;
  if (!r || r.version !== IMPORT_RECORD_VERSION || typeof r.cases !== 'object' || r.cases === null) return undefined;
  return r as ImportRecord;
}

function hash(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** Size and modification time of a file, the way make judges a change. */
export function fileStamp(path: string): string {
  const st = statSync(path);
  return `${st.size}:${Math.round(st.mtimeMs)}`;
}

/** Every file below `dir` (relative name, size, mtime), at most `maxFiles` of them. */
export function folderStamp(dir: string, maxFiles = 200_000): string {
  const entries: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) {
        if (entries.length >= maxFiles) throw new Error(`${dir}: more than ${maxFiles} files`);
        entries.push(`${relative(dir, p).split(sep).join('/')}:${st.size}:${Math.round(st.mtimeMs)}`);
      }
    }
  };
  walk(dir);
  return hash(entries);
}

/**
 * A case's fingerprint: its labels, fold, metadata and report text, plus
 * the mask's stamp (`maskStamp`, else the mask file's) and `source` (the
 * importer's stamp of where the image came from) or, without one, the image
 * file's stamp.
 */
export function caseFingerprint(c: ImportCase, source?: string): string {
  const files = { image: source ?? fileStamp(c.image), mask: c.maskStamp ?? (c.mask !== undefined ? fileStamp(c.mask) : null) };
  return hash({
    files,
    report: c.report ?? null,
    location: c.location ?? null,
    marker: c.marker ?? null,
    cohort: c.cohort ?? null,
    fold: c.fold ?? null,
    metadata: c.metadata ?? null,
  });
}

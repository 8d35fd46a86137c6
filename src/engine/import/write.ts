// Writes an imported dataset: DATASET/images/<id>.nii.gz, masks/<id>.nii.gz,
// reports/<id>.txt (de-identified), manifest.json and import.json. Every
// importer (DICOM, MONAI datalist, BIDS) ends here.
//
// Atomic: the dataset is built in a temp folder beside `out` and renamed into
// place; on any failure the temp folder is removed and `out` is left as it
// was (absent, or the previous import). Incremental: a case whose
// fingerprint (record.ts) matches the previous import.json is reused from the
// previous dataset (hard-linked, or copied across filesystems) instead of
// copied from its source again.
import { createReadStream, createWriteStream, copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { caseFile, caseIdProblem } from '../io/safe-path';
import { writeFileAtomic } from '../io/atomic';
import { quoteForMessage } from '../util/quote';
import { deidentify, type DeidOptions } from '../text/deid';
import { caseFingerprint, IMPORT_RECORD, IMPORT_RECORD_VERSION, readImportRecord, type ImportedCaseRecord, type ImportRecord } from './record';
import type { ImportCase } from './types';

export interface WriteImportOptions {
  /** Which importer this is, recorded in import.json ("dicom", "monai", "bids"). */
  importer: string;
  /** Names and institutions the reports' de-identification also removes (`mrcl import --known-names/--institutions`). */
  deid?: DeidOptions;
  /** The importer's settings, recorded in import.json. */
  settings?: Record<string, unknown>;
  /**
   * Per case id: a stamp of the case's source to fingerprint instead of the
   * image file (DICOM: the study folder, so a re-run need not convert).
   */
  sourceStamps?: Record<string, string>;
  /** Per case id: the importer's notes, recorded in import.json. */
  details?: Record<string, Record<string, unknown>>;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface WriteImportResult {
  /** Absolute path of the dataset folder. */
  out: string;
  /** Absolute path of DATASET/manifest.json. */
  manifest: string;
  /** Ids copied from their source. */
  written: string[];
  /** Ids reused from the previous import (source unchanged). */
  unchanged: string[];
  /** Ids the previous import had and this one does not. */
  removed: string[];
}

/** The images/masks name of a case. */
const NII = '.nii.gz';

/** The fingerprint `writeImportedDataset` will record for case `c` (importers use it to skip work). */
export function importFingerprint(c: ImportCase, sourceStamp?: string): string {
  return caseFingerprint(c, sourceStamp);
}

function checkCases(cases: readonly ImportCase[]): void {
  if (cases.length === 0) throw new Error('nothing to import: no cases');
  const seen = new Map<string, string>();
  for (const c of cases) {
    const problem = caseIdProblem(c.id);
    if (problem !== undefined) throw new Error(`case id ${quoteForMessage(String(c.id))} ${problem}`);
    const lower = c.id.toLowerCase();
    if (seen.has(lower)) throw new Error(`case ${quoteForMessage(c.id)}: its id differs from ${quoteForMessage(seen.get(lower)!)} only in letter case (or repeats it)`);
    seen.set(lower, c.id);
    for (const [field, path] of [['image', c.image], ['mask', c.mask]] as const) {
      if (path === undefined) continue;
      if (!/\.nii(\.gz)?$/i.test(path)) throw new Error(`case ${quoteForMessage(c.id)}: ${field} ${path} is not a NIfTI file (.nii or .nii.gz)`);
      let ok = false;
      try {
        ok = statSync(path).isFile();
      } catch {
        // reported below
      }
      if (!ok) throw new Error(`case ${quoteForMessage(c.id)}: ${field} ${path}: file not found`);
    }
    if (c.cohort !== undefined && c.cohort !== 'internal' && c.cohort !== 'external') {
      throw new Error(`case ${quoteForMessage(c.id)}: cohort ${quoteForMessage(String(c.cohort))} is neither "internal" nor "external"`);
    }
    if (c.fold !== undefined && !(Number.isInteger(c.fold) && c.fold >= 0)) throw new Error(`case ${quoteForMessage(c.id)}: fold ${c.fold} is not a whole number ≥ 0`);
  }
}

/** Copies a NIfTI to `dest` as .nii.gz (gzipping a plain .nii). */
async function copyNifti(src: string, dest: string): Promise<void> {
  if (/\.gz$/i.test(src)) copyFileSync(src, dest);
  else await pipeline(createReadStream(src), createGzip(), createWriteStream(dest, { flags: 'wx' }));
}

/** Hard-links `src` to `dest`, or copies it where links are impossible (another filesystem). */
function reuse(src: string, dest: string): void {
  try {
    linkSync(src, dest);
  } catch {
    copyFileSync(src, dest);
  }
}

/** Refuses to replace a folder that is not a previous import (a user's folder must never be swapped away). */
function checkTarget(out: string): void {
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) throw new Error(`${out}: exists and is not a folder`);
  if (readdirSync(out).length > 0 && !existsSync(join(out, IMPORT_RECORD))) {
    throw new Error(`${out}: the folder exists and was not written by an import (no ${IMPORT_RECORD}); choose an empty or new folder`);
  }
}

/**
 * Writes `cases` as the dataset `out` (see the file comment). Ids must be
 * safe case ids, images and masks NIfTI files, reports text (de-identified
 * here before they are written). Throws, leaving `out` untouched, on the
 * first problem, naming the case.
 */
export async function writeImportedDataset(cases: readonly ImportCase[], out: string, options: WriteImportOptions): Promise<WriteImportResult> {
  const dest = resolve(out);
  checkCases(cases);
  checkTarget(dest);
  const previous = readImportRecord(dest);
  const log = options.log ?? (() => {});
  mkdirSync(dirname(dest), { recursive: true });
  const tmp = join(dirname(dest), `.${basename(dest)}.import-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(tmp);
  const result: WriteImportResult = { out: dest, manifest: join(dest, 'manifest.json'), written: [], unchanged: [], removed: [] };
  try {
    for (const sub of ['images', 'masks', 'reports']) mkdirSync(join(tmp, sub));
    const record: ImportRecord = {
      version: IMPORT_RECORD_VERSION,
      importer: options.importer,
      written: new Date().toISOString(),
      ...(options.settings ? { settings: options.settings } : {}),
      cases: {},
    };
    const manifestCases: Record<string, string>[] = [];
    for (const c of cases) {
      const where = `case ${quoteForMessage(c.id)}`;
      const fingerprint = importFingerprint(c, options.sourceStamps?.[c.id]);
      const image = caseFile(join(tmp, 'images'), c.id, NII, tmp);
      const mask = c.mask !== undefined ? caseFile(join(tmp, 'masks'), c.id, NII, tmp) : undefined;
      const prev = previous?.cases[c.id];
      const oldImage = caseFile(join(dest, 'images'), c.id, NII, dest);
      const oldMask = caseFile(join(dest, 'masks'), c.id, NII, dest);
      try {
        if (prev?.fingerprint === fingerprint && existsSync(oldImage) && (mask === undefined || existsSync(oldMask))) {
          reuse(oldImage, image);
          if (mask !== undefined) reuse(oldMask, mask);
          result.unchanged.push(c.id);
        } else {
          log(`${c.id}: copying ${c.image}`);
          await copyNifti(c.image, image);
          if (mask !== undefined) await copyNifti(c.mask!, mask);
          result.written.push(c.id);
        }
      } catch (e) {
        throw new Error(`${where}: cannot copy its image or mask: ${(e as Error).message}`);
      }
      const entry: Record<string, string> = { id: c.id, image: `images/${c.id}${NII}` };
      if (mask !== undefined) entry.mask = `masks/${c.id}${NII}`;
      const caseRecord: ImportedCaseRecord = { fingerprint };
      if (c.report !== undefined && c.report.trim() !== '') {
        const clean = deidentify(c.report, options.deid);
        writeFileAtomic(caseFile(join(tmp, 'reports'), c.id, '.txt', tmp), [Buffer.from(clean.text, 'utf8')]);
        entry.report = `reports/${c.id}.txt`;
        const replaced = clean.replaced.filter((r) => r.count > 0);
        if (replaced.length) caseRecord.deidentified = replaced;
      }
      if (c.location !== undefined) entry.location = c.location;
      if (c.marker !== undefined) entry.marker = c.marker;
      if (c.cohort !== undefined) entry.cohort = c.cohort;
      if (c.fold !== undefined) {
        // in the manifest too, so a run can keep the source's folds (finetune.foldsFrom 'manifest')
        entry.fold = String(c.fold);
        caseRecord.fold = c.fold;
      }
      if (c.metadata !== undefined && Object.keys(c.metadata).length) caseRecord.metadata = c.metadata;
      const details = options.details?.[c.id];
      if (details !== undefined) caseRecord.details = details;
      record.cases[c.id] = caseRecord;
      manifestCases.push(entry);
    }
    const ids = new Set(cases.map((c) => c.id));
    result.removed = Object.keys(previous?.cases ?? {}).filter((id) => !ids.has(id));
    writeFileAtomic(join(tmp, 'manifest.json'), [Buffer.from(`${JSON.stringify({ version: 1, cases: manifestCases }, null, 2)}\n`, 'utf8')]);
    writeFileAtomic(join(tmp, IMPORT_RECORD), [Buffer.from(`${JSON.stringify(record, null, 2)}\n`, 'utf8')]);
    swapInto(tmp, dest);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return result;
}

/** Renames `tmp` to `dest`, moving a previous `dest` aside first and restoring it if the rename fails. */
function swapInto(tmp: string, dest: string): void {
  if (!existsSync(dest)) {
    renameSync(tmp, dest);
    return;
  }
  const old = join(dirname(dest), `.${basename(dest)}.previous-${process.pid}-${randomBytes(4).toString('hex')}`);
  renameSync(dest, old);
  try {
    renameSync(tmp, dest);
  } catch (e) {
    renameSync(old, dest);
    throw e;
  }
  rmSync(old, { recursive: true, force: true });
}

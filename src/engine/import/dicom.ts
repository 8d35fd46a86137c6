// `mrcl import --dicom DIR --table CASES.csv --out DATASET`: one DICOM study
// per case, converted with dcm2niix, the FLAIR (or the series a filter
// names) kept as the case's image, then written by writeImportedDataset.
//
// CASES.csv (RFC 4180, header row): id (required), dicom (required: the
// study's folder, relative to DIR), report (a .txt/.md/.text file or an
// existing file relative to the table's folder, otherwise the report text
// itself), location, marker, cohort, mask (relative to the table's folder:
// a NIfTI file (.nii, .nii.gz), else a DICOM-SEG file or a folder holding
// one, resampled onto the converted image's grid by seg-mask.ts). Other
// columns are kept per case as metadata in DATASET/import.json (the manifest
// has no place for them). Paths must stay inside their folder (safe-path).
//
// A re-run converts only the cases whose study folder (file names, sizes,
// modification times), series filter, labels, report or mask (the NIfTI, or
// every file of the SEG folder) changed.
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { parse as parseCsv } from 'csv-parse/sync';
import { caseFile, dataPath } from '../io/safe-path';
import { READ_LIMITS, readTextBounded } from '../io/bounded-read';
import { quoteForMessage } from '../util/quote';
import { convertStudy } from './dcm2niix';
import { fileStamp, folderStamp, readImportRecord } from './record';
import { segMaskForImage } from './seg-mask';
import { chooseSeries, parseSeriesFilter, stripSidecar, type SeriesCondition } from './series';
import { importFingerprint, writeImportedDataset, type WriteImportResult } from './write';
import type { ImportCase } from './types';
import type { DeidOptions } from '../text/deid';

export interface DicomImportOptions {
  /** Folder the table's `dicom` column is relative to. */
  dicomRoot: string;
  /** CASES.csv. */
  table: string;
  /** The dataset folder to write. */
  out: string;
  /** --series-filter expressions (all must hold); default: the FLAIR. */
  seriesFilters?: readonly string[];
  /** The dcm2niix command (default "dcm2niix" on PATH). */
  dcm2niix?: string;
  /** names and institutions the reports' de-identification also removes */
  deid?: DeidOptions;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export interface DicomImportResult extends WriteImportResult {
  /** Ids whose study was converted this time (the others were unchanged). */
  converted: string[];
}

const KNOWN = new Set(['id', 'dicom', 'report', 'location', 'marker', 'cohort', 'mask']);
const REPORT_EXTENSIONS = new Set(['.txt', '.md', '.text']);
const NIFTI = /\.nii(\.gz)?$/i;

interface TableRow {
  where: string;
  study: string;
  /** The DICOM-SEG file or folder of a mask column that names no NIfTI file. */
  seg?: string;
  case: ImportCase;
}

/** Reads CASES.csv into cases (image still unset) and their study folders. */
export function readCasesTable(table: string, dicomRoot: string): TableRow[] {
  const file = resolve(table);
  const dir = dirname(file);
  let text = readTextBounded(file, { maxBytes: READ_LIMITS.manifest, what: 'case table' });
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let rows: string[][];
  try {
    rows = parseCsv(text, { skip_empty_lines: true, relax_column_count: false }) as string[][];
  } catch (e) {
    throw new Error(`${file}: not a valid CSV table (${(e as Error).message})`);
  }
  const header = (rows[0] ?? []).map((h) => h.trim());
  for (const need of ['id', 'dicom']) if (!header.includes(need)) throw new Error(`${file}: the header row has no "${need}" column`);
  const dup = header.find((h, i) => header.indexOf(h) !== i);
  if (dup !== undefined) throw new Error(`${file}: column ${quoteForMessage(dup)} appears twice`);
  if (rows.length < 2) throw new Error(`${file}: no cases below the header row`);
  return rows.slice(1).map((cells, n) => {
    const where = `${file}: row ${n + 2}`;
    const v: Record<string, string> = {};
    header.forEach((h, i) => {
      const x = (cells[i] ?? '').trim();
      if (x !== '') v[h] = x;
    });
    const id = v.id;
    if (id === undefined) throw new Error(`${where}: no id`);
    const at = `${where} (case ${quoteForMessage(id)})`;
    if (v.dicom === undefined) throw new Error(`${at}: no dicom folder`);
    const study = wrap(at, 'dicom', () => dataPath(dicomRoot, v.dicom!));
    if (!existsSync(study) || !statSync(study).isDirectory()) throw new Error(`${at}: dicom folder ${study} not found`);
    const c: ImportCase = { id, image: '' };
    let seg: string | undefined;
    if (v.mask !== undefined) {
      const mask = wrap(at, 'mask', () => dataPath(dir, v.mask!));
      if (NIFTI.test(mask)) c.mask = mask;
      else seg = mask;
    }
    if (v.report !== undefined) c.report = reportText(at, dir, v.report);
    if (v.location !== undefined) c.location = v.location;
    if (v.marker !== undefined) c.marker = v.marker;
    if (v.cohort !== undefined) {
      if (v.cohort !== 'internal' && v.cohort !== 'external') throw new Error(`${at}: cohort ${quoteForMessage(v.cohort)} is neither "internal" nor "external"`);
      c.cohort = v.cohort;
    }
    const metadata = Object.fromEntries(Object.entries(v).filter(([k]) => !KNOWN.has(k)));
    if (Object.keys(metadata).length) c.metadata = metadata;
    return { where: at, study, ...(seg !== undefined ? { seg } : {}), case: c };
  });
}

function wrap<T>(at: string, field: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new Error(`${at}: ${field}: ${(e as Error).message}`);
  }
}

/** The report column: a file (by extension, or because it exists) or the text itself. */
function reportText(at: string, dir: string, value: string): string {
  const looksLikeFile = REPORT_EXTENSIONS.has(extname(value).toLowerCase());
  let path: string | undefined;
  if (looksLikeFile) path = wrap(at, 'report', () => dataPath(dir, value));
  else {
    try {
      const p = dataPath(dir, value);
      if (existsSync(p) && statSync(p).isFile()) path = p;
    } catch {
      // not a path inside the folder: report text
    }
  }
  if (path === undefined) return value;
  const p = path;
  return wrap(at, 'report', () => readTextBounded(p, { maxBytes: READ_LIMITS.report, what: 'report file' }));
}

/** The stamp of a DICOM-SEG mask: the file, or every file of its folder. */
function segStamp(path: string): string {
  if (!existsSync(path)) throw new Error(`DICOM-SEG file or folder ${path} not found`);
  const stamp = statSync(path).isDirectory() ? folderStamp(path) : fileStamp(path);
  return createHash('sha256').update(JSON.stringify({ seg: stamp })).digest('hex');
}

/** The stamp of a case's source: its study folder and the series filter. */
function studyStamp(study: string, filters: readonly SeriesCondition[]): string {
  return createHash('sha256').update(JSON.stringify({ study: folderStamp(study), filters: filters.map((f) => f.text) })).digest('hex');
}

/**
 * Imports the table's cases (see the file comment). Throws on the first
 * problem, naming the case; the dataset is then left as it was.
 */
export async function importDicom(options: DicomImportOptions): Promise<DicomImportResult> {
  const filters = (options.seriesFilters ?? []).map(parseSeriesFilter);
  const root = resolve(options.dicomRoot);
  const out = resolve(options.out);
  const log = options.log ?? (() => {});
  const rows = readCasesTable(options.table, root);
  const previous = readImportRecord(out);
  const work = mkdtempSync(join(tmpdir(), 'mrcl-dicom-'));
  const converted: string[] = [];
  const sourceStamps: Record<string, string> = {};
  const details: Record<string, Record<string, unknown>> = {};
  try {
    for (const [n, row] of rows.entries()) {
      if (options.signal?.aborted) throw new Error('import cancelled; the dataset folder was left as it was');
      const c = row.case;
      const seg = row.seg;
      const stamp = wrap(row.where, 'dicom', () => studyStamp(row.study, filters));
      sourceStamps[c.id] = stamp;
      if (seg !== undefined) c.maskStamp = wrap(row.where, 'mask', () => segStamp(seg));
      const prev = previous?.cases[c.id];
      const oldImage = existsSync(out) ? wrap(row.where, 'id', () => caseFile(join(out, 'images'), c.id, '.nii.gz', out)) : undefined;
      const oldMask = existsSync(out) && seg !== undefined ? wrap(row.where, 'id', () => caseFile(join(out, 'masks'), c.id, '.nii.gz', out)) : undefined;
      const fingerprint = prev ? wrap(row.where, 'mask', () => importFingerprint(c, stamp)) : undefined;
      if (prev?.details && oldImage && existsSync(oldImage) && prev.fingerprint === fingerprint && (seg === undefined || (oldMask && existsSync(oldMask)))) {
        c.image = oldImage; // unchanged: the writer reuses the previous dataset's file
        if (oldMask !== undefined) c.mask = oldMask;
        details[c.id] = prev.details;
        continue;
      }
      log(`${c.id}: converting ${row.study}`);
      const series = join(work, String(n));
      mkdirSync(series);
      let choice;
      try {
        choice = chooseSeries(await convertStudy(row.study, series, options.dcm2niix, options.signal), filters);
      } catch (e) {
        throw new Error(`${row.where}: ${(e as Error).message}`);
      }
      c.image = choice.chosen.nifti;
      details[c.id] = {
        study: row.study,
        series: choice.chosen.name,
        reason: choice.reason,
        sidecar: stripSidecar(choice.chosen.sidecar),
        skipped: choice.skipped,
      };
      log(`${c.id}: chose ${choice.chosen.name} (${choice.reason})${choice.skipped.length ? `; skipped ${choice.skipped.map((s) => s.name).join(', ')}` : ''}`);
      if (seg !== undefined) {
        const mask = join(work, `${n}-mask.nii.gz`);
        const m = wrap(row.where, 'mask', () => segMaskForImage(seg, choice.chosen.nifti, mask));
        for (const w of m.warnings) log(`${c.id}: warning: ${w}`);
        log(`${c.id}: mask from DICOM-SEG ${m.file}: segment(s) ${m.segments.filter((s) => s.used).map((s) => s.number).join(', ')} (${m.rule}), ${m.voxels} voxel(s)`);
        c.mask = mask;
        details[c.id]!.mask = { format: 'DICOM-SEG', file: m.file, rule: m.rule, segments: m.segments, voxels: m.voxels, ...(m.outside ? { outside: m.outside } : {}) };
      }
      converted.push(c.id);
    }
    const result = await writeImportedDataset(
      rows.map((r) => r.case),
      out,
      {
        importer: 'dicom',
        ...(options.deid ? { deid: options.deid } : {}),
        settings: { dicomRoot: root, table: resolve(options.table), seriesFilters: filters.map((f) => f.text) },
        sourceStamps,
        details,
        log,
      },
    );
    return { ...result, converted };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

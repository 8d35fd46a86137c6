// The dataset manifest: one record per case (image, optional mask, report,
// labels, cohort), as JSON or CSV. Paths are relative to the manifest's folder.
//
// JSON: `{ "version": 1, "cases": [ {...}, ... ] }` or a bare array of cases.
// CSV (RFC 4180): a header row naming the columns, then one row per case;
// quoted fields may hold commas, doubled quotes and newlines. Rows are
// counted as a spreadsheet does: the header is row 1.
//
// Fields: id (required, unique), image (required), mask, report, location,
// marker, cohort ("internal" | "external", default "internal"). Empty values
// mean "absent".
//
// `report` is either a file or the report itself. It is a file when it ends
// in .txt, .md or .text (case-insensitive), or when it names an existing file
// relative to the manifest; anything else is inline report text. So a report
// whose whole text happens to be an existing file's name is read from that file.
//
// Ids and paths (docs/SECURITY.md): an id is 1–128 letters, digits, '.',
// '_' or '-', starting with a letter, digit or '_' (it names files in run
// folders), and no two ids differ only in letter case. Every file a manifest
// names (image, mask, report file) must lie inside the manifest's folder,
// also after symlinks are followed, unless the caller opts in with
// `allowOutsidePaths` (config `data.allowOutsidePaths`). A case breaking
// either rule is an error and is skipped; its files are never read.
//
// parseManifest() is lenient: it keeps every case it can and lists the
// problems (what `mrcl validate` needs); loadManifest() throws on any error.
import { statSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { caseIdProblem, isInsideFolder } from '../io/safe-path';
import { BoundedReadError, READ_LIMITS, readTextBounded } from '../io/bounded-read';
import { escapeNonPrintable, quoteForMessage } from '../util/quote';

export type Cohort = 'internal' | 'external';
export const COHORTS: readonly Cohort[] = ['internal', 'external'];

export const MANIFEST_FIELDS = ['id', 'image', 'mask', 'report', 'location', 'marker', 'cohort', 'fold'] as const;
export type ManifestField = (typeof MANIFEST_FIELDS)[number];

/** Where a case's report comes from. */
export type ReportSource = { kind: 'file'; path: string } | { kind: 'text'; text: string };

/** The manifest's own strings for a case, before paths are resolved. */
export type RawCase = Partial<Record<ManifestField, string>>;

export interface CaseRecord {
  id: string;
  /** Absolute path of the image. */
  image: string;
  /** Absolute path of the tumour mask (evaluation only). */
  mask?: string;
  report?: ReportSource;
  location?: string;
  marker?: string;
  cohort: Cohort;
  /** A fold given by the source (e.g. a MONAI datalist), 0-based; used when finetune.foldsFrom is 'manifest'. */
  fold?: number;
  /** Where the case is in the manifest: "row 3" (CSV) or "case 3" (JSON, 1-based). */
  where: string;
  /** The manifest's original strings (relative paths, inline text). */
  raw: RawCase;
}

/** A case whose cohort has not been checked yet (parseManifest's output). */
export interface UncheckedCase extends Omit<CaseRecord, 'cohort'> {
  cohort: string;
}

export interface Manifest {
  /** Absolute path of the manifest file. */
  path: string;
  format: 'json' | 'csv';
  cases: CaseRecord[];
}

export interface ManifestIssue {
  severity: 'error' | 'warning';
  where?: string;
  caseId?: string;
  field?: string;
  message: string;
}

export interface ManifestOptions {
  /** Let image, mask and report paths lie outside the manifest's folder (default false). */
  allowOutsidePaths?: boolean;
}

/** How to opt in, for messages. */
export const ALLOW_OUTSIDE_HINT = 'set data.allowOutsidePaths: true in the config (or pass --allow-outside-paths to mrcl validate) to allow it';

export interface ParsedManifest {
  path: string;
  format: 'json' | 'csv';
  cases: UncheckedCase[];
  issues: ManifestIssue[];
}

/** A manifest that cannot be used; `issues` lists every problem found. */
export class ManifestError extends Error {
  constructor(
    readonly file: string,
    readonly issues: ManifestIssue[],
  ) {
    super(
      issues.length === 1
        ? `${file}: ${describeIssue(issues[0]!)}`
        : `${file}: ${issues.length} problems:\n${issues.map((i) => `  ${describeIssue(i)}`).join('\n')}`,
    );
    this.name = 'ManifestError';
  }
}

function describeIssue(i: ManifestIssue): string {
  // ids, column names and parser messages quote the file's bytes: escaped, never raw
  const at = [i.where, i.caseId !== undefined ? `case ${quoteForMessage(i.caseId)}` : undefined].filter(Boolean).join(', ');
  return escapeNonPrintable(`${at ? `${at}: ` : ''}${i.field ? `${i.field}: ` : ''}${i.message}`);
}

const MAX_MANIFEST_BYTES = READ_LIMITS.manifest;
const MAX_REPORT_BYTES = READ_LIMITS.report;
const REPORT_EXTENSIONS = new Set(['.txt', '.md', '.text']);

function fail(file: string, message: string): never {
  throw new ManifestError(file, [{ severity: 'error', message }]);
}

function readText(file: string, limit: number, what: string): string {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) fail(file, `${what} is not a regular file`);
    size = st.size;
  } catch (e) {
    if (e instanceof ManifestError) throw e;
    const code = (e as { code?: string }).code;
    fail(file, code === 'ENOENT' ? `${what} not found` : `cannot read ${what} (${(e as Error).message})`);
  }
  if (size > limit) fail(file, `${what} is ${size} bytes, more than the ${limit}-byte limit`);
  let text: string;
  try {
    // bounded again: the file may have been replaced since the stat
    text = readTextBounded(file, { maxBytes: limit, what });
  } catch (e) {
    fail(file, e instanceof BoundedReadError ? e.problem : `cannot read ${what} (${(e as Error).message})`);
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function detectFormat(file: string, text: string): 'json' | 'csv' {
  const ext = extname(file).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.csv') return 'csv';
  return /^\s*[[{]/.test(text) ? 'json' : 'csv';
}

interface Row {
  where: string;
  values: RawCase;
}

function jsonRows(file: string, text: string, issues: ManifestIssue[]): Row[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    fail(file, `invalid JSON (${(e as Error).message})`);
  }
  let cases: unknown;
  if (Array.isArray(doc)) {
    cases = doc;
  } else if (doc !== null && typeof doc === 'object') {
    const o = doc as Record<string, unknown>;
    if (o.version !== 1) fail(file, `unsupported manifest version ${JSON.stringify(o.version)} (expected 1)`);
    if (!Array.isArray(o.cases)) fail(file, 'expected a "cases" array');
    for (const key of Object.keys(o)) {
      if (key !== 'version' && key !== 'cases') issues.push({ severity: 'warning', field: key, message: 'unknown top-level key (ignored)' });
    }
    cases = o.cases;
  } else {
    fail(file, 'expected a JSON object { "version": 1, "cases": [...] } or an array of cases');
  }
  const rows: Row[] = [];
  (cases as unknown[]).forEach((c, n) => {
    const where = `case ${n + 1}`;
    if (c === null || typeof c !== 'object' || Array.isArray(c)) {
      issues.push({ severity: 'error', where, message: `expected an object, got ${describeValue(c)}` });
      return;
    }
    const values: RawCase = {};
    for (const [key, v] of Object.entries(c as Record<string, unknown>)) {
      if (!isField(key)) {
        issues.push({ severity: 'warning', where, field: key, message: 'unknown field (ignored)' });
        continue;
      }
      if (v === null || v === undefined) continue;
      if (key === 'fold' && typeof v === 'number' && Number.isInteger(v)) {
        values[key] = String(v);
        continue;
      }
      if (typeof v !== 'string') {
        issues.push({ severity: 'error', where, field: key, message: `must be a string, got ${describeValue(v)}` });
        continue;
      }
      values[key] = v;
    }
    rows.push({ where, values });
  });
  return rows;
}

function csvRows(file: string, text: string, issues: ManifestIssue[]): Row[] {
  let records: string[][];
  try {
    records = parseCsv(text, {
      bom: true,
      relax_column_count: true,
      skip_empty_lines: true,
      record_delimiter: ['\r\n', '\n', '\r'],
    }) as string[][];
  } catch (e) {
    fail(file, `invalid CSV (${(e as Error).message})`);
  }
  if (records.length === 0) fail(file, 'empty CSV: expected a header row');
  const header = records[0]!.map((h) => h.trim().toLowerCase());
  const seen = new Set<string>();
  for (const h of header) {
    if (h === '') fail(file, 'row 1 (header): a column has an empty name');
    if (seen.has(h)) fail(file, `row 1 (header): column "${h}" appears twice`);
    seen.add(h);
  }
  const missing = ['id', 'image'].filter((h) => !seen.has(h));
  if (missing.length) fail(file, `row 1 (header): missing column(s) ${missing.join(', ')} (have: ${header.join(', ')})`);
  for (const h of header) {
    if (!isField(h)) issues.push({ severity: 'warning', where: 'row 1', field: h, message: 'unknown column (ignored)' });
  }
  const rows: Row[] = [];
  for (let r = 1; r < records.length; r++) {
    const rec = records[r]!;
    const where = `row ${r + 1}`;
    if (rec.length !== header.length) {
      issues.push({ severity: 'error', where, message: `has ${rec.length} field(s), the header has ${header.length}` });
      continue;
    }
    const values: RawCase = {};
    header.forEach((h, c) => {
      if (isField(h)) values[h] = rec[c];
    });
    rows.push({ where, values });
  }
  return rows;
}

function isField(key: string): key is ManifestField {
  return (MANIFEST_FIELDS as readonly string[]).includes(key);
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  const s = JSON.stringify(v);
  return `${typeof v} ${s !== undefined && s.length > 40 ? `${s.slice(0, 40)}…` : s}`;
}

function nonEmpty(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
}

function isExistingFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The report rule of the header comment: file or inline text. */
export function reportSource(value: string, manifestDir: string): ReportSource {
  const looksLikePath = !/[\r\n]/.test(value) && value.length < 4096;
  if (looksLikePath) {
    const path = resolve(manifestDir, value);
    if (REPORT_EXTENSIONS.has(extname(value).toLowerCase()) || isExistingFile(path)) return { kind: 'file', path };
  }
  return { kind: 'text', text: value };
}

/**
 * Reads a manifest, keeping every case it can. File-level failures (missing
 * file, invalid JSON or CSV, missing header columns) throw a ManifestError;
 * per-case problems (a row with the wrong number of fields, a missing or
 * non-string id or image, an invalid or duplicate id, a path outside the
 * manifest's folder, an unknown field) are listed in `issues` and the case
 * is skipped, except duplicates, which are kept.
 */
export function parseManifest(manifestPath: string, options: ManifestOptions = {}): ParsedManifest {
  const path = resolve(manifestPath);
  const text = readText(path, MAX_MANIFEST_BYTES, 'manifest');
  const format = detectFormat(path, text);
  const issues: ManifestIssue[] = [];
  const rows = format === 'json' ? jsonRows(path, text, issues) : csvRows(path, text, issues);
  const dir = dirname(path);
  const cases: UncheckedCase[] = [];
  // by lower-cased id: ids differing only in case name the same files on some systems
  const firstSeen = new Map<string, { id: string; where: string }>();
  for (const { where, values } of rows) {
    const raw: RawCase = {};
    for (const f of MANIFEST_FIELDS) {
      const v = f === 'report' ? values[f] : nonEmpty(values[f]);
      if (v !== undefined && v.trim() !== '') raw[f] = v;
    }
    const id = raw.id;
    if (id === undefined) {
      if (!issues.some((i) => i.where === where && i.field === 'id')) issues.push({ severity: 'error', where, field: 'id', message: 'missing' });
      continue;
    }
    if (raw.image === undefined) {
      if (!issues.some((i) => i.where === where && i.field === 'image')) {
        issues.push({ severity: 'error', where, caseId: id, field: 'image', message: 'missing' });
      }
      continue;
    }
    const idProblem = caseIdProblem(id);
    if (idProblem !== undefined) {
      // no caseId: the id itself is the problem, shown escaped
      issues.push({ severity: 'error', where, field: 'id', message: `${quoteForMessage(id)} is not a valid case id: it ${idProblem}` });
      continue;
    }
    const first = firstSeen.get(id.toLowerCase());
    if (first !== undefined) {
      const message =
        first.id === id
          ? `duplicate id (first at ${first.where})`
          : `differs from the id "${first.id}" (${first.where}) only in letter case; their files would collide on case-insensitive file systems`;
      issues.push({ severity: 'error', where, caseId: id, field: 'id', message });
    } else {
      firstSeen.set(id.toLowerCase(), { id, where });
    }
    const c: UncheckedCase = { id, image: resolve(dir, raw.image), cohort: raw.cohort ?? 'internal', where, raw };
    if (raw.mask !== undefined) c.mask = resolve(dir, raw.mask);
    if (raw.report !== undefined) c.report = reportSource(raw.report.trim(), dir);
    if (!options.allowOutsidePaths) {
      const outside = outsidePaths(c, dir);
      for (const field of outside) {
        issues.push({
          severity: 'error',
          where,
          caseId: id,
          field,
          message: `${quoteForMessage(raw[field]!.trim())} lies outside the dataset folder ${dir}; ${ALLOW_OUTSIDE_HINT}`,
        });
      }
      if (outside.length) continue;
    }
    if (raw.location !== undefined) c.location = raw.location;
    if (raw.marker !== undefined) c.marker = raw.marker;
    if (raw.fold !== undefined) {
      if (!/^\d{1,4}$/.test(raw.fold.trim())) {
        issues.push({ severity: 'error', where, caseId: id, field: 'fold', message: `${quoteForMessage(raw.fold)} is not a fold number (0, 1, 2, …)` });
        continue;
      }
      c.fold = Number(raw.fold.trim());
    }
    cases.push(c);
  }
  // file order: row/case number, file-level issues first (sort is stable)
  issues.sort((a, b) => position(a.where) - position(b.where));
  return { path, format, cases, issues };
}

/** The fields of `c` naming a file outside `dir` (as written or through a symlink). */
function outsidePaths(c: UncheckedCase, dir: string): ('image' | 'mask' | 'report')[] {
  const out: ('image' | 'mask' | 'report')[] = [];
  if (!isInsideFolder(dir, c.image)) out.push('image');
  if (c.mask !== undefined && !isInsideFolder(dir, c.mask)) out.push('mask');
  if (c.report?.kind === 'file' && !isInsideFolder(dir, c.report.path)) out.push('report');
  return out;
}

function position(where: string | undefined): number {
  return where === undefined ? 0 : Number(/\d+$/.exec(where)?.[0] ?? 0);
}

function isCohort(v: string): v is Cohort {
  return (COHORTS as readonly string[]).includes(v);
}

/**
 * Reads a manifest and throws a ManifestError (naming the file and every
 * offending row or case) if anything is wrong with its structure, ids or
 * cohorts. Labels are checked against the config by validateDataset.
 */
export function loadManifest(manifestPath: string, options: ManifestOptions = {}): Manifest {
  const parsed = parseManifest(manifestPath, options);
  const errors = parsed.issues.filter((i) => i.severity === 'error');
  const cases: CaseRecord[] = [];
  for (const c of parsed.cases) {
    const cohort = c.cohort;
    if (!isCohort(cohort)) {
      errors.push({ severity: 'error', where: c.where, caseId: c.id, field: 'cohort', message: `"${cohort}" is not one of ${COHORTS.join(', ')}` });
      continue;
    }
    cases.push({ ...c, cohort });
  }
  errors.sort((a, b) => position(a.where) - position(b.where));
  if (errors.length) throw new ManifestError(parsed.path, errors);
  if (cases.length === 0) throw new ManifestError(parsed.path, [{ severity: 'error', message: 'no cases' }]);
  return { path: parsed.path, format: parsed.format, cases };
}

/**
 * The report text of a case (inline or read from its file, UTF-8), or
 * undefined when the case has none. Throws naming the case and the file
 * when the file is missing or unreadable.
 */
export function readReport(c: Pick<CaseRecord, 'id' | 'report'>): string | undefined {
  const r = c.report;
  if (r === undefined) return undefined;
  if (r.kind === 'text') return r.text;
  try {
    return readText(r.path, MAX_REPORT_BYTES, 'report file');
  } catch (e) {
    const detail = e instanceof ManifestError ? describeIssue(e.issues[0]!) : (e as Error).message;
    throw new Error(`${r.path}: case "${c.id}": ${detail}`);
  }
}

// The Import Dataset command's arguments as an engine request: pure, no
// vscode, so the unit tests check it directly. The import itself runs in the
// engine worker (the `import` engine command), never in the extension host.
import { isAbsolute, join } from 'node:path';
import { IMPORT_VALIDATION_REPORT, type ImportSource, type RunRequest } from '../../shared/protocol';

export type ImportKind = ImportSource['kind'];

/** The kinds offered, in the order the command lists them, with what the command asks for each. */
export const IMPORT_KINDS: readonly { kind: ImportKind; label: string; detail: string }[] = [
  { kind: 'dicom', label: 'DICOM folder + cases table', detail: 'one DICOM study per case, listed in a CSV table (id, dicom, report, location, marker, cohort)' },
  { kind: 'monai', label: 'MONAI datalist', detail: 'a datalist JSON (training/validation/testing lists; image, label, text, fold), as TextBraTS uses' },
  { kind: 'bids', label: 'BIDS folder', detail: 'the FLAIR of each subject/session (sub-*/[ses-*/]anat/*_FLAIR.nii[.gz])' },
];

/** What scripts and tests may pass to the command (the command asks for whatever is missing). */
export interface ImportArg {
  kind?: ImportKind;
  source?: string;
  table?: string;
  base?: string;
  seriesFilter?: string;
  out?: string;
}

/** Paths given relative to the workspace folder made absolute. */
function inRoot(root: string, p: string): string {
  return isAbsolute(p) ? p : join(root, p);
}

/** Whether `v` is an ImportArg (an object from a script, not a Uri or a tree node). */
export function isImportArg(v: unknown): v is ImportArg {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  const keys = ['kind', 'source', 'table', 'base', 'seriesFilter', 'out'];
  return Object.keys(o).length > 0 && Object.keys(o).every((k) => keys.includes(k) && typeof o[k] === 'string');
}

/**
 * The engine request for a complete ImportArg, or the reason it is not
 * complete. The source, table, base and output are made absolute against
 * the workspace folder `root`; the output must not be the source itself.
 */
export function importRequest(arg: ImportArg, root: string): { request: RunRequest } | { problem: string } {
  const kind = arg.kind;
  if (kind !== 'dicom' && kind !== 'monai' && kind !== 'bids') return { problem: `the source kind must be dicom, monai or bids, got ${JSON.stringify(kind)}` };
  if (!arg.source?.trim()) return { problem: kind === 'monai' ? 'a datalist file is required' : kind === 'bids' ? 'a BIDS folder is required' : 'a DICOM folder is required' };
  if (kind === 'dicom' && !arg.table?.trim()) return { problem: 'a cases table (CSV) is required for a DICOM import' };
  if (!arg.out?.trim()) return { problem: 'an output folder is required' };
  const source = inRoot(root, arg.source.trim());
  const out = inRoot(root, arg.out.trim());
  if (out === source) return { problem: 'the output folder must not be the source folder' };
  const spec: ImportSource = { kind, source };
  if (kind === 'dicom') {
    spec.table = inRoot(root, arg.table!.trim());
    if (arg.seriesFilter?.trim()) spec.seriesFilter = arg.seriesFilter.trim();
  }
  if (kind === 'monai' && arg.base?.trim()) spec.base = inRoot(root, arg.base.trim());
  return { request: { command: 'import', out, import: spec } };
}

/** The file the command opens when the import has finished (written by the engine beside the manifest). */
export function validationReportPath(request: RunRequest): string | undefined {
  return request.command === 'import' && request.out ? join(request.out, IMPORT_VALIDATION_REPORT) : undefined;
}

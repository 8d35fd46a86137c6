// MONAI datalists (as TextBraTS and MONAI's own tutorials use them) to
// import cases:
//
//   { "training":   [ { "image": ..., "label": ..., "text": ..., "fold": 0 }, ... ],
//     "validation": [ ... ], "testing": [ ... ] }
//
// - `image` is a NIfTI path or a list of them (one per modality). From a
//   list, the FLAIR is the one file whose name holds "flair", "t2flair" or
//   "t2f" (BraTS 2023) as a word ("BraTS2021_00000_flair.nii.gz",
//   "BraTS-GLI-00000-000-t2f.nii.gz"); none or several is a skipped case.
// - `label` (optional) is the tumour mask.
// - `report` or `text` (optional) is the report: a file when it ends in
//   .txt, .md or .text (as in manifests), else the report itself.
// - `fold` (optional) is a non-negative integer kept on the case (import.json).
// - `id` (optional) names the case; else the FLAIR's file name without its
//   extension and modality word ("BraTS2021_00000"), or its folder's name
//   when nothing else is left. Made safe (safeCaseId); ids must be unique.
//
// Paths are relative to the datalist's folder (or `base`) and must stay
// inside it, also after symlinks (safe-path rule, docs/SECURITY.md): an
// entry leading outside it stops the import. A missing file skips the case
// and is recorded.
import { statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { dataPath, UnsafePathError } from '../io/safe-path';
import { READ_LIMITS, readTextBounded } from '../io/bounded-read';
import { quoteForMessage } from '../util/quote';
import type { ImportCase } from './types';
import { niftiStem, safeCaseId, type ImportSkip, type SourceScan } from './source-scan';

export const MONAI_SECTIONS = ['training', 'validation', 'testing'] as const;

export interface MonaiImportOptions {
  /** folder the datalist's paths are relative to (default: the datalist's folder) */
  base?: string;
}

/** A FLAIR file name: "flair", "t2flair" or "t2f" as a word of it (case-insensitive). */
const FLAIR_NAME = /(^|[^a-z0-9])(t2flair|flair|t2f)([^a-z0-9]|$)/i;
/** The modality word at the end of a file stem, with its separator. */
const MODALITY_SUFFIX = /[_.-](t2[_-]?flair|flair|t2f)$/i;
const REPORT_FILE = /\.(txt|md|text)$/i;

/** Whether `name` (a file name) names a FLAIR image. */
export function isFlairName(name: string): boolean {
  return FLAIR_NAME.test(basename(name));
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The id a datalist entry gets from its image's file name. */
function idFromImage(image: string): string | undefined {
  const stem = niftiStem(basename(image)) ?? basename(image);
  const trimmed = stem.replace(MODALITY_SUFFIX, '');
  // "flair.nii.gz" in a folder per case: the folder names the case
  const raw = FLAIR_NAME.test(trimmed) && trimmed.replace(FLAIR_NAME, '') === '' ? basename(dirname(image)) : trimmed;
  return safeCaseId(raw);
}

/**
 * The cases of a MONAI datalist. Throws an Error naming the datalist and the
 * entry for a datalist that cannot be used (not JSON, wrong types, a path
 * leading outside the base folder, a bad fold, two cases with one id).
 */
export function scanMonaiDatalist(datalist: string, options: MonaiImportOptions = {}): SourceScan {
  const file = resolve(datalist);
  const base = resolve(options.base ?? dirname(file));
  const text = readTextBounded(file, { maxBytes: READ_LIMITS.manifest, what: 'MONAI datalist' }).replace(/^\ufeff/, '');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new Error(`${file}: a MONAI datalist is a JSON object with "training", "validation" and/or "testing" lists`);
  }
  const lists = json as Record<string, unknown>;
  const present = MONAI_SECTIONS.filter((s) => lists[s] !== undefined);
  if (present.length === 0) throw new Error(`${file}: no "training", "validation" or "testing" list`);

  const cases: ImportCase[] = [];
  const skipped: ImportSkip[] = [];
  const seen = new Map<string, string>();
  for (const section of present) {
    const entries = lists[section];
    if (!Array.isArray(entries)) throw new Error(`${file}: "${section}" must be a list of entries`);
    entries.forEach((entry: unknown, i) => {
      const where = `${section}[${i}]`;
      const fail = (problem: string): never => {
        throw new Error(`${file}: ${where}: ${problem}`);
      };
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) fail('an entry must be an object');
      const e = entry as Record<string, unknown>;
      const inBase = (field: string, p: unknown): string => {
        if (typeof p !== 'string' || !p) return fail(`${field} must be a path (a non-empty string)`);
        try {
          return dataPath(base, p);
        } catch (err) {
          if (err instanceof UnsafePathError) return fail(`${field} ${quoteForMessage(p)} lies outside ${base} (paths must stay inside the datalist's folder)`);
          throw err;
        }
      };

      // the image: one path, or the FLAIR of a list of modalities
      let image: string;
      if (Array.isArray(e.image)) {
        const paths = e.image.map((p, k) => inBase(`image[${k}]`, p));
        const flair = paths.filter((p) => isFlairName(p));
        if (flair.length !== 1) {
          const names = paths.map((p) => basename(p)).join(', ');
          skipped.push({ source: where, reason: flair.length ? `several images are named as FLAIR (${names})` : `no image is named as FLAIR ("flair", "t2flair" or "t2f" in the file name): ${names}` });
          return;
        }
        image = flair[0]!;
      } else {
        image = inBase('image', e.image);
      }
      if (!niftiStem(basename(image))) fail(`image ${quoteForMessage(basename(image))} is not a NIfTI file (.nii or .nii.gz)`);
      const mask = e.label === undefined || e.label === null ? undefined : inBase('label', e.label);
      if (mask !== undefined && !niftiStem(basename(mask))) fail(`label ${quoteForMessage(basename(mask))} is not a NIfTI file (.nii or .nii.gz)`);

      let fold: number | undefined;
      if (e.fold !== undefined && e.fold !== null) {
        if (typeof e.fold !== 'number' || !Number.isInteger(e.fold) || e.fold < 0) fail(`fold must be a non-negative integer, got ${quoteForMessage(JSON.stringify(e.fold))}`);
        fold = e.fold as number;
      }

      const rawReport = e.report ?? e.text;
      if (rawReport !== undefined && rawReport !== null && typeof rawReport !== 'string') fail('report/text must be a string');
      let reportFile: string | undefined;
      if (typeof rawReport === 'string' && REPORT_FILE.test(rawReport.trim())) reportFile = inBase(e.report !== undefined ? 'report' : 'text', rawReport.trim());

      let id: string | undefined;
      if (e.id !== undefined) {
        if (typeof e.id !== 'string') fail('id must be a string');
        id = safeCaseId(e.id as string);
        if (!id) fail(`id ${quoteForMessage(e.id as string)} has no character a case id can keep`);
      } else {
        id = idFromImage(image);
        if (!id) fail(`no case id can be made from ${quoteForMessage(basename(image))}; give the entry an "id"`);
      }
      const key = id!.toLowerCase();
      const other = seen.get(key);
      if (other) fail(`case id "${id}" is also the id of ${other} (ids must be unique, also ignoring case); give the entries an "id"`);
      seen.set(key, where);

      const missing = [image, mask, reportFile].filter((p): p is string => p !== undefined && !isFile(p));
      if (missing.length) {
        skipped.push({ source: where, reason: `not found: ${missing.join(', ')}` });
        return;
      }
      const report =
        reportFile !== undefined
          ? readTextBounded(reportFile, { maxBytes: READ_LIMITS.report, what: 'report' }).replace(/^\ufeff/, '')
          : typeof rawReport === 'string' && rawReport.trim()
            ? rawReport
            : undefined;
      cases.push({
        id: id!,
        image,
        ...(mask !== undefined ? { mask } : {}),
        ...(report !== undefined ? { report } : {}),
        cohort: 'internal',
        ...(fold !== undefined ? { fold } : {}),
        metadata: { section },
      });
    });
  }
  return { cases, skipped };
}

// What the MONAI and BIDS importers hand back: the cases found and every
// entry of the source left out, with the reason (recorded in import.json).
import type { ImportCase } from './types';
import { MAX_CASE_ID_LENGTH, caseIdProblem } from '../io/safe-path';

/** An entry of the source that is not imported, and why. */
export interface ImportSkip {
  /** where it is in the source: "training[3]", "sub-04", "sub-01/ses-2" */
  source: string;
  reason: string;
}

export interface SourceScan {
  cases: ImportCase[];
  skipped: ImportSkip[];
}

/**
 * `raw` made into a valid case id: every character other than letters,
 * digits, '.', '_' and '-' becomes '_', a leading '.' or '-' becomes '_',
 * and the result is cut to the longest id allowed. Undefined when nothing is left.
 */
export function safeCaseId(raw: string): string | undefined {
  let id = raw.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[.-]/, '_');
  if (id.length > MAX_CASE_ID_LENGTH) id = id.slice(0, MAX_CASE_ID_LENGTH);
  return id && !caseIdProblem(id) ? id : undefined;
}

/** The name of a NIfTI file without its .nii / .nii.gz extension, or undefined when it is not one. */
export function niftiStem(name: string): string | undefined {
  const m = /^(.*)\.nii(\.gz)?$/i.exec(name);
  return m && m[1] ? m[1] : undefined;
}

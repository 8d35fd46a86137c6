// `mrcl import --monai` and `--bids` (and the editor's Import Dataset
// command, through the worker): scan the source, then write the dataset.
// What was left out of the source, and why, is recorded in import.json
// (settings.skipped) and returned.
import { resolve } from 'node:path';
import { scanMonaiDatalist } from './monai';
import { scanBids } from './bids';
import { writeImportedDataset, type WriteImportResult } from './write';
import type { ImportSkip, SourceScan } from './source-scan';
import type { DeidOptions } from '../text/deid';

export interface SourceImportResult extends WriteImportResult {
  skipped: ImportSkip[];
}

export interface SourceImportOptions {
  /** MONAI: the folder the datalist's paths are relative to (default: the datalist's folder) */
  base?: string;
  /** names and institutions the reports' de-identification also removes */
  deid?: DeidOptions;
  log?: (line: string) => void;
  /** cases copied so far, of all cases (unchanged ones are not copied) */
  onProgress?: (copied: number, total: number) => void;
  /** stops before the dataset is written, or at the next case copied (nothing of the new import is kept) */
  signal?: AbortSignal;
}

/** Thrown when `signal` stops an import. */
export class ImportCancelledError extends Error {
  constructor() {
    super('import cancelled; the dataset folder was left as it was');
    this.name = 'ImportCancelledError';
  }
}

async function write(scan: SourceScan, out: string, importer: string, settings: Record<string, unknown>, options: SourceImportOptions): Promise<SourceImportResult> {
  const { log, onProgress, signal } = options;
  for (const s of scan.skipped) log?.(`skipped ${s.source}: ${s.reason}`);
  if (scan.cases.length === 0) throw new Error(`${String(settings.source)}: no case to import${scan.skipped.length ? ` (${scan.skipped.length} skipped: ${scan.skipped.slice(0, 3).map((s) => `${s.source}: ${s.reason}`).join('; ')})` : ''}`);
  if (signal?.aborted) throw new ImportCancelledError();
  let copied = 0;
  const total = scan.cases.length;
  onProgress?.(0, total);
  let result: WriteImportResult;
  try {
    result = await writeImportedDataset(scan.cases, out, {
      importer,
      ...(options.deid ? { deid: options.deid } : {}),
      settings: { ...settings, skipped: scan.skipped },
      // called before each case copied: the place to stop (the writer then removes its temp folder)
      log: (line) => {
        if (signal?.aborted) throw new ImportCancelledError();
        log?.(line);
        onProgress?.(copied++, total);
      },
    });
  } catch (e) {
    if (signal?.aborted) throw new ImportCancelledError();
    throw e;
  }
  onProgress?.(total, total);
  return { ...result, skipped: scan.skipped };
}

/** Imports the cases of a MONAI datalist (monai.ts) into the dataset `out`; folds are kept in import.json. */
export async function importMonaiDatalist(datalist: string, out: string, options: SourceImportOptions = {}): Promise<SourceImportResult> {
  const source = resolve(datalist);
  const base = options.base !== undefined ? resolve(options.base) : undefined;
  const scan = scanMonaiDatalist(source, base !== undefined ? { base } : {});
  return write(scan, out, 'monai', { source, ...(base !== undefined ? { base } : {}) }, options);
}

/** Imports the FLAIR of every subject/session of a BIDS folder (bids.ts) into the dataset `out`. */
export async function importBidsFolder(dir: string, out: string, options: SourceImportOptions = {}): Promise<SourceImportResult> {
  const source = resolve(dir);
  return write(scanBids(source), out, 'bids', { source }, options);
}

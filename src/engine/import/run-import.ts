// The `import` engine command the editor runs in its worker process (never
// in the extension host): import from the source, validate the dataset and
// write the validation report beside the manifest, for the editor to open.
// The CLI's `mrcl import` calls the same importers and prints the report.
import { join, resolve } from 'node:path';
import type { EventSink } from '../../shared/events';
import { IMPORT_VALIDATION_REPORT, type ImportSource, type RunOutcome } from '../../shared/protocol';
import { writeFileAtomic } from '../io/atomic';
import { formatValidationReport, validateDataset } from '../data/validate';
import { importDicom } from './dicom';
import { ImportCancelledError, importBidsFolder, importMonaiDatalist } from './from-source';
import type { WriteImportResult } from './write';

/** The validation report of an import, in the dataset folder. */
export const VALIDATION_REPORT = IMPORT_VALIDATION_REPORT;

export interface ImportRunContext {
  signal?: AbortSignal;
  emit: EventSink;
}

/** Imports `source` into `out`, validates it and writes DATASET/validation-report.txt. */
export async function runImport(source: ImportSource, out: string, ctx: ImportRunContext): Promise<RunOutcome> {
  const dest = resolve(out);
  const log = (message: string) => ctx.emit({ type: 'log', level: 'info', message });
  const onProgress = (done: number, total: number) => ctx.emit({ type: 'progress', stage: 'import', done, total });
  const signal = ctx.signal;
  const need = (v: string | undefined, what: string): string => {
    if (!v) throw new Error(`import from ${source.kind}: ${what} is required`);
    return resolve(v);
  };
  let result: WriteImportResult;
  ctx.emit({ type: 'stage', stage: 'import', status: 'started', detail: source.kind });
  try {
    switch (source.kind) {
      case 'dicom':
        result = await importDicom({
          dicomRoot: need(source.source, 'the DICOM folder'),
          table: need(source.table, 'the cases table'),
          out: dest,
          ...(source.seriesFilter ? { seriesFilters: [source.seriesFilter] } : {}),
          log,
          ...(signal ? { signal } : {}),
        });
        break;
      case 'monai':
        result = await importMonaiDatalist(need(source.source, 'the datalist'), dest, { ...(source.base ? { base: resolve(source.base) } : {}), log, onProgress, ...(signal ? { signal } : {}) });
        break;
      case 'bids':
        result = await importBidsFolder(need(source.source, 'the BIDS folder'), dest, { log, onProgress, ...(signal ? { signal } : {}) });
        break;
      default: {
        const never: never = source.kind;
        throw new Error(`unknown import source "${String(never)}"`);
      }
    }
  } catch (e) {
    if (signal?.aborted || e instanceof ImportCancelledError) {
      ctx.emit({ type: 'stage', stage: 'import', status: 'cancelled' });
      return { status: 'cancelled' };
    }
    throw e;
  }
  ctx.emit({ type: 'stage', stage: 'import', status: 'done', detail: `${result.written.length} written, ${result.unchanged.length} unchanged` });
  ctx.emit({ type: 'stage', stage: 'validate', status: 'started' });
  const report = await validateDataset(result.manifest);
  writeFileAtomic(join(result.out, VALIDATION_REPORT), [Buffer.from(formatValidationReport(report, result.manifest), 'utf8')]);
  ctx.emit({ type: 'metrics', stage: 'validate', metrics: { cases: report.summary.cases, errors: report.errors.length, warnings: report.warnings.length } });
  ctx.emit({ type: 'stage', stage: 'validate', status: report.errors.length ? 'failed' : 'done' });
  return report.errors.length
    ? { status: 'failed', error: `${report.errors.length} error(s) in the imported dataset ${result.manifest}: see ${join(result.out, VALIDATION_REPORT)}` }
    : { status: 'done' };
}

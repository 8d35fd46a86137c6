// `mrcl import --monai DATALIST.json` and `mrcl import --bids DIR`: the
// branches of `mrcl import` for sources that are NIfTI already (the
// DICOM branch is in import.ts). Import, then validate and print the report.
import { join, resolve } from 'node:path';
import { formatValidationReport, validateDataset } from '../../engine/data/validate';
import { importBidsFolder, importMonaiDatalist } from '../../engine/import/from-source';
import { IMPORT_RECORD } from '../../engine/import/record';
import { UsageError, type CommandContext, type ParsedArgs } from '../command';
import { readKnownNames, type DeidOptions } from '../../engine/text/deid';

/** --known-names / --institutions FILE → the writer's de-identification lists. */
export function deidArgs(values: Record<string, unknown>): { deid?: DeidOptions } {
  const names = values['known-names'];
  const inst = values.institutions;
  if (typeof names !== 'string' && typeof inst !== 'string') return {};
  return {
    deid: {
      ...(typeof names === 'string' ? { knownNames: readKnownNames(resolve(names)) } : {}),
      ...(typeof inst === 'string' ? { institutions: readKnownNames(resolve(inst)) } : {}),
    },
  };
}

/** The options of these branches, for import.ts's option table. */
export const SOURCE_IMPORT_OPTIONS = {
  monai: { type: 'string', valueName: 'DATALIST.json', description: 'Import a MONAI datalist (training/validation/testing lists of image, label, text or report, fold; from an image list the FLAIR is taken by its file name)' },
  base: { type: 'string', valueName: 'DIR', description: "With --monai: the folder the datalist's paths are relative to (default: the datalist's folder); no path may leave it" },
  bids: { type: 'string', valueName: 'DIR', description: 'Import the FLAIR of each subject/session of a BIDS folder (sub-*/[ses-*/]anat/*_FLAIR.nii[.gz])' },
} as const;

/** Runs `mrcl import --monai …` or `--bids …`; the caller has checked that one of them is given. */
export async function importFromSource(args: ParsedArgs, ctx: CommandContext): Promise<number> {
  const { monai, bids, base, out, dicom } = args.values;
  const given = [monai, bids, dicom].filter((v) => v !== undefined).length;
  if (given !== 1) throw new UsageError('give one source: --dicom DIR, --monai DATALIST.json or --bids DIR', 'import');
  if (typeof out !== 'string' || !out) throw new UsageError('--out DATASET is required', 'import');
  if (base !== undefined && monai === undefined) throw new UsageError('--base goes with --monai', 'import');
  for (const o of ['table', 'series-filter', 'dcm2niix']) if (args.values[o] !== undefined) throw new UsageError(`--${o} goes with --dicom`, 'import');
  const log = (line: string) => ctx.stderr(`${line}\n`);
  const options = { log, ...(ctx.signal ? { signal: ctx.signal } : {}), ...deidArgs(args.values) };
  const result =
    typeof monai === 'string'
      ? await importMonaiDatalist(monai, resolve(out), { ...options, ...(typeof base === 'string' ? { base: resolve(base) } : {}) })
      : await importBidsFolder(String(bids), resolve(out), options);
  return reportImport(
    args,
    ctx,
    result,
    `${result.written.length} copied, ${result.unchanged.length} unchanged` +
      `${result.removed.length ? `, ${result.removed.length} removed (${result.removed.join(', ')})` : ''}` +
      `${result.skipped.length ? `; ${result.skipped.length} skipped (listed above and in import.json)` : ''}.\n` +
      `${typeof monai === 'string' ? 'Folds, sections and skipped entries' : 'Skipped subjects/sessions'}: ${join(result.out, IMPORT_RECORD)}`,
  );
}

/**
 * Validates the imported dataset and prints the import and the validation
 * report (as JSON with --json); exit code 1 when the dataset has errors.
 */
export async function reportImport(
  args: ParsedArgs,
  ctx: CommandContext,
  result: { out: string; manifest: string; written: readonly string[]; unchanged: readonly string[] },
  counts: string,
): Promise<number> {
  const report = await validateDataset(result.manifest);
  if (args.values.json) {
    ctx.stdout(`${JSON.stringify({ import: result, validation: report }, null, 2)}\n`);
  } else {
    ctx.stdout(`Imported ${result.written.length + result.unchanged.length} case(s) into ${result.out}: ${counts}\n\n`);
    ctx.stdout(formatValidationReport(report, result.manifest));
  }
  return report.errors.length ? 1 : 0;
}

import { resolve } from 'node:path';
import { importDicom } from '../../engine/import/dicom';
import { UsageError, type Command } from '../command';
import { deidArgs, importFromSource, reportImport, SOURCE_IMPORT_OPTIONS } from './import-sources';

export const importCommand: Command = {
  name: 'import',
  summary: 'Import a dataset (DICOM studies listed in a case table, a MONAI datalist or a BIDS folder) into a dataset folder with a manifest, then validate it.',
  usage: 'mrcl import --dicom DIR --table CASES.csv --out DATASET [--series-filter EXPR]... [--dcm2niix PATH] [--known-names FILE] [--institutions FILE] [--json]\n       mrcl import --monai DATALIST.json [--base DIR] --out DATASET [--known-names FILE] [--institutions FILE] [--json]\n       mrcl import --bids DIR --out DATASET [--json]',
  options: {
    dicom: { type: 'string', valueName: 'DIR', description: "Folder holding one DICOM study per case (the table's dicom column is relative to it)" },
    table: { type: 'string', valueName: 'CASES.csv', description: 'Case table: id, dicom, report, location, marker, cohort, mask (NIfTI, or a DICOM-SEG file or folder); other columns are kept as metadata in import.json' },
    out: { type: 'string', short: 'o', valueName: 'DATASET', description: 'Dataset folder to write (new, or a previous import: only changed cases are converted again)' },
    'series-filter': {
      type: 'string',
      multiple: true,
      valueName: 'EXPR',
      description: 'Which series is the image, from its sidecar: FIELD~REGEX, FIELD!~REGEX or FIELD=VALUE, e.g. SeriesDescription~flair (repeatable, all must hold; default: the FLAIR)',
    },
    dcm2niix: { type: 'string', valueName: 'PATH', description: 'The dcm2niix program (default: dcm2niix on PATH)' },
    'known-names': { type: 'string', valueName: 'FILE', description: "Names the reports' de-identification also removes wherever they occur (one per line; # comments)" },
    institutions: { type: 'string', valueName: 'FILE', description: "Institution names the reports' de-identification also removes (one per line; # comments)" },
    json: { type: 'boolean', description: 'Print the import result and the validation report as JSON' },
    ...SOURCE_IMPORT_OPTIONS,
  },
  async run(args, ctx) {
    if (args.values.monai !== undefined || args.values.bids !== undefined) return importFromSource(args, ctx);
    const { dicom, table, out } = args.values;
    if (typeof dicom !== 'string' || !dicom) throw new UsageError('--dicom DIR is required', 'import');
    if (typeof table !== 'string' || !table) throw new UsageError('--table CASES.csv is required', 'import');
    if (typeof out !== 'string' || !out) throw new UsageError('--out DATASET is required', 'import');
    const filters = (args.values['series-filter'] as string[] | undefined) ?? [];
    const result = await importDicom({
      dicomRoot: resolve(dicom),
      table: resolve(table),
      out: resolve(out),
      seriesFilters: filters,
      ...(typeof args.values.dcm2niix === 'string' ? { dcm2niix: args.values.dcm2niix } : {}),
      ...deidArgs(args.values),
      log: (line) => ctx.stderr(`${line}\n`),
      signal: ctx.signal,
    });
    return reportImport(
      args,
      ctx,
      result,
      `${result.converted.length} converted, ${result.unchanged.length} unchanged` +
        `${result.removed.length ? `, ${result.removed.length} removed (${result.removed.join(', ')})` : ''}.\n` +
        `Series choices: ${resolve(result.out, 'import.json')}`,
    );
  },
};

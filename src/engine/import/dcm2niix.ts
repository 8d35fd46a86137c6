// Runs dcm2niix (a child process) on one study folder:
//   dcm2niix -z y -b y -f %s_%d -o OUT STUDY
// (gzipped NIfTI, a BIDS sidecar per series, named <series number>_<description>)
// and pairs each NIfTI it wrote with its sidecar.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { READ_LIMITS, readTextBounded } from '../io/bounded-read';
import type { ConvertedSeries, Sidecar } from './series';

export const DCM2NIIX_INSTALL_HINT =
  'install dcm2niix (Debian/Ubuntu: apt-get install dcm2niix; macOS: brew install dcm2niix; others: https://github.com/rordenlab/dcm2niix/releases) or pass its path with --dcm2niix';

/** dcm2niix could not be started. */
export class ConverterMissingError extends Error {
  constructor(readonly command: string) {
    super(`DICOM import needs dcm2niix, and ${JSON.stringify(command)} could not be run: ${DCM2NIIX_INSTALL_HINT}`);
    this.name = 'ConverterMissingError';
  }
}

const MAX_OUTPUT = 64 * 1024;

/** Runs `command args`, resolving with its exit code and the end of its output. */
function run(command: string, args: string[], signal?: AbortSignal): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    let output = '';
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(signal ? { signal } : {}) });
    const take = (b: Buffer): void => {
      output = (output + b.toString('utf8')).slice(-MAX_OUTPUT);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'EACCES') reject(new ConverterMissingError(command));
      else reject(e);
    });
    child.on('close', (code, sig) => resolve({ code: code ?? (sig ? 128 : 1), output }));
  });
}

/** Whether dcm2niix can be run (for tests and the CLI's checks). */
export async function converterAvailable(command = 'dcm2niix'): Promise<boolean> {
  try {
    await run(command, ['-v']);
    return true;
  } catch {
    return false;
  }
}

/**
 * Converts every series of `study` into the empty folder `out` and returns
 * them sorted by name. Throws when dcm2niix fails or finds no series, with
 * the end of its output.
 */
export async function convertStudy(study: string, out: string, command = 'dcm2niix', signal?: AbortSignal): Promise<ConvertedSeries[]> {
  const { code, output } = await run(command, ['-z', 'y', '-b', 'y', '-f', '%s_%d', '-o', out, study], signal);
  const tail = output.trim().split('\n').slice(-6).join('\n  ');
  const niftis = readdirSync(out).filter((f) => f.endsWith('.nii.gz')).sort();
  if (code !== 0 && niftis.length === 0) throw new Error(`${study}: dcm2niix failed (exit ${code}):\n  ${tail}`);
  if (niftis.length === 0) throw new Error(`${study}: no DICOM series found:\n  ${tail}`);
  return niftis.map((f) => {
    const name = f.slice(0, -'.nii.gz'.length);
    let sidecar: Sidecar = {};
    try {
      const doc: unknown = JSON.parse(readTextBounded(join(out, `${name}.json`), { maxBytes: READ_LIMITS.small, what: 'series sidecar' }));
      if (doc && typeof doc === 'object' && !Array.isArray(doc)) sidecar = doc as Sidecar;
    } catch {
      // no sidecar: the series can still be chosen by a filter on nothing, or skipped
    }
    return { name, nifti: join(out, f), sidecar };
  });
}

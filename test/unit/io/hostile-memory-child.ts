// Child process of hostile-memory.test.ts: reads one file and reports its
// peak RSS, so the parent measures what reading it cost.
import { readNifti } from '../../../src/engine/io/nifti';
import { loadTorchCheckpoint } from '../../../src/engine/io/torch-checkpoint';

const [kind, path] = process.argv.slice(2);
const peakKiB = (): number => process.resourceUsage().maxRSS;
const before = peakKiB();
let error = '';
try {
  if (kind === 'nifti') readNifti(path!);
  else loadTorchCheckpoint(path!);
} catch (e) {
  error = (e as Error).message;
}
process.stdout.write(JSON.stringify({ before, after: peakKiB(), error }));

// Checks of a config that its JSON Schema cannot express: files it names
// exist and have the right format, the dataset is usable with the fold
// count. Cheap enough to run on every edit (no image voxels, no weights are
// read), so the editor's Problems panel and `mrcl config check` share it.
import { closeSync, existsSync, readSync, statSync } from 'node:fs';
import { BoundedReadError, openRegularFile } from '../io/bounded-read';
import { join } from 'node:path';
import type { ExperimentConfig } from '../../shared/config';
import { validateDataset, type DatasetIssue, type ValidationOptions } from '../data/validate';
import { configIssues, resolveConfig, resolveIn, type ConfigIssue } from './resolve';
import { encoderGrids, OUTPUT_STRIDES } from '../networks/grids';
import { gridTooCoarse, MIN_ATTENTION_GRID } from '../explain/coverage';
import { batchSizeIssues } from '../training/batch-rules';

export interface CheckedIssue extends ConfigIssue {
  severity: 'error' | 'warning';
}

export type WeightsFormat = 'torch-zip' | 'torch-legacy' | 'safetensors';

/** How many dataset problems one diagnostic lists before "and N more". */
const LISTED = 3;

/**
 * The format of a weights file from its first bytes: PyTorch's zip archive
 * (torch.save since 1.6), PyTorch's legacy pickle stream, or safetensors
 * (little-endian u64 header length, then a JSON object). Throws naming the
 * file when it cannot be read or is none of these.
 */
export function sniffWeightsFormat(path: string): WeightsFormat {
  const head = Buffer.alloc(16);
  let n: number;
  let fd: number | undefined;
  try {
    fd = openRegularFile(path, 'weights file').fd;
    n = readSync(fd, head, 0, head.length, 0);
  } catch (e) {
    if (e instanceof BoundedReadError) throw e;
    throw new Error(`${path}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (n >= 4 && head.readUInt32BE(0) === 0x504b0304) return 'torch-zip';
  if (n >= 2 && head[0] === 0x80 && head[1]! >= 2 && head[1]! <= 5) return 'torch-legacy';
  if (n >= 9) {
    const headerLen = head.readBigUInt64LE(0);
    const size = BigInt(statSync(path).size);
    if (headerLen > 1n && headerLen + 8n <= size && head[8] === 0x7b /* { */) return 'safetensors';
  }
  throw new Error(`${path}: not a PyTorch checkpoint (.pth/.bin) or safetensors file (${n === 0 ? 'empty file' : 'unrecognised header'})`);
}

function fileIssue(path: string, abs: string, what: string, kind: 'file' | 'folder'): CheckedIssue | undefined {
  if (!existsSync(abs)) return { path, severity: 'error', message: `${what} not found: ${abs}` };
  const isDir = statSync(abs).isDirectory();
  if (kind === 'file' && isDir) return { path, severity: 'error', message: `${what} is a folder, expected a file: ${abs}` };
  if (kind === 'folder' && !isDir) return { path, severity: 'error', message: `${what} is a file, expected a folder: ${abs}` };
  return undefined;
}

function weightsIssue(path: string, abs: string, what: string): CheckedIssue | undefined {
  const missing = fileIssue(path, abs, what, 'file');
  if (missing) return missing;
  try {
    sniffWeightsFormat(abs);
    return undefined;
  } catch (e) {
    return { path, severity: 'error', message: (e as Error).message };
  }
}

function describeDatasetIssue(i: DatasetIssue): string {
  const where = [i.caseId, i.field].filter(Boolean).join(' ');
  return where ? `${where}: ${i.message}` : i.message;
}

/**
 * How a config validates its dataset: its labels, leak terms, de-identification
 * lists and fold count. `baseDir`: the folder the config's relative paths are
 * resolved against.
 */
export function datasetValidationOptions(c: ExperimentConfig, baseDir = process.cwd()): ValidationOptions {
  return {
    locations: c.data.locations,
    markers: c.data.markers,
    leakTerms: c.report.leakTerms,
    deidentify: c.report.deidentify,
    knownNames: c.report.knownNames,
    knownNamesFile: c.report.knownNamesFile ? resolveIn(baseDir, c.report.knownNamesFile) : undefined,
    institutions: c.report.institutions,
    folds: c.finetune.folds,
    positiveMarker: c.data.positiveMarker,
    negativeMarker: c.data.negativeMarker,
    allowOutsidePaths: c.data.allowOutsidePaths,
    maxInflatedBytes: c.data.maxInflatedMiB * 2 ** 20,
  };
}

/** Dataset errors grouped onto the config fields they concern. */
async function datasetIssues(c: ExperimentConfig, manifest: string, baseDir: string): Promise<CheckedIssue[]> {
  const report = await validateDataset(manifest, { ...datasetValidationOptions(c, baseDir), checkImages: false });
  const out: CheckedIssue[] = [];
  const caseErrors: DatasetIssue[] = [];
  for (const e of report.errors) {
    // the only manifest-level "marker" error is the class-size check against the folds
    if (e.caseId === undefined && e.field === 'marker' && /fold/.test(e.message)) {
      out.push({ path: '/finetune/folds', severity: 'error', message: `${e.message} (dataset ${manifest})` });
    } else if (e.caseId === undefined && e.field !== undefined && ['positiveMarker', 'negativeMarker', 'leakTerms'].includes(e.field)) {
      continue; // the same problem is already reported on the config field by configIssues
    } else {
      caseErrors.push(e);
    }
  }
  if (caseErrors.length) {
    const listed = caseErrors.slice(0, LISTED).map(describeDatasetIssue).join('; ');
    const more = caseErrors.length > LISTED ? `; and ${caseErrors.length - LISTED} more` : '';
    out.push({
      path: '/data/manifest',
      severity: 'error',
      message: `dataset ${manifest} has ${caseErrors.length} error(s): ${listed}${more} (run Validate Dataset for all)`,
    });
  }
  return out;
}

/**
 * Problems of a schema-valid config the schema cannot see. Relative paths
 * are resolved against `baseDir` (the config file's folder), as the engine
 * does when it runs.
 */
export interface SemanticOptions {
  /**
   * Deep check of the MedicalNet checkpoint (load it into the configured
   * encoder; throw naming the problem). The CLI and the engine pass one; the
   * extension host, which never loads TF.js, checks only the file's format.
   */
  checkMedicalNet?: (path: string) => void;
}

/**
 * What keeps a folder from serving as text.pretrained (a HuggingFace
 * Longformer: config.json, weights, a tokenizer unless tokenizer.path gives
 * one), each naming the folder or file; none when it can.
 */
export function pretrainedTextIssues(dir: string, tokenizerGiven = false): CheckedIssue[] {
  const path = '/text/pretrained';
  const notDir = fileIssue(path, dir, 'text model folder', 'folder');
  if (notDir) return [notDir];
  const out: CheckedIssue[] = [];
  if (!existsSync(join(dir, 'config.json'))) out.push({ path, severity: 'error', message: `${dir}: config.json is missing` });
  const weights = ['model.safetensors', 'pytorch_model.bin'].map((f) => join(dir, f)).find((f) => existsSync(f));
  if (!weights) out.push({ path, severity: 'error', message: `${dir}: holds neither model.safetensors nor pytorch_model.bin` });
  else {
    const issue = weightsIssue(path, weights, 'text model weights');
    if (issue) out.push(issue);
  }
  const hasTokenizer = existsSync(join(dir, 'tokenizer.json')) || (existsSync(join(dir, 'vocab.json')) && existsSync(join(dir, 'merges.txt')));
  if (!hasTokenizer && !tokenizerGiven) out.push({ path, severity: 'error', message: `${dir}: holds neither tokenizer.json nor vocab.json + merges.txt (or set tokenizer.path)` });
  return out;
}

export async function semanticIssues(c: ExperimentConfig, baseDir: string, options: SemanticOptions = {}): Promise<CheckedIssue[]> {
  const out: CheckedIssue[] = [];
  const push = (i: CheckedIssue | undefined): void => {
    if (i) out.push(i);
  };

  if (!c.data.manifest) {
    out.push({ path: '/data/manifest', severity: 'warning', message: 'no dataset manifest: set data.manifest before running (Generate Synthetic Cohort / `mrcl synth` writes one)' });
  } else {
    const manifest = resolveIn(baseDir, c.data.manifest);
    const missing = fileIssue('/data/manifest', manifest, 'manifest', 'file');
    if (missing) out.push(missing);
    else out.push(...(await datasetIssues(c, manifest, baseDir)));
  }

  if (c.image.medicalNet) {
    const ckpt = resolveIn(baseDir, c.image.medicalNet);
    const shallow = weightsIssue('/image/medicalNet', ckpt, 'MedicalNet checkpoint');
    push(shallow);
    if (!shallow && options.checkMedicalNet) {
      try {
        options.checkMedicalNet(ckpt);
      } catch (e) {
        out.push({ path: '/image/medicalNet', severity: 'error', message: (e as Error).message });
      }
    }
  }

  if (c.text.pretrained) out.push(...pretrainedTextIssues(resolveIn(baseDir, c.text.pretrained), Boolean(c.tokenizer.path)));

  if (c.tokenizer.kind === 'pretrained' && c.tokenizer.path) {
    // a tokenizer.json file or a folder: loadTokenizer says which files a folder needs
    const p = resolveIn(baseDir, c.tokenizer.path);
    if (!existsSync(p)) out.push({ path: '/tokenizer/path', severity: 'error', message: `tokenizer not found: ${p}` });
  }

  // batch sizes with which every batch is dropped: the stage would train nothing. The
  // experiment pretrains only with the 'pretrained' initialisation; `mrcl pretrain`
  // and `mrcl ablate` always do, so there it is a warning.
  const pretrains = c.finetune.initializations.includes('pretrained');
  for (const b of batchSizeIssues(c)) {
    const onlyElsewhere = b.path === '/pretrain/batchSize' && !pretrains;
    out.push({ path: b.path, severity: onlyElsewhere ? 'warning' : 'error', message: onlyElsewhere ? `${b.message} (this experiment does not pretrain; pretrain and ablate runs do)` : b.message });
  }

  // follows: METHOD.md §7 (a map on a grid this coarse makes Dice degenerate)
  const grid = encoderGrids(c.data.shape, c.image.outputStride).layer4;
  if (c.image.selfAttention && gridTooCoarse(grid)) {
    const finer = OUTPUT_STRIDES.filter((s) => s < c.image.outputStride)
      .map((s) => ({ stride: s, grid: encoderGrids(c.data.shape, s).layer4 }))
      .find((f) => !gridTooCoarse(f.grid));
    out.push({
      path: '/image/outputStride',
      severity: 'warning',
      message: `data.shape ${c.data.shape.join('×')} at output stride ${c.image.outputStride} gives a ${grid.join('×')} attention grid, smaller than ${MIN_ATTENTION_GRID.join('×')}: attention maps cover nearly the whole volume and their Dice measures nothing${finer ? ` (output stride ${finer.stride} gives ${finer.grid.join('×')})` : '; use a larger data.shape'}`,
    });
  }

  const outDir = resolveIn(baseDir, c.outDir);
  if (existsSync(outDir) && !statSync(outDir).isDirectory()) {
    out.push({ path: '/outDir', severity: 'error', message: `outDir is a file, expected a folder: ${outDir}` });
  }
  return out;
}

/**
 * Every problem of a parsed config file: schema and cross-field problems
 * first (errors); the semantic checks only once those pass, since they need
 * the resolved config.
 */
export async function checkConfig(raw: unknown, baseDir: string, source = 'config'): Promise<CheckedIssue[]> {
  const schema = configIssues(raw);
  if (schema.length) return schema.map((i) => ({ ...i, severity: 'error' as const }));
  return semanticIssues(resolveConfig(raw, source), baseDir);
}

// Every run (experiment, ablate, pretrain, finetune; the CLI and the
// extension's worker alike) validates its dataset as `mrcl validate` does,
// headers and voxel data, and refuses to start on errors, listing them. It
// refuses batch sizes that would train nothing. A resumed run whose data are
// unchanged is not validated again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../../src/engine/config/resolve';
import { runStudy, VALIDATION_FILE, type StudyKind } from '../../../src/engine/experiment/study';
import { pretrainPlan, finetunePlan } from '../../../src/engine/experiment/units';
import { runEngineCommand } from '../../../src/engine/api/run';
import { readNifti, writeNifti } from '../../../src/engine/io/nifti';
import type { ExperimentConfigInput } from '../../../src/shared/config';
import { tinyWorkspace } from './helpers';

interface ManifestCase {
  id: string;
  image: string;
  mask?: string;
  marker: string;
  cohort: string;
}

const cohortFile = (dir: string, rel: string) => join(dir, 'cohort', rel);
const readManifest = (dir: string) => JSON.parse(readFileSync(cohortFile(dir, 'manifest.json'), 'utf8')) as { cases: ManifestCase[] };

async function study(ws: { dir: string; configPath: string }, kind: StudyKind = 'experiment') {
  const { config, baseDir } = loadConfig(ws.configPath);
  const plan = kind === 'pretrain' ? pretrainPlan() : kind === 'finetune' ? finetunePlan(config, ['random']) : undefined;
  return runStudy({ kind, config, baseDir, plan, emit: () => {} });
}

/** The run is refused before a run folder exists, with an error matching every pattern. */
async function refused(ws: { dir: string; configPath: string }, patterns: RegExp[], kind: StudyKind = 'experiment'): Promise<string> {
  let message = '';
  await assert.rejects(study(ws, kind), (e: Error) => {
    message = e.message;
    return true;
  });
  for (const p of patterns) assert.match(message, p);
  assert.equal(existsSync(join(ws.dir, 'runs')), false, 'no run folder is created');
  return message;
}

test('broken files are refused before anything runs, each named with its problem', { timeout: 300_000 }, async () => {
  const ws = await tinyWorkspace();
  const cases = readManifest(ws.dir).cases.filter((c) => c.cohort === 'internal');
  const [truncated, nan, maskGrid] = cases;
  // a truncated .nii.gz
  const gz = readFileSync(cohortFile(ws.dir, truncated!.image));
  writeFileSync(cohortFile(ws.dir, truncated!.image), gz.subarray(0, Math.floor(gz.length / 2)));
  // a NaN voxel (float32, same grid)
  const v = readNifti(cohortFile(ws.dir, nan!.image));
  const plain = join(ws.dir, 'nan.nii');
  writeNifti(plain, { data: v.data, dims: v.dims, pixdim: v.pixdim, affine: v.affine }, { datatype: 'float32' });
  const bytes = readFileSync(plain);
  bytes.writeFloatLE(NaN, v.header.voxOffset + 4 * 10);
  writeFileSync(cohortFile(ws.dir, nan!.image), gzipSync(bytes));
  // a mask on a coarser grid than its image: Dice would silently compare other voxels
  writeNifti(cohortFile(ws.dir, maskGrid!.mask!), { data: new Float32Array(12 * 12 * 8), dims: [12, 12, 8], pixdim: v.pixdim, affine: v.affine });

  for (const kind of ['experiment', 'ablation', 'finetune'] as const) {
    const message = await refused(ws, [
      /the dataset has 3 error\(s\); nothing was run/,
      new RegExp(`case "${truncated!.id}", image, images/${truncated!.id}\\.nii\\.gz: `),
      new RegExp(`case "${nan!.id}", image, images/${nan!.id}\\.nii\\.gz: 1 voxel\\(s\\) are NaN or infinite`),
      new RegExp(`case "${maskGrid!.id}", mask, masks/${maskGrid!.id}\\.nii\\.gz: mask shape 12×12×8 differs from the image's 24×24×16`),
    ], kind);
    assert.ok(message.startsWith(resolve(ws.dir, 'cohort', 'manifest.json')), message);
  }
  // the extension's Run goes through the worker's engine entry: the same refusal
  await assert.rejects(runEngineCommand({ command: 'pretrain', config: ws.configPath }, { emit: () => {} }), /the dataset has 3 error\(s\)/);
  assert.equal(existsSync(join(ws.dir, 'runs')), false);
});

test('a one-class downstream set is refused for fine-tuning, not run to an AUC of n/a', { timeout: 300_000 }, async () => {
  const ws = await tinyWorkspace();
  const m = readManifest(ws.dir);
  for (const c of m.cases) if (c.cohort === 'internal' && c.marker === 'fusion') c.marker = 'v600e';
  writeFileSync(cohortFile(ws.dir, 'manifest.json'), JSON.stringify(m));
  await refused(ws, [/downstream class "fusion" has 0 internal case\(s\), fewer than 2 folds/]);
});

const batchRefusals: [string, ExperimentConfigInput, RegExp][] = [
  ['pretraining batch below what semi-hard negatives need', { pretrain: { batchSize: 2 } }, /^config: pretrain\.batchSize 2 is below 3, the smallest batch semi-hard negatives can learn from/],
  ['fine-tuning batch size 1', { finetune: { batchSize: 1 } }, /^config: finetune\.batchSize 1 is below 2: fine-tuning drops batches of one case, so it would train nothing/],
];
for (const [name, overrides, re] of batchRefusals) {
  test(`a run that cannot train is refused before it starts: ${name}`, { timeout: 300_000 }, async () => {
    const ws = await tinyWorkspace(overrides);
    await refused(ws, [re]);
  });
}

test('validation runs once per run: a resumed run with unchanged data reads no image again', { timeout: 600_000 }, async () => {
  const ws = await tinyWorkspace({ outDir: 'runs' });
  const first = await study(ws, 'pretrain');
  assert.equal(first.status, 'done', first.error);
  const runDir = first.runDir!;
  const validation = JSON.parse(readFileSync(join(runDir, VALIDATION_FILE), 'utf8')) as { errors: unknown[]; summary: { cases: number } };
  assert.deepEqual(validation.errors, []);
  assert.equal(validation.summary.cases, 22);

  const images = new Set(readManifest(ws.dir).cases.map((c) => resolve(ws.dir, 'cohort', c.image)));
  const resumeCountingReads = async (): Promise<number> => {
    let reads = 0;
    const orig = fs.openSync;
    (fs as unknown as Record<string, unknown>).openSync = function (this: unknown, p: unknown, ...rest: unknown[]) {
      if (typeof p === 'string' && images.has(resolve(p))) reads++;
      return (orig as (...a: unknown[]) => number).call(this, p, ...rest);
    };
    try {
      const again = await runStudy({ kind: 'pretrain', runDir, emit: () => {} });
      assert.equal(again.status, 'done', again.error);
    } finally {
      (fs as unknown as Record<string, unknown>).openSync = orig;
    }
    return reads;
  };
  assert.equal(await resumeCountingReads(), 0, 'the images were validated when the run was created');
  // without the record of that validation, resuming validates (reads every image) once more
  rmSync(join(runDir, VALIDATION_FILE));
  assert.ok((await resumeCountingReads()) >= images.size);
  assert.equal(readdirSync(join(ws.dir, 'runs')).length, 1);
});

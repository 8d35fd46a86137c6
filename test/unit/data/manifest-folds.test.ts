// Folds given by the source: a manifest's `fold` field (a MONAI datalist's
// folds, kept by the importer) and finetune.foldsFrom 'manifest'.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadManifest, parseManifest, type CaseRecord } from '../../../src/engine/data/manifest';
import { manifestFoldSplits } from '../../../src/engine/training/finetune';
import type { LabelledCase } from '../../../src/engine/training/dataset';

function manifest(cases: unknown[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-folds-'));
  const path = join(dir, 'manifest.json');
  writeFileSync(path, JSON.stringify({ version: 1, cases }));
  return path;
}

test('a manifest fold is a non-negative integer, as a JSON number or a string; anything else is an error naming the case', () => {
  const ok = loadManifest(manifest([{ id: 'a', image: 'a.nii', fold: 2 }, { id: 'b', image: 'b.nii', fold: '0' }, { id: 'c', image: 'c.nii' }]));
  assert.deepEqual(ok.cases.map((c) => c.fold), [2, 0, undefined]);
  const path = manifest([{ id: 'a', image: 'a.nii', fold: -1 }, { id: 'b', image: 'b.nii', fold: 'x' }, { id: 'c', image: 'c.nii', fold: 1.5 }]);
  const bad = parseManifest(path);
  assert.deepEqual(
    bad.issues.filter((i) => i.field === 'fold').map((i) => [i.where, i.severity]),
    [['case 1', 'error'], ['case 2', 'error'], ['case 3', 'error']],
  );
  assert.throws(() => loadManifest(path), /fold/);
});

const lc = (id: string, label: 0 | 1, fold?: number): LabelledCase => ({ case: { id, image: `/${id}.nii`, cohort: 'internal', where: id, raw: {}, ...(fold !== undefined ? { fold } : {}) } as CaseRecord, label });

test("manifestFoldSplits: fold f's cases are its test set, the rest its training set (hand-derived)", () => {
  const cases = [lc('a', 0, 0), lc('b', 1, 1), lc('c', 1, 0), lc('d', 0, 1), lc('e', 1, 1)];
  assert.deepEqual(manifestFoldSplits(cases, 2, 'm.json'), [
    { train: [1, 3, 4], test: [0, 2] },
    { train: [0, 2], test: [1, 3, 4] },
  ]);
  assert.throws(() => manifestFoldSplits([...cases, lc('f', 0)], 2, 'm.json'), /m\.json: finetune\.foldsFrom is 'manifest', but 1 downstream case\(s\) have no fold in 0…1: "f" \(none\)/);
  assert.throws(() => manifestFoldSplits(cases, 3, 'm.json'), /fold 2 of the manifest's folds has no downstream case/);
  assert.throws(() => manifestFoldSplits([lc('a', 0, 0), lc('b', 0, 0), lc('c', 1, 1), lc('d', 0, 1)], 2, 'm.json'), /fold 0 of the manifest's folds has only one class/);
});

test("finetune.foldsFrom 'manifest': a run's folds are the manifest's", { timeout: 120_000 }, async () => {
  const { readFileSync } = await import('node:fs');
  const { tinyWorkspace } = await import('../experiment/helpers');
  const { loadConfig } = await import('../../../src/engine/config/resolve');
  const { openDataset, downstreamCases } = await import('../../../src/engine/training/dataset');
  const { downstreamFolds } = await import('../../../src/engine/training/finetune');
  const ws = await tinyWorkspace({ finetune: { foldsFrom: 'manifest', folds: 2 } }, { internal: 12, external: 2 });
  const path = join(ws.dir, 'cohort', 'manifest.json');
  const doc = JSON.parse(readFileSync(path, 'utf8')) as { cases: { id: string; marker?: string; cohort?: string; fold?: number }[] };
  // alternate each class between the two folds
  const seen = new Map<string, number>();
  for (const c of doc.cases) {
    const n = seen.get(c.marker ?? '') ?? 0;
    seen.set(c.marker ?? '', n + 1);
    c.fold = n % 2;
  }
  writeFileSync(path, JSON.stringify(doc));
  const { config, baseDir } = loadConfig(ws.configPath);
  const ds = openDataset(config, baseDir);
  const { cases, splits } = downstreamFolds(config, ds);
  assert.equal(cases.length, downstreamCases(ds).internal.length);
  for (const [f, s] of splits.entries()) {
    assert.deepEqual(s.test.map((i) => cases[i]!.case.id), cases.filter((c) => c.case.fold === f).map((c) => c.case.id));
  }
});

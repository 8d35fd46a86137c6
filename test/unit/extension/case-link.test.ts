// The link between a case's viewer and report panel: what each side is sent
// when a word, a patch or a voxel is chosen — patches named by grid cell and
// side (hand-derived on a 3×2×2 grid), never by a bare index.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveCrossAttention } from '../../../src/engine/explain/cross-attention-io';
import { CaseLink, TOP_PATCHES } from '../../../src/extension/panels/case-link';
import type { PatchOverlay, PatchShading, Vec3, WordPatches } from '../../../src/shared/webview-protocol';

const GRID: [number, number, number] = [3, 2, 2];
const P = 12;

function attentionFile(): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-link-'));
  // word 0 looks at p = 11 (0.5), 0 (0.3), 5 (0.1), 7 (0.05), 3 (0.03); the other seven share 0.02
  const row0 = new Float32Array(P).fill(0.02 / 7);
  for (const [p, w] of [[11, 0.5], [0, 0.3], [5, 0.1], [7, 0.05], [3, 0.03]] as const) row0[p] = w;
  const textToImage = new Float32Array(2 * P);
  textToImage.set(row0, 0);
  textToImage.fill(1 / P, P);
  // S_A row p: [p/12 · ½, 1 − p/12 · ½]
  const imageToText = new Float32Array(P * 2);
  for (let p = 0; p < P; p++) {
    imageToText[2 * p] = p / 24;
    imageToText[2 * p + 1] = 1 - p / 24;
  }
  const path = join(dir, 'C1.json');
  saveCrossAttention(path, { caseId: 'C1', words: ['mass', 'pons'], patchGrid: GRID, imageToText, textToImage });
  return { dir, path };
}

function sinks(link: CaseLink) {
  const seen = { overlay: [] as (PatchOverlay | null)[], goTo: [] as { cell: Vec3; grid: Vec3 }[], shading: [] as (PatchShading | null)[], patches: [] as (WordPatches | null)[] };
  link.viewer = { patchOverlay: (p) => seen.overlay.push(p), goToPatch: (p) => seen.goTo.push(p) };
  link.report = { patchWeights: (p) => seen.shading.push(p), wordPatches: (p) => seen.patches.push(p) };
  return seen;
}

test("a chosen word: its map to the viewer, its top patches to the report, named by cell and side", () => {
  const { dir, path } = attentionFile();
  try {
    const link = new CaseLink('k', path);
    const seen = sinks(link);
    link.wordSelected(0);
    assert.equal(seen.overlay[0]!.word, 'mass');
    const wp = seen.patches[0]!;
    assert.equal(wp.word, 'mass');
    assert.deepEqual(wp.grid, GRID);
    assert.equal(wp.patches.length, TOP_PATCHES);
    // p = (x·2 + y)·2 + z on 3×2×2; x: 6x + 3 < 6 left, > 12 right; y, z (size 2): 0 low, 1 high
    assert.deepEqual(
      wp.patches.map((t) => [t.patch, t.name]),
      [
        [11, '(2, 1, 1) right anterior superior'],
        [0, '(0, 0, 0) left posterior inferior'],
        [5, '(1, 0, 1) posterior superior'],
        [7, '(1, 1, 1) anterior superior'],
        [3, '(0, 1, 1) left anterior superior'],
      ],
    );
    assert.ok(Math.abs(wp.patches[0]!.weight - 0.5) < 1e-6);
    for (const t of wp.patches) assert.doesNotMatch(t.name, /^patch \d+$/);

    link.wordSelected(null);
    assert.equal(seen.overlay.at(-1), null);
    assert.equal(seen.patches.at(-1), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a chosen patch moves the viewer to its cell; a clicked voxel shades the report by the patch under it', () => {
  const { dir, path } = attentionFile();
  try {
    const link = new CaseLink('k', path);
    const seen = sinks(link);
    link.patchChosen(11);
    assert.deepEqual(seen.goTo, [{ cell: [2, 1, 1], grid: GRID }]);
    assert.throws(() => link.patchChosen(12), /patch 12 is outside the 3×2×2 grid/);

    // voxel (8, 0, 3) of a 9×5×4 image: round(8·2/8) = 2, round(0) = 0, round(3·1/3) = 1 → (2, 0, 1), p = (2·2 + 0)·2 + 1 = 9
    link.pointSelected([8, 0, 3], [9, 5, 4]);
    const s = seen.shading[0]!;
    assert.equal(s.patch, 9);
    assert.deepEqual(s.cell, [2, 0, 1]);
    assert.deepEqual(s.grid, GRID);
    assert.deepEqual(s.voxel, [8, 0, 3]);
    assert.deepEqual(s.weights.map((w) => +w.toFixed(6)), [+(9 / 24).toFixed(6), +(1 - 9 / 24).toFixed(6)]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// The report → image cross-attention scored against the mask
// (explain/cross-attention-maps.ts), on hand-derived values: a 2×1×2 patch
// grid (P = 4) equal to the image grid, so no upsampling is involved.
//
// Case A's report has three words: w0 = [0.1, 0.6, 0.2, 0.1] in patch order
// p = (x·Y + y)·Z + z, w1 masked (all zeros), w2 uniform. Its map, the mean
// of w0 and w2, is [0.175, 0.425, 0.225, 0.175] in patch order; patch p1 is
// (x, y, z) = (0, 0, 1), voxel index x + X·(y + Y·z) = 2, patch p2 = (1, 0, 0)
// voxel 1, so in Volume order the map is [0.175, 0.225, 0.425, 0.175].
// Min–max normalised (rule 'normalized'): [0, 0.2, 1, 0]. Mask [0, 0, 1, 0]:
// mass on the tumour 1 / 1.2, flat map 1/4, peak on the tumour; threshold
// 0.01 keeps voxels 1 and 2, Dice 2·1/(2 + 1) = 2/3.
// Entropy: w0's H / ln 4, w2's 1, averaged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../../src/engine/config/resolve';
import { saveCrossAttention, type CrossAttentionRecord } from '../../../src/engine/explain/cross-attention-io';
import { reportAttentionMap, scoreCrossAttention, summarizeCrossAttention } from '../../../src/engine/explain/cross-attention-maps';
import type { CaseRecord } from '../../../src/engine/data/manifest';

const W0 = [0.1, 0.6, 0.2, 0.1];
const UNIFORM = [0.25, 0.25, 0.25, 0.25];
const H0 = -(2 * 0.1 * Math.log(0.1) + 0.6 * Math.log(0.6) + 0.2 * Math.log(0.2)) / Math.log(4);

function record(caseId: string, rows: number[][], grid: [number, number, number] = [2, 1, 2]): CrossAttentionRecord {
  const P = grid[0] * grid[1] * grid[2];
  const W = rows.length;
  const textToImage = Float32Array.from(rows.flat());
  const imageToText = new Float32Array(P * W);
  for (let p = 0; p < P; p++) for (let w = 0; w < W; w++) imageToText[p * W + w] = 1 / W;
  return { caseId, words: rows.map((_, i) => `w${i}`), patchGrid: grid, imageToText, textToImage };
}

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-6, `${what}: ${a} vs ${b}`);

test('reportAttentionMap: the mean of the unmasked words\' rows, in Volume order, and their mean normalised entropy', () => {
  const m = reportAttentionMap(record('a', [W0, [0, 0, 0, 0], UNIFORM]))!;
  assert.equal(m.words, 2, 'the masked word is left out');
  assert.deepEqual(m.grid, [2, 1, 2]);
  [0.175, 0.225, 0.425, 0.175].forEach((v, i) => close(m.map[i]!, v, `voxel ${i}`));
  close(m.entropy, (H0 + 1) / 2, 'entropy');
  assert.equal(reportAttentionMap(record('b', [[0, 0, 0, 0]])), undefined, 'no word with a row: no map');
  // a uniform float32 row over 320 patches: its entropy rounds above ln 320; clamped to the maximum
  const wide = reportAttentionMap(record('u', [Array.from({ length: 320 }, () => 1 / 320)], [8, 8, 5]))!;
  assert.ok(wide.entropy <= 1 && wide.entropy > 1 - 1e-6, String(wide.entropy));
  const one = reportAttentionMap(record('c', [[1]], [1, 1, 1]))!;
  assert.equal(one.entropy, 1, 'one patch: uniform by definition');
});

test('scoreCrossAttention: each case\'s report map scored as any map, held-out and training pairs apart; skips and bad files named', () => {
  const stage = mkdtempSync(join(tmpdir(), 'mrcl-xattn-'));
  const dir = join(stage, 'attention');
  // the image grid equal to the patch grid (smaller than a config accepts: set after resolving)
  const config = resolveConfig({ explain: { rule: 'normalized', threshold: 0.01 } }, 'test');
  config.data.shape = [2, 1, 2];
  const cases = ['a', 'b', 'c', 'd', 'e', 'g'].map((id) => ({ id, image: `${id}.nii.gz`, cohort: 'internal' }) as CaseRecord);
  const masks = {
    get: (c: CaseRecord) => (c.id === 'c' ? undefined : c.id === 'd' ? new Uint8Array(4) : Uint8Array.from(c.id === 'a' ? [0, 0, 1, 0] : [1, 0, 0, 0])),
  };
  assert.equal(scoreCrossAttention(config, stage, cases, masks, new Set()), undefined, 'no attention folder: nothing to score');
  mkdirSync(dir);
  saveCrossAttention(join(dir, 'a.json'), record('a', [W0, [0, 0, 0, 0], UNIFORM]));
  saveCrossAttention(join(dir, 'b.json'), record('b', [UNIFORM]));
  saveCrossAttention(join(dir, 'c.json'), record('c', [W0]));
  saveCrossAttention(join(dir, 'd.json'), record('d', [W0]));
  saveCrossAttention(join(dir, 'g.json'), record('g', [[0, 0, 0, 0]]));
  // e has no file; g's report kept no word
  const s = scoreCrossAttention(config, stage, cases, masks, new Set(['a']))!;
  assert.deepEqual(s.grid, [2, 1, 2]);
  assert.equal(s.rule, 'normalized');
  assert.deepEqual(s.skipped, { noMask: 2, noFile: 1, noWords: 1 }, 'c has no mask, d an empty one, e no file, g no word');
  assert.deepEqual(s.cases.map((c) => [c.id, c.pairs, c.words]), [['a', 'held-out', 2], ['b', 'training', 1]]);
  const a = s.cases[0]!;
  close(a.mass3d, 1 / 1.2, 'a: mass');
  close(a.massFloor3d, 0.25, 'a: flat map');
  close(a.massReachable, 0.25, 'a: every patch reachable: the flat map');
  assert.equal(a.pointing, 1);
  close(a.dice3d, 2 / 3, 'a: Dice');
  close(a.entropy, (H0 + 1) / 2, 'a: entropy');
  // b: a uniform map has no contrast; normalised it is all zeros: no foreground, the flat map's mass, no peak
  const b = s.cases[1]!;
  assert.deepEqual([b.dice3d, b.mass3d, b.pointing, b.entropy], [0, 0.25, 0, 1]);
  assert.deepEqual(s.heldOut, summarizeCrossAttention([a]));
  assert.deepEqual(s.training, { cases: 1, dice3d: 0, mass3d: 0.25, massFloor3d: 0.25, massReachable: 0.25, pointing: 0, entropy: 1 });
  const both = summarizeCrossAttention(s.cases)!;
  close(both.mass3d, (1 / 1.2 + 0.25) / 2, 'mean mass');
  assert.equal(summarizeCrossAttention([]), null);

  // words that can reach only patches p0 and p1 (voxels 0 and 2; a patch mask gives the others exactly 0): a map flat over
  // them puts 1/2 of its mass on a tumour at voxel 2, twice the flat map's 1/4; this report's map is that flat map
  saveCrossAttention(join(dir, 'f.json'), record('f', [[0.5, 0.5, 0, 0]]));
  const f = scoreCrossAttention(config, stage, [{ id: 'f', image: 'f.nii.gz', cohort: 'internal' } as CaseRecord], { get: () => Uint8Array.from([0, 0, 1, 0]) }, new Set())!.cases[0]!;
  close(f.massFloor3d, 0.25, 'f: flat map');
  close(f.massReachable, 0.5, 'f: flat over the reachable patches');
  close(f.mass3d, 0.5, 'f: its map');

  // the order matters: a map left in patch order would put its peak on voxel 1, off the tumour
  const patchOrder = scoreCrossAttention(config, stage, cases.slice(0, 1), { get: () => Uint8Array.from([0, 1, 0, 0]) }, new Set())!;
  assert.equal(patchOrder.cases[0]!.pointing, 0);

  // a file holding another case, or another grid, is refused with its name
  saveCrossAttention(join(dir, 'b.json'), record('a', [UNIFORM]));
  assert.throws(() => scoreCrossAttention(config, stage, cases, masks, new Set()), (e: Error) => e.message.startsWith(join(dir, 'b.json')) && /holds case "a", not "b"/.test(e.message));
  saveCrossAttention(join(dir, 'b.json'), record('b', [[0.5, 0.5]], [2, 1, 1]));
  assert.throws(() => scoreCrossAttention(config, stage, cases, masks, new Set()), (e: Error) => e.message.startsWith(join(dir, 'b.json')) && /patch grid \[2, 1, 1\] differs/.test(e.message));
  writeFileSync(join(dir, 'b.json'), '{"format": "something else"}');
  assert.throws(() => scoreCrossAttention(config, stage, cases, masks, new Set()), (e: Error) => e.message.includes(join(dir, 'b.json')));
});

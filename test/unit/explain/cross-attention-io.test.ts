import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  loadCrossAttention,
  patchIndex,
  patchMapForWord,
  saveCrossAttention,
  topWordsForPatch,
  wordWeights,
} from '../../../src/engine/explain';
import type { CrossAttentionRecord } from '../../../src/engine/explain';

const dir = mkdtempSync(join(tmpdir(), 'cross-attention-io-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const FIXTURES = join(__dirname, '../../fixtures/explain');

// grid 2×1×3 (P3 = 6 patches, p = x·3 + z), 4 words
function record(): CrossAttentionRecord {
  const words = ['tumour', 'in', 'the', 'cerebellum'];
  // S_A rows (per patch, over words), sum 1
  const a = [
    [0.1, 0.2, 0.3, 0.4],
    [0.25, 0.25, 0.25, 0.25],
    [0.5, 0.0, 0.0, 0.5],
    [0.7, 0.1, 0.1, 0.1],
    [0.0, 0.0, 0.0, 1.0],
    [0.45, 0.05, 0.05, 0.45],
  ];
  // S_B rows (per word, over patches), sum 1; word 2 masked (zeros)
  const b = [
    [0.5, 0.1, 0.1, 0.1, 0.1, 0.1],
    [0.0, 0.0, 0.0, 0.0, 0.0, 1.0],
    [0, 0, 0, 0, 0, 0],
    [0.05, 0.15, 0.2, 0.25, 0.3, 0.05],
  ];
  return { caseId: 'c1', words, patchGrid: [2, 1, 3], imageToText: Float32Array.from(a.flat()), textToImage: Float32Array.from(b.flat()), reference: { image: 'pre/c1.nii.gz' } };
}

test('cross-attention save/load round trip is exact; the file is the documented JSON', () => {
  const path = join(dir, 'sub', 'c1.cross-attention.json');
  const r = record();
  saveCrossAttention(path, r);
  assert.deepEqual(readdirSync(join(dir, 'sub')), ['c1.cross-attention.json']); // no temp file left
  const back = loadCrossAttention(path);
  assert.deepEqual(back, r);
  const json = JSON.parse(readFileSync(path, 'utf8'));
  assert.equal(json.format, 'mri-report-cl.cross-attention');
  assert.equal(json.version, 1);
  assert.equal(json.patchOrder, '(x*Y+y)*Z+z');
  assert.deepEqual(json.imageToText.shape, [6, 4]);
  assert.deepEqual(json.textToImage.shape, [4, 6]);
  assert.equal(json.imageToText.dtype, 'float32le');
  // base64 of little-endian float32: first value 0.1f
  assert.equal(Buffer.from(json.imageToText.base64, 'base64').readFloatLE(0), Math.fround(0.1));
  // without a reference the field is absent
  const { reference: _r, ...noRef } = r;
  saveCrossAttention(path, noRef);
  const back2 = loadCrossAttention(path);
  assert.equal('reference' in back2, false);
  assert.equal('reference' in JSON.parse(readFileSync(path, 'utf8')), false);
});

test('loadCrossAttention reads a file written by Python (numpy <f4, base64)', () => {
  const r = loadCrossAttention(join(FIXTURES, 'cross-attention.json'));
  const exp = JSON.parse(readFileSync(join(FIXTURES, 'cross-attention.expected.json'), 'utf8'));
  assert.equal(r.caseId, 'py-case');
  assert.deepEqual(r.words, ['mass', 'cerebellum', 'enhancing']);
  assert.deepEqual(r.patchGrid, [2, 1, 2]);
  assert.deepEqual(r.reference, { image: 'images/py-case.nii.gz' });
  assert.deepEqual(Array.from(r.imageToText), exp.imageToText);
  assert.deepEqual(Array.from(r.textToImage), exp.textToImage);
  wordWeights(r).forEach((v, i) => assert.ok(Math.abs(v - exp.wordWeights[i]) < 1e-7));
  assert.deepEqual(Array.from(patchMapForWord(r, 1)), exp.patchMapWord1);
});

test('topWordsForPatch: heaviest first, ties to the earlier word, k clamps', () => {
  const r = record();
  assert.deepEqual(topWordsForPatch(r, 0, 2), [
    { index: 3, word: 'cerebellum', weight: Math.fround(0.4) },
    { index: 2, word: 'the', weight: Math.fround(0.3) },
  ]);
  // all tied: report order
  assert.deepEqual(topWordsForPatch(r, 1, 4).map((w) => w.index), [0, 1, 2, 3]);
  // 0.5 / 0.5 tie, then 0 / 0 tie
  assert.deepEqual(topWordsForPatch(r, 2, 10).map((w) => w.index), [0, 3, 1, 2]);
  assert.deepEqual(topWordsForPatch(r, 5, 0), []);
  assert.deepEqual(topWordsForPatch(r, patchIndex(r.patchGrid, 1, 0, 1), 1).map((w) => w.word), ['cerebellum']); // p = 4
  assert.throws(() => topWordsForPatch(r, 6, 1), /topWordsForPatch c1: patch 6 is outside 0..5/);
  assert.throws(() => topWordsForPatch(r, 0, -1), /k must be a non-negative integer/);
  assert.throws(() => patchIndex([2, 1, 3], 0, 1, 0), /\(0, 1, 0\) is outside the 2×1×3 patch grid/);
});

test('patchMapForWord: S_B row on the patch grid in Volume order (x fastest)', () => {
  const r = record();
  // word 3 row over p = x·3 + z: [0.05, 0.15, 0.2 | 0.25, 0.3, 0.05]
  // Volume order index x + 2·z: (0,0),(1,0),(0,1),(1,1),(0,2),(1,2) = p0, p3, p1, p4, p2, p5
  assert.deepEqual(Array.from(patchMapForWord(r, 3)), [0.05, 0.25, 0.15, 0.3, 0.2, 0.05].map(Math.fround));
  assert.deepEqual(Array.from(patchMapForWord(r, 2)), [0, 0, 0, 0, 0, 0]);
  assert.throws(() => patchMapForWord(r, 4), /patchMapForWord c1: word 4 is outside 0..3/);
});

test('wordWeights: mean over patches of S_A columns, summing to 1', () => {
  const w = wordWeights(record());
  // column sums: 2.0, 0.6, 0.7, 2.7 over 6 patches
  const exp = [2.0 / 6, 0.6 / 6, 0.7 / 6, 2.7 / 6];
  w.forEach((v, i) => assert.ok(Math.abs(v - exp[i]!) < 1e-6, `word ${i}: ${v}`));
  assert.ok(Math.abs(w.reduce((a, b) => a + b, 0) - 1) < 1e-6);
});

test('saveCrossAttention refuses inconsistent records and writes nothing', () => {
  const path = join(dir, 'refused.json');
  const bad: [Partial<CrossAttentionRecord>, RegExp][] = [
    [{ imageToText: new Float32Array(23) }, /imageToText has 23 values, expected 6×4 = 24/],
    [{ words: ['a', 'b', 'c'] }, /imageToText has 24 values, expected 6×3 = 18/],
    [{ patchGrid: [2, 0, 3] }, /patchGrid must be three positive integers/],
    [{ caseId: '' }, /caseId must be a non-empty string/],
    [{ textToImage: new Float32Array(24).fill(NaN) }, /textToImage\[0, 0\] is NaN/],
    [{ textToImage: new Float32Array(24).fill(0.5) }, /textToImage row 0 \(word 0\) sums to 3/],
    [{ reference: { image: 3 as unknown as string } }, /reference must be/],
  ];
  for (const [patch, re] of bad) {
    assert.throws(() => saveCrossAttention(path, { ...record(), ...patch }), (e: Error) => e.message.startsWith(`saveCrossAttention ${path}: `) && re.test(e.message), String(re));
  }
  assert.equal(readdirSync(dir).includes('refused.json'), false);
});

test('loadCrossAttention: corrupted files give errors naming the file', () => {
  const good = join(dir, 'good.json');
  saveCrossAttention(good, record());
  interface Stored {
    shape: number[];
    dtype: string;
    base64: string;
  }
  type FileJson = { imageToText: Stored; textToImage: Stored } & Record<string, unknown>;
  const base = JSON.parse(readFileSync(good, 'utf8')) as FileJson;
  const cases: [string, (j: FileJson) => unknown, RegExp][] = [
    ['not-json', () => '{"format": ', /not valid JSON/],
    ['array', () => [], /expected a JSON object/],
    ['format', (j) => ({ ...j, format: 'other' }), /not a cross-attention file/],
    ['newer', (j) => ({ ...j, version: 2 }), /version 2 is newer than this reader's 1/],
    ['version', (j) => ({ ...j, version: '1' }), /version must be a positive integer/],
    ['order', (j) => ({ ...j, patchOrder: 'x fastest' }), /patchOrder must be/],
    ['grid', (j) => ({ ...j, patchGrid: [2, 3] }), /patchGrid must be three positive integers/],
    ['words', (j) => ({ ...j, words: ['a', 1, 'c', 'd'] }), /words must be an array of strings/],
    ['shape', (j) => ({ ...j, imageToText: { ...j.imageToText, shape: [4, 6] } }), /imageToText\.shape is \[4,6\], expected \[6, 4\]/],
    ['dtype', (j) => ({ ...j, textToImage: { ...j.textToImage, dtype: 'float64' } }), /textToImage\.dtype must be "float32le"/],
    ['base64', (j) => ({ ...j, imageToText: { ...j.imageToText, base64: j.imageToText.base64.replace(/^..../, 'ab!c') } }), /imageToText\.base64 is not valid base64/],
    ['truncated', (j) => ({ ...j, imageToText: { ...j.imageToText, base64: j.imageToText.base64.slice(0, 64) } }), /imageToText holds 48 bytes, shape \[6, 4\] needs 96/],
    ['missing', (j) => ({ ...j, textToImage: undefined }), /textToImage is missing/],
    ['nan', (j) => ({ ...j, imageToText: { ...j.imageToText, base64: Buffer.from(new Float32Array(24).fill(NaN).buffer).toString('base64') } }), /imageToText\[0, 0\] is NaN/],
    ['caseId', (j) => ({ ...j, caseId: 5 }), /caseId must be a non-empty string/],
    ['reference', (j) => ({ ...j, reference: 'x.nii' }), /reference must be/],
  ];
  for (const [name, edit, re] of cases) {
    const path = join(dir, `${name}.json`);
    const out = edit(structuredClone(base));
    writeFileSync(path, typeof out === 'string' ? out : JSON.stringify(out));
    assert.throws(() => loadCrossAttention(path), (e: Error) => e.message.startsWith(`${path}: `) && re.test(e.message), `${name}: ${String(re)}`);
  }
  assert.throws(() => loadCrossAttention(join(dir, 'absent.json')), /absent\.json: file not found/);
  assert.throws(() => loadCrossAttention(dir), /not a regular file/);
  assert.throws(() => loadCrossAttention(good, { maxBytes: 10 }), /exceeds the 10-byte limit/);
});

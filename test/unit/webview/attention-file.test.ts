import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { patchMapForWord, saveCrossAttention, topWordsForPatch, wordWeights } from '../../../src/engine/explain/cross-attention-io';
import { patchWordWeights, readAttentionFile, wordPatchMap, wordWeightsOf } from '../../../src/extension/panels/attention-file';
import { topK } from '../../../webview/common/attention';

function softmaxRows(rows: number, cols: number, seed: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += out[r * cols + c] = Math.exp(Math.sin(seed + r * 7 + c * 3));
    for (let c = 0; c < cols; c++) out[r * cols + c]! /= s;
  }
  return out;
}

test('the dependency-free reader agrees with the engine on a file the engine wrote', () => {
  const dir = mkdtempSync(join(tmpdir(), 'attn-'));
  try {
    const grid: [number, number, number] = [3, 2, 2];
    const words = ['mass', 'in', 'the', 'pons', 'enhancing'];
    const record = { caseId: 'case-001', words, patchGrid: grid, imageToText: softmaxRows(12, 5, 1), textToImage: softmaxRows(5, 12, 2), reference: { image: 'cache/a.nii.gz' } };
    const path = join(dir, 'case-001.json');
    saveCrossAttention(path, record);
    const a = readAttentionFile(path);
    assert.equal(a.caseId, 'case-001');
    assert.equal(a.reference, 'cache/a.nii.gz');
    const ww = wordWeights(record);
    wordWeightsOf(a).forEach((v, i) => assert.ok(Math.abs(v - ww[i]!) < 1e-6));
    for (let w = 0; w < words.length; w++) assert.deepEqual([...wordPatchMap(a, w)], [...patchMapForWord(record, w)]);
    for (let p = 0; p < 12; p++) {
      assert.deepEqual(topK(words, patchWordWeights(a, p), 3), topWordsForPatch(record, p, 3));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad files give errors naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'attn-'));
  try {
    const p = join(dir, 'bad.json');
    assert.throws(() => readAttentionFile(p), /bad\.json: file not found/);
    writeFileSync(p, '{');
    assert.throws(() => readAttentionFile(p), /bad\.json: not valid JSON/);
    writeFileSync(p, JSON.stringify({ format: 'other' }));
    assert.throws(() => readAttentionFile(p), /bad\.json: not a cross-attention file/);
    writeFileSync(p, JSON.stringify({ format: 'mri-report-cl.cross-attention', version: 1, patchGrid: [1, 1, 1], words: ['a'], imageToText: { shape: [1, 1], dtype: 'float32le', base64: 'AAAA' }, textToImage: { shape: [1, 1], dtype: 'float32le', base64: 'AACAPw==' } }));
    assert.throws(() => readAttentionFile(p), /bad\.json imageToText: holds 3 bytes/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

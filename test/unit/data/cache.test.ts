import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PreprocessCache } from '../../../src/engine/data/cache';
import { preprocessVolume, type PreprocessOptions } from '../../../src/engine/data/preprocess';

const FIX = join(__dirname, '../../fixtures/nifti');
const PARAMS: PreprocessOptions = { shape: [6, 5, 4], normalization: 'minmax' };

function setup(): { dir: string; src: string; cache: PreprocessCache; entries: () => string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'pcache-'));
  const src = join(dir, 'img.nii.gz');
  copyFileSync(join(FIX, 'u16_scl.nii.gz'), src);
  const cache = new PreprocessCache(join(dir, 'cache'));
  return { dir, src, cache, entries: () => readdirSync(join(dir, 'cache')).sort() };
}

test('miss then hit, with identical results', () => {
  const { dir, src, cache, entries } = setup();
  try {
    const a = cache.get(src, PARAMS);
    assert.deepEqual(cache.stats, { hits: 0, misses: 1, discarded: 0 });
    assert.equal(entries().length, 1);
    const b = cache.get(src, PARAMS);
    assert.deepEqual(cache.stats, { hits: 1, misses: 1, discarded: 0 });
    assert.deepEqual(b, a);
    assert.deepEqual(a, preprocessVolume(src, PARAMS));
    // a fresh cache object on the same folder hits too
    const again = new PreprocessCache(join(dir, 'cache'));
    assert.deepEqual(again.get(src, PARAMS), a);
    assert.equal(again.stats.hits, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('touching or replacing the source is a miss; the stale entry is removed', () => {
  const { dir, src, cache, entries } = setup();
  try {
    cache.get(src, PARAMS);
    const first = entries();
    const t = statSync(src).mtime;
    utimesSync(src, t, new Date(t.getTime() + 5000));
    cache.get(src, PARAMS);
    assert.deepEqual(cache.stats, { hits: 0, misses: 2, discarded: 0 });
    assert.equal(entries().length, 1);
    assert.notDeepEqual(entries(), first);
    // new content (different file, different size) must not be served from the old entry
    copyFileSync(join(FIX, 'i32_be.nii.gz'), src);
    const v = cache.get(src, PARAMS);
    assert.equal(cache.stats.misses, 3);
    assert.deepEqual(v, preprocessVolume(src, PARAMS));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('changing any parameter is a miss and gets its own entry', () => {
  const { dir, src, cache, entries } = setup();
  try {
    cache.get(src, PARAMS);
    cache.get(src, { ...PARAMS, shape: [6, 5, 5] });
    cache.get(src, { ...PARAMS, normalization: 'zscore' });
    cache.get(src, { ...PARAMS, isMask: true });
    cache.get(src, { ...PARAMS, maxInflatedBytes: 1 << 20 });
    assert.deepEqual(cache.stats, { hits: 0, misses: 5, discarded: 0 });
    assert.equal(entries().length, 5);
    cache.get(src, { ...PARAMS, normalization: 'zscore' });
    assert.equal(cache.stats.hits, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function flipByte(b: Buffer, at: number): Buffer {
  const c = Buffer.from(b);
  c[at] = c[at]! ^ 0xff;
  return c;
}

test('a corrupt entry is discarded and recomputed', () => {
  const { dir, src, cache, entries } = setup();
  try {
    const good = cache.get(src, PARAMS);
    const file = join(dir, 'cache', entries()[0]!);
    const bytes = readFileSync(file);
    const damage: [string, Buffer][] = [
      ['flipped voxel byte', flipByte(bytes, bytes.length - 10)],
      ['truncated', bytes.subarray(0, bytes.length - 7)],
      ['garbage', Buffer.from('not a cache entry')],
      ['empty', Buffer.alloc(0)],
      ['bad json', Buffer.concat([bytes.subarray(0, 12), Buffer.from('{{{{'), bytes.subarray(16)])],
    ];
    let discarded = 0;
    for (const [what, b] of damage) {
      writeFileSync(file, b);
      const v = cache.get(src, PARAMS);
      discarded++;
      assert.equal(cache.stats.discarded, discarded, what);
      assert.deepEqual(v, good, what);
      assert.deepEqual(readFileSync(file), bytes, `${what}: entry rewritten`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing source names the file', () => {
  const { dir, cache } = setup();
  try {
    const p = join(dir, 'gone.nii');
    assert.throws(() => cache.get(p, PARAMS), (e: Error) => e.message === `${p}: file not found`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { synthesizeCohort, type ManifestCase, type SynthSummary } from '../../../src/engine/synth/cohort';
import { componentSizes } from '../../../src/engine/synth/components';
import { LOCATION_TERMS } from '../../../src/engine/synth/reports';
import { SYNTH_LOCATIONS } from '../../../src/engine/synth/labels';
import { readNifti } from '../../../src/engine/io/nifti';

const OPTS = { internal: 7, external: 4, shape: [24, 24, 16] as [number, number, number], seed: 7 };
const root = mkdtempSync(join(tmpdir(), 'mrcl-synth-'));
const A = join(root, 'a');
let summary: SynthSummary;
let progress: [number, number][] = [];

interface SynthRecord {
  id: string;
  location: string;
  marker: string;
  tentorium: { point: number[]; normal: number[] };
  mask: { voxels: number; extentMm: number[] };
  findings: { cyst: boolean };
}

before(async () => {
  summary = await synthesizeCohort({ out: A, ...OPTS, onProgress: (d, t) => progress.push([d, t]) });
});
after(() => rmSync(root, { recursive: true, force: true }));

function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out;
}

const manifestOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { version: number; cases: ManifestCase[] };
const recordsOf = (dir: string) => (JSON.parse(readFileSync(join(dir, 'synth.json'), 'utf8')) as { cases: SynthRecord[] }).cases;

test('manifest: valid JSON, the documented fields, relative paths that exist', () => {
  const m = manifestOf(A);
  assert.equal(m.version, 1);
  assert.deepEqual(
    m.cases.map((c) => c.id),
    ['int-001', 'int-002', 'int-003', 'int-004', 'int-005', 'int-006', 'int-007', 'ext-001', 'ext-002', 'ext-003', 'ext-004'],
  );
  for (const c of m.cases) {
    const internal = c.id.startsWith('int-');
    assert.deepEqual(Object.keys(c), internal ? ['id', 'image', 'mask', 'report', 'location', 'marker', 'cohort'] : ['id', 'image', 'mask', 'location', 'marker', 'cohort']);
    assert.equal(c.cohort, internal ? 'internal' : 'external');
    assert.ok(SYNTH_LOCATIONS.includes(c.location));
    assert.ok(['fusion', 'v600e', 'other'].includes(c.marker));
    for (const p of [c.image, c.mask, ...(c.report ? [c.report] : [])]) {
      assert.ok(!isAbsolute(p) && !p.includes('..'), p);
      assert.ok(existsSync(join(A, p)), `${p} missing`);
    }
    assert.equal(c.image, `images/${c.id}.nii.gz`);
    assert.equal(c.mask, `masks/${c.id}.nii.gz`);
  }
  // external cases have no report file at all
  assert.deepEqual(readdirSync(join(A, 'reports')).sort(), m.cases.filter((c) => c.cohort === 'internal').map((c) => `${c.id}.txt`));
  assert.equal(summary.cases, 11);
  assert.equal(summary.manifest, join(A, 'manifest.json'));
  assert.equal(Object.values(summary.locations).reduce((a, b) => a + b, 0), 11);
  assert.deepEqual(progress.at(-1), [11, 11]);
  assert.deepEqual(progress[0], [0, 11]);
});

test('volumes: int16 image and binary uint8 mask on the head grid', () => {
  for (const c of manifestOf(A).cases) {
    const img = readNifti(join(A, c.image));
    const mask = readNifti(join(A, c.mask));
    assert.deepEqual(img.dims, [24, 24, 16]);
    assert.deepEqual(mask.dims, [24, 24, 16]);
    // 179.2 / 24, 217.6 / 24, 144 / 16 mm; origin at the centre
    [179.2 / 24, 217.6 / 24, 9].forEach((p, a) => assert.ok(Math.abs(img.affine[a][a] - p) < 1e-4));
    [-(179.2 / 24) * 11.5, -(217.6 / 24) * 11.5, -9 * 7.5].forEach((t, a) => assert.ok(Math.abs(img.affine[a][3] - t) < 1e-3));
    assert.deepEqual(img.affine, mask.affine);
    assert.ok(mask.data.every((v) => v === 0 || v === 1));
    assert.ok(img.data.every((v) => Number.isInteger(v) && v >= 0 && v <= 32767));
  }
});

test('each mask is one non-empty region on the right side of the tentorium', () => {
  const records = new Map(recordsOf(A).map((r) => [r.id, r]));
  for (const c of manifestOf(A).cases) {
    const mask = readNifti(join(A, c.mask));
    const rec = records.get(c.id)!;
    assert.equal(rec.location, c.location);
    const sizes = componentSizes(mask.data, mask.dims);
    assert.equal(sizes.length, 1, `${c.id}: ${sizes.length} components`);
    assert.equal(sizes[0], rec.mask.voxels);
    // signed distances of mask voxels (world mm, from the affine) to the tentorium plane
    const { point, normal } = rec.tentorium;
    const [nx, ny, nz] = mask.dims;
    const A4 = mask.affine;
    let above = 0;
    let below = 0;
    const centroid = [0, 0, 0];
    const lo = [Infinity, Infinity, Infinity];
    const hi = [-Infinity, -Infinity, -Infinity];
    for (let k = 0; k < nz; k++)
      for (let j = 0; j < ny; j++)
        for (let i = 0; i < nx; i++) {
          if (!mask.data[i + nx * (j + ny * k)]) continue;
          const w = [0, 1, 2].map((r) => A4[r][0] * i + A4[r][1] * j + A4[r][2] * k + A4[r][3]);
          w.forEach((v, a) => (centroid[a] += v / sizes[0]));
          [i, j, k].forEach((v, a) => ((lo[a] = Math.min(lo[a], v)), (hi[a] = Math.max(hi[a], v))));
          const d = w.reduce((s, v, a) => s + (v - point[a]) * normal[a], 0);
          if (d > 0) above++;
          else below++;
        }
    const dc = centroid.reduce((s, v, a) => s + (v - point[a]) * normal[a], 0);
    if (c.location === 'supratentorial') assert.ok(dc > 0 && below === 0, `${c.id}: supratentorial mask below the tentorium`);
    if (c.location === 'infratentorial') {
      assert.ok(dc < 0 && above === 0, `${c.id}: infratentorial mask above the tentorium`);
      assert.ok(centroid[1] < 0, `${c.id}: posterior fossa tumour should be posterior`);
    }
    if (c.location === 'transtentorial') assert.ok(above > 0 && below > 0, `${c.id}: transtentorial mask does not cross`);
    // the recorded extent (what the report quotes) is the mask's bounding box
    const extent = [0, 1, 2].map((a) => (hi[a] - lo[a] + 1) * A4[a][a]);
    extent.forEach((e, a) => assert.ok(Math.abs(e - rec.mask.extentMm[a]) < 1e-3, `${c.id}: extent ${e} vs ${rec.mask.extentMm[a]}`));
  }
});

test('the image shows the tumour where the mask is', () => {
  const records = new Map(recordsOf(A).map((r) => [r.id, r]));
  for (const c of manifestOf(A).cases) {
    if (records.get(c.id)!.findings.cyst) continue; // cysts are dark on FLAIR
    const img = readNifti(join(A, c.image));
    const mask = readNifti(join(A, c.mask));
    let inSum = 0;
    let inN = 0;
    const head: number[] = [];
    img.data.forEach((v, i) => {
      if (mask.data[i]) {
        inSum += v;
        inN++;
      } else head.push(v);
    });
    head.sort((a, b) => a - b);
    // solid pLGG is FLAIR-bright: above the 90th percentile of everything else
    assert.ok(inSum / inN > head[Math.floor(head.length * 0.9)], `${c.id}: tumour not bright`);
  }
});

test('reports use the location words of their own class only', () => {
  for (const c of manifestOf(A).cases.filter((x) => x.report)) {
    const text = readFileSync(join(A, c.report!), 'utf8');
    const has = (t: string) => new RegExp(`\\b${t}\\b`, 'i').test(text);
    assert.ok(LOCATION_TERMS[c.location].some(has), `${c.id}: no ${c.location} term`);
    for (const l of SYNTH_LOCATIONS.filter((x) => x !== c.location)) assert.ok(!LOCATION_TERMS[l].some(has), `${c.id}: mentions ${l}`);
  }
});

test('external cohort: scanner offset and stronger noise in the background', () => {
  const m = manifestOf(A);
  const background = (id: string) => {
    const c = m.cases.find((x) => x.id === id)!;
    const img = readNifti(join(A, c.image));
    // the first slice's corner rows are outside the head
    const vals = Array.from(img.data.subarray(0, 24 * 2)).sort((a, b) => a - b);
    return vals[vals.length >> 1];
  };
  for (const c of m.cases) {
    const b = background(c.id);
    if (c.cohort === 'internal') assert.ok(b < 35, `${c.id}: background ${b}`);
    else assert.ok(b >= 40, `${c.id}: background ${b}`);
  }
});

test('same seed → byte-identical files; another seed → different files', async () => {
  const B = join(root, 'b');
  await synthesizeCohort({ out: B, ...OPTS });
  const fa = files(A);
  assert.deepEqual(files(B), fa);
  for (const f of fa) assert.ok(readFileSync(join(A, f)).equals(readFileSync(join(B, f))), `${f} differs`);
  const C = join(root, 'c');
  await synthesizeCohort({ out: C, ...OPTS, seed: 8 });
  for (const f of ['images/int-001.nii.gz', 'masks/ext-001.nii.gz', 'manifest.json', 'synth.json']) {
    assert.ok(!readFileSync(join(A, f)).equals(readFileSync(join(C, f))), `${f} identical across seeds`);
  }
});

test('stopped part-way, the same command keeps the finished cases and ends byte-identical to an uninterrupted run; other options start afresh', async () => {
  const R = join(root, 'r');
  const stopAfter = (k: number) => (done: number) => {
    if (done === k) throw new Error('stopped');
  };
  await assert.rejects(synthesizeCohort({ out: R, ...OPTS, onProgress: stopAfter(5) }), /stopped/);
  const marker = JSON.parse(readFileSync(join(R, 'synth.json'), 'utf8'));
  assert.equal(marker.status, 'incomplete');
  assert.deepEqual(marker.cases.map((c: SynthRecord) => c.id), ['int-001', 'int-002', 'int-003', 'int-004', 'int-005']);
  assert.ok(!existsSync(join(R, 'manifest.json')), 'no manifest while incomplete');
  // a finished case whose file went missing is made again, not kept; a record whose id is not the plan's names no file
  rmSync(join(R, 'masks', 'int-003.nii.gz'));
  writeFileSync(join(R, 'synth.json'), JSON.stringify({ ...marker, cases: [...marker.cases, { ...marker.cases[0], id: '../../outside' }] }));
  const calls: [number, number, number][] = [];
  const resumed = await synthesizeCohort({ out: R, ...OPTS, onProgress: (d, t, k) => calls.push([d, t, k]) });
  assert.equal(resumed.resumed, 4);
  // progress counts the kept cases as done and says how many were kept (int-001, -002, -004, -005; int-003 made again)
  assert.deepEqual(calls.slice(0, 6), [[0, 11, 0], [1, 11, 1], [2, 11, 2], [3, 11, 2], [4, 11, 3], [5, 11, 4]]);
  assert.deepEqual(calls.at(-1), [11, 11, 4]);
  assert.deepEqual(files(R), files(A));
  for (const f of files(A)) assert.ok(readFileSync(join(A, f)).equals(readFileSync(join(R, f))), `${f} differs from the uninterrupted run's`);
  assert.deepEqual({ ...resumed, out: A, manifest: join(A, 'manifest.json'), resumed: 0 }, summary);
  // stopped again with another seed: nothing of the first is kept, even where ids match
  await assert.rejects(synthesizeCohort({ out: R, ...OPTS, seed: 8, onProgress: stopAfter(2) }), /stopped/);
  const other = await synthesizeCohort({ out: R, ...OPTS, seed: 8 });
  assert.equal(other.resumed, 2, 'the seed-8 run keeps its own two cases');
  const fresh = join(root, 'r8');
  await synthesizeCohort({ out: fresh, ...OPTS, seed: 8 });
  for (const f of files(fresh)) assert.ok(readFileSync(join(fresh, f)).equals(readFileSync(join(R, f))), `${f}: seed 8 resumed differs from seed 8 made at once`);
  // a complete cohort is never resumed from: the same options make every case again
  assert.equal((await synthesizeCohort({ out: R, ...OPTS, seed: 8 })).resumed, 0);
});

test('an earlier cohort may be overwritten; its extra files are removed', async () => {
  const D = join(root, 'd');
  await synthesizeCohort({ out: D, ...OPTS });
  writeFileSync(join(D, 'notes.txt'), 'kept');
  // a temp file left by a killed write is cleaned up
  writeFileSync(join(D, 'images', '.int-009.nii.gz.123.abcd.tmp'), 'partial');
  const seen: boolean[] = [];
  await synthesizeCohort({ out: D, ...OPTS, internal: 2, external: 1, onProgress: () => seen.push(existsSync(join(D, 'manifest.json'))) });
  // while files are being replaced there is no manifest pointing at them
  assert.deepEqual(seen, [false, false, false, false]);
  assert.deepEqual(files(D), [
    'images/ext-001.nii.gz',
    'images/int-001.nii.gz',
    'images/int-002.nii.gz',
    'manifest.json',
    'masks/ext-001.nii.gz',
    'masks/int-001.nii.gz',
    'masks/int-002.nii.gz',
    'notes.txt',
    'reports/int-001.txt',
    'reports/int-002.txt',
    'synth.json',
  ]);
  // a case does not depend on the size of the cohort around it
  assert.ok(readFileSync(join(A, 'images/int-002.nii.gz')).equals(readFileSync(join(D, 'images/int-002.nii.gz'))));
  assert.equal(manifestOf(D).cases.length, 3);
});

test('a large earlier cohort is recognised by its synth.json (over 1 MiB: about 800 cases and more)', async () => {
  const G = join(root, 'g');
  await synthesizeCohort({ out: G, ...OPTS });
  // the marker of a cohort of a few thousand cases: the same fields, many more case records
  const marker = JSON.parse(readFileSync(join(G, 'synth.json'), 'utf8'));
  const big = JSON.stringify({ ...marker, cases: Array.from({ length: 2500 }, (_, i) => ({ ...marker.cases[0], id: `int-${i}` })) });
  assert.ok(big.length > 2 ** 20, `${big.length} bytes`);
  writeFileSync(join(G, 'synth.json'), big);
  await synthesizeCohort({ out: G, ...OPTS, internal: 2, external: 0 });
  assert.equal(manifestOf(G).cases.length, 2);
  assert.ok(!existsSync(join(G, 'images', 'ext-001.nii.gz')), "the earlier cohort's files it listed are removed");
});

test('refuses a non-empty folder that is not a synthetic cohort, and a file', async () => {
  const E = join(root, 'e');
  mkdirSync(E);
  writeFileSync(join(E, 'manifest.json'), '{"cases": []}');
  await assert.rejects(synthesizeCohort({ out: E, ...OPTS }), (e: Error) => e.message.includes(E) && /not empty and is not a synthetic cohort/.test(e.message));
  assert.equal(readFileSync(join(E, 'manifest.json'), 'utf8'), '{"cases": []}');
  assert.deepEqual(readdirSync(E), ['manifest.json']);
  const F = join(root, 'f.txt');
  writeFileSync(F, 'x');
  await assert.rejects(synthesizeCohort({ out: F, ...OPTS }), /f\.txt: exists and is not a folder/);
});

const BAD: [string, Record<string, unknown>, RegExp][] = [
  ['negative count', { internal: -1 }, /internal must be a non-negative integer, got -1/],
  ['fractional count', { external: 1.5 }, /external must be a non-negative integer, got 1\.5/],
  ['no cases', { internal: 0, external: 0 }, /internal \+ external must be at least 1/],
  ['small axis', { shape: [8, 24, 24] }, /shape must be three integers from 16 to 256, got \[8,24,24\]/],
  ['two axes', { shape: [24, 24] }, /shape must be three integers/],
  ['negative seed', { seed: -1 }, /seed must be an integer from 0 to 4294967295, got -1/],
  ['empty out', { out: '' }, /out must be a folder path/],
];

for (const [name, o, re] of BAD) {
  test(`rejects bad options: ${name}`, async () => {
    const out = join(root, `bad-${name.replace(/\W/g, '')}`);
    await assert.rejects(synthesizeCohort({ out, ...OPTS, ...o } as Parameters<typeof synthesizeCohort>[0]), re);
    if (o.out === undefined) assert.ok(!existsSync(out), 'nothing is created for invalid options');
  });
}

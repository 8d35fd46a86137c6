// The study across seeds (`mrcl study seeds DIR…`): the exact sign test and
// the one-sample t-test against SciPy (test/fixtures/metrics/seeds.py), the
// summary of hand-built verdicts against hand-derived counts, and the
// command on study folders built from fake runs whose CL arm is made better
// or worse than random initialisation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { signTest } from '../../../src/engine/metrics/sign-test';
import { summarizeSeeds, readSeedStudies, seedsForSignificance, seedsMarkdown, MAX_SEEDS_NEEDED, type SeedStudy } from '../../../src/engine/study/seeds';
import { studyVerdictOf, studyRuns } from '../../../src/engine/study/report';
import type { Claim } from '../../../src/engine/study/verdict';
import { runCli as run } from '../cli/run-cli';
import { BAD_CL, fakeRetrieval, fakeRun, GOOD_CL, MEDICALNET, RANDOM } from './report-fixture';

const fx = JSON.parse(readFileSync(join(__dirname, '../../fixtures/metrics/seeds.json'), 'utf8')) as {
  sign: { k: number; n: number; p: number }[];
  ttest1: { d: number[]; t: number; p: number; df: number }[];
  needed: { m: number; sd: number; n: number }[];
};

test('signTest equals scipy.stats.binomtest(k, n, 0.5).pvalue for every k of n = 1…12, 20, 37; bad counts are refused', () => {
  for (const c of fx.sign) assert.ok(Math.abs(signTest(c.k, c.n) - c.p) < 1e-12, `k ${c.k} of ${c.n}: ${signTest(c.k, c.n)} vs ${c.p}`);
  // hand-derived: 5 of 6 → 2·(1 + 6)/64
  assert.equal(signTest(5, 6), 14 / 64);
  assert.throws(() => signTest(4, 3), /positive must be an integer from 0 to 3/);
  assert.throws(() => signTest(0, 0), /n must be a positive integer/);
});

const claim = (id: string, status: Claim['status'], difference?: number, p?: number, ratio?: [number, number]): Claim => ({
  id,
  claim: id,
  status,
  detail: '',
  difference,
  p,
  ...(ratio ? { ratio: { imageToReport: ratio[0], reportToImage: ratio[1] } } : {}),
});

test('summarizeSeeds: counts, sign test and t-test over seeds (SciPy), retrieval ratios, not-measured studies left out', () => {
  const [a, b, c] = fx.ttest1[0]!.d as [number, number, number];
  const studies: SeedStudy[] = [
    { dir: '/s/42', seed: 42, scale: 'quick', verdict: [claim('auc-external-random', 'not reproduced', a, 0.074), claim('retrieval', 'not reproduced', undefined, undefined, [2.6, 2.8]), claim('ablation-order', 'not measured')] },
    { dir: '/s/7', seed: 7, scale: 'quick', verdict: [claim('auc-external-random', 'not reproduced', b, 0.069), claim('retrieval', 'reproduced', undefined, undefined, [3.4, 3.1]), claim('ablation-order', 'not measured')] },
    { dir: '/s/11', seed: 11, scale: 'quick', verdict: [claim('auc-external-random', 'reproduced', c, 0.01), claim('retrieval', 'not reproduced', undefined, undefined, [2.2, 3.3]), claim('ablation-order', 'not measured')] },
  ];
  const [auc, retrieval, ablation] = summarizeSeeds(studies);
  assert.deepEqual([auc!.measured, auc!.reproduced, auc!.paperDirection], [3, 1, 2]);
  assert.equal(auc!.signP, 1); // 2 of 3: 2·(1 + 3)/8 > 1
  assert.ok(Math.abs(auc!.meanDifference! - (a + b + c) / 3) < 1e-15);
  assert.ok(Math.abs(auc!.t!.t - fx.ttest1[0]!.t) < 1e-9 && Math.abs(auc!.t!.p - fx.ttest1[0]!.p) < 1e-9 && auc!.t!.df === 2);
  assert.equal(auc!.holds, false);
  assert.deepEqual(auc!.cells.map((x) => x.seed), [42, 7, 11]);
  // retrieval: the smaller ratio of each study; holds only when every study reaches 3×
  assert.deepEqual(retrieval!.cells.map((x) => x.ratio), [2.6, 3.1, 2.2]);
  assert.deepEqual(retrieval!.ratio, { mean: (2.6 + 3.1 + 2.2) / 3, min: 2.2, max: 3.1 });
  assert.deepEqual([retrieval!.reproduced, retrieval!.holds], [1, false]);
  assert.deepEqual([ablation!.measured, ablation!.meanDifference, ablation!.t, ablation!.holds], [0, undefined, null, false]);

  // consistent positive effects hold; each fixture's t-test is SciPy's
  for (const f of fx.ttest1.slice(1)) {
    const s: SeedStudy[] = f.d.map((d, i) => ({ dir: `/s/${i}`, seed: i, scale: 'quick', verdict: [claim('dice3d-internal-random', 'not reproduced', d, 0.2)] }));
    const [x] = summarizeSeeds(s);
    assert.ok(Math.abs(x!.t!.t - f.t) < 1e-9 && Math.abs(x!.t!.p - f.p) < 1e-9, JSON.stringify(f));
    assert.equal(x!.holds, f.p < 0.05 && f.t > 0, JSON.stringify(f));
  }
  const three = (ratios: [number, number][]) =>
    summarizeSeeds(ratios.map((r, i) => ({ dir: `/r/${i}`, seed: i, scale: 'quick', verdict: [claim('retrieval', 'reproduced', undefined, undefined, r)] })))[0]!;
  assert.equal(three([[3.1, 3.0], [4, 5], [3.5, 3.2]]).holds, true);
  assert.equal(three([[3.1, 3.0], [4, 2.99], [3.5, 3.2]]).holds, false);
});

test('seedsForSignificance: the fewest seeds for p < 0.05 at a mean and spread equals SciPy counting up; edges', () => {
  for (const f of fx.needed) assert.equal(seedsForSignificance(f.m, f.sd), f.n, JSON.stringify(f));
  // one seed fewer does not reach it: the search stops at the first n, not any n
  for (const f of fx.needed) {
    if (f.n > 2) assert.notEqual(seedsForSignificance(f.m, f.sd), f.n - 1);
  }
  // a wider spread or a smaller mean needs more seeds
  assert.ok(seedsForSignificance(0.044, 0.2)! > seedsForSignificance(0.044, 0.0937)!);
  assert.ok(seedsForSignificance(0.02, 0.0937)! > seedsForSignificance(0.044, 0.0937)!);
  // not in the paper's direction, not finite: none; no spread: 2; beyond the search: none
  assert.deepEqual([seedsForSignificance(0, 0.1), seedsForSignificance(-0.1, 0.1), seedsForSignificance(Number.NaN, 0.1), seedsForSignificance(0.1, Number.NaN)], [null, null, null, null]);
  assert.equal(seedsForSignificance(0.1, 0), 2);
  assert.equal(seedsForSignificance(1e-6, 1), null);
  assert.ok(MAX_SEEDS_NEEDED >= 1e6);
});

test('summarizeSeeds and its Markdown: each comparison carries the seeds a t-test would need at its measured mean and spread', () => {
  const d = [-0.075, 0.056, 0.133, 0.165, -0.052, 0.036];
  const neg = d.map((x) => -x);
  const studies: SeedStudy[] = d.map((x, i) => ({ dir: `/s/${i}`, seed: i, scale: 'quick', verdict: [claim('auc-external-random', 'not reproduced', x, 0.2), claim('dice3d-internal-random', 'not reproduced', neg[i], 0.2)] }));
  const [pos, back] = summarizeSeeds(studies);
  const m = d.reduce((a, b) => a + b, 0) / d.length;
  const sd = Math.sqrt(d.reduce((a, b) => a + (b - m) ** 2, 0) / (d.length - 1));
  assert.equal(pos!.seedsNeeded, seedsForSignificance(m, sd));
  assert.ok(pos!.seedsNeeded! > d.length, 'the effect does not hold, so it needs more seeds than were run');
  assert.equal(back!.seedsNeeded, null, 'a mean against the paper has no such number');
  const md = seedsMarkdown(studies, [pos!, back!]);
  assert.match(md, new RegExp(`would take ${pos!.seedsNeeded} seeds`));
  assert.match(md, /planning number, not a result/);
  assert.equal(md.split('\n').filter((l) => l.startsWith('| ') && l.includes('would take')).length, 1, "only the claim in the paper's direction has the number");
});

function fakeStudy(seed: number, cl: typeof GOOD_CL, scale = 'quick', check?: typeof GOOD_CL): string {
  const dir = mkdtempSync(join(tmpdir(), `mrcl-seed-${seed}-`));
  const n = 20;
  const good = cl === GOOD_CL;
  const ranks = Array.from({ length: n }, (_, i) => (good ? 1 + (i % 3) : 1 + ((i * 7) % n)));
  fakeRun('experiment', [RANDOM, MEDICALNET, cl], { seed, dir: join(dir, 'runs', 'experiment'), retrieval: fakeRetrieval('held-out', { imageToReport: ranks, reportToImage: ranks }) });
  // the external check: the experiment's models on a second external cohort (here another fake run in its place)
  if (check) fakeRun('experiment', [RANDOM, MEDICALNET, check], { seed: seed + 1000, dir: join(dir, 'runs', 'experiment', 'external', 'external-check') });
  const step = (name: string, runDir?: string) => ({ name, description: name, status: 'done', seconds: 1, ...(runDir ? { runDir } : {}) });
  const record = {
    format: 'mrcl-study-1',
    kind: 'reproduce',
    scale,
    seed,
    status: 'done',
    created: '2026-01-01T00:00:00.000Z',
    updated: '2026-01-01T00:00:00.000Z',
    seconds: 5,
    configs: {},
    steps: [step('cohort'), step('medicalnet-standin'), step('experiment', 'runs/experiment'), step('report')],
  };
  writeFileSync(join(dir, 'study.json'), JSON.stringify(record));
  return dir;
}


test('mrcl study seeds: each seed’s cell is that study’s own verdict; a better CL holds across seeds where a worse one does not', async () => {
  const good = [1, 2, 3].map((s) => fakeStudy(s, GOOD_CL));
  const r = await run(['study', 'seeds', ...good, '--json']);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out) as { studies: { seed: number }[]; claims: { id: string; holds: boolean; reproduced: number; cells: { difference?: number; status: string }[] }[] };
  assert.deepEqual(j.studies.map((s) => s.seed), [1, 2, 3]);
  // the cells are the studies' own verdicts, recomputed from their runs
  good.forEach((dir, i) => {
    for (const c of studyVerdictOf(studyRuns(dir)).verdict) {
      const s = j.claims.find((x) => x.id === c.id)!.cells[i]!;
      assert.equal(s.status, c.status, `${dir} ${c.id}`);
      assert.equal(s.difference, c.difference, `${dir} ${c.id}`);
      // the study's paired bootstrap interval of the difference, for every comparison
      if (c.difference !== undefined && c.id !== 'ablation-order') assert.deepEqual((s as { ci?: object }).ci, { lower: c.ci!.lower, upper: c.ci!.upper }, `${dir} ${c.id}`);
    }
  });
  const holds = (claims: typeof j.claims, id: string) => claims.find((x) => x.id === id)!.holds;
  for (const id of ['auc-external-random', 'dice3d-internal-random', 'dice3d-internal-medicalnet', 'retrieval']) assert.equal(holds(j.claims, id), true, id);
  assert.match(r.err, /^holds across seeds: CL beats random initialisation on external AUC \(Table 2\) \(reproduced in 3 of 3\)$/m);

  const bad = [4, 5, 6].map((s) => fakeStudy(s, BAD_CL));
  const w = await run(['study', 'seeds', ...bad, '--json']);
  assert.equal(w.code, 0, w.err);
  const wj = JSON.parse(w.out) as typeof j;
  for (const id of ['auc-external-random', 'dice3d-internal-random', 'retrieval']) assert.equal(holds(wj.claims, id), false, id);

  // Markdown to a file; the table has a column per seed
  const file = join(mkdtempSync(join(tmpdir(), 'mrcl-seeds-out-')), 'seeds.md');
  const m = await run(['study', 'seeds', ...good, '--out', file]);
  assert.equal(m.code, 0, m.err);
  assert.equal(m.out, '');
  const md = readFileSync(file, 'utf8');
  assert.match(md, /\| claim \| seed 1 \| seed 2 \| seed 3 \| reproduced \| across seeds \| holds across seeds \|/);
  assert.match(md, /\| CL beats random initialisation on external AUC \(Table 2\) \| \+0\.\d{3} \(p = [\d.]+; CI \+0\.\d{3} to \+0\.\d{3}\): \*\*reproduced\*\* \|/);
  // Dice differences in percentage points, as the study verdicts print them
  assert.match(md, /\| CL beats random initialisation on internal 3D attention Dice \(Table 3\) \| [+−]\d+\.\d points \(p [=<] [\d.]+; CI [+−]\d+\.\d points to [+−]\d+\.\d points\): /);
  const counts = good.map((dir) => {
    const v = studyVerdictOf(studyRuns(dir)).verdict;
    return `${v.filter((c) => c.status === 'reproduced').length} of ${v.length}`;
  });
  assert.ok(md.includes(`| claims reproduced | ${counts.join(' | ')} |`), md);
});

test('mrcl study seeds: the external check\'s comparisons as rows of their own, beside the verdict and not counted in it; a study without one is "not measured" there', async () => {
  const dirs = [fakeStudy(21, BAD_CL, 'quick', GOOD_CL), fakeStudy(22, BAD_CL, 'quick', GOOD_CL), fakeStudy(23, BAD_CL)];
  const r = await run(['study', 'seeds', ...dirs, '--json']);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out) as { claims: { id: string; claim: string; measured: number; reproduced: number; cells: { status: string; difference?: number }[] }[] };
  const ids = j.claims.map((c) => c.id);
  assert.deepEqual(ids.slice(-4), ['check-auc-external-random', 'check-auc-external-medicalnet', 'check-dice3d-external-random', 'check-dice3d-external-medicalnet']);
  const auc = j.claims.find((c) => c.id === 'check-auc-external-random')!;
  assert.match(auc.claim, /^External check \(beyond the verdict\): CL beats random initialisation on external AUC$/);
  // a better CL on the check cohort than in the verdict's runs: reproduced there in both studies that have it
  assert.deepEqual(auc.cells.map((c) => c.status), ['reproduced', 'reproduced', 'not measured']);
  assert.deepEqual([auc.measured, auc.reproduced], [2, 2]);
  const main = j.claims.find((c) => c.id === 'auc-external-random')!;
  assert.ok(main.cells.every((c) => c.status === 'not reproduced' && c.difference! < 0));
  const file = join(mkdtempSync(join(tmpdir(), 'mrcl-seeds-check-')), 's.md');
  assert.equal((await run(['study', 'seeds', ...dirs, '--out', file])).code, 0);
  const md = readFileSync(file, 'utf8');
  assert.match(md, /Rows headed "External check \(beyond the verdict\)" are each study's experiment fold models, unchanged, scored on a second, larger external cohort/);
  // "claims reproduced" counts the verdict only (a worse CL: none of its comparisons, and not the check's four)
  const counts = dirs.map((d) => `${studyVerdictOf(studyRuns(d)).verdict.filter((c) => c.status === 'reproduced').length} of 7`);
  assert.ok(md.includes(`| claims reproduced | ${counts.join(' | ')} |`), md);
});

test('mrcl study seeds refuses fewer than 2 folders, mixed scales, cohorts of different sizes, different settings, a seed twice, a folder twice and a folder that is no study', async () => {
  const a = fakeStudy(1, GOOD_CL);
  const b = fakeStudy(2, GOOD_CL, 'full');
  const c = fakeStudy(1, BAD_CL);
  assert.equal((await run(['study', 'seeds', a])).code, 2);
  assert.equal((await run(['study', 'seeds', a, fakeStudy(3, GOOD_CL), '--seed', '4'])).code, 2);
  const mixed = await run(['study', 'seeds', a, b]);
  assert.equal(mixed.code, 1);
  assert.match(mixed.err, new RegExp(`different scales \\(quick: ${a}; full: ${b}\\)`));
  assert.match((await run(['study', 'seeds', a, c])).err, new RegExp(`${a} and ${c} are both seed 1`));
  assert.match((await run(['study', 'seeds', a, a])).err, new RegExp(`${a}: given twice`));
  const empty = mkdtempSync(join(tmpdir(), 'mrcl-no-study-'));
  assert.match((await run(['study', 'seeds', a, empty])).err, new RegExp(`${join(empty, 'study.json')}: missing`));
  assert.ok(!existsSync(join(empty, 'seeds.md')));
  assert.throws(() => readSeedStudies([a]), /at least 2 study folders, got 1/);
  // studies of one scale whose cohorts differ in size (the quick scale's grew between versions): refused, naming both groups
  const cohort = (dir: string, internal: number, external = 40) =>
    writeFileSync(join(dir, 'runs', 'experiment', 'validation.json'), JSON.stringify({ errors: [], warnings: [], summary: { cases: internal + external, byCohort: { internal, external } } }));
  const [s150, s250, s250b] = [11, 12, 13].map((seed) => fakeStudy(seed, GOOD_CL));
  cohort(s150!, 150);
  cohort(s250!, 250);
  cohort(s250b!, 250);
  const sizes = await run(['study', 'seeds', s150!, s250!, s250b!]);
  assert.equal(sizes.code, 1);
  assert.ok(sizes.err.includes(`cohorts differ in size (150 internal + 40 external cases: ${s150}; 250 internal + 40 external cases: ${s250}, ${s250b})`), sizes.err);
  const same = join(mkdtempSync(join(tmpdir(), 'mrcl-seeds-size-')), 'seeds.md');
  assert.equal((await run(['study', 'seeds', s250!, s250b!, '--out', same])).code, 0, 'one cohort size is summarised');
  assert.match(readFileSync(same, 'utf8'), /^2 studies at scale quick \(250 internal \+ 40 external cases each\), seeds 12, 13\./m);
  // studies whose experiments differ in a setting other than the seed and paths (another version's defaults): refused, naming the setting and both groups
  const settings = (dir: string, seed: number, image: object = {}) =>
    writeFileSync(join(dir, 'runs', 'experiment', 'config.json'), JSON.stringify({ seed, outDir: join(dir, 'runs'), finetune: { foldSeed: seed }, data: { manifest: join(dir, 'cohort', 'manifest.json') }, image }));
  settings(s250!, 12);
  settings(s250b!, 13);
  assert.equal((await run(['study', 'seeds', s250!, s250b!, '--out', same])).code, 0, 'the seed and the paths may differ');
  settings(s250b!, 13, { dilate: false });
  const differ = await run(['study', 'seeds', s250!, s250b!]);
  assert.equal(differ.code, 1);
  assert.ok(differ.err.includes(`differ in settings other than the seed and paths (image.dilate (true: ${s250}; false: ${s250b}))`), differ.err);
  // a setting left out of one config is its default: the same as writing it
  settings(s250!, 12, { dilate: false });
  assert.equal((await run(['study', 'seeds', s250!, s250b!, '--out', same])).code, 0);
  writeFileSync(join(s250b!, 'runs', 'experiment', 'config.json'), JSON.stringify({ image: { dilate: 'no' } }));
  const unreadable = (await run(['study', 'seeds', s250!, s250b!])).err;
  assert.ok(unreadable.includes(join(s250b!, 'runs', 'experiment', 'config.json')) && unreadable.includes('dilate'), unreadable);
  settings(s250b!, 13, { dilate: false });
  writeFileSync(join(s250b!, 'runs', 'experiment', 'validation.json'), JSON.stringify({ summary: { byCohort: { internal: 'many' } } }));
  assert.match((await run(['study', 'seeds', s250!, s250b!])).err, new RegExp(`${join(s250b!, 'runs', 'experiment', 'validation.json')}: "summary.byCohort" must give`));
  // report still takes exactly one folder
  assert.equal((await run(['study', 'report', a, b])).code, 2);
});

test('summarizeSeeds: comparisons beyond the verdict from every study, in order of first appearance; a study without one is "not measured" there', () => {
  const mass = (d: number) => ({ ...claim('mass3d-internal-random', d > 0 ? 'reproduced' : 'not reproduced', d, 0.01), metric: 'mass3d' as const });
  const studies: SeedStudy[] = [
    { dir: '/s/1', seed: 1, scale: 'quick', verdict: [claim('auc-external-random', 'not reproduced', 0.01, 0.5)], checks: [claim('check-auc-external-random', 'not reproduced', 0.02, 0.3)] },
    { dir: '/s/2', seed: 2, scale: 'quick', verdict: [claim('auc-external-random', 'not reproduced', 0.02, 0.4)], checks: [claim('check-auc-external-random', 'reproduced', 0.05, 0.01), mass(0.02)] },
    { dir: '/s/3', seed: 3, scale: 'quick', verdict: [claim('auc-external-random', 'reproduced', 0.03, 0.01)], checks: [mass(0.03)] },
  ];
  const rows = summarizeSeeds(studies);
  assert.deepEqual(rows.map((r) => r.id), ['auc-external-random', 'check-auc-external-random', 'mass3d-internal-random']);
  const m = rows[2]!;
  assert.deepEqual(m.cells.map((c) => c.status), ['not measured', 'reproduced', 'reproduced']);
  assert.deepEqual([m.measured, m.reproduced, m.metric], [2, 2, 'mass3d']);
  assert.ok(Math.abs(m.meanDifference! - 0.025) < 1e-15);
  assert.deepEqual(rows[1]!.cells.map((c) => c.status), ['not reproduced', 'reproduced', 'not measured']);
  assert.match(seedsMarkdown(studies, rows), /Rows headed "Attention mass \(beyond the verdict, threshold-free\)"/);
  assert.doesNotMatch(seedsMarkdown(studies, rows), /Linear probe/, 'no probe note without probe rows');
  // the probe's rows get their note
  const probe = [...studies.slice(0, 2), { ...studies[2]!, checks: [...studies[2]!.checks!, claim('probe-auc-internal-random', 'reproduced', 0.1, 0.01)] }];
  const probeRows = summarizeSeeds(probe);
  assert.deepEqual(probeRows.map((r) => r.id), ['auc-external-random', 'check-auc-external-random', 'mass3d-internal-random', 'probe-auc-internal-random']);
  assert.match(seedsMarkdown(probe, probeRows), /Rows headed "Linear probe of the frozen encoders \(beyond the verdict\)" compare each arm's starting encoder, frozen/);
});

test('mrcl study seeds says when every study pretrained with --augment, ran at another --width or with --text-pretrained (study.json), and not otherwise', async () => {
  const studies = [21, 22].map((s) => fakeStudy(s, GOOD_CL));
  const header = async () => {
    const r = await run(['study', 'seeds', ...studies]);
    assert.equal(r.code, 0, r.err);
    return r.out.split('\n').find((l) => l.startsWith('2 studies at scale'))!;
  };
  assert.doesNotMatch(await header(), /augment/);
  for (const dir of studies) {
    const rec = JSON.parse(readFileSync(join(dir, 'study.json'), 'utf8'));
    writeFileSync(join(dir, 'study.json'), JSON.stringify({ ...rec, augment: { shift: 4, intensity: 0.1 } }));
  }
  assert.match(await header(), /seeds 21, 22, every pretraining augmented \(`--augment`: pretrain\.augment shift 4, intensity 0\.1; not the paper's method\)\. Each seed/);
  // and the encoder's width where the studies were made with --width
  assert.doesNotMatch(await header(), /width/);
  for (const dir of studies) {
    const rec = JSON.parse(readFileSync(join(dir, 'study.json'), 'utf8'));
    writeFileSync(join(dir, 'study.json'), JSON.stringify({ ...rec, width: 16 }));
  }
  assert.match(await header(), /shift 4, intensity 0\.1; not the paper's method\), image encoder width 16 \(`--width`; the scale's 8, the paper's 64\)\. Each seed/);
  // and the pretrained text encoder where every study was made with the same --text-pretrained
  assert.doesNotMatch(await header(), /text encoder/);
  for (const [i, dir] of studies.entries()) {
    const rec = JSON.parse(readFileSync(join(dir, 'study.json'), 'utf8'));
    writeFileSync(join(dir, 'study.json'), JSON.stringify({ ...rec, textPretrained: i === 0 ? '/models/clinical-longformer' : '/models/other' }));
  }
  assert.doesNotMatch(await header(), /text encoder/, 'not where the studies name different folders');
  for (const dir of studies) {
    const rec = JSON.parse(readFileSync(join(dir, 'study.json'), 'utf8'));
    writeFileSync(join(dir, 'study.json'), JSON.stringify({ ...rec, textPretrained: '/models/clinical-longformer' }));
  }
  assert.match(await header(), /image encoder width 16 \(`--width`; the scale's 8, the paper's 64\), text encoder pretrained \(`--text-pretrained` \/models\/clinical-longformer; not trained from scratch\)\. Each seed/);
});

test('mrcl study seeds: a row of each seed\'s global embeddings where a study recorded them, collapsed ones marked; none where no study did', async () => {
  const studies = [31, 32, 33].map((s) => fakeStudy(s, GOOD_CL));
  const md = async () => {
    const r = await run(['study', 'seeds', ...studies]);
    assert.equal(r.code, 0, r.err);
    return r.out;
  };
  assert.doesNotMatch(await md(), /global embeddings/i);
  const spread = { 31: { cases: 20, image: 0.3124, report: 0.4, ownPair: 0.55, otherPair: 0.2 }, 32: { cases: 20, image: 0.9955, report: 0.9983, ownPair: 0.9968, otherPair: 0.9967 } } as const;
  for (const [i, seed] of [[0, 31], [1, 32]] as const) {
    const path = join(studies[i]!, 'runs', 'experiment', 'pretrain', 'retrieval.json');
    writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), globalSpread: spread[seed] }));
  }
  const out = await md();
  assert.ok(out.includes('| global embeddings: mean cosine of different cases, images / reports (beyond the verdict) | 0.312 / 0.400 | **collapsed** 0.996 / 0.998 | not recorded | | collapsed in 1 of 2 | |'), out);
  assert.match(out, /"Not recorded": a study made before the measure \(`mrcl evaluate RUN --global-spread` on its experiment run adds it\)/);
  // the claims are unchanged by it
  assert.match(out, /\| claims reproduced \| /);
  const j = JSON.parse((await run(['study', 'seeds', ...studies, '--json'])).out) as { studies: { seed: number; globalSpread?: object }[] };
  assert.deepEqual(j.studies.map((s) => s.globalSpread), [spread[31], spread[32], undefined]);
});

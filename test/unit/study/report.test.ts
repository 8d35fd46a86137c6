// The study report on hand-built run folders: every figure is well-formed
// SVG whose numbers are the saved predictions' (ROC area = rocAuc, box
// quartiles = numpy percentiles of the Dice column, retrieval points =
// retrieval.json), the verdict follows the numbers (and flips when CL is
// made worse), and report.html references nothing outside itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { renderStudyReport } from '../../../src/engine/study/report';
import { PLOT, xml } from '../../../src/engine/study/svg';
import { boxStats, rocCurve, trapezoidArea } from '../../../src/engine/study/charts';
import { STANDIN_DESCRIPTION, STANDIN_KIND } from '../../../src/engine/training/medicalnet-standin';
import { rocAuc } from '../../../src/engine/metrics/roc-auc';
import { aucDifferenceBootstrapCi, diceDifferenceBootstrapCi } from '../../../src/engine/metrics/bootstrap';
import { differenceCi } from '../../../src/engine/study/verdict';
import { readRunData } from '../../../src/engine/study/run-data';
import { resolveConfig } from '../../../src/engine/config/resolve';
import { collapseWarning } from '../../../src/engine/metrics/embedding-spread';
import { hashSeed } from '../../../src/engine/util/rng';
import { parseXml, type XmlElement } from './xml-check';
import { BAD_CL, fakeRetrieval, fakeRun, GOOD_CL, MEDICALNET, RANDOM, type FakeRun } from './report-fixture';

const N = 40;
const goodRanks = { imageToReport: Array.from({ length: N }, (_, i) => 1 + (i % 4)), reportToImage: Array.from({ length: N }, (_, i) => 1 + ((i * 3) % 7)) };
const chanceRanks = { imageToReport: Array.from({ length: N }, (_, i) => N - i), reportToImage: Array.from({ length: N }, (_, i) => 1 + ((i * 7) % N)) };

/** numpy.percentile(values, q), method 'linear', written out independently of the engine. */
function numpyPercentile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const h = (s.length - 1) * (q / 100);
  return s[Math.floor(h)]! + (h - Math.floor(h)) * (s[Math.ceil(h)]! - s[Math.floor(h)]!);
}

function pooled(run: FakeRun, arm: string, cohort: 'internal' | 'external') {
  return [0, 1, 2, 3, 4].flatMap((f) => run.cases.get(`${arm}/${f}`)!.filter((c) => c.cohort === cohort));
}

function svgOf(path: string): XmlElement[] {
  const els = parseXml(readFileSync(path, 'utf8'));
  assert.equal(els[0]!.name, 'svg', `${path}: root is <svg>`);
  assert.ok(els.some((e) => e.name === 'title' && e.text.length > 0), `${path}: has a title`);
  return els;
}

function study(cl = GOOD_CL, o: { retrieval?: object; location?: boolean; ablation?: boolean } = {}) {
  const experiment = fakeRun('experiment', [RANDOM, MEDICALNET, cl], { retrieval: o.retrieval ?? fakeRetrieval('held-out', goodRanks) });
  const locationCheck = o.location === false ? undefined : fakeRun('experiment', [{ ...cl, separation: 0, dice: 0.05 }], { seed: 1 });
  const ablation =
    o.ablation === false
      ? undefined
      : fakeRun('ablation', [
          { arm: 'global-only', label: 'Global only', separation: 0.1, dice: 0.1 },
          { arm: 'location-excluded', label: 'Location excluded', separation: 0.15, dice: 0.1 },
          { arm: 'proposed', label: 'Proposed', separation: cl.separation, dice: cl.dice },
        ]);
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-study-'));
  return { dir, experiment, locationCheck, ablation, report: renderStudyReport({ dir, experiment: experiment.dir, locationCheck: locationCheck?.dir, ablation: ablation?.dir }) };
}

test('every figure is well-formed SVG whose numbers are the predictions and retrieval.json', () => {
  const { dir, experiment, report } = study();
  const names = report.figures.map((f) => relative(join(dir, 'figures'), f)).sort();
  assert.deepEqual(names, ['dice-external.svg', 'dice-internal.svg', 'retrieval.svg', 'roc-external.svg', 'roc-internal.svg']);
  for (const f of report.figures) assert.ok(existsSync(f), f);

  for (const cohort of ['internal', 'external'] as const) {
    const curves = svgOf(join(dir, 'figures', `roc-${cohort}.svg`)).filter((e) => e.attrs.class === 'roc');
    assert.equal(curves.length, 3);
    for (const [i, arm] of ['random', 'medicalnet', 'pretrained'].entries()) {
      const cases = pooled(experiment, arm, cohort);
      const expected = rocAuc(cases.map((c) => c.score), cases.map((c) => c.label));
      const pts = curves[i]!.attrs.points!.split(' ').map((p) => p.split(',').map(Number) as [number, number]);
      const fpr = pts.map(([x]) => (x - PLOT.left) / PLOT.plotWidth);
      const tpr = pts.map(([, y]) => 1 - (y - PLOT.top) / PLOT.plotHeight);
      assert.deepEqual([fpr[0], tpr[0]].map((v) => Math.abs(v!)), [0, 0], 'starts at (0, 0)');
      assert.ok(Math.abs(fpr.at(-1)! - 1) < 1e-9 && Math.abs(tpr.at(-1)! - 1) < 1e-9, 'ends at (1, 1)');
      let area = 0;
      for (let k = 1; k < pts.length; k++) area += ((fpr[k]! - fpr[k - 1]!) * (tpr[k]! + tpr[k - 1]!)) / 2;
      assert.ok(Math.abs(area - expected) < 1e-4, `${cohort} ${arm}: polyline area ${area} vs rocAuc ${expected}`);
      assert.ok(Math.abs(Number(curves[i]!.attrs['data-auc']) - expected) < 1e-12);
      assert.equal(Number(curves[i]!.attrs['data-n']), cases.length);
    }

    const boxes = svgOf(join(dir, 'figures', `dice-${cohort}.svg`)).filter((e) => e.attrs.class === 'box');
    assert.equal(boxes.length, 6, 'three arms × 2D, 3D');
    for (const b of boxes) {
      const arm = { 'Random init': 'random', MedicalNet: 'medicalnet', 'Proposed CL': 'pretrained' }[b.attrs['data-arm']!]!;
      const key = b.attrs['data-kind'] === '2D Dice' ? 'dice2d' : 'dice3d';
      const col = pooled(experiment, arm, cohort).flatMap((c) => (c[key] === null ? [] : [c[key]!]));
      assert.equal(Number(b.attrs['data-n']), col.length);
      for (const [attr, q] of [['data-q1', 25], ['data-median', 50], ['data-q3', 75]] as const) {
        assert.ok(Math.abs(Number(b.attrs[attr]) - numpyPercentile(col, q)) < 1e-12, `${arm} ${key} ${attr}`);
      }
    }
  }
  // the percentile itself against numpy: np.percentile([0.1, 0.4, 0.2, 0.9], [25, 50, 75]) = [0.175, 0.3, 0.525]
  assert.deepEqual([25, 50, 75].map((q) => Math.round(numpyPercentile([0.1, 0.4, 0.2, 0.9], q) * 1e9) / 1e9), [0.175, 0.3, 0.525]);

  const r = JSON.parse(readFileSync(join(experiment.dir, 'pretrain', 'retrieval.json'), 'utf8'));
  const series = svgOf(join(dir, 'figures', 'retrieval.svg')).filter((e) => e.attrs.class === 'recall');
  assert.deepEqual(series.map((s) => s.attrs['data-direction']), ['image → report', 'report → image']);
  for (const [i, d] of (['imageToReport', 'reportToImage'] as const).entries()) {
    const pts = new Map(series[i]!.attrs['data-points']!.split(' ').map((p) => p.split(':').map(Number) as [number, number]));
    assert.equal(pts.size, N, 'the full curve k = 1…N from the stored ranks');
    for (const k of [1, 5, 10]) assert.equal(pts.get(k), r[`recall@${k}`][d]);
    assert.equal(pts.get(N), 1);
  }
});

test('the verdict reproduces the claims of a better CL and reports the p-values and CIs', () => {
  const { report, experiment } = study();
  const by = new Map(report.verdict.map((c) => [c.id, c]));
  for (const id of ['auc-external-random', 'auc-external-medicalnet', 'dice3d-internal-random', 'dice3d-internal-medicalnet', 'retrieval', 'ablation-order', 'location-weighting']) {
    assert.equal(by.get(id)?.status, 'reproduced', `${id}: ${by.get(id)?.detail}`);
  }
  // the p-value is results.json's t-test
  const doc = JSON.parse(readFileSync(join(experiment.dir, 'results.json'), 'utf8'));
  const t = doc.tests.find((x: { a: string; b: string; split: string; metric: string }) => x.a === 'pretrained' && x.b === 'random' && x.split === 'external' && x.metric === 'auc');
  assert.equal(by.get('auc-external-random')!.p, t.p);
  const ci = doc.ci.find((x: { arm: string; split: string; metric: string }) => x.arm === 'pretrained' && x.split === 'external' && x.metric === 'auc');
  assert.match(by.get('auc-external-random')!.detail, new RegExp(`95% CI ${ci.lower.toFixed(3)}–${ci.upper.toFixed(3)}`));
  assert.match(report.markdown, /## Verdict\n\n7 of 7 claims reproduced/);
  assert.match(report.markdown, /\*\*reproduced\*\*: CL beats random initialisation on external AUC/);
});

test('each comparison carries the paired bootstrap CI of its difference: external cases shared by the folds, internal within folds; it moves with the arms', () => {
  const { report, experiment } = study();
  const by = new Map(report.verdict.map((c) => [c.id, c]));
  const ext = by.get('auc-external-random')!;
  assert.equal(ext.ci!.resampling, 'shared cases');
  assert.equal(ext.ci!.cases, 12);
  assert.ok(ext.ci!.lower > 0 && ext.ci!.lower < ext.difference! && ext.difference! < ext.ci!.upper, JSON.stringify(ext.ci));
  assert.match(ext.detail, /difference 95% CI \+\d\.\d{3} to \+\d\.\d{3} \(paired bootstrap, its 12 cases resampled once for all 5 folds\)/);
  const dice = by.get('dice3d-internal-random')!;
  assert.equal(dice.ci!.resampling, 'within folds');
  assert.match(dice.detail, /difference 95% CI \+\d+\.\d points to \+\d+\.\d points \(paired bootstrap, cases resampled within 5 folds\)/);
  // the same interval as the metrics functions on the predictions, matched by id (external in id order, one draw for all folds)
  const cs = (arm: string, fold: number) => experiment.cases.get(`${arm}/${fold}`)!;
  const extFolds = [0, 1, 2, 3, 4].map((f) => {
    const a = cs('pretrained', f).filter((c) => c.cohort === 'external').sort((x, y) => (x.id < y.id ? -1 : 1));
    const b = new Map(cs('random', f).map((c) => [c.id, c]));
    return { labels: a.map((c) => c.label), a: a.map((c) => c.score), b: a.map((c) => b.get(c.id)!.score) };
  });
  const direct = aucDifferenceBootstrapCi(extFolds, { seed: hashSeed(1, 'difference/pretrained/random/external/auc'), shared: true });
  assert.deepEqual([ext.ci!.lower, ext.ci!.upper], [direct.lower, direct.upper]);
  const intFolds = [0, 1, 2, 3, 4].map((f) => {
    const b = new Map(cs('random', f).map((c) => [c.id, c]));
    const a = cs('pretrained', f).filter((c) => c.cohort === 'internal' && c.dice3d !== null && b.get(c.id)!.dice3d !== null);
    return { a: a.map((c) => c.dice3d!), b: a.map((c) => b.get(c.id)!.dice3d!) };
  });
  const directDice = diceDifferenceBootstrapCi(intFolds, { seed: hashSeed(1, 'difference/pretrained/random/internal/dice3d') });
  assert.deepEqual([dice.ci!.lower, dice.ci!.upper], [directDice.lower, directDice.upper]);
  // a worse CL moves the interval below 0
  const bad = study(BAD_CL, { location: false, ablation: false }).report.verdict.find((c) => c.id === 'auc-external-random')!;
  assert.ok(bad.ci!.upper < ext.ci!.lower && bad.ci!.lower < 0, `${JSON.stringify(bad.ci)} vs ${JSON.stringify(ext.ci)}`);
  // a unit without predictions, or a case another arm lacks: no interval
  const run = readRunData(experiment.dir);
  const units = (arm: string) => run.units.filter((u) => u.arm === arm);
  assert.equal(differenceCi(units('pretrained').map((u, i) => (i === 2 ? { ...u, predictions: undefined } : u)), units('random'), 'external', 'auc', 1), undefined);
  assert.equal(differenceCi(units('pretrained'), units('random').map((u) => ({ ...u, predictions: u.predictions!.filter((p) => p.id !== 'ext-3') })), 'external', 'auc', 1), undefined);
  assert.ok(differenceCi(units('pretrained'), units('random'), 'internal', 'auc', 1)!.resampling === 'within folds');
  // a case only the second arm scored, or a fold only one arm has: no interval
  assert.equal(differenceCi(units('pretrained').map((u) => ({ ...u, predictions: u.predictions!.filter((p) => p.id !== 'ext-3') })), units('random'), 'external', 'auc', 1), undefined);
  assert.equal(differenceCi(units('pretrained').slice(1), units('random'), 'external', 'auc', 1), undefined);
});

test('the verdict flips when CL is worse, and says what was not measured', () => {
  const { report } = study(BAD_CL, { retrieval: fakeRetrieval('held-out', chanceRanks), location: false, ablation: false });
  const by = new Map(report.verdict.map((c) => [c.id, c]));
  for (const id of ['auc-external-random', 'auc-external-medicalnet', 'dice3d-internal-random', 'dice3d-internal-medicalnet']) {
    assert.equal(by.get(id)!.status, 'not reproduced', id);
    assert.ok(by.get(id)!.difference! < 0, `${id}: CL below`);
  }
  assert.equal(by.get('retrieval')!.status, 'not reproduced');
  assert.equal(by.get('ablation-order')!.status, 'not measured');
  assert.equal(by.get('location-weighting')!.status, 'not measured');
  assert.match(report.markdown, /0 of 7 claims reproduced, 5 not reproduced, 2 not measured/);
  // training-pair retrieval is not the held-out claim
  const t = study(GOOD_CL, { retrieval: fakeRetrieval('training', goodRanks), location: false, ablation: false });
  assert.equal(t.report.verdict.find((c) => c.id === 'retrieval')!.status, 'not measured');
});

test('without a separate location run, the location claim is the ablation\'s proposed vs location-excluded arms', () => {
  // the full scale has no location-excluded step: its ablation holds the same comparison
  const better = study(GOOD_CL, { location: false });
  const claim = better.report.verdict.find((c) => c.id === 'location-weighting')!;
  assert.equal(claim.status, 'reproduced', claim.detail);
  const doc = JSON.parse(readFileSync(join(better.ablation!.dir, 'results.json'), 'utf8'));
  const t = doc.tests.find((x: { a: string; b: string; split: string; metric: string }) => x.a === 'proposed' && x.b === 'location-excluded' && x.split === 'external' && x.metric === 'auc');
  assert.equal(claim.p, t.p, "the ablation run's own paired test");
  // a proposed arm below the location-excluded one (separation 0.15) is not reproduced
  const worse = study({ ...GOOD_CL, separation: 0.05 }, { location: false });
  assert.equal(worse.report.verdict.find((c) => c.id === 'location-weighting')!.status, 'not reproduced');
});

test('report.html is self-contained; report.md embeds the figures and the tables; warnings are repeated', () => {
  const { dir, report, experiment } = study();
  const html = readFileSync(join(dir, 'report.html'), 'utf8');
  assert.equal(html, report.html);
  assert.doesNotMatch(html, /https?:/i);
  assert.doesNotMatch(html, /\bsrc\s*=/i);
  assert.doesNotMatch(html, /<link\b|@import|url\(/i);
  for (const m of html.matchAll(/href="([^"]*)"/g)) assert.ok(m[1]!.startsWith('data:'), m[1]);
  assert.equal((html.match(/<svg\b/g) ?? []).length, report.figures.length);
  const md = readFileSync(join(dir, 'report.md'), 'utf8');
  for (const f of report.figures) assert.ok(md.includes(`](figures/${relative(join(dir, 'figures'), f)})`));
  assert.match(md, /### Table 1\./);
  assert.match(md, /Not drawn: Attention maps \(Figure 3\)/);
  // the retrieval misses by location: written where the run stored them, absent where it did not
  assert.doesNotMatch(md, /Retrieval misses by tumour location/);
  const retrievalPath = join(experiment.dir, 'pretrain', 'retrieval.json');
  const stored = JSON.parse(readFileSync(retrievalPath, 'utf8'));
  const split = (same: number[], other: number[]) => ({ sameAbove: same, otherAbove: other, meanSameAbove: same.reduce((a, b) => a + b, 0) / same.length, meanOtherAbove: other.reduce((a, b) => a + b, 0) / other.length, withinRecallAt1: same.filter((v) => v === 0).length / same.length });
  writeFileSync(retrievalPath, JSON.stringify({ ...stored, byLocation: { cases: 4, counts: { supratentorial: 2, infratentorial: 2 }, imageToReport: split([1, 0, 1, 0], [0, 0, 1, 0]), reportToImage: split([0, 0, 1, 1], [2, 0, 0, 0]), chance: { meanSameAbove: 0.5, meanOtherAbove: 1, withinRecallAt1: 0.5 } } }));
  const withSplit = renderStudyReport({ dir, experiment: experiment.dir });
  const line = "Retrieval misses by tumour location (Experiment, held-out pairs, supratentorial 2, infratentorial 2): wrong items ranked above the true one on average, image → report 0.50 of the query's location and 0.25 of other locations; report → image 0.50 of the query's location and 0.50 of other locations; chance 0.50 and 1.00";
  assert.ok(withSplit.markdown.includes(`- ${line}`), withSplit.markdown);
  assert.ok(withSplit.html.includes(`<li>${line.replaceAll("'", '&apos;')}</li>`), 'report.html carries the line');
  // the location neighbours: a line of their own where the run stored them
  assert.doesNotMatch(withSplit.markdown, /Location neighbours/);
  const nb = (agreement: number, chance: number, n: number) => ({ n, agreement, chance, counts: {} });
  writeFileSync(retrievalPath, JSON.stringify({ ...stored, locationNeighbours: { evaluated: { image: nb(0.35, 0.4, 23), report: nb(0.48, 0.4, 23) }, training: { image: nb(0.66, 0.39, 127), report: nb(0.724, 0.39, 127) } } }));
  const withNb = renderStudyReport({ dir, experiment: experiment.dir });
  const nbLine = 'Location neighbours (Experiment): the nearest other held-out image by cosine of the global embeddings has the same tumour location for 35 % of 23 images, the nearest report for 48 % of the reports (chance 40 %); among the 127 training pairs 66 % (reports 72 %; chance 39 %)';
  assert.ok(withNb.markdown.includes(`- ${nbLine}`), withNb.markdown);
  assert.ok(withNb.html.includes(`<li>${nbLine}</li>`), 'report.html carries the line');
  // the local pairing (retrieval.json localPairing, docs/METHOD.md §5): a line of its own, saying whether the local representation reads the other modality
  assert.doesNotMatch(withNb.markdown, /Local pairing/);
  const side = (own: number, other: number, otherKey: string) => ({ own, [otherKey]: other, difference: own - other });
  const pairing = (image: [number, number], text: [number, number], words?: [number, number]) => ({
    cases: 23,
    image: side(...image, 'otherReport'),
    text: side(...text, 'otherImage'),
    ...(words ? { words: side(...words, 'otherImage') } : {}),
  });
  writeFileSync(retrievalPath, JSON.stringify({ ...stored, localPairing: pairing([0.815, 0.815], [0.628, 0.628], [1.629, 1.629]) }));
  const withShortcut = renderStudyReport({ dir, experiment: experiment.dir });
  const lpLine =
    'Local pairing (Experiment, held-out pairs, 23): cosine of an image\'s patches with what they read from its own report 0.815, from another case\'s report 0.815; of a report\'s words with what they read from its own image 0.628, from another image 0.628; word by word (loss.localKind "word"\'s scores) 1.629 and 1.629: the local representation does not read the other modality (every difference under 0.01): the local loss is met by each modality\'s own queries, so the cross-attention maps say nothing about the pairing (docs/METHOD.md §5)';
  assert.ok(withShortcut.markdown.includes(`- ${lpLine}`), withShortcut.markdown);
  assert.ok(withShortcut.html.includes(`<li>${xml(lpLine)}</li>`), 'report.html carries the line');
  // the words reading the image one by one is enough; a run from before the word-level scores has no such part
  writeFileSync(retrievalPath, JSON.stringify({ ...stored, localPairing: pairing([0.109, 0.109], [-0.858, -0.858], [0.739, 0.657]) }));
  assert.match(renderStudyReport({ dir, experiment: experiment.dir }).markdown, /word by word \(loss\.localKind "word"'s scores\) 0\.739 and 0\.657: the local representation reads the other modality\n/);
  writeFileSync(retrievalPath, JSON.stringify({ ...stored, localPairing: pairing([0.242, 0.151], [0.058, 0.019]) }));
  const older = renderStudyReport({ dir, experiment: experiment.dir }).markdown;
  assert.match(older, /from another image 0\.019: the local representation reads the other modality\n/);
  assert.doesNotMatch(older, /word by word/);
  writeFileSync(retrievalPath, JSON.stringify({ ...stored, localPairing: { ...pairing([0.8, 0.8], [0.6, 0.6]), text: { own: 0.6 } } }));
  assert.throws(() => renderStudyReport({ dir, experiment: experiment.dir }), /retrieval\.json: localPairing\.text must hold finite own, otherImage and difference/);
  writeFileSync(retrievalPath, JSON.stringify(stored));
  // the probe's report → image cross-attention (RUN/probe/cross-attention.json): a line per stage where the run was probed
  assert.doesNotMatch(withNb.markdown, /Report → image cross-attention/);
  mkdirSync(join(experiment.dir, 'probe'), { recursive: true });
  const xaPath = join(experiment.dir, 'probe', 'cross-attention.json');
  const summary = (cases: number, mass3d: number, massFloor3d: number, dice3d: number, pointing: number, entropy: number, massReachable = massFloor3d) => ({ cases, dice3d, mass3d, massFloor3d, massReachable, pointing, entropy });
  const xa = { format: 'mrcl-probe-cross-attention-1', stages: [{ stage: 'pretrain', grid: [8, 8, 5], rule: 'topPercent', heldOut: summary(37, 0.0023, 0.0023, 0.0067, 0, 0.91), training: summary(213, 0.0032, 0.0029, 0.0151, 0.0094, 0.9104), skipped: { noMask: 0, noFile: 0 }, cases: [] }] };
  writeFileSync(xaPath, JSON.stringify(xa));
  const withXa = renderStudyReport({ dir, experiment: experiment.dir });
  const xaLine =
    "Report → image cross-attention (Experiment, stage pretrain; each report's words' attention over the layer3 patches, averaged, scored with the topPercent rule): held-out pairs (37): mass on the tumour 0.23 % (flat map 0.23 %), 3D Dice 0.67 %, peak on the tumour 0.00 %, entropy 91.0 % of its maximum; training pairs (213): mass on the tumour 0.32 % (flat map 0.29 %), 3D Dice 1.51 %, peak on the tumour 0.94 %, entropy 91.0 % of its maximum";
  assert.ok(withXa.markdown.includes(`- ${xaLine}`), withXa.markdown);
  assert.ok(withXa.html.includes(`<li>${xml(xaLine)}</li>`), 'report.html carries the line');
  // words restricted to the head (heads.crossAttentionForeground): the flat map over the patches they can reach is named too
  writeFileSync(xaPath, JSON.stringify({ ...xa, stages: [{ ...xa.stages[0], heldOut: summary(37, 0.0064, 0.0028, 0.0233, 0, 0.756, 0.006) }] }));
  assert.match(renderStudyReport({ dir, experiment: experiment.dir }).markdown, /held-out pairs \(37\): mass on the tumour 0\.64 % \(flat map 0\.28 %; flat over the patches the words can attend to 0\.60 %\), 3D Dice 2\.33 %/);
  writeFileSync(xaPath, JSON.stringify({ ...xa, stages: [{ ...xa.stages[0], heldOut: null }] }));
  assert.match(renderStudyReport({ dir, experiment: experiment.dir }).markdown, /scored with the topPercent rule\): training pairs \(213\): /);
  writeFileSync(xaPath, JSON.stringify({ ...xa, stages: [{ ...xa.stages[0], heldOut: { ...xa.stages[0]!.heldOut, mass3d: 23 } }] }));
  assert.throws(() => renderStudyReport({ dir, experiment: experiment.dir }), (e: Error) => e.message.startsWith(xaPath) && /stage "pretrain": each pair set must be null or \{ cases, dice3d, mass3d, massFloor3d, pointing, entropy \} with shares in \[0, 1\]/.test(e.message));
  writeFileSync(xaPath, JSON.stringify({ ...xa, stages: [{ ...xa.stages[0], stage: 3 }] }));
  assert.throws(() => renderStudyReport({ dir, experiment: experiment.dir }), (e: Error) => e.message.startsWith(xaPath) && /each stage must name its "stage" and "rule"/.test(e.message));
  writeFileSync(xaPath, '{"format": "mrcl-probe-1"}');
  assert.throws(() => renderStudyReport({ dir, experiment: experiment.dir }), (e: Error) => e.message.startsWith(xaPath) && /not a probe cross-attention file/.test(e.message));
  // how far the tumour reaches into the frozen features (RUN/probe/tumour-reach.json): one line, each arm's layer3 and layer4
  rmSync(xaPath);
  assert.doesNotMatch(renderStudyReport({ dir, experiment: experiment.dir }).markdown, /Tumour reach/);
  const trPath = join(experiment.dir, 'probe', 'tumour-reach.json');
  const reach = (relative: (number | null)[], tumourShare: number) => ({ cases: 40, relative, tumourShare, tumourFraction: 0.024 });
  const tr = {
    format: 'mrcl-probe-tumour-reach-1',
    fold: 0,
    cases: Array.from({ length: 40 }, (_, i) => `int-${i}`),
    input: reach([1, 0.0234, 0.001, 0], 0.983),
    encoders: [
      { arm: 'random', variant: 'base', layer3: reach([1, 0.81, 0.53, 0.23], 0.094), layer4: reach([1, 0.84, 0.61, null], 0.076) },
      { arm: 'pretrained', variant: 'base', layer3: reach([1, 0.68, 0.4, 0.17], 0.146), layer4: reach([1, 0.68, 0.4, 0.16], 0.142) },
    ],
  };
  writeFileSync(trPath, JSON.stringify(tr));
  const withTr = renderStudyReport({ dir, experiment: experiment.dir });
  const trLine =
    "Tumour reach (Experiment; frozen encoders of fold 0, its 40 internal test cases rendered again with and without their tumour; each patch's feature change as a share of the tumour patches', 1 / 2 / ≥ 3 patches away; the tumour patches are 2.4 % of them): input 0.02 / 0.00 / 0.00; random layer3 0.81 / 0.53 / 0.23 (tumour patches' share of the squared change 9.4 %), layer4 0.84 / 0.61 / — (7.6 %); pretrained layer3 0.68 / 0.40 / 0.17 (tumour patches' share of the squared change 14.6 %), layer4 0.68 / 0.40 / 0.16 (14.2 %)";
  assert.ok(withTr.markdown.includes(`- ${trLine}`), withTr.markdown);
  assert.ok(withTr.html.includes(`<li>${xml(trLine)}</li>`), 'report.html carries the line');
  writeFileSync(trPath, JSON.stringify({ ...tr, encoders: [{ ...tr.encoders[0], layer3: reach([1, 0.8], 0.1) }] }));
  assert.throws(() => renderStudyReport({ dir, experiment: experiment.dir }), (e: Error) => e.message.startsWith(trPath) && /each encoder must name its "arm" and hold "layer3" and "layer4" summaries \(4 relative changes/.test(e.message));
  writeFileSync(trPath, JSON.stringify({ ...tr, input: reach([1, 0, 0, 0], 1.5) }));
  assert.throws(() => renderStudyReport({ dir, experiment: experiment.dir }), (e: Error) => e.message.startsWith(trPath) && /not a probe tumour-reach file/.test(e.message));
  rmSync(join(experiment.dir, 'probe'), { recursive: true });
  writeFileSync(retrievalPath, JSON.stringify({ ...stored, byLocation: { cases: 4, counts: { supratentorial: 4 }, imageToReport: { meanSameAbove: 1 } } }));
  assert.throws(() => renderStudyReport({ dir, experiment: experiment.dir }), /retrieval\.json: byLocation must hold counts and, for imageToReport, reportToImage and chance, meanSameAbove and meanOtherAbove/);
  writeFileSync(retrievalPath, JSON.stringify({ ...stored, locationNeighbours: { evaluated: { image: nb(1.5, 0.4, 23), report: nb(0.4, 0.4, 23) }, training: null } }));
  assert.throws(() => renderStudyReport({ dir, experiment: experiment.dir }), /retrieval\.json: locationNeighbours\.evaluated\.image must hold an agreement and a chance in \[0, 1\]/);
  // the global embeddings (retrieval.json globalSpread): a line of its own, and where they are collapsed a warning naming the heads' ε
  const spread = (image: number, report: number, ownPair: number, otherPair: number) => ({ cases: 23, image, report, ownPair, otherPair });
  writeFileSync(retrievalPath, JSON.stringify({ ...stored, globalSpread: spread(0.312, 0.4024, 0.551, 0.196) }));
  const spreadOut = renderStudyReport({ dir, experiment: experiment.dir });
  const gsLine = "Global embeddings (Experiment, held-out pairs, 23): mean cosine of different cases' embeddings 0.312 (images), 0.402 (reports); an image with its own report 0.551, with another case's 0.196: not collapsed";
  assert.ok(spreadOut.markdown.includes(`- ${gsLine}`), spreadOut.markdown);
  assert.ok(spreadOut.html.includes(`<li>${xml(gsLine)}</li>`), 'report.html carries the line');
  assert.doesNotMatch(spreadOut.markdown, /global embeddings are collapsed/);
  const collapsedSpread = spread(0.9955, 0.9983, 0.9968, 0.9967);
  writeFileSync(retrievalPath, JSON.stringify({ ...stored, globalSpread: collapsedSpread }));
  const collapsedOut = renderStudyReport({ dir, experiment: experiment.dir });
  assert.ok(collapsedOut.markdown.includes("- Global embeddings (Experiment, held-out pairs, 23): mean cosine of different cases' embeddings 0.996 (images), 0.998 (reports); an image with its own report 0.997, with another case's 0.997: collapsed (a mean cosine of 0.99 or more): retrieval and the global loss cannot leave chance; see the warning"), collapsedOut.markdown);
  // the fake run has no config.json: the hint is the one for heads that do not standardise
  const warning = `Experiment: ${collapseWarning('pretrain', 'held-out', collapsedSpread, null)}`;
  assert.match(collapsedOut.markdown, /## Warnings\n\n(.*\n)*- Experiment: pretrain: the global embeddings are collapsed: .*heads\.globalInputNorm "batch" standardises/);
  assert.ok(collapsedOut.html.includes(xml(warning)), 'report.html carries the warning');
  // with the heads standardising (the studies' config), the warning names the ε the run used; a config from before the option used PyTorch's 1e-5
  const configPath = join(experiment.dir, 'config.json');
  for (const [heads, eps] of [[{ globalInputNorm: 'batch', globalInputNormEps: 1e-10 }, '1e-10'], [{ globalInputNorm: 'batch' }, '1e-5']] as const) {
    writeFileSync(configPath, JSON.stringify({ heads }));
    const md = renderStudyReport({ dir, experiment: experiment.dir }).markdown;
    assert.match(md, new RegExp(`- Experiment: pretrain: the global embeddings are collapsed: .*standardise their inputs with ε ${eps}; `));
    assert.doesNotMatch(md, /the location weighting \(λ/, 'a config without a loss section names no weighting');
  }
  // the run's loss weights same-location negatives: the warning names it (docs/METHOD.md §5); the plain triplet's does not
  writeFileSync(configPath, JSON.stringify({ heads: { globalInputNorm: 'batch' }, loss: { useLocation: true, locationMode: 'scale', locationWeight: 0.5 } }));
  assert.match(renderStudyReport({ dir, experiment: experiment.dir }).markdown, /- Experiment: pretrain: the global embeddings are collapsed: .*; the location weighting \(λ 0\.5\) lowers the global loss of pairs not yet aligned by collapsing them/);
  writeFileSync(configPath, JSON.stringify({ heads: { globalInputNorm: 'batch' }, loss: { useLocation: false, locationMode: 'scale', locationWeight: 0.5 } }));
  assert.doesNotMatch(renderStudyReport({ dir, experiment: experiment.dir }).markdown, /the location weighting \(λ/);
  rmSync(configPath);
  writeFileSync(retrievalPath, JSON.stringify({ ...stored, globalSpread: { ...collapsedSpread, report: 1.5 } }));
  assert.throws(() => renderStudyReport({ dir, experiment: experiment.dir }), /retrieval\.json: globalSpread must hold cases \(at least 2\) and the image, report, ownPair and otherPair mean cosines in \[-1, 1\]/);
  writeFileSync(retrievalPath, JSON.stringify(stored));
  // results.json's warnings come back in both files
  const doc = JSON.parse(readFileSync(join(experiment.dir, 'results.json'), 'utf8'));
  const warnings: string[] = doc.warnings ?? [];
  writeFileSync(join(experiment.dir, 'results.json'), JSON.stringify({ ...doc, warnings: [...warnings, 'Warning: a degenerate test warning'] }));
  const again = renderStudyReport({ dir, experiment: experiment.dir });
  assert.match(again.markdown, /## Warnings\n\n(.*\n)*- Experiment: Warning: a degenerate test warning/);
  assert.ok(again.html.includes('Experiment: Warning: a degenerate test warning'));
});

test('a study folder: the runs from study.json; the stored recall points without ranks; bad input named', () => {
  const experiment = fakeRun('experiment', [RANDOM, GOOD_CL], { retrieval: fakeRetrieval('held-out', goodRanks, false) });
  const location = fakeRun('experiment', [{ ...GOOD_CL, separation: 0 }]);
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-study-'));
  assert.throws(() => renderStudyReport(dir), new RegExp(`${join(dir, 'study.json')}: missing`));
  writeFileSync(join(dir, 'study.json'), JSON.stringify({ steps: [{ name: 'experiment', runDir: relative(dir, experiment.dir) }, { name: 'location-excluded', runDir: location.dir }, { name: 'ablation', runDir: 'not-yet' }], scale: 'quick', seed: 1 }));
  const report = renderStudyReport(dir);
  assert.ok(existsSync(join(dir, 'report.md')) && existsSync(join(dir, 'report.html')));
  assert.equal(report.verdict.find((c) => c.id === 'location-weighting')!.status, 'reproduced');
  assert.equal(report.verdict.find((c) => c.id === 'ablation-order')!.status, 'not measured', 'an unfinished run is left out');
  assert.equal(report.verdict.find((c) => c.id === 'auc-external-medicalnet')!.status, 'not measured', 'no MedicalNet arm');
  const r = JSON.parse(readFileSync(join(experiment.dir, 'pretrain', 'retrieval.json'), 'utf8'));
  const series = svgOf(join(dir, 'figures', 'retrieval.svg')).filter((e) => e.attrs.class === 'recall');
  assert.equal(series[0]!.attrs['data-points'], `1:${r['recall@1'].imageToReport} 5:${r['recall@5'].imageToReport} 10:${r['recall@10'].imageToReport}`);
  assert.match(report.markdown, /recall@1, 5 and 10 as stored/);
  writeFileSync(join(dir, 'study.json'), JSON.stringify({ steps: [{ name: 'ablation', runDir: 'x' }] }));
  assert.throws(() => renderStudyReport(dir), /study\.json: no "experiment" step/);
  writeFileSync(join(experiment.dir, 'pretrain', 'retrieval.json'), JSON.stringify({ ...r, ranks: { imageToReport: [1], reportToImage: [1] } }));
  assert.throws(() => renderStudyReport({ dir, experiment: experiment.dir }), /retrieval\.json: ranks\.imageToReport must list 40 ranks/);
});

test('the MedicalNet arm is named the stand-in when its checkpoint carries the record', () => {
  const experiment = fakeRun('experiment', [RANDOM, MEDICALNET, GOOD_CL]);
  const pth = join(experiment.dir, 'standin.pth');
  writeFileSync(`${pth}.json`, JSON.stringify({ kind: STANDIN_KIND, description: STANDIN_DESCRIPTION, checkpoint: pth, training: { epochs: 3 }, cohort: { train: 12 } }));
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-study-'));
  const r = renderStudyReport({ dir, experiment: experiment.dir, standin: pth });
  assert.match(r.markdown, /> \*\*Note:\*\* The MedicalNet arm is initialised from a synthetic stand-in, not from MedicalNet's released Med3D weights: synthetic stand-in for MedicalNet, not Med3D weights \(checkpoint .*standin\.pth; trained 3 epochs on 12 synthetic cases\)/);
  assert.ok(r.html.includes('initialised from a synthetic stand-in'));
  // the experiment's config names it just as well; without a record (a Med3D file) nothing is said
  writeFileSync(join(experiment.dir, 'config.json'), JSON.stringify({ image: { medicalNet: pth }, data: {} }));
  assert.match(renderStudyReport({ dir, experiment: experiment.dir }).markdown, /synthetic stand-in/);
  assert.doesNotMatch(renderStudyReport({ dir, experiment: experiment.dir, standin: join(experiment.dir, 'med3d.pth') }).markdown, /synthetic stand-in/);
});

test("the study's scale beside the paper's: from the experiment run's config, split, attention grid and predictions; moving with them; absent without a config", () => {
  const experiment = fakeRun('experiment', [RANDOM, MEDICALNET, GOOD_CL]);
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-study-'));
  const render = () => renderStudyReport({ dir, experiment: experiment.dir });
  const heading = "## This study's scale and the paper's";
  /** the section's table rows, cells unescaped */
  const rows = (md: string): string[][] => {
    const lines = md.split('\n');
    const at = lines.indexOf(heading);
    assert.ok(at >= 0, 'the section is there');
    const table = lines.slice(at).filter((l, i, all) => l.startsWith('| ') && all.slice(0, i).some((x) => x.startsWith('| --- ')));
    return table.slice(0, 7).map((l) => l.slice(2, -2).split(' | ').map((c) => c.replace(/\\(.)/g, '$1')));
  };
  // a run folder without config.json has nothing to read the scale from
  assert.ok(!render().markdown.includes(heading));
  const config = (over: object) => writeFileSync(join(experiment.dir, 'config.json'), JSON.stringify(resolveConfig({ data: { shape: [24, 24, 16] }, image: { width: 2 }, text: { layers: 1, hidden: 16 }, pretrain: { epochs: 3, lr: 3e-4 }, finetune: { epochs: 7, lr: 2e-4 }, ...over })));
  config({});
  mkdirSync(join(experiment.dir, 'pretrain'), { recursive: true });
  const split = join(experiment.dir, 'pretrain', 'split.json');
  writeFileSync(split, JSON.stringify({ heldOut: 0.15, seed: 1, train: Array.from({ length: 17 }, (_, i) => `int-${i}`), heldOutIds: ['int-99'] }));
  const r = render();
  // hand-derived: 24·24·16 = 9,216 voxels, 8,928,000 / 9,216 = 968.75; widths 64/2 = 32 and 768/16 = 48; the fixture's folds test 10 internal cases each (50 in all) and share 12 external ones
  const paper = [
    '240×240×155: 8,928,000 voxels',
    '8×8×5',
    'ResNet-18-A, width 64, self-attention on layer4',
    'Clinical-Longformer, pretrained on clinical notes: 12 layers, hidden 768, the last 2 trained',
    "341 pairs, 340–400 epochs (the authors' code 800), lr 1e-4",
    '204 cases in 5 folds, 20 epochs, lr 1e-4',
    '76 cases',
  ];
  const expected = [
    ['Input volume', "24×24×16: 9,216 voxels, 1/968.8 of the paper's"],
    ['Layer4 attention grid', '4×4×3'],
    ['Image encoder', "ResNet-18-A, width 2 (1/32 of the paper's channels per layer), self-attention on layer4"],
    ['Text encoder', "Longformer trained from scratch: 1 layer, hidden 16 (1/48 of the paper's)"],
    ['Pretraining', '17 pairs, 3 epochs, lr 3e-4'],
    ['Fine-tuning', '50 cases in 5 folds, 7 epochs, lr 2e-4'],
    ['External cohort', '12 cases with a marker'],
  ].map((row, i) => [...row, paper[i]!]);
  assert.deepEqual(rows(r.markdown), expected);
  // report.html holds the same table
  for (const row of expected) assert.ok(r.html.includes(`<tr>${row.map((c) => `<td>${xml(c)}</td>`).join('')}</tr>`), row[0]);
  // the cells move with the run: the paper's width, a pretrained text encoder, another split
  config({ image: { width: 64 }, text: { pretrained: 'clinical-longformer' }, data: { shape: [240, 240, 155] } });
  writeFileSync(split, JSON.stringify({ train: ['a', 'b'] }));
  const moved = rows(render().markdown);
  assert.equal(moved[0]![1], "240×240×155: 8,928,000 voxels, as the paper's");
  assert.equal(moved[2]![1], "ResNet-18-A, width 64 (as the paper's channels per layer), self-attention on layer4");
  assert.equal(moved[3]![1], 'pretrained Longformer (text.pretrained clinical-longformer)');
  assert.equal(moved[4]![1], '2 pairs, 3 epochs, lr 3e-4');
  // a pretrained folder readable where the report is rendered: its size from its config.json (the fixture: 2 layers, hidden 32; 768/32 = 24), and the layers trained
  const tiny = resolve('test/fixtures/longformer/tiny-longformer');
  config({ text: { pretrained: tiny, trainableLayers: 1 } });
  assert.equal(rows(render().markdown)[3]![1], `pretrained Longformer (text.pretrained ${tiny}): 2 layers, hidden 32 (1/24 of the paper's), the last 1 trained`);
  config({ text: { pretrained: tiny, trainableLayers: 0 } });
  assert.equal(rows(render().markdown)[3]![1], `pretrained Longformer (text.pretrained ${tiny}): 2 layers, hidden 32 (1/24 of the paper's), frozen`);
  // one that is not a Longformer this engine reads is named alone
  const notModel = mkdtempSync(join(tmpdir(), 'mrcl-text-'));
  writeFileSync(join(notModel, 'config.json'), JSON.stringify({ model_type: 'bert' }));
  config({ text: { pretrained: notModel } });
  assert.equal(rows(render().markdown)[3]![1], `pretrained Longformer (text.pretrained ${notModel})`);
  // a config.json written by hand (fields missing) reads "not recorded", never a crash; without split.json the pairs are not recorded
  writeFileSync(join(experiment.dir, 'config.json'), JSON.stringify({ data: {} }));
  rmSync(split);
  const partial = rows(render().markdown);
  assert.deepEqual(partial.map((row) => row[1]), ['not recorded', '4×4×3', 'not recorded', 'not recorded', 'pairs not recorded, schedule not recorded', '50 cases, schedule not recorded', '12 cases with a marker']);
  // a split.json that is not one names the file
  writeFileSync(split, JSON.stringify({ train: 'all' }));
  assert.throws(render, (e: Error) => e.message.includes(split) && /"train" must be the list of the pretraining's case ids/.test(e.message));
});

test('rocCurve: one point per distinct score (ties as one step), area = rocAuc; boxStats by numpy percentiles', () => {
  // sklearn.metrics.roc_curve(y, s, drop_intermediate=False), its (inf) threshold point first
  const cases: [number[], (0 | 1)[], number[], number[]][] = [
    [[0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1], [0, 0, 0.5, 0.5, 1], [0, 0.5, 0.5, 1, 1]],
    [[0.5, 0.5, 0.2, 0.8], [1, 0, 0, 1], [0, 0, 0.5, 1], [0, 0.5, 1, 1]],
    [[0.3, 0.3, 0.3], [1, 0, 1], [0, 1], [0, 1]],
  ];
  for (const [s, y, fpr, tpr] of cases) {
    const c = rocCurve(s, y);
    assert.deepEqual(c, { fpr, tpr });
    assert.ok(Math.abs(trapezoidArea(c.fpr, c.tpr) - rocAuc(s, y)) < 1e-12);
  }
  assert.throws(() => rocCurve([0.1, 0.2], [1, 1]), /rocCurve: the curve is undefined with only one class/);
  // np.percentile([1, 2, 3, 4, 100], [25, 50, 75]) = [2, 3, 4]; 100 lies beyond 4 + 1.5 × 2
  assert.deepEqual(boxStats([100, 3, 1, 4, 2]), { n: 5, q1: 2, median: 3, q3: 4, low: 1, high: 4, outliers: [100] });
});

test('the attention mass (beyond the verdict): CL against random and MedicalNet where the runs recorded it, moving with the arms; absent otherwise', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-study-'));
  let experiment: FakeRun;
  const render = (cl: number) => {
    experiment = fakeRun('experiment', [{ ...RANDOM, mass: 0.01 }, { ...MEDICALNET, mass: 0.015 }, { ...GOOD_CL, mass: cl }], { retrieval: fakeRetrieval('held-out', goodRanks) });
    return renderStudyReport({ dir, experiment: experiment.dir });
  };
  const better = render(0.05);
  // its figure: per arm the pooled internal cases' mass and the flat map's, box plots of the predictions
  const boxes = svgOf(join(dir, 'figures', 'mass-internal.svg')).filter((e) => e.attrs.class === 'box');
  assert.equal(boxes.length, 6, 'three arms × mass, flat map');
  for (const b of boxes) {
    const arm = { 'Random init': 'random', MedicalNet: 'medicalnet', 'Proposed CL': 'pretrained' }[b.attrs['data-arm']!]!;
    const cases = pooled(experiment!, arm, 'internal').filter((c) => typeof c.mass3d === 'number');
    const col = b.attrs['data-kind'] === 'mass in tumour' ? cases.map((c) => c.mass3d!) : cases.map(() => 0.004);
    assert.equal(Number(b.attrs['data-n']), col.length);
    assert.ok(Math.abs(Number(b.attrs['data-median']) - numpyPercentile(col, 50)) < 1e-12, `${arm} ${b.attrs['data-kind']} median`);
  }
  assert.deepEqual(better.mapChecks.map((c) => [c.id, c.status]), [['mass3d-internal-random', 'reproduced'], ['mass3d-internal-medicalnet', 'reproduced']]);
  assert.match(better.mapChecks[0]!.detail, /^internal Map mass in tumour: Proposed CL \d\.\d% vs Random init \d\.\d%, difference \+4\.0 points \(paper direction, significant; paired t-test over 5 folds, p /);
  assert.match(better.mapChecks[0]!.detail, /difference 95% CI \+\d\.\d points to \+\d\.\d points \(paired bootstrap, cases resampled within 5 folds\)/);
  assert.match(better.markdown, /\n## Attention mass in the tumour \(beyond the verdict\)\n\nThe share of each attention map's mass on the tumour's voxels/);
  assert.ok(better.markdown.indexOf('## Attention mass') > better.markdown.indexOf('## Verdict') && better.markdown.indexOf('## Attention mass') < better.markdown.indexOf('## Runs'));
  assert.match(better.html, /<h2>Attention mass in the tumour \(beyond the verdict\)<\/h2>/);
  // the verdict itself is unchanged by the extra comparisons
  assert.equal(better.verdict.length, 7);
  const worse = render(0.005);
  assert.deepEqual(worse.mapChecks.map((c) => c.status), ['not reproduced', 'not reproduced']);
  assert.ok(worse.mapChecks[0]!.difference! < 0);
  // runs made before the mass was saved: no section, no figure
  const { report } = study();
  assert.ok(!report.figures.some((f) => f.endsWith('mass-internal.svg')));
  assert.deepEqual(report.mapChecks, []);
  assert.doesNotMatch(report.markdown, /Attention mass/);
});

test("the probe's start of pretraining (RUN/probe/start): CL's pretrained encoder against the one its pretraining began with, on the probe's AUC, Dice and mass; moving with them; absent without the folder", () => {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-study-'));
  const render = (probeCl: typeof GOOD_CL, startCl: typeof GOOD_CL | undefined) => {
    const experiment = fakeRun('experiment', [RANDOM, MEDICALNET, GOOD_CL], { retrieval: fakeRetrieval('held-out', goodRanks) });
    fakeRun('experiment', [RANDOM, MEDICALNET, probeCl], { dir: join(experiment.dir, 'probe') });
    // the start folder holds the CL arm only, on the same folds and cases
    if (startCl) fakeRun('experiment', [startCl], { dir: join(experiment.dir, 'probe', 'start') });
    return renderStudyReport({ dir, experiment: experiment.dir });
  };
  const ids = ['probe-auc-internal-start', 'probe-dice3d-internal-start', 'probe-mass3d-internal-start'];
  const moved = (r: ReturnType<typeof render>) => r.probeChecks.filter((c) => c.id.endsWith('-start'));
  const better = render({ ...GOOD_CL, mass: 0.05 }, { ...BAD_CL, mass: 0.003 });
  assert.deepEqual(moved(better).map((c) => [c.id, c.status]), ids.map((id) => [id, 'reproduced']));
  assert.equal(better.probeChecks.length, 4 + 4 + 3, 'the other probe claims are unchanged');
  assert.match(moved(better)[2]!.claim, /^Linear probe of the frozen encoders \(beyond the verdict\): pretraining moves CL's frozen attention maps' mass onto the tumour \(internal, after vs before pretraining\)$/);
  assert.match(moved(better)[0]!.detail, /^internal AUC: Proposed CL \d\.\d{3} vs Proposed CL before pretraining \d\.\d{3}, difference \+\d\.\d{3} \(paper direction, significant; paired t-test over 5 folds, p .*difference 95% CI/);
  // a pretraining that made the encoder worse turns every comparison
  const worse = render({ ...BAD_CL, mass: 0.003 }, { ...GOOD_CL, mass: 0.05 });
  assert.deepEqual(moved(worse).map((c) => [c.id, c.status]), ids.map((id) => [id, 'not reproduced']));
  assert.ok(moved(worse).every((c) => c.difference! < 0));
  // the same encoder before and after: no difference
  const same = render({ ...GOOD_CL, mass: 0.05 }, { ...GOOD_CL, mass: 0.05 });
  assert.ok(moved(same).every((c) => c.status === 'not reproduced' && Math.abs(c.difference!) < 1e-12));
  // no start folder (a probe made before it existed): none of these claims
  assert.deepEqual(moved(render({ ...GOOD_CL, mass: 0.05 }, undefined)), []);
});

test('the linear probe (beyond the verdict): CL against random and MedicalNet on the probe\'s internal AUC and the external check\'s, moving with the arms; absent without a probe; a failed probe step is not measured', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-study-'));
  const render = (probeCl: typeof GOOD_CL, withCheck: boolean) => {
    const experiment = fakeRun('experiment', [RANDOM, MEDICALNET, GOOD_CL], { retrieval: fakeRetrieval('held-out', goodRanks) });
    // the probe's folders are laid out like a run's, under the experiment run
    fakeRun('experiment', [RANDOM, MEDICALNET, probeCl], { dir: join(experiment.dir, 'probe') });
    if (withCheck) fakeRun('experiment', [RANDOM, MEDICALNET, probeCl], { dir: join(experiment.dir, 'probe', 'external', 'external-check'), seed: 2 });
    return { experiment, report: renderStudyReport({ dir, experiment: experiment.dir }) };
  };
  const { report: better } = render({ ...GOOD_CL, mass: 0.05 }, true);
  assert.deepEqual(better.probeChecks.map((c) => [c.id, c.status]), [
    ['probe-auc-internal-random', 'reproduced'],
    ['probe-auc-internal-medicalnet', 'reproduced'],
    ['probe-auc-check-random', 'reproduced'],
    ['probe-auc-check-medicalnet', 'reproduced'],
    // the frozen encoders' maps (Dice recorded by every arm, mass by CL only: the others' mass is not measured)
    ['probe-dice3d-internal-random', 'reproduced'],
    ['probe-mass3d-internal-random', 'not measured'],
    ['probe-dice3d-internal-medicalnet', 'reproduced'],
    ['probe-mass3d-internal-medicalnet', 'not measured'],
  ]);
  assert.match(better.probeChecks[4]!.claim, /^Linear probe of the frozen encoders \(beyond the verdict\): CL's frozen encoder's attention maps overlap the tumour more than random initialisation's: internal 3D attention Dice before fine-tuning$/);
  assert.match(better.probeChecks[4]!.detail, /^internal 3D Dice Score: Proposed CL \d+\.\d% vs Random init \d\.\d%, difference \+\d+\.\d points \(paper direction, significant/);
  assert.match(better.probeChecks[0]!.detail, /^internal AUC: Proposed CL \d\.\d{3} vs Random init \d\.\d{3}, difference \+\d\.\d{3} \(paper direction, significant; paired t-test over 5 folds, p /);
  assert.match(better.probeChecks[2]!.detail, /^Second external cohort, \d+ cases: external AUC: Proposed CL/);
  assert.match(better.markdown, /\n## Linear probe of the frozen encoders \(beyond the verdict\)\n\nHow much of the marker each arm's encoder holds before fine-tuning/);
  assert.ok(better.markdown.indexOf('## Linear probe') > better.markdown.indexOf('## Verdict') && better.markdown.indexOf('## Linear probe') < better.markdown.indexOf('## Runs'));
  assert.match(better.html, /<h2>Linear probe of the frozen encoders \(beyond the verdict\)<\/h2>/);
  assert.equal(better.verdict.length, 7, 'the verdict is unchanged by the probe');
  // a worse CL probe flips the comparisons; without the external check's folder the external claim is the study's own cohort's
  const { report: worse, experiment } = render(BAD_CL, false);
  assert.deepEqual(worse.probeChecks.map((c) => [c.id, c.status]), [
    ['probe-auc-internal-random', 'not reproduced'],
    ['probe-auc-internal-medicalnet', 'not reproduced'],
    ['probe-auc-external-random', 'not reproduced'],
    ['probe-auc-external-medicalnet', 'not reproduced'],
    ['probe-dice3d-internal-random', 'not reproduced'],
    ['probe-dice3d-internal-medicalnet', 'not reproduced'],
  ]);
  assert.ok(worse.probeChecks[0]!.difference! < 0);
  assert.ok(worse.probeChecks[4]!.difference! < 0, 'a CL encoder whose maps miss the tumour: the Dice comparison turns');
  // a probe made before the maps were scored: the AUC comparisons only
  const older = render({ ...GOOD_CL, dice: null }, false).report;
  assert.deepEqual(older.probeChecks.map((c) => c.id), ['probe-auc-internal-random', 'probe-auc-internal-medicalnet', 'probe-auc-external-random', 'probe-auc-external-medicalnet']);
  // the probe's numbers are its own folder's, not the fine-tuned arms': the experiment's CL is the good one
  assert.ok(worse.verdict.find((c) => c.id === 'auc-external-random')!.difference! > 0);
  // a probe step that failed: its claims are "not measured" with the reason
  const failed = renderStudyReport({ dir, experiment: experiment.dir, probeError: 'no such encoder' });
  assert.deepEqual(failed.probeChecks.map((c) => c.status), ['not measured', 'not measured', 'not measured', 'not measured']);
  assert.match(failed.probeChecks[0]!.detail, /the probe cannot be read: no such encoder/);
  // no probe: no section
  const { report } = study();
  assert.deepEqual(report.probeChecks, []);
  assert.doesNotMatch(report.markdown, /Linear probe/);
});

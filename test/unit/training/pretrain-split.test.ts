// pretrain.heldOut: internal pairs kept out of pretraining (and the
// tokenizer) for held-out retrieval, per location, by a seeded hash of the id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { splitPretrainingCases } from '../../../src/engine/training/dataset';
import type { CaseRecord } from '../../../src/engine/data/manifest';
import { loadConfig } from '../../../src/engine/config/resolve';
import { runStudy } from '../../../src/engine/experiment/study';
import { pretrainPlan } from '../../../src/engine/experiment/units';
import { pretrainSteps } from '../../../src/engine/training/pretrain';
import { tinyWorkspace } from '../experiment/helpers';
import { cleanReport } from '../../../src/engine/text/clean';
import { studyConfigs } from '../../../src/engine/study/scales';
import type { EngineEvent } from '../../../src/shared/events';

const cases = (n: number, locations: string[]): CaseRecord[] =>
  Array.from({ length: n }, (_, i) => ({ id: `c${i}`, image: `images/c${i}.nii.gz`, cohort: 'internal', location: locations[i % locations.length] }) as CaseRecord);

test('heldOut 0 keeps every pair in training (the paper)', () => {
  const all = cases(10, ['a', 'b']);
  const s = splitPretrainingCases(all, 0, 1);
  assert.deepEqual(s.train, all);
  assert.deepEqual(s.heldOut, []);
});

test('round(heldOut × n) per location, disjoint, order-independent, and seeded', () => {
  const all = cases(40, ['supra', 'supra', 'infra', 'trans']); // 20 supra, 10 infra, 10 trans
  const s = splitPretrainingCases(all, 0.2, 7);
  const count = (xs: CaseRecord[], loc: string) => xs.filter((c) => c.location === loc).length;
  assert.deepEqual([count(s.heldOut, 'supra'), count(s.heldOut, 'infra'), count(s.heldOut, 'trans')], [4, 2, 2]);
  assert.equal(s.train.length + s.heldOut.length, 40);
  assert.equal(new Set([...s.train, ...s.heldOut].map((c) => c.id)).size, 40);
  // the manifest's order does not matter; the training pairs keep it
  const reversed = splitPretrainingCases([...all].reverse(), 0.2, 7);
  assert.deepEqual(reversed.heldOut.map((c) => c.id).sort(), s.heldOut.map((c) => c.id).sort());
  assert.deepEqual(s.train.map((c) => c.id), all.filter((c) => !s.heldOut.includes(c)).map((c) => c.id));
  // another seed, another draw
  assert.notDeepEqual(splitPretrainingCases(all, 0.2, 8).heldOut.map((c) => c.id), s.heldOut.map((c) => c.id));
  // adding cases never moves an existing case into the held-out set unless it outranks … it stays deterministic per id
  assert.deepEqual(splitPretrainingCases(all, 0.2, 7).heldOut, s.heldOut);
});

test('a location keeps at least one training pair; out-of-range fractions are refused', () => {
  const s = splitPretrainingCases(cases(3, ['a', 'a', 'b']), 0.5, 1); // a: 2 → 1 held out; b: 1 → 0
  assert.equal(s.heldOut.length, 1);
  assert.equal(s.heldOut[0]!.location, 'a');
  assert.throws(() => splitPretrainingCases(cases(4, ['a']), 0.6, 1), /pretrain\.heldOut must be in \[0, 0\.5\], got 0\.6/);
});

test('a pretraining run with heldOut records its split and trains on the rest only', { timeout: 300_000 }, async () => {
  const ws = await tinyWorkspace({ pretrain: { heldOut: 0.25, batchSize: 4 } }, { internal: 16, external: 2 });
  const { config, baseDir } = loadConfig(ws.configPath);
  const events: EngineEvent[] = [];
  const outcome = await runStudy({ kind: 'pretrain', config, baseDir, plan: pretrainPlan(), emit: (e) => events.push(e) });
  assert.equal(outcome.status, 'done', outcome.error);
  const split = JSON.parse(readFileSync(join(outcome.runDir!, 'pretrain', 'split.json'), 'utf8')) as { train: string[]; heldOutIds: string[]; heldOut: number };
  // the tiny config's 32 word slots hold fewer words than these reports have: a warning with the counts of the training reports
  const words = split.train.map((id) => cleanReport(readFileSync(join(ws.dir, 'cohort', 'reports', `${id}.txt`), 'utf8')).split(/\s+/).filter(Boolean).length);
  assert.equal(config.text.maxWords, 32);
  const over = words.filter((n) => n > 32).length;
  assert.ok(over > 0);
  // …and the study's word slots hold whole reports of the generator
  const studyWords = studyConfigs('quick', 1).experiment!.text!.maxWords!;
  assert.ok(Math.max(...words) < studyWords, `longest report ${Math.max(...words)} words, the study keeps ${studyWords}`);
  const warns = events.filter((e): e is Extract<EngineEvent, { type: 'log' }> => e.type === 'log' && e.level === 'warn').map((e) => e.message);
  assert.ok(
    warns.includes(
      `pretrain: ${over} of ${split.train.length} training reports have more words than text.maxWords (32; the longest has ${Math.max(...words)}): their later words are left out of the local representation and the local loss (the global representation still reads them); set text.maxWords to at least ${Math.max(...words)} to keep whole reports, as the paper does`,
    ),
    warns.join('\n'),
  );
  assert.equal(split.heldOut, 0.25);
  assert.ok(split.heldOutIds.length >= 3, `held out ${split.heldOutIds.length}`);
  assert.equal(split.train.length + split.heldOutIds.length, 16);
  assert.ok(!split.train.some((id) => split.heldOutIds.includes(id)));
  const steps = readFileSync(join(outcome.runDir!, 'events.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"type":"step"')).length;
  assert.equal(steps, pretrainSteps(config, split.train.length));
  assert.notEqual(steps, pretrainSteps(config, 16), 'the held-out pairs are not trained on');
  assert.ok(readdirSync(join(outcome.runDir!, 'pretrain')).includes('split.json'));
  // retrieval and zero-shot location on the held-out pairs only
  const retrieval = JSON.parse(readFileSync(join(outcome.runDir!, 'pretrain', 'retrieval.json'), 'utf8')) as { pairs: string; cases: number; chance: Record<string, number> };
  assert.equal(retrieval.pairs, 'held-out');
  assert.equal(retrieval.cases, split.heldOutIds.length);
  assert.equal(retrieval.chance['recall@1'], 1 / split.heldOutIds.length);
  // the local representation's reading of the other modality, on the same held-out pairs (explain/local-pairing.ts)
  const pairing = (retrieval as unknown as { localPairing: { cases: number; image: Record<string, number>; text: Record<string, number>; words: Record<string, number> } }).localPairing;
  assert.equal(pairing.cases, split.heldOutIds.length);
  for (const side of [pairing.image, pairing.text]) for (const v of Object.values(side)) assert.ok(Number.isFinite(v) && Math.abs(v) <= 1 + 1e-6);
  assert.ok(Math.abs(pairing.image.difference - (pairing.image.own! - pairing.image.otherReport!)) < 1e-9);
  // word by word: a log-sum-exp of cosines, at most 1 + ln(words)/γ
  for (const v of Object.values(pairing.words)) assert.ok(Number.isFinite(v), JSON.stringify(pairing.words));
  assert.ok(Math.abs(pairing.words.difference - (pairing.words.own! - pairing.words.otherImage!)) < 1e-9);
  // the misses split by location: the held-out cases' own locations, and the two parts add up to each rank
  const full = retrieval as unknown as {
    ranks: Record<'imageToReport' | 'reportToImage', number[]>;
    byLocation: { cases: number; counts: Record<string, number> } & Record<'imageToReport' | 'reportToImage', { sameAbove: number[]; otherAbove: number[] }>;
  };
  const manifest = JSON.parse(readFileSync(join(ws.dir, 'cohort', 'manifest.json'), 'utf8')) as { cases: CaseRecord[] };
  const heldCounts: Record<string, number> = {};
  for (const c of manifest.cases.filter((c) => split.heldOutIds.includes(c.id))) heldCounts[c.location!] = (heldCounts[c.location!] ?? 0) + 1;
  assert.deepEqual(full.byLocation.counts, heldCounts);
  assert.equal(full.byLocation.cases, split.heldOutIds.length);
  for (const d of ['imageToReport', 'reportToImage'] as const) {
    full.ranks[d].forEach((rank, i) => assert.equal(full.byLocation[d].sameAbove[i]! + full.byLocation[d].otherAbove[i]! + 1, rank, `${d} ${i}`));
  }
  const metricsEvent = events.find((e): e is Extract<EngineEvent, { type: 'metrics' }> => e.type === 'metrics' && e.stage === 'pretrain' && 'heldOutPairs' in e.metrics);
  assert.ok(metricsEvent && Number.isFinite(metricsEvent.metrics['imageToReport.sameLocationAbove']) && Number.isFinite(metricsEvent.metrics['chance.otherLocationAbove']));
  // location neighbours: held-out and training pairs, each with its own locations' chance
  type Nb = { n: number; agreement: number; chance: number; counts: Record<string, number> };
  const ln = (retrieval as unknown as { locationNeighbours: Record<'evaluated' | 'training', Record<'image' | 'report', Nb>> }).locationNeighbours;
  const chanceOf = (counts: Record<string, number>, n: number) => Object.values(counts).reduce((s, k) => s + (k * (k - 1)) / (n - 1), 0) / n;
  const trainCounts: Record<string, number> = {};
  for (const c of manifest.cases.filter((c) => split.train.includes(c.id))) trainCounts[c.location!] = (trainCounts[c.location!] ?? 0) + 1;
  for (const [set, counts, n] of [['evaluated', heldCounts, split.heldOutIds.length], ['training', trainCounts, split.train.length]] as const) {
    for (const m of ['image', 'report'] as const) {
      const v = ln[set][m];
      assert.equal(v.n, n, `${set} ${m}`);
      assert.deepEqual(v.counts, counts, `${set} ${m}`);
      assert.ok(Math.abs(v.chance - chanceOf(counts, n)) <= 1e-12, `${set} ${m} chance`);
      assert.ok(v.agreement >= 0 && v.agreement <= 1);
    }
  }
  assert.equal(metricsEvent.metrics['locationNeighbours.image'], ln.evaluated.image.agreement);
  assert.equal(metricsEvent.metrics['locationNeighbours.trainingReport'], ln.training.report.agreement);
  const zs = JSON.parse(readFileSync(join(outcome.runDir!, 'pretrain', 'zero-shot.json'), 'utf8')) as { pairs: string; perCase: { id: string }[] };
  assert.equal(zs.pairs, 'held-out');
  assert.deepEqual(zs.perCase.map((c) => c.id).sort(), [...split.heldOutIds].sort());
  // the attention files still cover every internal pair
  assert.equal(readdirSync(join(outcome.runDir!, 'pretrain', 'attention')).length, 16);
});

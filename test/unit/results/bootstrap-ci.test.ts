// Bootstrap CIs in results.json (`ci`) and results.md, from each fold's cases: the
// interval's estimate is the table's mean, the table cells are unchanged, the
// intervals are those of metrics/bootstrap (checked against numpy + sklearn there).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildResults, readResults, renderMarkdown, writeResults } from '../../../src/engine/results';
import type { FoldResult, ResultsInput, StatCell } from '../../../src/engine/results';
import { bootstrapCis, checkFoldCases, sharedCases, type FoldCases } from '../../../src/engine/results/bootstrap-ci';
import { aucBootstrapCi, diceBootstrapCi } from '../../../src/engine/metrics';
import { hashSeed, Rng } from '../../../src/engine/util/rng';
import { splitMetrics, type Prediction } from '../../../src/engine/training/finetune';

function foldPreds(rng: Rng): Prediction[] {
  const make = (cohort: 'internal' | 'external', n: number): Prediction[] =>
    Array.from({ length: n }, (_, i) => {
      const label = (i % 3 === 0 ? 1 : 0) as 0 | 1;
      const withMask = i % 4 !== 3; // some cases without a Dice
      return {
        id: `${cohort}${i}`, cohort, label, score: Math.min(1, Math.max(0, 0.5 + 0.2 * (label - 0.5) + 0.2 * rng.normal())),
        dice2d: withMask ? rng.next() * 0.3 : null, dice3d: withMask ? rng.next() * 0.2 : null,
        foreground: null, floor2d: null, floor3d: null, bound2d: null, bound3d: null, mass3d: null, massFloor3d: null, pointing: null,
      };
    });
  return [...make('internal', 9), ...make('external', 12)];
}

function input(): { inp: ResultsInput; cases: FoldCases[] } {
  const rng = new Rng(11);
  const cases: FoldCases[] = [];
  const arms = (['random', 'pretrained'] as const).map((arm) => {
    const folds: FoldResult[] = [0, 1, 2].map((k) => {
      const p = foldPreds(rng);
      cases.push({ arm, fold: k, cases: p.map((c) => ({ cohort: c.cohort, label: c.label, score: c.score, dice2d: c.dice2d, dice3d: c.dice3d })) });
      return { arm, fold: k, internal: splitMetrics(p.filter((c) => c.cohort === 'internal'), 0.5), external: splitMetrics(p.filter((c) => c.cohort === 'external'), 0.5) };
    });
    return { arm, label: arm === 'random' ? 'Random init' : 'Proposed CL', status: 'done' as const, folds };
  });
  return { inp: { kind: 'experiment', runId: 'ci', config: { folds: 3, seed: 5 }, arms }, cases };
}

const statCell = (doc: ReturnType<typeof buildResults>, table: string, row: string, col: string): StatCell => {
  const t = doc.tables.find((x) => x.id === table)!;
  return t.rows.find((r) => r.key === row)!.cells[t.columns.findIndex((c) => c.key === col)] as StatCell;
};

test('results.json gets a CI per arm, cohort and metric whose estimate is the table mean; table cells unchanged', () => {
  const { inp, cases } = input();
  const plain = buildResults(inp);
  const doc = buildResults({ ...inp, caseResults: cases });
  assert.equal(plain.ci, undefined);
  assert.deepEqual(doc.tables, plain.tables);
  assert.equal(doc.ci!.length, 2 * 2 * 3);
  for (const c of doc.ci!) {
    const [table, col] = c.metric === 'auc' ? [c.split === 'internal' ? 'table1' : 'table2', `${c.split}.auc`] : [c.split === 'internal' ? 'table3' : 'table4', `${c.split}.${c.metric}`];
    const cell = statCell(doc, table, c.arm, col);
    assert.ok(Math.abs(c.estimate - cell.mean) < 1e-12, `${c.arm} ${c.split} ${c.metric}: ${c.estimate} vs table ${cell.mean}`);
    assert.match(cell.text, c.metric === 'auc' ? /^\d\.\d{3} ± \d\.\d{3}/ : /^\d+\.\d% ± \d+\.\d%/);
    assert.ok(c.lower <= c.estimate + 1e-12 && c.estimate <= c.upper + 1e-12, `${c.lower} ≤ ${c.estimate} ≤ ${c.upper}`);
    assert.equal(c.resamples, 2000);
    assert.equal(c.level, 0.95);
    assert.deepEqual(c.folds, [0, 1, 2]);
    assert.equal(c.seed, hashSeed(5, `${c.arm}/${c.split}/${c.metric}`));
  }
  // the same interval as the metrics function on the same cases and seed
  const r = doc.ci!.find((c) => c.arm === 'random' && c.split === 'external' && c.metric === 'auc')!;
  const ext = cases.filter((f) => f.arm === 'random').map((f) => f.cases.filter((c) => c.cohort === 'external'));
  const direct = aucBootstrapCi(ext.map((cs) => ({ scores: cs.map((c) => c.score), labels: cs.map((c) => c.label) })), { seed: r.seed });
  assert.deepEqual([r.lower, r.upper, r.skipped], [direct.lower, direct.upper, direct.skipped]);
  assert.equal(r.cases, 36);
  const d = doc.ci!.find((c) => c.arm === 'pretrained' && c.split === 'internal' && c.metric === 'dice3d')!;
  const dice = cases.filter((f) => f.arm === 'pretrained').map((f) => f.cases.filter((c) => c.cohort === 'internal' && c.dice3d !== null).map((c) => c.dice3d as number));
  assert.equal(d.cases, dice.flat().length);
  const dd = diceBootstrapCi(dice, { seed: d.seed });
  assert.deepEqual([d.lower, d.upper], [dd.lower, dd.upper]);
  // deterministic
  assert.deepEqual(buildResults({ ...inp, caseResults: cases }).ci, doc.ci);
});

test('an arm missing a fold\'s cases gets no CI; a fold with one class is left out of the AUC CI as of the table mean', () => {
  const { inp, cases } = input();
  const doc = buildResults({ ...inp, caseResults: cases.filter((f) => !(f.arm === 'random' && f.fold === 1)) });
  assert.deepEqual([...new Set(doc.ci!.map((c) => c.arm))], ['pretrained']);
  const oneClass = cases.map((f) => (f.arm === 'random' && f.fold === 2 ? { ...f, cases: f.cases.map((c) => (c.cohort === 'internal' ? { ...c, label: 0 as const } : c)) } : f));
  const cis = bootstrapCis(inp.arms, oneClass, { seed: 5, resamples: 200 });
  const auc = cis.find((c) => c.arm === 'random' && c.split === 'internal' && c.metric === 'auc')!;
  assert.deepEqual(auc.folds, [0, 1]);
  assert.equal(auc.resamples, 200);
});

test('results.md lists the intervals after the tables; results.json round-trips them', (t) => {
  const { inp, cases } = input();
  const doc = buildResults({ ...inp, caseResults: cases });
  const md = renderMarkdown(doc);
  assert.match(md, /\n## Bootstrap 95% confidence intervals\n\n\| Model \| Cohort \| Metric \| Mean over folds \| 95% CI \|/);
  assert.match(md, /\n\| Random init \| external \| AUC \| \d\.\d{3} \| \d\.\d{3} – \d\.\d{3} \| 3 \| 36 \| within folds \| 2000 \(\d+\) \|\n/);
  assert.match(md, /\n\| Proposed CL \| internal \| 3D Dice Score \| \d+\.\d% \| \d+\.\d% – \d+\.\d% \|/);
  assert.ok(md.indexOf('## Bootstrap') > md.lastIndexOf('## Table'));
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-ci-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeResults(dir, doc);
  assert.deepEqual(readResults(join(dir, 'results.json')).ci, doc.ci);
});

/** The input's cases with ids: internal test folds disjoint (fold k's own ids), the external cohort the same ids in every fold, listed in another order per fold. */
function withIds(cases: FoldCases[]): FoldCases[] {
  return cases.map((f) => {
    const ext = f.cases.map((c, i) => ({ c, i })).filter(({ c }) => c.cohort === 'external');
    const rotated = [...ext.slice(f.fold), ...ext.slice(0, f.fold)];
    return {
      ...f,
      cases: [
        ...f.cases.filter((c) => c.cohort === 'internal').map((c, i) => ({ ...c, id: `int-f${f.fold}-${i}` })),
        ...rotated.map(({ c, i }) => ({ ...c, id: `ext-${String(i).padStart(3, '0')}` })),
      ],
    };
  });
}

test('the external cohort, which every fold scores, is resampled as shared cases (one draw for all folds); internal folds within folds', () => {
  const { inp, cases } = input();
  const ided = withIds(cases);
  const doc = buildResults({ ...inp, caseResults: ided });
  const plain = buildResults({ ...inp, caseResults: cases });
  for (const c of doc.ci!) {
    const old = plain.ci!.find((x) => x.arm === c.arm && x.split === c.split && x.metric === c.metric)!;
    assert.equal(old.resampling, 'within folds');
    if (c.split === 'internal') {
      // disjoint folds: the same interval as without ids
      assert.equal(c.resampling, 'within folds');
      assert.deepEqual([c.lower, c.upper, c.cases], [old.lower, old.upper, old.cases]);
    } else {
      assert.equal(c.resampling, 'shared cases');
      assert.ok(Math.abs(c.estimate - old.estimate) < 1e-12);
    }
  }
  // the interval is the metrics function's with shared draws over the cases in id order
  const r = doc.ci!.find((c) => c.arm === 'random' && c.split === 'external' && c.metric === 'auc')!;
  const ext = ided.filter((f) => f.arm === 'random').map((f) => f.cases.filter((c) => c.cohort === 'external').sort((a, b) => (a.id! < b.id! ? -1 : 1)));
  const direct = aucBootstrapCi(ext.map((cs) => ({ scores: cs.map((c) => c.score), labels: cs.map((c) => c.label) })), { seed: r.seed, shared: true });
  assert.deepEqual([r.lower, r.upper, r.skipped, r.cases], [direct.lower, direct.upper, direct.skipped, 12]);
  const d = doc.ci!.find((c) => c.arm === 'pretrained' && c.split === 'external' && c.metric === 'dice3d')!;
  assert.equal(d.cases, ext[0]!.filter((c) => c.dice3d !== null).length);
  assert.match(renderMarkdown(doc), /\n\| Random init \| external \| AUC \| \d\.\d{3} \| \d\.\d{3} – \d\.\d{3} \| 3 \| 12 \| shared cases \| 2000 \(\d+\) \|\n/);
  // a fold whose external cases differ (one case missing) is not shared: within folds
  const partial = ided.map((f) => (f.arm === 'random' && f.fold === 1 ? { ...f, cases: f.cases.filter((c) => c.id !== 'ext-013') } : f));
  const p = bootstrapCis(inp.arms, partial, { seed: 5, resamples: 100 }).find((c) => c.arm === 'random' && c.split === 'external' && c.metric === 'auc')!;
  assert.equal(p.resampling, 'within folds');
});

test('sharedCases: the same ids once each in every fold, or null', () => {
  const f = (...ids: string[]) => ids.map((id) => ({ id }));
  assert.deepEqual(sharedCases([f('b', 'a'), f('a', 'b')]), [f('a', 'b'), f('a', 'b')]);
  assert.equal(sharedCases([f('a', 'b')]), null);
  assert.equal(sharedCases([f('a', 'b'), f('a', 'c')]), null);
  assert.equal(sharedCases([f('a', 'a'), f('a', 'a')]), null);
  assert.equal(sharedCases([f('a', 'b'), f('a')]), null);
  assert.equal(sharedCases([[{ id: 'a' }, {}], [{ id: 'a' }, {}]]), null);
});

test('bad case results name the input and the field', () => {
  assert.throws(() => checkFoldCases([{ arm: 'a', fold: 0, cases: [{ id: 3, cohort: 'internal', label: 1, score: 0.5, dice2d: null, dice3d: null }] }], 'x.json'), /caseResults\[0\]\.cases\[0\]\.id must be a string when given/);
  assert.throws(() => checkFoldCases({}, 'x.json'), /x\.json: caseResults must be an array/);
  assert.throws(() => checkFoldCases([{ arm: 'a', fold: 0, cases: [{ cohort: 'internal', label: 2, score: 0.5, dice2d: null, dice3d: null }] }], 'x.json'), /caseResults\[0\]\.cases\[0\]\.label is 2, expected 0 or 1/);
  assert.throws(() => checkFoldCases([{ arm: 'a', fold: 0, cases: [{ cohort: 'internal', label: 1, score: 0.5, dice2d: NaN, dice3d: null }] }], 'x.json'), /cases\[0\]\.dice2d must be a finite number or null/);
  const { inp } = input();
  assert.throws(() => buildResults({ ...inp, caseResults: [{ arm: 'random', fold: 0, cases: [{ cohort: 'elsewhere' as 'internal', label: 1, score: 0.5, dice2d: null, dice3d: null }] }] }, 'run.json'), /run\.json: caseResults\[0\]\.cases\[0\]\.cohort is "elsewhere"/);
});

test('the attention mass gets its CI where the cases record it: the table mean, the Dice resampling on the same cases', () => {
  const rng = new Rng(23);
  const cases: FoldCases[] = [];
  const folds: FoldResult[] = [0, 1, 2].map((k) => {
    // internal test folds hold disjoint cases (their own ids); the external cohort is the same in every fold
    const p = foldPreds(rng)
      .map((c) => (c.cohort === 'internal' ? { ...c, id: `${c.id}-fold${k}` } : c))
      .map((c) => (c.dice3d === null ? c : { ...c, mass3d: rng.next() * 0.05, massFloor3d: 0.004, pointing: rng.next() < 0.3 ? 1 : 0 }));
    cases.push({ arm: 'pretrained', fold: k, cases: p.map((c) => ({ id: c.id, cohort: c.cohort, label: c.label, score: c.score, dice2d: c.dice2d, dice3d: c.dice3d, mass3d: c.mass3d })) });
    return { arm: 'pretrained', fold: k, internal: splitMetrics(p.filter((c) => c.cohort === 'internal'), 0.5), external: splitMetrics(p.filter((c) => c.cohort === 'external'), 0.5) };
  });
  const doc = buildResults({ kind: 'experiment', runId: 'm', config: { folds: 3, seed: 5 }, arms: [{ arm: 'pretrained', label: 'Proposed CL', status: 'done', folds }], caseResults: cases });
  const m = doc.ci!.find((c) => c.split === 'internal' && c.metric === 'mass3d')!;
  assert.ok(Math.abs(m.estimate - statCell(doc, 'table3', 'pretrained', 'internal.mass3d').mean) < 1e-12);
  const direct = diceBootstrapCi(cases.map((f) => f.cases.filter((c) => c.cohort === 'internal' && typeof c.mass3d === 'number').map((c) => c.mass3d!)), { seed: hashSeed(5, 'pretrained/internal/mass3d') });
  assert.deepEqual([m.lower, m.upper], [direct.lower, direct.upper]);
  // external: every fold scores the same cases, drawn once for all folds
  assert.equal(doc.ci!.find((c) => c.split === 'external' && c.metric === 'mass3d')!.resampling, 'shared cases');
  // cases without it (runs made before it was saved): no mass interval
  const old = buildResults({ kind: 'experiment', runId: 'm', config: { folds: 3, seed: 5 }, arms: [{ arm: 'pretrained', label: 'Proposed CL', status: 'done', folds }], caseResults: cases.map((f) => ({ ...f, cases: f.cases.map(({ mass3d: _m, ...c }) => c) })) });
  assert.equal(old.ci!.some((c) => c.metric === 'mass3d'), false);
  assert.throws(() => buildResults({ kind: 'experiment', runId: 'm', arms: [{ arm: 'pretrained', label: 'Proposed CL', status: 'done', folds }], caseResults: [{ arm: 'pretrained', fold: 0, cases: [{ cohort: 'internal', label: 1, score: 0.5, dice2d: 0, dice3d: 0, mass3d: Number.NaN }] }] }), /caseResults\[0\]\.cases\[0\]\.mass3d must be a finite number, null or absent/);
});

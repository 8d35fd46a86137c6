import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildResults, checkResultsInput, summarize } from '../../../src/engine/results';
import type { Cell, FoldResult, MetricKey, ResultsDoc, ResultsInput, ResultTable, Split, SplitMetrics } from '../../../src/engine/results';

interface Expected {
  input: ResultsInput;
  stats: Record<string, Record<string, { mean: number; std: number | null; n: number }>>;
  tests: { a: string; b: string; split: Split; metric: MetricKey; folds: number[]; status: 'done' | 'skipped'; t?: number; p?: number; df?: number }[];
}
const fx = JSON.parse(readFileSync(join(__dirname, '../../fixtures/results/aggregate.json'), 'utf8')) as { experiment: Expected; ablation: Expected };
const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} ≠ ${b}`);

/** The cell of an arm's "this run" row under a column key such as 'external.auc'. */
function cellOf(t: ResultTable, rowKey: string, colKey: string): Cell | undefined {
  const row = t.rows.find((r) => r.key === rowKey);
  const i = t.columns.findIndex((c) => c.key === colKey);
  return row && i >= 0 ? row.cells[i] : undefined;
}

function checkAgainstFixture(doc: ResultsDoc, ex: Expected): void {
  let cells = 0;
  for (const [arm, stats] of Object.entries(ex.stats)) {
    for (const [key, s] of Object.entries(stats)) {
      for (const t of doc.tables) {
        const c = cellOf(t, arm, key);
        if (!c) continue;
        assert.equal(c.kind, 'stat', `${t.id} ${arm} ${key}`);
        if (c.kind !== 'stat') continue;
        close(c.mean, s.mean, 1e-12, `${t.id} ${arm} ${key} mean`);
        if (s.std === null) assert.equal(c.std, null);
        else close(c.std as number, s.std, 1e-12, `${t.id} ${arm} ${key} std`);
        assert.equal(c.n, s.n, `${t.id} ${arm} ${key} n`);
        cells++;
      }
    }
  }
  assert.ok(cells >= 10, `only ${cells} cells compared`);
  assert.equal(doc.tests.length, ex.tests.length);
  for (const e of ex.tests) {
    const what = `${e.a} vs ${e.b} ${e.split} ${e.metric}`;
    const got = doc.tests.find((t) => t.a === e.a && t.b === e.b && t.split === e.split && t.metric === e.metric);
    assert.ok(got, what);
    assert.equal(got.status, e.status, what);
    if (e.status === 'done') {
      assert.deepEqual(got.folds, e.folds, what);
      close(got.t as number, e.t as number, 1e-9 * Math.max(1, Math.abs(e.t as number)), `${what} t`);
      close(got.p as number, e.p as number, 1e-9, `${what} p`);
      assert.equal(got.df, e.df, what);
    } else assert.ok(got.reason && got.reason.length > 0, `${what}: skipped without a reason`);
  }
}

test('experiment: mean, sample std and paired t-tests match NumPy / scipy.stats.ttest_rel', () => {
  const doc = buildResults(fx.experiment.input);
  assert.deepEqual(doc.tables.map((t) => t.id), ['table1', 'table2', 'table3', 'table4', 'table10', 'table11', 'ttests']);
  checkAgainstFixture(doc, fx.experiment);
  // the fixture's random arm misses external AUC on fold 2: the test pairs the other four folds
  assert.deepEqual(doc.tests.find((t) => t.b === 'random' && t.split === 'external' && t.metric === 'auc')?.folds, [0, 1, 3, 4]);
  const t10 = doc.tables.find((t) => t.id === 'table10') as ResultTable;
  const p = cellOf(t10, 'pretrained|random', 'external.auc');
  assert.equal(p?.kind, 'pvalue');
});

test('ablation: Table 5 (external AUC and F1), partial arm paired on its folds, against NumPy / SciPy', () => {
  const doc = buildResults(fx.ablation.input);
  assert.deepEqual(doc.tables.map((t) => t.id), ['table5', 'ttests']);
  const t5 = doc.tables[0];
  assert.deepEqual(t5.columns.map((c) => c.header), ['Experiment', 'AUC', 'F1-score']);
  // the paper's Table 5 order, whatever the input order
  assert.deepEqual(t5.rows.map((r) => r.key), ['global-only', 'local-only', 'location-excluded', 'contrastive-loss', 'hard-negatives', 'proposed']);
  checkAgainstFixture(doc, fx.ablation);
  const hard = cellOf(t5, 'hard-negatives', 'external.auc');
  assert.equal(hard?.kind, 'stat');
  assert.deepEqual(hard?.footnotes, [1]);
  assert.equal(t5.footnotes[0], 'Hard negative sampling partial, 3 of 5 folds (stopped after 3 folds)');
});

// ---- hand-derived tables ----

const sm = (auc: number | null, f1: number, dice: number | null = null): SplitMetrics => ({ n: 40, positives: 13, auc, precision: f1, recall: f1, f1, dice2d: dice, dice3d: dice });
const fold = (arm: string, k: number, internal: SplitMetrics, external: SplitMetrics | null = null): FoldResult => ({ arm, fold: k, internal, external });

function tiny(): ResultsInput {
  return {
    kind: 'experiment',
    runId: 'tiny',
    config: { folds: 3, seed: 42 },
    arms: [
      { arm: 'pretrained', label: 'Proposed CL', status: 'done', folds: [0, 1, 2].map((k) => fold('pretrained', k, sm([0.8, 0.9, 0.85][k], [0.5, 0.6, 0.7][k], [0.3, 0.31, 0.32][k]))) },
      { arm: 'medicalnet', label: 'MedicalNet', status: 'not run', reason: 'no checkpoint configured', folds: [] },
      { arm: 'random', label: 'Random init', status: 'done', folds: [0, 1, 2].map((k) => fold('random', k, sm([0.6, 0.7, 0.8][k], [0.4, 0.4, 0.4][k], [0.05, 0.06, 0.07][k]))) },
    ],
  };
}

const texts = (t: ResultTable) => t.rows.map((r) => r.cells.map((c) => `${c.text}${c.footnotes.map((n) => `[${n}]`).join('')}`));

test('summarize: mean and sample std (n − 1) by hand; one value has no std', () => {
  const s = summarize([0.6, 0.7, 0.8]);
  close(s.mean, 0.7, 1e-15, 'mean');
  close(s.std as number, 0.1, 1e-15, 'std'); // squares 0.01 + 0 + 0.01 over n − 1 = 2
  assert.equal(s.n, 3);
  assert.deepEqual(summarize([0.25]), { mean: 0.25, std: null, n: 1 });
  close(summarize([1, 2, 3, 4]).std as number, Math.sqrt(5 / 3), 1e-15, 'std of 1..4');
  assert.throws(() => summarize([]), /no values/);
});

test('Tables 1 and 3 by hand: arms in the paper order, 3 decimals, Dice in %, MedicalNet "not run" with its reason', () => {
  const doc = buildResults(tiny());
  const [t1, , t3] = doc.tables;
  assert.deepEqual(t1.columns.map((c) => c.header), ['Model initialization', 'AUC', 'Precision', 'Recall', 'F1-score']);
  assert.deepEqual(texts(t1), [
    ['Random init', '0.700 ± 0.100', '0.400 ± 0.000', '0.400 ± 0.000', '0.400 ± 0.000'],
    ['MedicalNet', 'not run[1]', 'not run[1]', 'not run[1]', 'not run[1]'],
    ['Proposed CL', '0.850 ± 0.050', '0.600 ± 0.100', '0.600 ± 0.100', '0.600 ± 0.100'],
  ]);
  assert.deepEqual(t1.footnotes, ['MedicalNet not run: no checkpoint configured']);
  // beside each Dice its whole-map floor, then the map foreground: results without them (older runs) say so once
  assert.deepEqual(t3.columns.map((c) => c.header), ['Model initialization', '2D Dice Score', '2D Dice, whole-slice map', '3D Dice Score', '3D Dice, whole-volume map', 'Map foreground']);
  assert.deepEqual(texts(t3), [
    ['Random init', '6.0% ± 1.0%', 'n/a[1]', '6.0% ± 1.0%', 'n/a[1]', 'n/a[1]'],
    ['MedicalNet', 'not run[2]', 'not run[2]', 'not run[2]', 'not run[2]', 'not run[2]'],
    ['Proposed CL', '31.0% ± 1.0%', 'n/a[1]', '31.0% ± 1.0%', 'n/a[1]', 'n/a[1]'],
  ]);
  assert.match(t3.footnotes[0], /^Not recorded in these results/);
  assert.equal(t3.warnings, undefined);
  // no external cohort: n/a with the reason, MedicalNet still "not run"
  const t2 = doc.tables[1];
  assert.deepEqual(texts(t2)[0], ['Random init', 'n/a[1]', 'n/a[1]', 'n/a[1]', 'n/a[1]']);
  assert.equal(t2.footnotes[0], 'Random init: no external cohort evaluated');
  assert.deepEqual(texts(t2)[1], ['MedicalNet', 'not run[2]', 'not run[2]', 'not run[2]', 'not run[2]']);
  // both numbers kept
  const auc = t1.rows[0].cells[1];
  assert.equal(auc.kind, 'stat');
  if (auc.kind === 'stat') {
    close(auc.mean, 0.7, 1e-15, 'mean kept');
    close(auc.std as number, 0.1, 1e-15, 'std kept');
  }
});

test('MedicalNet not run appears as "not run" in every table, t-tests included, and is never tested', () => {
  const input = tiny();
  input.showPaper = true;
  const doc = buildResults(input);
  for (const t of doc.tables) {
    const rows = t.rows.filter((r) => r.source === 'this run' && (r.key === 'medicalnet' || r.key.includes('|medicalnet')));
    assert.ok(rows.length > 0, `${t.id} has no MedicalNet row`);
    for (const r of rows) {
      const valueCells = r.cells.filter((c) => c.kind !== 'label');
      assert.ok(valueCells.length > 0);
      for (const c of valueCells) {
        assert.equal(c.kind, 'missing', `${t.id} ${r.key}`);
        assert.equal(c.text, 'not run');
        assert.equal(t.footnotes[c.footnotes[0] - 1], 'MedicalNet not run: no checkpoint configured');
      }
    }
  }
  const medTests = doc.tests.filter((t) => t.b === 'medicalnet');
  assert.equal(medTests.length, 12);
  for (const t of medTests) {
    assert.equal(t.status, 'skipped');
    assert.equal(t.p, null);
    assert.equal(t.reason, 'MedicalNet not run: no checkpoint configured');
  }
});

test('the paper rows are labelled "paper" beside "this run", with the paper\'s figures', () => {
  const input = tiny();
  input.showPaper = true;
  const doc = buildResults(input);
  const t1 = doc.tables[0];
  assert.deepEqual(t1.columns.map((c) => c.header), ['Model initialization', 'Source', 'AUC', 'Precision', 'Recall', 'F1-score']);
  assert.deepEqual(texts(t1), [
    ['Random init', 'this run', '0.700 ± 0.100', '0.400 ± 0.000', '0.400 ± 0.000', '0.400 ± 0.000'],
    ['Random init', 'paper', '0.748', '0.400', '0.552', '0.441'],
    ['MedicalNet', 'this run', 'not run[1]', 'not run[1]', 'not run[1]', 'not run[1]'],
    ['MedicalNet', 'paper', '0.790', '0.380', '0.918', '0.534'],
    ['Proposed CL', 'this run', '0.850 ± 0.050', '0.600 ± 0.100', '0.600 ± 0.100', '0.600 ± 0.100'],
    ['Proposed CL', 'paper', '0.877', '0.708', '0.638', '0.652'],
  ]);
  assert.deepEqual(t1.rows.map((r) => r.source), ['this run', 'paper', 'this run', 'paper', 'this run', 'paper']);
  const t4 = doc.tables.find((t) => t.id === 'table4') as ResultTable;
  assert.deepEqual(texts(t4).filter((r) => r[1] === 'paper'), [
    ['Random init', 'paper', '4.4%', 'n/a[2]', '1.8%', 'n/a[2]', 'n/a[2]'],
    ['MedicalNet', 'paper', '4.5%', 'n/a[2]', '1.5%', 'n/a[2]', 'n/a[2]'],
    ['Proposed CL', 'paper', '30.7%', 'n/a[2]', '16.0%', 'n/a[2]', 'n/a[2]'],
  ]);
  assert.equal(t4.footnotes[1], 'The paper prints no whole-map Dice, grid-cell bound, map foreground or map mass.');
  const t10 = doc.tables.find((t) => t.id === 'table10') as ResultTable;
  assert.deepEqual(texts(t10).filter((r) => r[1] === 'paper'), [
    ['Proposed CL vs Random init', 'paper', '0.0036', '0.0000'],
    ['Proposed CL vs MedicalNet', 'paper', '0.0000', '0.0005'],
  ]);
  const t11 = doc.tables.find((t) => t.id === 'table11') as ResultTable;
  const lost = texts(t11).find((r) => r[0] === 'Proposed CL vs MedicalNet' && r[1] === 'paper');
  assert.deepEqual(lost, ['Proposed CL vs MedicalNet', 'paper', 'n/a[4]', 'n/a[4]']);
  assert.match(t11.footnotes[3], /did not survive in its text/);
  // without showPaper: no paper rows at all
  assert.ok(buildResults(tiny()).tables.every((t) => t.rows.every((r) => r.source === 'this run')));
});

test('t-test cells by hand: t = 2√3 for differences 0.1, 0.2, 0.3; constant differences give t = +∞, p shown <0.0001', () => {
  const doc = buildResults(tiny());
  // internal F1: proposed 0.5, 0.6, 0.7 vs random 0.4: differences 0.1, 0.2, 0.3 → mean 0.2, sd 0.1, t = 0.2/(0.1/√3) = 2√3
  const f1 = doc.tests.find((t) => t.b === 'random' && t.split === 'internal' && t.metric === 'f1');
  close(f1?.t as number, 2 * Math.sqrt(3), 1e-9, 't by hand');
  assert.equal(f1?.df, 2);
  assert.deepEqual(f1?.folds, [0, 1, 2]);
  // differences exactly 0.25 in every fold (binary-exact values)
  const exact: ResultsInput = {
    kind: 'experiment',
    runId: 'exact',
    arms: [
      { arm: 'random', label: 'Random init', status: 'done', folds: [0.25, 0.5, 0.375].map((v, k) => fold('random', k, sm(v, v, v))) },
      { arm: 'pretrained', label: 'Proposed CL', status: 'done', folds: [0.5, 0.75, 0.625].map((v, k) => fold('pretrained', k, sm(v, v, v))) },
    ],
  };
  const d2 = buildResults(exact);
  const auc = d2.tests.find((t) => t.split === 'internal' && t.metric === 'auc');
  assert.deepEqual([auc?.a, auc?.b, auc?.t, auc?.p, auc?.df], ['pretrained', 'random', Infinity, 0, 2]);
  const ttests = d2.tables.find((t) => t.id === 'ttests') as ResultTable;
  assert.deepEqual(texts(ttests), [
    ['Proposed CL vs Random init', 'internal', '<0.0001', '<0.0001', '<0.0001', '<0.0001', '<0.0001', '<0.0001'],
    ['Proposed CL vs Random init', 'external', 'n/a[1]', 'n/a[2]', 'n/a[3]', 'n/a[4]', 'n/a[5]', 'n/a[6]'],
  ]);
  assert.equal(ttests.footnotes[0], 'Proposed CL vs Random init, external AUC: 0 paired folds, a paired t-test needs 2');
  const cell = ttests.rows[0].cells[2];
  assert.deepEqual(cell.kind === 'pvalue' ? [cell.p, cell.t, cell.df, cell.n] : [], [0, Infinity, 2, 3]);
});

test('single fold, partial arm, fewer folds than configured and missing AUC are footnoted', () => {
  const input: ResultsInput = {
    kind: 'experiment',
    runId: 'gaps',
    config: { folds: 5, seed: 1 },
    arms: [
      { arm: 'pretrained', label: 'Proposed CL', status: 'partial', reason: 'out of memory', folds: [fold('pretrained', 0, sm(0.75, 0.5))] },
      { arm: 'random', label: 'Random init', status: 'done', folds: [fold('random', 0, sm(null, 0.2)), fold('random', 1, sm(0.6, 0.3))] },
    ],
  };
  const doc = buildResults(input);
  const t1 = doc.tables[0];
  assert.deepEqual(texts(t1), [
    ['Random init', '0.600[1][2][3]', '0.250 ± 0.071[1]', '0.250 ± 0.071[1]', '0.250 ± 0.071[1]'],
    ['Proposed CL', '0.750[4][5]', '0.500[4][6]', '0.500[4][7]', '0.500[4][8]'],
  ]);
  assert.deepEqual(t1.footnotes.slice(0, 5), [
    'Random init: 2 of 5 folds',
    'Random init: internal AUC missing in 1 of 2 folds; mean over 1 (AUC is undefined on a fold of one class)',
    'Random init: internal AUC from one fold, no std',
    'Proposed CL partial, 1 of 5 folds (out of memory)',
    'Proposed CL: internal AUC from one fold, no std',
  ]);
  const auc = t1.rows[0].cells[1];
  assert.equal(auc.kind === 'stat' ? auc.std : 'no', null);
  // one paired fold: no test, with the reason
  const t = doc.tests.find((x) => x.split === 'internal' && x.metric === 'f1');
  assert.equal(t?.status, 'skipped');
  assert.equal(t?.reason, 'Proposed CL vs Random init, internal F1-score: 1 paired fold, a paired t-test needs 2');
});

test('bad input gives an Error naming the input and the field', () => {
  const bad = (mutate: (x: ResultsInput) => void, re: RegExp) => {
    const x = structuredClone(tiny());
    mutate(x);
    assert.throws(() => buildResults(x, 'runs/a/folds.json'), re);
  };
  bad((x) => (x.arms[0].folds[1].internal.auc = 1.5), /^Error: runs\/a\/folds\.json: arms\[0\]\.folds\[1\]\.internal\.auc is 1\.5, expected a number in \[0, 1\] or null$/);
  bad((x) => (x.arms[0].folds[1].internal.f1 = Number.NaN), /arms\[0\]\.folds\[1\]\.internal\.f1 is NaN, expected a number in \[0, 1\]$/);
  bad((x) => (x.arms[0].folds[1].fold = 0), /arms\[0\]\.folds\[1\]\.fold repeats fold 0/);
  bad((x) => (x.arms[0].folds[1].arm = 'random'), /arms\[0\]\.folds\[1\]\.arm is "random", but the fold is listed under arm "pretrained"/);
  bad((x) => (x.arms[2].arm = 'pretrained'), /arms\[2\]\.arm repeats arm "pretrained"/);
  bad((x) => (x.arms[1].folds = [fold('medicalnet', 0, sm(0.5, 0.5))]), /arms\[1\]\.folds holds 1 fold results but the arm's status is "not run"/);
  bad((x) => (x.arms[0].folds = []), /arms\[0\]\.folds is empty but the arm's status is "done"/);
  bad((x) => ((x.arms[0] as { status: string }).status = 'ok'), /arms\[0\]\.status is "ok", expected one of "done", "not run", "failed", "partial"/);
  bad((x) => (x.arms[0].folds[0].internal.positives = 41), /internal\.positives is 41, more than n = 40/);
  bad((x) => (x.arms = []), /arms must be a non-empty array/);
  bad((x) => ((x as { kind: string }).kind = 'other'), /kind is "other"/);
  assert.throws(() => checkResultsInput(null, 'x.json'), /^Error: x\.json: \(root\) is not an object$/);
});

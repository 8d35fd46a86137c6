// The results panel's bootstrap intervals (results.json `ci`): a table of
// its own after the paper's, and the interval in the hover of the mean ± std
// cell it belongs to (a baseline explanation's row gets its own). A tiny
// document with hand-written intervals; texts derived by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildResults } from '../../../src/engine/results';
import type { ArmResult, ResultsDoc, SplitMetrics } from '../../../src/engine/results';
import type { MetricCi } from '../../../src/engine/results/bootstrap-ci';
import { checkResultsDoc, ciView, tableView, tableViewWithCi } from '../../../webview/common/results-rows';

const sm = (auc: number): SplitMetrics => ({ n: 12, positives: 4, auc, precision: 0.5, recall: 0.5, f1: 0.5, dice2d: 0.2, dice3d: 0.1 });
const arm: ArmResult = {
  arm: 'random',
  label: 'Random init',
  status: 'done',
  folds: [0.6, 0.8].map((auc, fold) => ({
    arm: 'random',
    fold,
    internal: sm(auc),
    external: null,
    baselines: { internal: { gradCam: { n: 12, dice2d: 0.3, dice3d: 0.05, foreground: 0.4 } }, external: null },
  })),
};

const ci = (o: Partial<MetricCi>): MetricCi => ({
  arm: 'random', label: 'Random init', split: 'internal', metric: 'auc', folds: [0, 1], cases: 24, statistic: 'mean over folds', seed: 9,
  estimate: 0.7, lower: 0.6123, upper: 0.7891, level: 0.95, resamples: 2000, skipped: 3, method: 'percentile', ...o,
});

function doc(): ResultsDoc {
  const d = buildResults({ kind: 'experiment', runId: 'r', arms: [arm], showPaper: false });
  return {
    ...d,
    ci: [
      ci({}),
      ci({ metric: 'dice3d', estimate: 0.1, lower: 0.0456, upper: 0.15 }),
      ci({ label: 'Random init, Grad-CAM', explanation: 'gradCam', metric: 'dice3d', estimate: 0.05, lower: 0.0349, upper: 0.0651, cases: 20, folds: [1] }),
      ci({ split: 'external', estimate: 0.6, lower: 0.41, upper: 0.79, cases: 12, resampling: 'shared cases' }),
    ],
  };
}

test('the CI table: one row per interval, AUC as 0.000 and Dice as percent, the level in the headers', () => {
  const v = ciView(doc())!;
  assert.equal(v.id, 'ci');
  assert.equal(v.title, 'Bootstrap 95 % confidence intervals');
  assert.deepEqual(v.header, ['Model', 'Cohort', 'Metric', 'Mean over folds', '95 % CI', 'Folds', 'Cases', 'Resampling']);
  assert.deepEqual(
    v.rows.map((r) => r.map((c) => c.text)),
    [
      ['Random init', 'internal', 'AUC', '0.700', '0.612 – 0.789', '2', '24', 'within folds'],
      ['Random init', 'internal', '3D Dice', '10.0%', '4.6% – 15.0%', '2', '24', 'within folds'],
      ['Random init, Grad-CAM', 'internal', '3D Dice', '5.0%', '3.5% – 6.5%', '1', '20', 'within folds'],
      ['Random init', 'external', 'AUC', '0.600', '0.410 – 0.790', '2', '12', 'shared cases'],
    ],
  );
  assert.deepEqual(v.rows[0]!.map((c) => c.kind), ['label', 'label', 'label', 'stat', 'stat', 'stat', 'stat', 'label']);
  assert.equal(v.rows[0]![4]!.title, '2000 resamples (3 redrawn), seed 9');
  assert.equal(v.rows[2]![5]!.title, 'folds 1');
  assert.match(v.notes[0]!, /^Percentile intervals of the tables' mean over folds/);
  // a 90 % level is shown as such
  assert.equal(ciView({ ...doc(), ci: [ci({ level: 0.9 })] })!.header[4], '90 % CI');
  // none without intervals (older results, a comparison)
  assert.equal(ciView({ ...doc(), ci: undefined }), undefined);
  assert.equal(ciView({ ...doc(), ci: [] }), undefined);
});

test('a mean ± std cell\'s hover gives its interval; the baseline row its own; cells without one keep the plain hover', () => {
  const d = doc();
  const t1 = d.tables.find((t) => t.id === 'table1')!;
  const v1 = tableViewWithCi(t1, d.ci);
  const aucCol = t1.columns.findIndex((c) => c.key === 'internal.auc');
  // AUC 0.6, 0.8: 0.700 ± 0.141
  assert.equal(v1.rows[0]![aucCol]!.text, '0.700 ± 0.141');
  assert.equal(v1.rows[0]![aucCol]!.title, 'mean ± sample std over 2 folds; 95 % CI 0.612 – 0.789 (bootstrap over 24 cases)');
  const f1Col = t1.columns.findIndex((c) => c.key === 'internal.f1');
  assert.equal(v1.rows[0]![f1Col]!.title, 'mean ± sample std over 2 folds');
  const t3 = d.tables.find((t) => t.id === 'table3')!;
  const v3 = tableViewWithCi(t3, d.ci);
  const d3 = t3.columns.findIndex((c) => c.key === 'internal.dice3d');
  const d2 = t3.columns.findIndex((c) => c.key === 'internal.dice2d');
  assert.deepEqual(t3.rows.map((r) => r.key), ['random', 'random/gradCam']);
  assert.equal(v3.rows[0]![d3]!.title, 'mean ± sample std over 2 folds; 95 % CI 4.6% – 15.0% (bootstrap over 24 cases)');
  assert.equal(v3.rows[1]![0]!.text, 'Random init, Grad-CAM');
  assert.equal(v3.rows[1]![d3]!.text, '5.0% ± 0.0%');
  assert.equal(v3.rows[1]![d3]!.title, 'mean ± sample std over 2 folds; 95 % CI 3.5% – 6.5% (bootstrap over 20 cases)');
  assert.equal(v3.rows[1]![d2]!.title, 'mean ± sample std over 2 folds');
  // the texts are those without intervals
  assert.deepEqual(v3.rows.map((r) => r.map((c) => c.text)), tableView(t3).rows.map((r) => r.map((c) => c.text)));
});

test('checkResultsDoc names the file on a malformed ci', () => {
  const d = JSON.parse(JSON.stringify(doc()));
  assert.equal(checkResultsDoc(d, 'r.json').ci!.length, 4);
  assert.throws(() => checkResultsDoc({ ...d, ci: {} }, 'runs/a/results.json'), /runs\/a\/results\.json: "ci" must be an array/);
  assert.throws(() => checkResultsDoc({ ...d, ci: [{ ...d.ci[0], resampling: 'by fold' }] }, 'runs/a/results.json'), /ci\[0\] is not a confidence interval/);
  d.ci[1].lower = 'low';
  assert.throws(() => checkResultsDoc(d, 'runs/a/results.json'), /runs\/a\/results\.json: ci\[1\] is not a confidence interval/);
});

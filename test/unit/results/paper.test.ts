import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ABLATION_ARMS, buildResults, PAPER_FIGURES, paperPValue, paperValue } from '../../../src/engine/results';
import type { ArmResult, ResultsInput, ResultTable } from '../../../src/engine/results';

test('PAPER_FIGURES equal METHOD.md §8 and the paper\'s Tables 1–5, 10, 11', () => {
  // METHOD.md §8: init | AUC int | F1 int | AUC ext | F1 ext | 2D int | 3D int | 2D ext | 3D ext
  const method: [string, number[]][] = [
    ['random', [0.748, 0.441, 0.467, 0, 0.061, 0.02, 0.044, 0.018]],
    ['medicalnet', [0.79, 0.534, 0.418, 0.065, 0.225, 0.089, 0.045, 0.015]],
    ['pretrained', [0.877, 0.652, 0.757, 0.534, 0.311, 0.158, 0.307, 0.16]],
  ];
  for (const [arm, v] of method) {
    const got = [
      paperValue('experiment', arm, 'internal', 'auc'),
      paperValue('experiment', arm, 'internal', 'f1'),
      paperValue('experiment', arm, 'external', 'auc'),
      paperValue('experiment', arm, 'external', 'f1'),
      paperValue('experiment', arm, 'internal', 'dice2d'),
      paperValue('experiment', arm, 'internal', 'dice3d'),
      paperValue('experiment', arm, 'external', 'dice2d'),
      paperValue('experiment', arm, 'external', 'dice3d'),
    ];
    assert.deepEqual(got, v, arm);
  }
  // Tables 1–2 precision / recall
  assert.deepEqual(PAPER_FIGURES.classification.internal.random, { auc: 0.748, precision: 0.4, recall: 0.552, f1: 0.441 });
  assert.deepEqual(PAPER_FIGURES.classification.external.medicalnet, { auc: 0.418, precision: 0.069, recall: 0.061, f1: 0.065 });
  // Table 5, in order
  assert.deepEqual(
    ABLATION_ARMS.map((a) => [paperValue('ablation', a, 'external', 'auc'), paperValue('ablation', a, 'external', 'f1')]),
    [[0.608, 0.124], [0.567, 0.434], [0.683, 0.523], [0.692, 0.559], [0.45, 0.364], [0.757, 0.534]],
  );
  assert.equal(paperValue('ablation', 'global-only', 'internal', 'auc'), undefined);
  assert.equal(paperValue('experiment', 'unknown-arm', 'internal', 'auc'), undefined);
  // Tables 10–11; Table 11's MedicalNet row is lost from the paper's text
  assert.equal(paperPValue('random', 'external', 'auc'), 0.0036);
  assert.equal(paperPValue('medicalnet', 'external', 'f1'), 0.0005);
  assert.equal(paperPValue('medicalnet', 'external', 'dice2d'), null);
  assert.equal(paperPValue('random', 'internal', 'auc'), undefined);
});

test('Table 5 with the paper: each ablation row followed by its "paper" row', () => {
  const arm = (name: string, label: string, auc: number[]): ArmResult => ({
    arm: name,
    label,
    status: 'done',
    folds: auc.map((a, k) => {
      const m = { n: 76, positives: 28, auc: a, precision: 0.5, recall: 0.5, f1: 0.5, dice2d: null, dice3d: null };
      return { arm: name, fold: k, internal: m, external: m };
    }),
  });
  const input: ResultsInput = {
    kind: 'ablation',
    runId: 'abl',
    showPaper: true,
    arms: [arm('proposed', 'Proposed method', [0.7, 0.8]), arm('global-only', 'Global only', [0.5, 0.6]), arm('my-variant', 'My variant', [0.5, 0.5])],
  };
  const t5 = buildResults(input).tables[0] as ResultTable;
  assert.equal(t5.id, 'table5');
  const texts = t5.rows.map((r) => r.cells.map((c) => c.text));
  assert.deepEqual(texts, [
    ['Global only', 'this run', '0.550 ± 0.071', '0.500 ± 0.000'],
    ['Global only', 'paper', '0.608', '0.124'],
    ['Proposed method', 'this run', '0.750 ± 0.071', '0.500 ± 0.000'],
    ['Proposed method', 'paper', '0.757', '0.534'],
    ['My variant', 'this run', '0.500 ± 0.000', '0.500 ± 0.000'],
  ]);
});

// A tiny hand-written results document for the renderer and writer tests.
import type { Cell, ResultsDoc, ResultTable } from '../../../src/engine/results';

export const label = (text: string): Cell => ({ kind: 'label', text, footnotes: [] });

export function tinyTable(): ResultTable {
  return {
    id: 'table1',
    title: 'Table 1. AUC & F1 (5% of "cases")',
    columns: [
      { key: 'label', header: 'Model initialization', kind: 'label' },
      { key: 'internal.auc', header: 'AUC', kind: 'stat', metric: 'auc', split: 'internal' },
      { key: 'internal.dice2d', header: '2D Dice', kind: 'stat', metric: 'dice2d', split: 'internal' },
      { key: 'external.auc', header: 'P-value for AUC', kind: 'pvalue', metric: 'auc', split: 'external' },
    ],
    rows: [
      {
        key: 'random',
        source: 'this run',
        cells: [
          label('Random, "v2"'),
          { kind: 'stat', mean: 0.7, std: 0.1, n: 5, format: 'decimal3', text: '0.700 ± 0.100', footnotes: [] },
          { kind: 'stat', mean: 0.061, std: 0.0123, n: 5, format: 'percent1', text: '6.1% ± 1.2%', footnotes: [] },
          { kind: 'pvalue', p: 0.0036, t: 4.2, df: 4, n: 5, text: '0.0036', footnotes: [] },
        ],
      },
      {
        key: 'medicalnet',
        source: 'this run',
        cells: [
          label('MedicalNet_v1'),
          { kind: 'missing', status: 'not run', text: 'not run', footnotes: [1] },
          { kind: 'missing', status: 'not run', text: 'not run', footnotes: [1] },
          { kind: 'missing', status: 'not run', text: 'not run', footnotes: [1] },
        ],
      },
      {
        key: 'pretrained',
        source: 'this run',
        cells: [
          label('Proposed CL'),
          { kind: 'paper', value: 0.877, format: 'decimal3', text: '0.877', footnotes: [] },
          { kind: 'na', text: 'n/a', footnotes: [2] },
          { kind: 'pvalue', p: 0, t: Infinity, df: 2, n: 3, text: '<0.0001', footnotes: [] },
        ],
      },
    ],
    footnotes: ['MedicalNet_v1 not run: no checkpoint, 100% missing', 'Proposed CL: no #2D Dice {x}'],
    notes: ['Mean ± std over folds; p < 0.05 is significant.'],
  };
}

export function tinyDoc(): ResultsDoc {
  return {
    format: 'mrcl-results-1',
    kind: 'experiment',
    runId: 'run_1',
    title: 'Results of run_1',
    config: { folds: 5, seed: 42 },
    showPaper: false,
    std: 'sample (n-1)',
    arms: [
      { arm: 'random', label: 'Random, "v2"', status: 'done', folds: [0, 1] },
      { arm: 'medicalnet', label: 'MedicalNet_v1', status: 'not run', reason: 'no checkpoint', folds: [] },
    ],
    tables: [tinyTable()],
    tests: [{ a: 'pretrained', b: 'random', split: 'external', metric: 'auc', status: 'done', folds: [0, 1, 2], t: Infinity, p: 0, df: 2 }],
    notes: ['Cells: mean ± std; *sample* std.'],
  };
}

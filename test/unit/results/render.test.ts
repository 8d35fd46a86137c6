import { test } from 'node:test';
import assert from 'node:assert/strict';
import { latexEscape, renderCsv, renderLatex, renderMarkdown } from '../../../src/engine/results';
import { label, tinyDoc, tinyTable } from './tiny-doc';

test('renderMarkdown: exact output of a tiny document (escaping, footnotes, notes)', () => {
  const expected = [
    '# Results of run_1',
    '',
    'Run: run_1 (experiment); folds: 5, seed: 42.',
    '',
    '- Random, "v2" (random): done, folds 0, 1',
    '- MedicalNet_v1 (medicalnet): not run — no checkpoint',
    '',
    'Cells: mean ± std; \\*sample\\* std.  ',
    '',
    '## Table 1. AUC & F1 (5% of "cases")',
    '',
    '| Model initialization | AUC | 2D Dice | P-value for AUC |',
    '| --- | :---: | :---: | :---: |',
    '| Random, "v2" | 0.700 ± 0.100 | 6.1% ± 1.2% | 0.0036 |',
    '| MedicalNet_v1 | not run [1] | not run [1] | not run [1] |',
    '| Proposed CL | 0.877 | n/a [2] | <0.0001 |',
    '',
    '- [1] MedicalNet_v1 not run: no checkpoint, 100% missing',
    '- [2] Proposed CL: no #2D Dice {x}',
    '',
    'Mean ± std over folds; p < 0.05 is significant.',
    '',
  ].join('\n');
  assert.equal(renderMarkdown(tinyDoc()), expected);
});

test('renderMarkdown escapes pipes, emphasis and HTML in free text', () => {
  const doc = tinyDoc();
  doc.tables[0].rows[0].cells[0] = label('a|b *c* _d_ snake_case <b>x</b>');
  const line = renderMarkdown(doc).split('\n').find((l) => l.startsWith('| a')) as string;
  assert.equal(line, '| a\\|b \\*c\\* \\_d\\_ snake_case \\<b>x\\</b> | 0.700 ± 0.100 | 6.1% ± 1.2% | 0.0036 |');
});

test('renderCsv: mean/std and p/t/df columns, full-precision numbers, RFC 4180 quoting, notes column', () => {
  const expected = [
    'Model initialization,AUC mean,AUC std,2D Dice mean,2D Dice std,P-value for AUC p,P-value for AUC t,P-value for AUC df,notes',
    '"Random, ""v2""",0.7,0.1,0.061,0.0123,0.0036,4.2,4,',
    'MedicalNet_v1,not run,,not run,,not run,,,"[1] MedicalNet_v1 not run: no checkpoint, 100% missing"',
    'Proposed CL,0.877,,n/a,,0,inf,2,[2] Proposed CL: no #2D Dice {x}',
    '',
  ].join('\n');
  assert.equal(renderCsv(tinyTable()), expected);
  // float noise trimmed to 12 significant digits; line breaks and edge spaces quoted
  const t = tinyTable();
  t.rows = [{ key: 'x', source: 'this run', cells: [label(' two\nlines'), { kind: 'stat', mean: 0.1 + 0.2, std: null, n: 1, format: 'decimal3', text: '0.300', footnotes: [] }, label('x'), label('y')] }];
  assert.equal(renderCsv(t).split('\n').slice(1).join('\n'), '" two\nlines",0.3,,x,,y,,,\n');
});

test('renderLatex: exact output (booktabs; %, _, ±, &, #, {, <, superscript footnotes)', () => {
  const expected = [
    '% Table 1. AUC \\& F1 (5\\% of "cases") (needs \\usepackage{booktabs})',
    '\\begin{table}[htbp]',
    '  \\centering',
    '  \\caption{AUC \\& F1 (5\\% of "cases")}',
    '  \\label{tab:table1}',
    '  \\begin{tabular}{lccc}',
    '    \\toprule',
    '    Model initialization & AUC & 2D Dice & P-value for AUC \\\\',
    '    \\midrule',
    '    Random, "v2" & 0.700 $\\pm$ 0.100 & 6.1\\% $\\pm$ 1.2\\% & 0.0036 \\\\',
    '    MedicalNet\\_v1 & not run$^{1}$ & not run$^{1}$ & not run$^{1}$ \\\\',
    '    Proposed CL & 0.877 & n/a$^{2}$ & \\textless{}0.0001 \\\\',
    '    \\bottomrule',
    '  \\end{tabular}',
    '  \\par\\smallskip',
    '  {\\footnotesize',
    '  $^{1}$ MedicalNet\\_v1 not run: no checkpoint, 100\\% missing\\par',
    '  $^{2}$ Proposed CL: no \\#2D Dice \\{x\\}\\par',
    '  Mean $\\pm$ std over folds; p \\textless{} 0.05 is significant.\\par',
    '  }',
    '\\end{table}',
    '',
  ].join('\n');
  assert.equal(renderLatex(tinyTable()), expected);
});

test('latexEscape: every special character once, none twice', () => {
  assert.equal(latexEscape('a\\b ~x^2 $5 Δ 1–2 − ≥'), 'a\\textbackslash{}b \\textasciitilde{}x\\textasciicircum{}2 \\$5 $\\Delta$ 1--2 $-$ $\\geq$');
  assert.equal(latexEscape('\\%'), '\\textbackslash{}\\%');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanReport, findLeakTerms, leakPatternsRemaining } from '../../../src/engine/text/clean';
import { LEAK_TERM_DEFAULTS } from '../../../src/shared/config';

// Hand-written input → expected output with the default options.
const DEFAULT_TABLE: [string, string, string][] = [
  ['empty', '', ''],
  ['whitespace only', '   \n\t \r\n', ''],
  ['only leak words', 'BRAF V600E fusion', ''],
  ['only leak words, mixed case', 'braf Fusion MUTATION Mutated mutant', ''],
  ['term with a hyphen', 'KIAA1549-BRAF fusion detected', 'detected'],
  ['colon compound', 'BRAF:KIAA1549 rearrangement seen', 'seen'],
  ['HGVS prefix', 'p.V600E negative', 'negative'],
  ['hyphen compound of two terms', 'BRAF-V600E mutated tumour', 'tumour'],
  ['prefix compound', 'non-fused lesion', 'lesion'],
  ['suffix compound', 'fusion-negative glioma', 'glioma'],
  ['slash compound', 'BRAF/MEK pathway', 'pathway'],
  ['underscore compound', 'BRAF_fusion status', 'status'],
  ['separator variants of wild-type', 'wild type, wildtype and wild-type tumour', 'and tumour'],
  ['term inside a word is kept', 'Confusion and diffusion restriction', 'Confusion and diffusion restriction'],
  ['longer word kept', 'BRAFi therapy, mutational load', 'BRAFi therapy mutational load'],
  ['ISO date', 'Scan 2021-03-04 reviewed', 'Scan reviewed'],
  ['numeric date', 'Seen 03/04/2021.', 'Seen'],
  ['dotted date', 'On 4.3.2021 stable', 'On stable'],
  ['month day, year', 'Dated March 4, 2021 today', 'Dated today'],
  ['day month year', 'on 4 March 2021 again', 'on again'],
  ['month year', 'since Mar 2021', 'since'],
  ['dd-Mon-yyyy', 'scan 04-Mar-2021', 'scan'],
  ['ordinal day and abbreviation', 'Sept. 12th, 2020 follow-up', 'follow up'],
  ['capitalised month without year', 'seen March 4th and 4th of March', 'seen and'],
  ['verbs may and march stay', 'Lesion may march on', 'Lesion may march on'],
  ['measurement', 'A 3.2 cm lesion', 'A lesion'],
  ['dimensions without spaces', 'measures 12x8 mm', 'measures'],
  ['three dimensions', '4.5 x 3 x 2 cm mass', 'mass'],
  ['multiplication sign', '12 × 8 mm cyst', 'cyst'],
  ['percentage', '10% enhancing', 'enhancing'],
  ['field strength', '1.5T scanner', 'scanner'],
  ['range', '3-4 mm cysts', 'cysts'],
  ['thousands separator and unit', 'TE 1,200 ms', 'TE'],
  ['bare count', '2 lesions', 'lesions'],
  ['digits inside words stay', 'T2 FLAIR 3D 7q34 C2-C3', 'T2 FLAIR 3D 7q34 C2 C3'],
  ['ordinals stay', '4th ventricle', '4th ventricle'],
  ['apostrophe inside a word', "patient's (left) side; stable!", 'patients left side stable'],
  ['hyphenated word', 'well-defined margins', 'well defined margins'],
  ['symbols', 'a+b=c <d> ° ±', 'a b c d'],
  ['paragraphs collapse', 'Findings:\n\nStable  cyst.\r\n', 'Findings Stable cyst'],
  ['unicode letters stay', 'Naïve café µ-opioid', 'Naïve café µ opioid'],
  ['NFC normalisation', 'cafe\u0301', 'caf\u00e9'],
  ['zero-width space dropped', 'cy\u200bst', 'cyst'],
  [
    'a whole report',
    'MRI BRAIN 2021-03-04:\nA 3.2 x 2.1 cm cystic mass in the 4th ventricle (KIAA1549-BRAF fusion).\n\nImpression: pilocytic astrocytoma, BRAF wild-type excluded.',
    'MRI BRAIN A cystic mass in the 4th ventricle Impression pilocytic astrocytoma excluded',
  ],
];

for (const [name, input, expected] of DEFAULT_TABLE) {
  test(`cleanReport: ${name}`, () => {
    assert.equal(cleanReport(input), expected);
  });
}

test('cleanReport: options switch single steps off', () => {
  assert.equal(cleanReport('Stable Cyst', { lowercase: true }), 'stable cyst');
  assert.equal(cleanReport('Seen 2021-03-04', { removeDates: false, removeNumbers: false, removePunctuation: false }), 'Seen 2021-03-04');
  // Without date removal an ISO date reads as a number range.
  assert.equal(cleanReport('Seen 2021-03-04', { removeDates: false }), 'Seen');
  assert.equal(cleanReport('A 3.2 cm lesion, 4 mm.', { removeNumbers: false }), 'A 3.2 cm lesion 4 mm');
  assert.equal(cleanReport('BRAF-V600E, stable.', { removePunctuation: false }), ', stable.');
  assert.equal(cleanReport('BRAF fusion', { leakTerms: [] }), 'BRAF fusion');
  assert.equal(cleanReport('IDH1 negative, BRAF stable', { leakTerms: ['IDH1'] }), 'negative BRAF stable');
  assert.equal(cleanReport('a tandem duplication or tandem-duplication here', { leakTerms: ['tandem duplication'] }), 'a or here');
  assert.equal(cleanReport('a (c.1799T>A) b', { leakTerms: ['c.1799T>A'] }), 'a b');
});

test('cleanReport: no default leak term survives cleaning of a report made of them', () => {
  const text = LEAK_TERM_DEFAULTS.map((t, i) => `word${i} ${t} ${t.toUpperCase()} ${t.toLowerCase()}`).join('. ');
  const cleaned = cleanReport(text);
  assert.deepEqual(findLeakTerms(cleaned), []);
  assert.match(cleaned, /^word0 word1 /);
});

test('cleanReport: bad input gives a clear error', () => {
  assert.throws(() => cleanReport(42 as unknown as string), /cleanReport: expected a string, got number/);
  assert.throws(() => cleanReport(null as unknown as string), /cleanReport: expected a string, got null/);
  assert.throws(() => cleanReport('x', { leakTerms: ['BRAF', ''] }), /report\.leakTerms\[1\] must be a non-empty string/);
  assert.throws(() => cleanReport('x', { leakTerms: 'BRAF' as unknown as string[] }), /report\.leakTerms must be an array/);
});

test('findLeakTerms: terms with positions, longest term first, whole words only', () => {
  assert.deepEqual(findLeakTerms('KIAA1549-BRAF fusion; p.V600E'), [
    { term: 'KIAA1549-BRAF', text: 'KIAA1549-BRAF', start: 0, end: 13 },
    { term: 'fusion', text: 'fusion', start: 14, end: 20 },
    { term: 'V600E', text: 'V600E', start: 24, end: 29 },
  ]);
  assert.deepEqual(findLeakTerms('KIAA1549:BRAF and Braf'), [
    { term: 'KIAA1549-BRAF', text: 'KIAA1549:BRAF', start: 0, end: 13 },
    { term: 'BRAF', text: 'Braf', start: 18, end: 22 },
  ]);
  assert.deepEqual(findLeakTerms('confusion, diffusion, BRAFi, mutational, V600K'), []);
  assert.deepEqual(findLeakTerms('V600 and V600E'), [
    { term: 'V600', text: 'V600', start: 0, end: 4 },
    { term: 'V600E', text: 'V600E', start: 9, end: 14 },
  ]);
  assert.deepEqual(findLeakTerms('IDH1 and idh1x', ['IDH1']), [{ term: 'IDH1', text: 'IDH1', start: 0, end: 4 }]);
  assert.deepEqual(findLeakTerms('anything', []), []);
  assert.throws(() => findLeakTerms(undefined as unknown as string), /findLeakTerms: expected a string/);
});

test('leakPatternsRemaining: flags variant spellings, each widened to its word', () => {
  const text = 'BRAFi given. B-RAF V600K, Val600Glu, c.1799T>A; mutational fusing wild type rearranged 7q34 tandem duplication dabrafenib';
  assert.deepEqual(
    leakPatternsRemaining(text).map((w) => [w.pattern, w.text]),
    [
      ['braf', 'BRAFi'],
      ['b-raf', 'B-RAF'],
      ['v600', 'V600K'],
      ['val600', 'Val600Glu'],
      ['c1799', 'c.1799T>A'],
      ['mutation', 'mutational'],
      ['fusion', 'fusing'],
      ['wild-type', 'wild type'],
      ['rearrangement', 'rearranged'],
      ['7q34', '7q34'],
      ['tandem-duplication', 'tandem duplication'],
      ['braf', 'dabrafenib'],
      ['targeted-therapy', 'dabrafenib'],
    ],
  );
});

test('leakPatternsRemaining: what survives default cleaning is flagged', () => {
  const cleaned = cleanReport('BRAFi given. B-RAF V600K; mutational fusing 7q34 dabrafenib');
  assert.equal(cleaned, 'BRAFi given B RAF V600K mutational fusing 7q34 dabrafenib');
  assert.deepEqual(
    leakPatternsRemaining(cleaned).map((w) => [w.pattern, w.text, w.start]),
    [
      ['braf', 'BRAFi', 0],
      ['b-raf', 'B RAF', 12],
      ['v600', 'V600K', 18],
      ['mutation', 'mutational', 24],
      ['fusion', 'fusing', 35],
      ['7q34', '7q34', 42],
      ['braf', 'dabrafenib', 47],
      ['targeted-therapy', 'dabrafenib', 47],
    ],
  );
});

test('leakPatternsRemaining: positions and innocent words', () => {
  assert.deepEqual(leakPatternsRemaining('no BRAFi'), [
    { pattern: 'braf', description: leakPatternsRemaining('BRAFi')[0]!.description, text: 'BRAFi', start: 3, end: 8 },
  ]);
  assert.deepEqual(leakPatternsRemaining('Confusion and diffusion restriction in the 4th ventricle, fusiform, immutable'), []);
  assert.deepEqual(leakPatternsRemaining(''), []);
  assert.throws(() => leakPatternsRemaining(3 as unknown as string), /leakPatternsRemaining: expected a string/);
});

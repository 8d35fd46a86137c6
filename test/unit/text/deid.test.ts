// De-identification: hand-derived cases for every identifier type, the
// things that must stay (clinical text), the counts, and the hand-over to
// cleanReport (placeholders dropped).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { deidentify, deidOptionsFor, readKnownNames } from '../../../src/engine/text/deid';
import { cleanReport } from '../../../src/engine/text/clean';

const d = (text: string, options = {}) => deidentify(text, options).text;

test('dates in every format become [DATE]', () => {
  for (const date of ['2021-03-04', '03/04/2021', '4.3.21', 'March 4, 2021', '4 March 2021', '04-Mar-2021', 'Mar 2021', '20210304', '03/2021', '2021-03-04T10:22:05Z', '4th of March']) {
    assert.equal(d(`Compared with the study of ${date} today.`), 'Compared with the study of [DATE] today.', date);
  }
  // a verb "may" and a month-less number stay
  assert.equal(d('There may be 2 lesions.'), 'There may be 2 lesions.');
});

test('names: header fields, titles, degrees and the known-names list', () => {
  assert.equal(d('Patient: John Smith\nFindings: normal.'), 'Patient: [NAME]\nFindings: normal.');
  assert.equal(d('PATIENT NAME: SMITH, JOHN'), 'PATIENT NAME: [NAME]');
  assert.equal(d('Name: jane doe'), 'Name: [NAME]');
  // a field after another word on its line is not a name field
  assert.equal(d('Exam name: MRI brain'), 'Exam name: MRI brain');
  // a value with a digit is not a name: only capitalised words after the field go
  assert.equal(d('Patient: 5-year-old boy with ataxia'), 'Patient: 5-year-old boy with ataxia');
  assert.equal(d('Patient: Maria de la Cruz Gonzalez'), 'Patient: [NAME]');
  assert.equal(d('MRI BRAIN. Patient: John Smith'), 'MRI BRAIN. Patient: [NAME]');
  assert.equal(d('Referring physician: Dr. Alice Brown'), 'Referring physician: [NAME]');
  // one-line report: only the capitalised name after the field goes, the sentence stays
  assert.equal(d('Patient: John Smith. Findings: a cerebellar mass.'), 'Patient: [NAME]. Findings: a cerebellar mass.');
  assert.equal(d('Seen by Dr. Okafor and Mrs Jones; Prof. A. Brown agreed.'), 'Seen by [NAME] and [NAME]; [NAME] agreed.');
  assert.equal(d('Signed: Smith, John MD'), 'Signed: [NAME]');
  assert.equal(d('Reviewed by Helen Park, MD.'), 'Reviewed by [NAME].');
  // the list: whole entry and each word, whole words, any case
  const r = deidentify('Discussed with Hortensia Grimsby; GRIMSBY agrees. Grimsbyville stays.', { knownNames: ['Hortensia Grimsby'] });
  assert.equal(r.text, 'Discussed with [NAME]; [NAME] agrees. Grimsbyville stays.');
  assert.deepEqual(r.replaced, [{ type: 'NAME', count: 2 }]);
  // MR (magnetic resonance) and MS (multiple sclerosis) are not titles
  assert.equal(d('MR Imaging. MS Lesions are absent.'), 'MR Imaging. MS Lesions are absent.');
});

test('MRN, accession and other IDs become [ID]', () => {
  assert.equal(d('MRN: 12345'), 'MRN: [ID]');
  assert.equal(d('Medical record number: A-778'), 'Medical record number: [ID]');
  assert.equal(d('Accession #: ACC-77'), 'Accession #: [ID]');
  assert.equal(d('Accession No.: RX12'), 'Accession No.: [ID]');
  assert.equal(d('Patient ID: 00042'), 'Patient ID: [ID]');
  // an ID-like token with five or more digits anywhere
  assert.equal(d('Study 1234567 and A00012345 and ACC-2021-00042.'), 'Study [ID] and [ID] and [ID].');
  // KIAA1549 (4 digits), T2, 7q34 stay
  assert.equal(d('KIAA1549 on T2 at 7q34, 41x45x36mm'), 'KIAA1549 on T2 at 7q34, 41x45x36mm');
});

test('phone numbers, e-mail and street addresses', () => {
  assert.equal(d('Call 555-123-4567 or (020) 7946 0958 or +44 20 7946 0958.'), 'Call [PHONE] or [PHONE] or [PHONE].');
  assert.equal(d('Tel: 0123 4567'), 'Tel: [PHONE]');
  assert.equal(d('Mail jane.doe@hospital.org now.'), 'Mail [EMAIL] now.');
  assert.equal(d('Lives at 12 Oak Street, Springfield, IL 62704.'), 'Lives at [ADDRESS].');
  assert.equal(d('Lives in Boston, MA 02115.'), 'Lives in [ADDRESS].');
  assert.equal(d('Hauptstraße 12, SW1A 1AA, P.O. Box 77'), '[ADDRESS], [ADDRESS], [ADDRESS]');
  assert.equal(d('Address: 4 rue de la Paix, Paris'), 'Address: [ADDRESS]');
  // measurements are not phone numbers
  assert.equal(d('41 x 45 x 36 mm, 3.2 cm, 10-12 mm'), '41 x 45 x 36 mm, 3.2 cm, 10-12 mm');
});

test('ages over 89 become [AGE]; 89 and under stay', () => {
  assert.equal(d('A 92-year-old woman'), 'A [AGE] woman');
  assert.equal(d('aged 95'), '[AGE]');
  assert.equal(d('91 years old'), '[AGE]');
  assert.equal(d('Age: 90'), '[AGE]');
  assert.equal(d('93 y/o'), '[AGE]');
  for (const kept of ['A 45-year-old man', '89 years', 'aged 89', 'Age: 12', '2-year-old boy']) assert.equal(d(kept), kept);
});

test('institutions: the list and the usual patterns', () => {
  const t = "Imaged at Boston Children's Hospital, then Mayo Clinic, University of Toronto, St. Jude Children's Research Hospital, Foo Medical Centre.";
  assert.equal(d(t), 'Imaged at [INSTITUTION], then [INSTITUTION], [INSTITUTION], [INSTITUTION], [INSTITUTION].');
  // two names joined by "and" make one span
  assert.equal(d("Women's and Children's Hospital and Mayo Clinic"), '[INSTITUTION]');
  assert.equal(d('Outside films from Hospital for Sick Children.'), 'Outside films from [INSTITUTION].');
  assert.equal(d('Sent from mercy general today.', { institutions: ['Mercy General'] }), 'Sent from [INSTITUTION] today.');
  // lower-case common nouns stay
  assert.equal(d('The hospital and the clinic were informed.'), 'The hospital and the clinic were informed.');
});

test('counts per type, in a fixed order; a report with nothing identifying is unchanged', () => {
  const r = deidentify('Patient: John Smith\nMRN: 12345\nDOB: 03/04/1950\nSeen 2021-03-04 at Mayo Clinic.');
  assert.equal(r.text, 'Patient: [NAME]\nMRN: [ID]\nDOB: [DATE]\nSeen [DATE] at [INSTITUTION].');
  assert.deepEqual(r.replaced, [
    { type: 'NAME', count: 1 },
    { type: 'ID', count: 1 },
    { type: 'DATE', count: 2 },
    { type: 'INSTITUTION', count: 1 },
  ]);
  const plain = 'Findings: A cystic mass in the cerebellar vermis, 41 x 45 mm. Impression: low-grade glioma.';
  assert.deepEqual(deidentify(plain), { text: plain, replaced: [] });
});

test('idempotent: placeholders are not matched again (a report imported de-identified is de-identified again in a run)', () => {
  const options = { knownNames: ['date', 'Smith'], institutions: ['institution'] };
  const once = deidentify('Patient: John Smith\nMRN: 12345\nSeen by Dr. Okafor at Mayo Clinic on 2021-03-04, Name: [NAME].', options);
  assert.equal(once.text, 'Patient: [NAME]\nMRN: [ID]\nSeen by [NAME] at [INSTITUTION] on [DATE], Name: [NAME].');
  assert.deepEqual(deidentify(once.text, options), { text: once.text, replaced: [] });
});

test('cleanReport drops the placeholders', () => {
  const r = deidentify('Patient: John Smith. MRN: 12345. Mass in the 4th ventricle, seen at Mayo Clinic on 2021-03-04.');
  assert.equal(cleanReport(r.text), 'Patient MRN Mass in the 4th ventricle seen at on');
});

test('bad input and options are errors', () => {
  assert.throws(() => deidentify(null as unknown as string), /deidentify: expected a string, got null/);
  assert.throws(() => deidentify('x', { knownNames: ['ok', ''] }), /knownNames\[1\] must be a non-empty string/);
  assert.throws(() => deidentify('x', { institutions: 'Mayo' as unknown as string[] }), /institutions must be an array/);
});

test('known-names file: one name a line, comments and blank lines skipped; resolved against the config folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-deid-'));
  writeFileSync(join(dir, 'names.txt'), '\ufeff# staff\nHortensia Grimsby\r\n\n  Ottoline Vash  \n');
  assert.deepEqual(readKnownNames(join(dir, 'names.txt')), ['Hortensia Grimsby', 'Ottoline Vash']);
  assert.deepEqual(deidOptionsFor({ knownNames: ['A B'], knownNamesFile: 'names.txt', institutions: ['X'] }, dir), {
    knownNames: ['A B', 'Hortensia Grimsby', 'Ottoline Vash'],
    institutions: ['X'],
  });
  assert.throws(() => readKnownNames(join(dir, 'missing.txt')), /missing\.txt/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LOCATION_TERMS, writeReport, type ReportFacts } from '../../../src/engine/synth/reports';
import { SITES } from '../../../src/engine/synth/tumour';
import { SYNTH_LOCATIONS, SYNTH_MARKERS } from '../../../src/engine/synth/labels';
import { LEAK_TERM_DEFAULTS } from '../../../src/shared/config';
import { Rng } from '../../../src/engine/util/rng';

const mentions = (text: string, term: string) => new RegExp(`\\b${term.replace(/[-]/g, '\\-')}\\b`, 'i').test(text);

const BASE: ReportFacts = {
  location: 'supratentorial',
  marker: 'v600e',
  site: 'frontal',
  side: 'right',
  ageYears: 9,
  sex: 'girl',
  extentMm: [28, 34, 31.2],
  volumeMl: 14.2,
  cyst: false,
  largeCyst: false,
  nodule: false,
  heterogeneous: true,
  margin: 'infiltrative',
  edema: true,
  massEffectMm: 5.5,
  midlineShiftMm: 4.4,
  hydrocephalus: false,
  periventricularEdema: false,
  fourthVentricleEffaced: false,
  year: 2012,
};

/** Facts for every site, marker and finding combination the generator can produce. */
function allFacts(): ReportFacts[] {
  const out: ReportFacts[] = [];
  const rng = new Rng(99);
  for (const site of SITES) {
    for (const marker of SYNTH_MARKERS) {
      for (let n = 0; n < 12; n++) {
        const cyst = rng.next() < 0.5;
        const hydrocephalus = rng.next() < 0.4;
        out.push({
          ...BASE,
          location: site.location,
          site: site.name,
          marker,
          side: site.lateral ? (rng.next() < 0.5 ? 'left' : 'right') : 'midline',
          extentMm: [rng.uniform(10, 50), rng.uniform(10, 50), rng.uniform(10, 50)],
          cyst,
          largeCyst: cyst && rng.next() < 0.5,
          nodule: cyst && rng.next() < 0.5,
          heterogeneous: rng.next() < 0.5,
          margin: (['circumscribed', 'lobulated', 'infiltrative'] as const)[rng.int(3)],
          edema: rng.next() < 0.5,
          massEffectMm: rng.uniform(0, 7),
          midlineShiftMm: site.location === 'supratentorial' && site.lateral ? rng.uniform(0, 6) : 0,
          hydrocephalus,
          periventricularEdema: hydrocephalus && rng.next() < 0.5,
          fourthVentricleEffaced: site.location !== 'supratentorial' && rng.next() < 0.5,
        });
      }
    }
  }
  return out;
}

const FACTS = allFacts();
const REPORTS = FACTS.map((f, i) => writeReport(f, new Rng(1000 + i)));

test('hand-checked report: measurements, midline shift and findings as stated', () => {
  const text = writeReport(BASE, new Rng(4));
  // extent x = 28 mm (TR), y = 34 mm (AP), z = 31.2 mm (CC)
  assert.ok(
    text.includes('3.4 x 2.8 x 3.1 cm (AP x TR x CC)') || text.includes('34 x 28 x 31 mm (AP x TR x CC)') || text.includes('2.8 cm transverse x 3.4 cm AP x 3.1 cm craniocaudal'),
    text,
  );
  // a right-sided mass pushes the midline to the left
  assert.match(text, /4 mm of leftward midline shift/);
  assert.match(text, /frontal/i);
  assert.doesNotMatch(text, /cyst|nodule/i);
});

test('every report names its own location class and no other class', () => {
  FACTS.forEach((f, i) => {
    const text = REPORTS[i];
    assert.ok(LOCATION_TERMS[f.location].some((t) => mentions(text, t)), `${f.site}: no ${f.location} term in\n${text}`);
    for (const other of SYNTH_LOCATIONS.filter((l) => l !== f.location)) {
      for (const t of LOCATION_TERMS[other]) assert.ok(!mentions(text, t), `${f.site} (${f.location}) report mentions "${t}":\n${text}`);
    }
  });
});

test('reports state only findings the case has', () => {
  FACTS.forEach((f, i) => {
    const text = REPORTS[i];
    const [tr, ap, cc] = f.extentMm;
    const cm = (x: number) => (x / 10).toFixed(1);
    const mm = (x: number) => String(Math.round(x));
    assert.ok(text.includes(`${cm(ap)} x ${cm(tr)} x ${cm(cc)} cm`) || text.includes(`${mm(ap)} x ${mm(tr)} x ${mm(cc)} mm`) || text.includes(`${cm(tr)} cm transverse x ${cm(ap)} cm AP x ${cm(cc)} cm craniocaudal`), text);
    if (!f.cyst) assert.doesNotMatch(text, /cyst/i);
    if (!f.nodule) assert.doesNotMatch(text, /nodule/i);
    if (f.hydrocephalus) assert.match(text, /hydrocephalus/i);
    else assert.doesNotMatch(text, /obstructive|ventriculomegaly|dilated|transependymal/i);
    if (!f.edema) assert.doesNotMatch(text, /vasogenic|edema is present|edema extends/i);
    if (f.midlineShiftMm >= 3) assert.match(text, new RegExp(`${Math.round(f.midlineShiftMm)} mm of (left|right)ward midline shift`));
    else assert.doesNotMatch(text, /midline shift/i);
    if (f.margin !== 'infiltrative') assert.doesNotMatch(text, /infiltrative/i);
  });
});

test('reports vary and some carry dates, numbers and label-leaking words for cleaning to remove', () => {
  assert.equal(new Set(REPORTS).size, REPORTS.length);
  const firstLines = new Set(REPORTS.map((r) => r.split('\n')[0]));
  assert.ok(firstLines.size >= 3);
  const dated = REPORTS.filter((r) => /\b\d{4}-\d{2}-\d{2}\b|\b\d{2}\/\d{2}\/\d{4}\b|\b[A-Z][a-z]+ \d{1,2}, \d{4}\b/.test(r));
  assert.ok(dated.length > REPORTS.length / 2, `${dated.length} of ${REPORTS.length} dated`);
  const leaky = REPORTS.filter((r) => LEAK_TERM_DEFAULTS.some((t) => mentions(r, t)));
  assert.ok(leaky.length > REPORTS.length * 0.15 && leaky.length < REPORTS.length * 0.6, `${leaky.length} of ${REPORTS.length} leak`);
  // a leak always names the case's own marker
  FACTS.forEach((f, i) => {
    if (f.marker === 'fusion') assert.doesNotMatch(REPORTS[i], /V600E/);
    if (f.marker === 'v600e') assert.doesNotMatch(REPORTS[i], /fusion|fused|KIAA1549|wild-type/i);
    if (f.marker === 'other') assert.doesNotMatch(REPORTS[i], /KIAA1549|fusion positive|V600E mutant|BRAF-fused/i);
  });
});

test('same facts and seed give the same report', () => {
  assert.equal(writeReport(BASE, new Rng(8)), writeReport(BASE, new Rng(8)));
  assert.notEqual(writeReport(BASE, new Rng(8)), writeReport(BASE, new Rng(9)));
});

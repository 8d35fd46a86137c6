// Free-text radiology reports for synthetic cases. Every finding a report
// states is one the image really shows (location, measured size, cyst,
// nodule, heterogeneity, margins, oedema, mass effect, hydrocephalus);
// wording, section layout and sentence order vary, and some reports carry
// dates, numbers and label-leaking molecular statements so report cleaning
// has something to remove.
// follows: METHOD.md §1 (report; cleaning removes dates, numbers, leak terms)
import type { Rng } from '../util/rng';
import type { SynthLocation, SynthMarker } from './labels';
import type { SiteName } from './tumour';
import type { Vec3 } from './math';

/** Location vocabulary: a report uses only its own class's terms (whole words, case-insensitive). */
export const LOCATION_TERMS: Readonly<Record<SynthLocation, readonly string[]>> = {
  supratentorial: ['supratentorial', 'frontal', 'parietal', 'temporal', 'occipital', 'thalamus', 'thalamic', 'cerebral hemisphere'],
  infratentorial: ['infratentorial', 'posterior fossa', 'cerebellar', 'cerebellum', 'vermis', 'vermian', 'fourth ventricle', 'brainstem', 'pons', 'pontine'],
  transtentorial: ['transtentorial', 'tentorial incisura', 'tentorial hiatus', 'across the tentorium', 'midbrain', 'mesencephalic', 'tectal'],
};

/** What a report may say about one case. */
export interface ReportFacts {
  location: SynthLocation;
  marker: SynthMarker;
  site: SiteName;
  side: 'right' | 'left' | 'midline';
  ageYears: number;
  sex: 'boy' | 'girl';
  /** mask bounding box along x (transverse), y (AP), z (craniocaudal), mm */
  extentMm: Vec3;
  volumeMl: number;
  cyst: boolean;
  /** the cyst is the dominant part (large cyst) rather than a small component */
  largeCyst: boolean;
  nodule: boolean;
  heterogeneous: boolean;
  margin: 'circumscribed' | 'lobulated' | 'infiltrative';
  edema: boolean;
  /** peak displacement of the brain around the mass, mm */
  massEffectMm: number;
  midlineShiftMm: number;
  hydrocephalus: boolean;
  periventricularEdema: boolean;
  fourthVentricleEffaced: boolean;
  /** year of the examination (dates in the report are around it) */
  year: number;
}

const pick = <T>(rng: Rng, items: readonly T[]): T => items[rng.int(items.length)];
const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

type Day = [number, number, number];

function randomDay(rng: Rng, year: number): Day {
  return [year, 1 + rng.int(12), 1 + rng.int(28)];
}

/** One of the date styles report cleaning must recognise (2021-03-04, 03/04/2021, March 4, 2021). */
function formatDay(rng: Rng, [y, m, d]: Day): string {
  const p2 = (n: number) => String(n).padStart(2, '0');
  return pick(rng, [`${y}-${p2(m)}-${p2(d)}`, `${p2(m)}/${p2(d)}/${y}`, `${MONTHS[m - 1]} ${d}, ${y}`]);
}

function where(rng: Rng, f: ReportFacts): string {
  const s = f.side;
  switch (f.site) {
    case 'frontal':
    case 'parietal':
    case 'temporal':
    case 'occipital':
      return pick(rng, [`${s} ${f.site} lobe`, `${f.site} lobe of the ${s} cerebral hemisphere`, `${s} ${f.site} region`]);
    case 'thalamic':
      return pick(rng, [`${s} thalamus`, `${s} thalamic region`, `${s} thalamus and adjacent internal capsule`]);
    case 'cerebellar':
      return pick(rng, [`${s} cerebellar hemisphere`, `posterior fossa, centred in the ${s} cerebellar hemisphere`, `${s} cerebellum`]);
    case 'vermian':
      return pick(rng, ['cerebellar vermis', 'posterior fossa midline, arising from the vermis', 'vermis, posterior fossa']);
    case 'brainstem':
      return pick(rng, ['pons', 'brainstem, centred in the pons', 'pontine brainstem']);
    case 'incisural':
      return pick(rng, ['tentorial incisura, involving the tectal plate', 'tectal region at the tentorial incisura', 'tentorial hiatus, centred on the tectal plate']);
    case 'vermian-incisural':
      return pick(rng, ['posterior midline, extending across the tentorium', 'tentorial incisura posteriorly', 'posterior tentorial hiatus']);
    case 'mesencephalic':
      return pick(rng, [`${s} midbrain, extending through the tentorial incisura`, `${s} mesencephalic region at the tentorial hiatus`, `${s} midbrain`]);
  }
}

function classWord(rng: Rng, loc: SynthLocation): string {
  if (loc === 'supratentorial') return pick(rng, ['supratentorial', 'intra-axial supratentorial']);
  if (loc === 'infratentorial') return pick(rng, ['infratentorial', 'posterior fossa', 'intra-axial infratentorial']);
  return pick(rng, ['transtentorial', 'intra-axial transtentorial']);
}

function sizeText(rng: Rng, f: ReportFacts): string {
  const [tr, ap, cc] = f.extentMm;
  const cm = (x: number) => (x / 10).toFixed(1);
  const mm = (x: number) => String(Math.round(x));
  const dims = pick(rng, [
    `${cm(ap)} x ${cm(tr)} x ${cm(cc)} cm (AP x TR x CC)`,
    `${mm(ap)} x ${mm(tr)} x ${mm(cc)} mm (AP x TR x CC)`,
    `${cm(tr)} cm transverse x ${cm(ap)} cm AP x ${cm(cc)} cm craniocaudal`,
  ]);
  const vol = rng.next() < 0.3 ? `, volume approximately ${f.volumeMl.toFixed(1)} mL` : '';
  return pick(rng, [`measuring ${dims}${vol}`, `measures ${dims}${vol}`, `approximately ${dims} in size${vol}`]);
}

function signalText(rng: Rng, f: ReportFacts): string {
  if (f.cyst && f.largeCyst && f.nodule) {
    return pick(rng, [
      'predominantly cystic mass with a FLAIR-hyperintense mural nodule',
      'large cystic lesion with an eccentric, bright solid mural nodule',
      'cyst-with-nodule lesion (cyst fluid incompletely suppressed on FLAIR, markedly hyperintense nodule)',
    ]);
  }
  if (f.cyst && f.nodule) return pick(rng, ['mixed cystic and solid mass with a solid mural nodule', 'partly cystic lesion with a hyperintense mural nodule']);
  if (f.cyst && f.largeCyst) return pick(rng, ['predominantly cystic mass with a thin hyperintense wall', 'cystic lesion with a bright rim']);
  if (f.cyst) return pick(rng, ['solid lesion with a small cystic component', 'mostly solid mass containing a small cyst']);
  if (f.heterogeneous) return pick(rng, ['solid, heterogeneously FLAIR-hyperintense mass', 'heterogeneous T2/FLAIR hyperintense solid lesion', 'solid mass of heterogeneous high FLAIR signal']);
  return pick(rng, ['solid, fairly homogeneous FLAIR-hyperintense mass', 'homogeneously hyperintense solid lesion on FLAIR']);
}

function marginText(rng: Rng, f: ReportFacts): string {
  if (f.margin === 'circumscribed') return pick(rng, ['The lesion is well circumscribed.', 'Margins are sharp and well defined.', 'It is sharply marginated.']);
  if (f.margin === 'infiltrative') return pick(rng, ['Margins are ill-defined and infiltrative.', 'The lesion has poorly defined, infiltrative borders.', 'Its margins blend into the adjacent parenchyma.']);
  return pick(rng, ['Margins are lobulated but fairly well defined.', 'The lesion is lobulated.']);
}

function effectSentences(rng: Rng, f: ReportFacts): string[] {
  const out: string[] = [];
  if (f.edema) out.push(pick(rng, ['There is surrounding FLAIR hyperintensity in keeping with vasogenic oedema.', 'Mild perilesional edema is present.', 'Surrounding edema extends into the adjacent white matter.']));
  else if (rng.next() < 0.5) out.push(pick(rng, ['No significant perilesional edema.', 'There is little surrounding edema.']));
  const toward = f.side === 'right' ? 'leftward' : 'rightward';
  if (f.midlineShiftMm >= 3) out.push(`There is mass effect with ${Math.round(f.midlineShiftMm)} mm of ${toward} midline shift.`);
  else if (f.massEffectMm >= 5) out.push(pick(rng, ['There is significant mass effect on the adjacent structures.', 'Marked local mass effect is noted.']));
  else if (f.massEffectMm >= 3) out.push(pick(rng, ['There is mild local mass effect.', 'Mild mass effect on adjacent structures.']));
  else if (rng.next() < 0.5) out.push(pick(rng, ['No significant mass effect.', 'There is minimal mass effect.']));
  if (f.fourthVentricleEffaced && f.location === 'infratentorial') out.push(pick(rng, ['The fourth ventricle is effaced.', 'There is compression of the fourth ventricle.']));
  if (f.hydrocephalus) {
    out.push(pick(rng, ['The lateral and third ventricles are dilated, in keeping with obstructive hydrocephalus.', 'There is obstructive hydrocephalus with enlargement of the lateral and third ventricles.', 'Ventriculomegaly consistent with hydrocephalus.']));
    if (f.periventricularEdema) out.push(pick(rng, ['Periventricular FLAIR hyperintensity suggests transependymal CSF flow.', 'There is periventricular interstitial edema.']));
  } else if (rng.next() < 0.6) {
    out.push(pick(rng, ['The ventricles are normal in size.', 'No hydrocephalus.', 'Ventricular size is within normal limits.']));
  }
  return out;
}

function history(rng: Rng, f: ReportFacts): string {
  const symptoms: Record<SynthLocation, string[]> = {
    supratentorial: ['new-onset seizures', 'headaches', 'progressive hemiparesis', 'headaches and behavioural change'],
    infratentorial: ['morning headaches and vomiting', 'ataxia', 'gait instability and headaches', 'vomiting and nystagmus'],
    transtentorial: ['headaches and vomiting', 'diplopia', 'upgaze palsy and headaches'],
  };
  return `${f.ageYears}-year-old ${f.sex} with ${pick(rng, symptoms[f.location])}.`;
}

function leak(rng: Rng, marker: SynthMarker): string {
  if (marker === 'fusion') return pick(rng, ['Known KIAA1549-BRAF fusion on prior biopsy.', 'Outside biopsy: BRAF fusion positive.', 'History of BRAF-fused low-grade glioma.']);
  if (marker === 'v600e') return pick(rng, ['Known BRAF V600E mutation.', 'Biopsy-proven low-grade glioma, BRAF V600E mutant.', 'Prior molecular testing showed a BRAF V600E mutation.']);
  return pick(rng, ['Molecular testing: BRAF wild-type.', 'Biopsy-proven low-grade glioma, BRAF wild-type.', 'Molecular testing negative for BRAF fusion and BRAF V600E mutation.']);
}

function impression(rng: Rng, f: ReportFacts): string {
  const lesion = pick(rng, ['low-grade glial neoplasm', 'low-grade glioma', 'probable low-grade glioma']);
  let s = `${cap(classWord(rng, f.location))} ${lesion} ${pick(rng, ['of', 'in', 'involving'])} the ${where(rng, f)}`;
  if (f.cyst && f.nodule && f.largeCyst && rng.next() < 0.5) s += ', imaging features favour pilocytic astrocytoma';
  const extra: string[] = [];
  if (f.hydrocephalus) extra.push('Obstructive hydrocephalus.');
  if (f.midlineShiftMm >= 3) extra.push('Midline shift as described.');
  return [s + '.', ...extra].map((x, i, all) => (all.length > 1 ? `${i + 1}. ${x}` : x)).join('\n');
}

/** A report for one case; deterministic for a given rng state. */
export function writeReport(f: ReportFacts, rng: Rng): string {
  const upper = rng.next() < 0.5;
  const head = (h: string) => (upper ? `${h.toUpperCase()}:` : `${h}:`);
  const exam = randomDay(rng, f.year);
  const lines: string[] = [];
  lines.push(pick(rng, ['MRI BRAIN WITH AND WITHOUT CONTRAST', 'MR HEAD', 'MRI Brain', 'MRI OF THE BRAIN (PEDIATRIC)']));
  if (rng.next() < 0.6) lines.push(`${head('Exam date')} ${formatDay(rng, exam)}`);
  let hist = history(rng, f);
  if (rng.next() < 0.3) hist += ` ${leak(rng, f.marker)}`;
  lines.push(`${head(pick(rng, ['Clinical history', 'History', 'Indication']))} ${hist}`);
  lines.push(`${head('Technique')} ${pick(rng, [
    'Multiplanar multisequence MRI of the brain including axial FLAIR, T2, DWI and pre- and post-contrast T1-weighted images.',
    'Sagittal 3D FLAIR with axial and coronal reformats, axial T2 and post-gadolinium T1.',
    'Routine brain protocol with 3D FLAIR.',
  ])}`);
  const prior = rng.next() < 0.5;
  lines.push(`${head('Comparison')} ${prior ? `Outside MRI from ${formatDay(rng, randomDay(rng, f.year - 1))}.` : 'None.'}`);

  const opening = prior ? ['There is a', 'A', 'Again seen is a'] : ['There is a', 'A'];
  const main = `${pick(rng, opening)} ${signalText(rng, f)} in the ${where(rng, f)}, ${sizeText(rng, f)}.`;
  const rest = [marginText(rng, f), ...effectSentences(rng, f)];
  rng.shuffle(rest);
  const closing = pick(rng, ['The remainder of the brain parenchyma is unremarkable.', 'No other lesion is seen.', 'No additional abnormality.']);
  const findings = [main, ...rest, closing];
  if (rng.next() < 0.5) lines.push(`${head('Findings')} ${findings.join(' ')}`);
  else lines.push(head('Findings'), ...findings);

  let imp = impression(rng, f);
  if (rng.next() < 0.15) imp += `\n${leak(rng, f.marker)}`;
  lines.push(head('Impression'), imp);
  if (rng.next() < 0.4) lines.push(`Electronically signed ${formatDay(rng, exam)} ${String(7 + rng.int(11)).padStart(2, '0')}:${String(rng.int(60)).padStart(2, '0')}.`);
  return lines.join('\n') + '\n';
}

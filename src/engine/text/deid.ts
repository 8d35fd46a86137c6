// Report de-identification: names, IDs, dates, phone numbers, e-mail and
// street addresses, ages over 89 and institutions are replaced by typed
// placeholders ([NAME], [ID], …) before anything else reads a report (the
// tokenizer, the model, any file a run writes). cleanReport then drops the
// placeholders. Free-text de-identification is never perfect: see
// docs/PRIVACY.md for what is and is not removed.
//
// Rules, in the order they run (an earlier rule's placeholder is not matched
// again by a later one):
// - E-mail addresses → [EMAIL].
// - Header fields (case-insensitive field name, then ':' or '#'):
//   names (Patient, Name, Referring physician, Radiologist, Signed by, …;
//   not after another word on the line, so "Exam name:" is not one) →
//   [NAME]: the rest of the line when it is short (≤ 6 words, ≤ 60
//   characters, no digit, no sentence end), else the capitalised words that
//   follow ("Patient: 5-year-old boy" stays);
//   IDs (MRN, Accession, Patient ID, …) → [ID]; Phone/Tel/Fax → [PHONE];
//   Address → [ADDRESS] (rest of the line).
// - Dates: every form cleanReport removes, plus compact 20210304, month/year
//   03/2021 and ISO date-times → [DATE]; then what a DOB field still holds.
// - Street addresses: a house number, capitalised words and a street word
//   (12 Oak Street, 5 Elm Rd.), Hauptstraße 12, a P.O. box, "Boston, MA
//   02115", a UK postcode → [ADDRESS].
// - Institutions: the configured list (whole words, case-insensitive) and
//   capitalised names ending in Hospital, Clinic, Medical Center/Centre,
//   Infirmary, Institute, …, names with Children's, and University (of …)
//   → [INSTITUTION].
// - Titled names (Dr. Smith, Mrs Jones, Prof. A. Brown; title-case titles
//   only, so "MR imaging" and "MS" stay) and names before MD/PhD → [NAME].
// - Known names (configured): each entry, and each word of it (≥ 2
//   letters), whole words, case-insensitive → [NAME].
// - Phone numbers: three digit groups (555-123-4567, (020) 7946 0958,
//   +44 20 7946 0958) → [PHONE].
// - Ages over 89 (92-year-old, 95 years, aged 91, Age: 90, 93 y/o) → [AGE];
//   ages up to 89 stay (they are not identifying under HIPAA Safe Harbor).
// - ID-like tokens: a word of letters/digits/-/_ with at least 5 digits
//   (1234567, A00012345, ACC-2021-00042) → [ID]; KIAA1549 (4 digits) and
//   measurements without spaces (41x45x36mm) stay.
import { DATE_NO_YEAR, DATE_WITH_YEAR } from './clean';
import { resolve } from 'node:path';
import { READ_LIMITS, readTextBounded } from '../io/bounded-read';

export type DeidType = 'NAME' | 'ID' | 'DATE' | 'PHONE' | 'EMAIL' | 'ADDRESS' | 'AGE' | 'INSTITUTION';
export const DEID_TYPES: readonly DeidType[] = ['NAME', 'ID', 'DATE', 'PHONE', 'EMAIL', 'ADDRESS', 'AGE', 'INSTITUTION'];

export interface DeidOptions {
  /** Names to remove wherever they occur (each entry and each of its words). */
  knownNames?: readonly string[];
  /** Institution names to remove wherever they occur. */
  institutions?: readonly string[];
}

export interface DeidResult {
  text: string;
  /** How many spans of each type were replaced (types with none left out), in DEID_TYPES order. */
  replaced: { type: string; count: number }[];
}

const NB = '(?<![\\p{L}\\p{N}\\[])'; // not inside a word or a placeholder
const NA = '(?![\\p{L}\\p{N}])';
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Case-insensitive spelling of a literal without the `i` flag (which would make \p{Lu} match lower case too). */
const ci = (s: string) => [...s].map((ch) => (/\p{L}/u.test(ch) && ch.toLowerCase() !== ch.toUpperCase() ? `[${ch.toLowerCase()}${ch.toUpperCase()}]` : ch === ' ' ? '[ \\t]*' : esc(ch))).join('');

const NAME_WORD = "[\\p{Lu}](?:\\.|[\\p{L}'’\\-]*)"; // a word or an initial (J.)
const NAME_SEQ = `${NAME_WORD}(?:[ \\t]*,?[ \\t]*${NAME_WORD}){0,3}`;
const TITLES = '(?:Dr|Prof|Mr|Mrs|Ms|Mx|Miss|Sr|Fr)';
const NAME_SEQ_RE = new RegExp(`^(?:${TITLES}\\.?[ \\t]+)?${NAME_SEQ}`, 'u');
/** A sentence end inside a header value (not after a title or an initial). */
const SENTENCE_END = new RegExp(`(?<!\\p{L})(?!${TITLES}[.;])\\p{L}{2,}[.;]\\s+\\p{L}`, 'u');

const NAME_FIELDS = ['patient name', 'patient', 'name', 'full name', 'surname', 'first name', 'last name', 'referring physician', 'referring doctor', 'referring clinician', 'referred by', 'referrer', 'requested by', 'ordering physician', 'physician', 'radiologist', 'reporting radiologist', 'consultant', 'attending', 'reported by', 'read by', 'dictated by', 'signed by', 'electronically signed by', 'verified by', 'approved by', 'transcribed by', 'signed', 'signature', 'surgeon', 'parent', 'mother', 'father', 'guardian', 'cc'];
const ID_FIELDS = ['mrn', 'mr#', 'mr no', 'mr number', 'medical record number', 'medical record no', 'medical record', 'record number', 'record no', 'accession number', 'accession no', 'accession#', 'accession', 'acc no', 'acc#', 'acc', 'patient id', 'study id', 'exam id', 'examination id', 'order number', 'order no', 'visit number', 'encounter number', 'hospital number', 'unit number', 'nhs number', 'nhs no', 'ssn', 'social security number', 'insurance number', 'id'];
const fieldAlt = (fields: readonly string[]) => [...fields].sort((a, b) => b.length - a.length).map(ci).join('|');
const FIELD_END = '[ \\t]*\\.?[ \\t]*(?:[:#][ \\t]*){1,2}';

// A name field does not follow a word on its line ("Exam name:" is not one).
const NAME_FIELD_RE = new RegExp(`((?<![\\p{L}\\p{N}\\[][ \\t]{0,3})(?:${fieldAlt(NAME_FIELDS)})${FIELD_END})(?![ \\t]*\\[)([^\\n]*)`, 'gu');
const ID_FIELD_RE = new RegExp(`(${NB}(?:${fieldAlt(ID_FIELDS)})${FIELD_END})(?![ \\t]*\\[)([\\p{L}\\p{N}][\\p{L}\\p{N}\\-/._#]*(?:[ \\t]+\\p{N}[\\p{N}\\-]*)*)`, 'gu');
const DOB_FIELD_RE = new RegExp(`(${NB}(?:${fieldAlt(['dob', 'd.o.b.', 'd.o.b', 'date of birth', 'birth date', 'birthdate', 'born'])})${FIELD_END})(?![ \\t]*\\[)([^\\n]*?\\p{N}[^\\s,;]*)`, 'gu');
const PHONE_FIELD_RE = new RegExp(`(${NB}(?:${fieldAlt(['phone', 'telephone', 'tel', 'fax', 'mobile', 'cell', 'pager', 'bleep', 'contact'])})${FIELD_END})(?![ \\t]*\\[)(\\+?[\\d(][\\d ().\\-]{4,}\\d)`, 'gu');
const ADDRESS_FIELD_RE = new RegExp(`(${NB}(?:${fieldAlt(['address', 'addr', 'home address', 'residence'])})${FIELD_END})(?![ \\t]*\\[)([^\\n]+)`, 'gu');

const EMAIL_RE = /(?<![\p{L}\p{N}._%+-])[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.\p{L}{2,}(?![\p{L}\p{N}])/gu;

const CAP_WORD = "[\\p{Lu}][\\p{L}'’\\-]*\\.?";
const STREET = '(?:Street|St\\.?|Avenue|Ave\\.?|Road|Rd\\.?|Boulevard|Blvd\\.?|Lane|Ln\\.?|Drive|Dr\\.?|Court|Ct\\.?|Way|Place|Pl\\.?|Terrace|Close|Crescent|Square|Sq\\.?|Parkway|Pkwy\\.?|Highway|Hwy\\.?|Row|Gardens|Walk)';
const ADDRESS_RES = [
  // 12 Oak Street[, Apt 4][, Springfield][, IL 62704]
  new RegExp(`${NB}\\d{1,5}[a-zA-Z]?[ \\t]+(?:${CAP_WORD}[ \\t]+){1,4}${STREET}(?![\\p{L}])(?:,?[ \\t]*(?:Apt|Apartment|Suite|Unit|Flat)\\.?[ \\t]*#?[\\p{L}\\p{N}-]+)?(?:,[ \\t]*${CAP_WORD}(?:[ \\t]+${CAP_WORD}){0,2})?(?:,?[ \\t]*[A-Z]{2}[ \\t]+\\d{5}(?:-\\d{4})?)?`, 'gu'),
  // Hauptstraße 12, Lindenweg 3a
  new RegExp(`${NB}[\\p{Lu}][\\p{L}-]*(?:straße|strasse|str\\.|weg|gasse|platz|allee|ring)[ \\t]+\\d{1,4}[a-z]?${NA}`, 'gu'),
  /(?<![\p{L}\p{N}])P\.?[ \t]*O\.?[ \t]*Box[ \t]*\d+/giu,
  // Boston, MA 02115
  new RegExp(`${NB}${CAP_WORD}(?:[ \\t]+${CAP_WORD}){0,2},[ \\t]*[A-Z]{2}[ \\t]+\\d{5}(?:-\\d{4})?${NA}`, 'gu'),
  // UK postcodes: SW1A 1AA, WC1N 3JH
  /(?<![\p{L}\p{N}])[A-Z]{1,2}\d[A-Z\d]?[ \t]+\d[A-Z]{2}(?![\p{L}\p{N}])/gu,
];

const INST_WORD = "(?:St\\.|[\\p{Lu}][\\p{L}'’&\\-]*)";
const INST_NAME = `${INST_WORD}(?:[ \\t]+(?:(?:of|for|and|the|de|&)[ \\t]+)?${INST_WORD}){0,5}`;
const INST_KEYWORD = "(?:Hospital|Hospitals|Clinic|Clinics|Klinik|Klinikum|Medical[ \\t]+Cent(?:er|re)|Health[ \\t]+Cent(?:er|re)|Cancer[ \\t]+Cent(?:er|re)|Infirmary|Institute|Hôpital|Hospice|Health[ \\t]+System|Healthcare)";
const INSTITUTION_RES = [
  new RegExp(`${NB}(?:${INST_NAME}[ \\t]+)?${INST_KEYWORD}(?:[ \\t]+(?:of|for|at)(?:[ \\t]+the)?[ \\t]+${INST_NAME})?${NA}`, 'gu'),
  new RegExp(`${NB}(?:${INST_NAME}[ \\t]+)?Children['’]?s(?:[ \\t]+${INST_NAME})?${NA}`, 'gu'),
  new RegExp(`${NB}(?:${INST_NAME}[ \\t]+)?(?:University|Universität|Université|Universidad)(?:[ \\t]+(?:of|at|de)[ \\t]+${INST_NAME})?${NA}`, 'gu'),
];

const TITLE_RE = new RegExp(`(?<![\\p{L}\\p{N}])${TITLES}\\.?[ \\t]+${NAME_WORD}(?:[ \\t]+${NAME_WORD}){0,2}`, 'gu');
const DEGREE_RE = new RegExp(`${NB}${NAME_WORD}(?:[ \\t]*,?[ \\t]*${NAME_WORD}){0,2},?[ \\t]*(?:MD|M\\.D\\.|PhD|Ph\\.D\\.|MBBS|MBChB|FRCR|FRCPC|DO|RT)${NA}`, 'gu');

const EXTRA_DATE_RES = [
  /(?<![\p{L}\p{N}])\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?(?![\p{L}\p{N}])/gu,
  /(?<![\p{L}\p{N}])(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?![\p{L}\p{N}])/gu,
  /(?<![\p{L}\p{N}/.-])(?:0?[1-9]|1[0-2])[/.-](?:19|20)\d{2}(?![\p{L}\p{N}])/gu,
];

const PHONE_RE = /(?<![\p{L}\p{N}.,/-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{2,5}\)[ .-]?|\d{2,5}[ .-])\d{3,4}[ .-]\d{3,5}(?![\p{L}\p{N}]|[.,]\d)/gu;

const AGE_RES = [
  /(?<![\p{L}\p{N}])(\d{2,3})(?:[ \t]*-?[ \t]*(?:years?|yrs?|yo|y\/o|y\.o\.|y)(?:[ \t]*-?[ \t]*old)?)(?![\p{L}\p{N}])/giu,
  /(?<![\p{L}\p{N}])(?:aged?|age[ \t]*:)[ \t]*(\d{2,3})(?![\p{L}\p{N}])/giu,
];

/** A measurement written without spaces (41x45x36mm), not an ID. */
const DIMENSIONS = /^(?:\d+[x×])+\d+\p{L}{0,3}$/iu;
const ID_TOKEN_RE = /(?<![\p{L}\p{N}[])[\p{L}\p{N}][\p{L}\p{N}_-]*(?![\p{L}\p{N}])/gu;

/** The names of a known-names file: one a line, blank lines and lines starting with # skipped. */
export function readKnownNames(path: string): string[] {
  return readTextBounded(path, { maxBytes: READ_LIMITS.report, what: 'known-names file' })
    .replace(/^\ufeff/, '')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** The de-identification options of a config's report section; knownNamesFile resolved against `baseDir` and read. */
export function deidOptionsFor(report: { knownNames?: readonly string[]; knownNamesFile?: string; institutions?: readonly string[] }, baseDir: string): DeidOptions {
  const file = report.knownNamesFile ? resolve(baseDir, report.knownNamesFile) : undefined;
  return { knownNames: [...(report.knownNames ?? []), ...(file ? readKnownNames(file) : [])], institutions: report.institutions ?? [] };
}

function checkList(list: unknown, name: string): string[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new Error(`deidentify: ${name} must be an array of strings`);
  list.forEach((t, i) => {
    if (typeof t !== 'string' || t.trim() === '') throw new Error(`deidentify: ${name}[${i}] must be a non-empty string, got ${JSON.stringify(t)}`);
  });
  return list as string[];
}

/** One case-insensitive whole-word regex for a list of phrases (longest first); undefined for an empty list. */
function listRegex(phrases: readonly string[]): RegExp | undefined {
  const uniq = [...new Set(phrases.map((p) => p.trim()).filter((p) => p !== ''))].sort((a, b) => b.length - a.length);
  if (uniq.length === 0) return undefined;
  const alts = uniq.map((p) => p.split(/\s+/u).map(esc).join('[\\s,]+'));
  return new RegExp(`${NB}(?:${alts.join('|')})${NA}`, 'giu');
}

/**
 * Replaces identifying spans of a report by typed placeholders (see the
 * header for the rules). Pure and deterministic.
 */
export function deidentify(text: string, options: DeidOptions = {}): DeidResult {
  if (typeof text !== 'string') throw new Error(`deidentify: expected a string, got ${text === null ? 'null' : typeof text}`);
  const knownNames = checkList(options.knownNames, 'knownNames');
  const institutions = checkList(options.institutions, 'institutions');
  const counts = new Map<DeidType, number>();
  const tag = (type: DeidType) => {
    counts.set(type, (counts.get(type) ?? 0) + 1);
    return `[${type}]`;
  };
  const sub = (t: string, re: RegExp, type: DeidType) => t.replace(re, () => tag(type));
  const field = (t: string, re: RegExp, type: DeidType) => t.replace(re, (_m, head: string) => head + tag(type));

  let t = text.normalize('NFC').replace(/\p{Cf}/gu, '');
  t = sub(t, EMAIL_RE, 'EMAIL');
  // Header fields.
  t = t.replace(NAME_FIELD_RE, (m, head: string, value: string) => {
    const v = value.trimEnd();
    if (v === '') return m;
    const words = v.split(/\s+/u).length;
    if (words <= 6 && v.length <= 60 && !/\p{N}/u.test(v) && !SENTENCE_END.test(v)) return head + tag('NAME') + value.slice(v.length);
    const lead = NAME_SEQ_RE.exec(value);
    return lead ? head + tag('NAME') + value.slice(lead[0].length) : m;
  });
  t = field(t, ID_FIELD_RE, 'ID');
  t = field(t, PHONE_FIELD_RE, 'PHONE');
  t = field(t, ADDRESS_FIELD_RE, 'ADDRESS');
  // Dates before the DOB field so that field only takes what the date rules miss.
  for (const re of [EXTRA_DATE_RES[0]!, DATE_WITH_YEAR, DATE_NO_YEAR, ...EXTRA_DATE_RES.slice(1)]) t = sub(t, re, 'DATE');
  t = field(t, DOB_FIELD_RE, 'DATE');
  for (const re of ADDRESS_RES) t = sub(t, re, 'ADDRESS');
  const instList = listRegex(institutions);
  if (instList) t = sub(t, instList, 'INSTITUTION');
  for (const re of INSTITUTION_RES) t = sub(t, re, 'INSTITUTION');
  t = sub(t, TITLE_RE, 'NAME');
  t = sub(t, DEGREE_RE, 'NAME');
  const names = listRegex([...knownNames, ...knownNames.flatMap((n) => n.split(/[\s,]+/u)).filter((w) => w.replace(/[^\p{L}]/gu, '').length >= 2)]);
  if (names) t = sub(t, names, 'NAME');
  t = sub(t, PHONE_RE, 'PHONE');
  for (const re of AGE_RES) t = t.replace(re, (m, n: string) => (Number(n) > 89 && Number(n) < 150 ? tag('AGE') : m));
  t = t.replace(ID_TOKEN_RE, (m) => ((m.match(/\p{N}/gu)?.length ?? 0) >= 5 && !DIMENSIONS.test(m) ? tag('ID') : m));
  return { text: t, replaced: DEID_TYPES.filter((k) => counts.has(k)).map((type) => ({ type, count: counts.get(type)! })) };
}


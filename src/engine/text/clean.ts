// Report cleaning: dates, numbers and measurements, punctuation and the
// label-leaking words (BRAF, V600E, fusion, …) are removed so the text
// encoder cannot read the genetic marker off the report.
// follows: METHOD.md §1 (report row)
//
// Choices, in the order the steps run:
// - Text is NFC-normalised; format characters (zero-width space, BOM) dropped.
// - De-identification placeholders ([NAME], [DATE], … from text/deid.ts) are
//   dropped.
// - Leak terms: whole words, case-insensitive; a separator inside a term
//   ("wild-type", "KIAA1549-BRAF") also matches a space, colon, slash,
//   underscore or nothing. The whole compound around a term goes with it:
//   parts joined by - : / _ (BRAF-V600E, BRAF:KIAA1549, non-fused,
//   fusion-positive) and a one-letter HGVS prefix (p.V600E, c.V600E), since
//   "non-fused" or "fusion-negative" leak the label as much as "fused".
//   A term inside a longer word is kept: confusion, diffusion, mutational
//   (leakPatternsRemaining flags the last one).
// - Dates: ISO and numeric (same separator twice), and month-name forms with
//   a year (March 4, 2021 · 4 March 2021 · 04-Mar-2021 · Mar 2021); without
//   a year only with a capitalised month (March 4, 4th of March), so the
//   verbs "may"/"march" stay.
// - Numbers: stand-alone numbers with an optional unit, dimension lists and
//   ranges (3.2 cm, 12x8 mm, 4.5 x 3 x 2 cm, 3-4 mm, 10%, 1.5T). Digits
//   inside a word stay (T2, C2, 7q34, 3D), and so do ordinals: "4th
//   ventricle" names a location, the very thing the model should read.
// - Punctuation and symbols (Unicode P and S) become spaces; an apostrophe
//   between letters is dropped (patient's → patients), and a decimal point
//   between digits stays (only matters with removeNumbers off).
// - Whitespace, newlines included, collapses to single spaces: one line per
//   report. Newline tokens carry no word for the local representation
//   (METHOD.md §3) and would only lengthen the sequence.
import { LEAK_TERM_DEFAULTS, type ReportConfig } from '../../shared/config';

export interface LeakMatch {
  /** The configured term that matched (as written in the config). */
  term: string;
  /** The matched text. */
  text: string;
  /** UTF-16 offsets in the searched text, end exclusive. */
  start: number;
  end: number;
}

export interface LeakWarning {
  /** Name of the variant pattern (see LEAK_VARIANTS). */
  pattern: string;
  description: string;
  text: string;
  start: number;
  end: number;
}

const NOT_BEFORE = '(?<![\\p{L}\\p{N}])';
const NOT_AFTER = '(?![\\p{L}\\p{N}])';
const TERM_SEPARATORS = /[-\u2010-\u2015:_/ \t]+/u;
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function checkTerms(terms: unknown): string[] {
  if (!Array.isArray(terms)) throw new Error('report.leakTerms must be an array of strings');
  terms.forEach((t, i) => {
    if (typeof t !== 'string' || t.trim() === '') throw new Error(`report.leakTerms[${i}] must be a non-empty string, got ${JSON.stringify(t)}`);
  });
  return terms as string[];
}

/** One regex for all terms, longest first, one capture group per term. */
function termRegex(terms: readonly string[]): { re: RegExp; order: string[] } {
  const seen = new Set<string>();
  const order = [...terms]
    .map((t) => t.trim())
    .filter((t) => !seen.has(t.toLowerCase()) && seen.add(t.toLowerCase()))
    .sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
  const alts = order.map((t) => '(' + t.split(TERM_SEPARATORS).map(escapeRegExp).join('[-\\u2010-\\u2015:_/ \\t]?') + ')');
  return { re: new RegExp(`${NOT_BEFORE}(?:${alts.join('|')})${NOT_AFTER}`, 'giu'), order };
}

/** The configured leak terms found in `text`, as whole words (case-insensitive), in text order. */
export function findLeakTerms(text: string, leakTerms: readonly string[] = LEAK_TERM_DEFAULTS): LeakMatch[] {
  if (typeof text !== 'string') throw new Error(`findLeakTerms: expected a string, got ${typeof text}`);
  const terms = checkTerms(leakTerms);
  if (terms.length === 0) return [];
  const { re, order } = termRegex(terms);
  const out: LeakMatch[] = [];
  for (const m of text.matchAll(re)) {
    const g = m.slice(1).findIndex((x) => x !== undefined);
    out.push({ term: order[g]!, text: m[0], start: m.index, end: m.index + m[0].length });
  }
  return out;
}

const isAlnum = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}]/u.test(c);
const isLetter = (c: string | undefined) => c !== undefined && /\p{L}/u.test(c);
const isJoiner = (c: string | undefined) => c !== undefined && /[-\u2010-\u2015:_/]/u.test(c);

/** Grows a leak span over the compound it sits in (see the header). */
function compoundSpan(text: string, start: number, end: number): [number, number] {
  let s = start;
  let e = end;
  for (;;) {
    if (isJoiner(text[s - 1]) && isAlnum(text[s - 2])) {
      s -= 2;
      while (isAlnum(text[s - 1])) s--;
    } else if (text[s - 1] === '.' && isLetter(text[s - 2]) && !isAlnum(text[s - 3])) {
      s -= 2;
    } else break;
  }
  while (isJoiner(text[e]) && isAlnum(text[e + 1])) {
    e += 2;
    while (isAlnum(text[e])) e++;
  }
  return [s, e];
}

function removeLeaks(text: string, terms: readonly string[]): string {
  let out = '';
  let at = 0;
  for (const m of findLeakTerms(text, terms)) {
    // A term inside the compound just removed is already gone (and
    // re-growing its span would make long compounds quadratic).
    if (m.start < at) continue;
    const [s, e] = compoundSpan(text, m.start, m.end);
    out += text.slice(at, Math.max(s, at)) + ' ';
    at = e;
  }
  return out + text.slice(at);
}

const MONTH = '(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\\.?';
const MONTH_CAP = '(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\\.?';
const DAY = '(?:0?[1-9]|[12]\\d|3[01])(?:st|nd|rd|th)?';
const YEAR = '\\d{4}';
export const DATE_WITH_YEAR = new RegExp(
  NOT_BEFORE +
    '(?:' +
    [
      '\\d{4}([-/.])\\d{1,2}\\1\\d{1,2}', // 2021-03-04
      '\\d{1,2}([-/.])\\d{1,2}\\2(?:\\d{4}|\\d{2})', // 03/04/2021, 4.3.2021
      `${MONTH}\\s*${DAY}\\s*,?\\s*${YEAR}`, // March 4, 2021
      `${DAY}(?:\\s+of)?[\\s\\-/]*${MONTH}[\\s\\-/,]*${YEAR}`, // 4 March 2021, 04-Mar-2021
      `${MONTH}[\\s\\-/,]*${YEAR}`, // Mar 2021
    ].join('|') +
    ')' +
    NOT_AFTER,
  'giu',
);
export const DATE_NO_YEAR = new RegExp(`${NOT_BEFORE}(?:${MONTH_CAP}\\s*${DAY}|${DAY}(?:\\s+of)?\\s+${MONTH_CAP})${NOT_AFTER}`, 'gu');

/** The typed placeholders written by deidentify (text/deid.ts); cleaning drops them. */
export const DEID_PLACEHOLDER = /\[(?:NAME|ID|DATE|PHONE|EMAIL|ADDRESS|AGE|INSTITUTION)\]/gu;

const NUM = '\\d+(?:[.,]\\d+)*';
const UNIT = `(?:\\s*(?:mm[23²³]?|cm[23²³]?|ml|cc|[µμu]m|m|l|%|t|mt|ms|s|sec|min|h|hrs?|kg|mg|g|c?gy|msv|°|deg)${NOT_AFTER})?`;
const MEASUREMENT = new RegExp(`${NOT_BEFORE}${NUM}${UNIT}(?:\\s*[x×*\\-\\u2013]\\s*${NUM}${UNIT})*${NOT_AFTER}`, 'giu');

/** Punctuation and symbols → spaces; a decimal point or comma between digits stays (numbers kept by `removeNumbers: false` stay whole). */
function removePunct(text: string): string {
  const t = text.replace(/(?<=\p{L})['’](?=\p{L})/gu, '');
  return t.replace(/[\p{P}\p{S}]+/gu, (m, at: number) => ((m === '.' || m === ',') && /\d/.test(t[at - 1] ?? '') && /\d/.test(t[at + 1] ?? '') ? m : ' '));
}

/**
 * Cleans one report (METHOD.md §1). Options default to the config's
 * defaults: every removal on, LEAK_TERM_DEFAULTS, no lower-casing.
 */
export function cleanReport(text: string, options: Partial<ReportConfig> = {}): string {
  if (typeof text !== 'string') throw new Error(`cleanReport: expected a string, got ${text === null ? 'null' : typeof text}`);
  const { leakTerms = LEAK_TERM_DEFAULTS, removeDates = true, removeNumbers = true, removePunctuation = true, lowercase = false } = options;
  const terms = checkTerms(leakTerms);
  let t = text.normalize('NFC').replace(/\p{Cf}/gu, '');
  t = t.replace(DEID_PLACEHOLDER, ' ');
  t = removeLeaks(t, terms);
  if (removeDates) t = t.replace(DATE_WITH_YEAR, ' ').replace(DATE_NO_YEAR, ' ');
  if (removeNumbers) t = t.replace(MEASUREMENT, ' ');
  if (removePunctuation) t = removePunct(t);
  t = t.replace(/[\s\p{Cc}]+/gu, ' ').trim();
  return lowercase ? t.toLowerCase() : t;
}

/** Spellings of marker information that the term list may miss. */
export const LEAK_VARIANTS: readonly { pattern: string; description: string; re: RegExp }[] = [
  { pattern: 'braf', description: 'BRAF inside a word (BRAFi, dabrafenib, BRAF600)', re: /braf/giu },
  { pattern: 'b-raf', description: 'BRAF split by a separator (B-RAF, B RAF)', re: /(?<![\p{L}\p{N}])b[\s\-_.]+raf(?!\p{L})/giu },
  { pattern: 'v600', description: 'a V600 variant (V600K, V 600 E, V-600)', re: /(?<![\p{L}\p{N}])v\s*[-_.]?\s*600(?!\d)(?:\s*[-_.]?\s*\p{L}(?!\p{L}))?/giu },
  { pattern: 'val600', description: 'a protein-level V600 spelling (Val600Glu)', re: /val\s*[-_.]?\s*600/giu },
  { pattern: 'c1799', description: 'the DNA-level V600E spelling (c.1799T>A)', re: /(?<!\p{L})c\.\s*1799\s*t\s*>\s*a|1799\s*t\s*>\s*a|(?<!\p{L})c\.\s*1799/giu },
  { pattern: 'kiaa', description: 'KIAA1549 in any form', re: /kiaa/giu },
  { pattern: 'fusion', description: 'a form of fuse/fusion (fusing, nonfused, fusions)', re: /(?<!\p{L})(?:non)?fus(?:e|ed|es|ing|ion|ions)(?!\p{L})/giu },
  { pattern: 'mutation', description: 'a form of mutation (mutational, mutants)', re: /(?<!\p{L})mutan?t/giu },
  { pattern: 'wild-type', description: 'wild type in any spelling', re: /(?<!\p{L})wild[\s\-_]*type/giu },
  { pattern: 'rearrangement', description: 'a form of rearrangement', re: /(?<!\p{L})re-?arrang/giu },
  { pattern: '7q34', description: 'the BRAF locus 7q34 (the KIAA1549-BRAF duplication)', re: /(?<![\p{L}\p{N}])7q34/giu },
  { pattern: 'tandem-duplication', description: 'tandem duplication (the KIAA1549-BRAF mechanism)', re: /tandem\s+duplicat/giu },
  {
    pattern: 'targeted-therapy',
    description: 'a BRAF/MEK inhibitor, which implies the marker',
    re: /dabrafenib|vemurafenib|encorafenib|tovorafenib|trametinib|selumetinib|binimetinib|cobimetinib/giu,
  },
];

/**
 * Variant spellings of marker information left in a (cleaned) report, in
 * text order, for dataset validation. Each hit is widened to the whole
 * word(s) it touches, so "BRAFi" or "mutational" is reported whole.
 */
export function leakPatternsRemaining(text: string): LeakWarning[] {
  if (typeof text !== 'string') throw new Error(`leakPatternsRemaining: expected a string, got ${typeof text}`);
  const out: LeakWarning[] = [];
  for (const { pattern, description, re } of LEAK_VARIANTS) {
    let lastEnd = -1;
    for (const m of text.matchAll(re)) {
      if (m.index < lastEnd) continue; // same word as the previous hit
      let start = m.index;
      let end = start + m[0].length;
      while (start > lastEnd && isAlnum(text[start - 1])) start--;
      while (isAlnum(text[end])) end++;
      lastEnd = end;
      out.push({ pattern, description, text: text.slice(start, end), start, end });
    }
  }
  return out.sort((a, b) => a.start - b.start || a.end - b.end || (a.pattern < b.pattern ? -1 : 1));
}

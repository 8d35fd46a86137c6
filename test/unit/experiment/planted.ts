// Reports with planted identifiers (header fields, a known name, an
// institution, dates, a phone number, an e-mail and a street address, an age
// over 89), and the search for them in every file of a folder.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const HEADER = [
  'Patient: Xavier Pemberton-Quill',
  'MRN: 48213377',
  'Accession No: RQX-99127',
  'DOB: 14/02/1931',
  'Referring physician: Dr. Ottoline Vashchenko',
  'Phone: 617-555-0192',
  'E-mail: xq.pemberton@mailhost.org',
  'Address: 44 Wisteria Lane, Fairview',
].join('\n');
export const FOOTER = "Discussed with Hortensia Grimsby at Brightwater Children's Hospital on 2019-07-23. The 97-year-old grandparent attended.";
/** Every planted identifier (and telling parts of them), as searched for. */
export const PLANTED = ['Xavier', 'Pemberton', 'Quill', '48213377', 'RQX-99127', '99127', '14/02/1931', 'Ottoline', 'Vashchenko', '617-555-0192', '555-0192', 'mailhost', 'Wisteria', 'Fairview', 'Hortensia', 'Grimsby', 'Brightwater', '2019-07-23', '97-year'];

export function files(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) files(p, out);
    else out.push(p);
  }
  return out;
}

/** Planted identifiers found in `text`, case-insensitively. */
export const found = (text: string) => PLANTED.filter((s) => text.toLowerCase().includes(s.toLowerCase()));


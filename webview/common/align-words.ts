// Where the cross-attention file's words (the cleaned report, in order) lie
// in the report text as written: each word is found after the previous one,
// case-insensitively; a word that cannot be found (cleaning changed it) gets
// no range and the search goes on from where it was. Pure.

export interface WordRange {
  index: number;
  start: number;
  end: number;
}

export function alignWords(text: string, words: readonly string[]): WordRange[] {
  const lower = text.toLowerCase();
  const out: WordRange[] = [];
  let from = 0;
  words.forEach((w, index) => {
    const needle = w.toLowerCase();
    if (!needle) return;
    const at = lower.indexOf(needle, from);
    if (at < 0) return;
    out.push({ index, start: at, end: at + needle.length });
    from = at + needle.length;
  });
  return out;
}

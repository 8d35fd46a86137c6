// Data quoted in messages (ids, headers, values from a manifest or a CSV)
// can hold any bytes: control characters, escape sequences that would drive
// the terminal, invalid UTF-8. They are shown escaped, never raw.

/** Characters never written raw: C0 controls (but tab/newline where kept), DEL, C1 controls, bidi overrides, U+FFFD (invalid UTF-8), lone surrogates. */
const UNPRINTABLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufffd]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const UNPRINTABLE_ALL = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufffd]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function escapeChar(ch: string): string {
  switch (ch) {
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
    case '\ufffd':
      return '\\ufffd';
  }
  const code = ch.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * A message made safe for a terminal or a log: non-printable characters as
 * \xNN / \uNNNN escapes. Newlines and tabs are kept (a message may span
 * lines) unless `keepLines` is false.
 */
export function escapeNonPrintable(text: string, keepLines = true): string {
  return text.replace(keepLines ? UNPRINTABLE : UNPRINTABLE_ALL, escapeChar);
}

/** A value from data, quoted for a message: "…" with escapes (see escapeNonPrintable), at most `max` characters of it. */
export function quoteForMessage(value: string, max = 120): string {
  const cut = value.length > max ? `${value.slice(0, max)}…` : value;
  return `"${escapeNonPrintable(cut, false).replace(/"/g, '\\"')}"`;
}

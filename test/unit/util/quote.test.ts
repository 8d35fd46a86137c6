// Data quoted in messages is escaped, never raw (issue #14, class 8): a
// manifest of binary bytes does not drive the terminal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { escapeNonPrintable, quoteForMessage } from '../../../src/engine/util/quote';
import { loadManifest } from '../../../src/engine/data/manifest';
import { main } from '../../../src/cli/main';
import type { CommandContext } from '../../../src/cli/command';

const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e\ufffd]/;

test('escapeNonPrintable / quoteForMessage: a table of inputs', () => {
  const rows: [string, string, string][] = [
    // input, escaped (lines kept), quoted
    ['plain id-1', 'plain id-1', '"plain id-1"'],
    ['\u001b[31mred', '\\x1b[31mred', '"\\x1b[31mred"'],
    ['a\u0000b', 'a\\x00b', '"a\\x00b"'],
    ['two\nlines\tx', 'two\nlines\tx', '"two\\nlines\\tx"'],
    ['cr\rback', 'cr\\rback', '"cr\\rback"'],
    ['del\u007f c1\u0085', 'del\\x7f c1\\x85', '"del\\x7f c1\\x85"'],
    ['bad utf8 \ufffd', 'bad utf8 \\ufffd', '"bad utf8 \\ufffd"'],
    ['rlo\u202eevil', 'rlo\\u202eevil', '"rlo\\u202eevil"'],
    ['lone \ud800 surrogate', 'lone \\ud800 surrogate', '"lone \\ud800 surrogate"'],
    ['ok 😀 é ß 脑', 'ok 😀 é ß 脑', '"ok 😀 é ß 脑"'],
    ['say "hi"', 'say "hi"', '"say \\"hi\\""'],
    ['', '', '""'],
  ];
  for (const [input, escaped, quoted] of rows) {
    assert.equal(escapeNonPrintable(input), escaped, JSON.stringify(input));
    assert.equal(quoteForMessage(input), quoted, JSON.stringify(input));
  }
  assert.equal(quoteForMessage('x'.repeat(10), 4), '"xxxx…"');
});

test('a manifest of binary bytes: the error names the file and shows the bytes escaped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-quote-'));
  const path = join(dir, 'manifest.json');
  writeFileSync(path, Buffer.from([0x1b, 0x5b, 0x32, 0x4a, 0x00, 0xff, 0xfe, 0x07, 0x7b]));
  assert.throws(
    () => loadManifest(path),
    (e: unknown) => {
      const m = (e as Error).message;
      return m.startsWith(`${path}: `) && !RAW.test(m) && m.includes('\\x1b');
    },
  );
  let out = '';
  let err = '';
  const ctx: CommandContext = { stdout: (s) => (out += s), stderr: (s) => (err += s), tty: false, signal: new AbortController().signal };
  const code = await main(['validate', path], ctx);
  assert.equal(code, 1);
  assert.ok(`${out}${err}`.includes(path), `${out}${err}`);
  assert.ok(!RAW.test(`${out}${err}`), `raw control bytes reached the terminal: ${JSON.stringify(out + err)}`);
});

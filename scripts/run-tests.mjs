// Runs every test/unit/**/*.test.ts under node's test runner (via tsx).
// Node 20's --test takes no globs, so the files are listed here.
// The tests' temporary folders (os.tmpdir()) go into one folder of this run,
// removed when it ends (kept with MRCL_KEEP_TEST_TMP=1, for a failure's
// files).
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function find(dir, out = []) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const roots = ['test/unit'];
let files = roots.flatMap((r) => find(r));
if (filters.length) files = files.filter((f) => filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error('run-tests: no test files matched');
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const tmp = mkdtempSync(join(tmpdir(), 'mrcl-tests-'));
const keep = process.env.MRCL_KEEP_TEST_TMP === '1';
let status = 1;
try {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files], {
    stdio: 'inherit',
    env: { ...process.env, MRCL_TEST: '1', TMPDIR: tmp },
  });
  status = r.status ?? 1;
} finally {
  if (keep) console.error(`run-tests: the tests' temporary files are kept in ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
}
process.exit(status);

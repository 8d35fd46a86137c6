import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caseFile, caseIdProblem, dataPath, isInsideFolder, isWithin, MAX_CASE_ID_LENGTH, UnsafePathError } from '../../../src/engine/io/safe-path';

const dir = mkdtempSync(join(tmpdir(), 'safe-path-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const root = join(dir, 'root');
mkdirSync(join(root, 'sub'), { recursive: true });
mkdirSync(join(dir, 'elsewhere'));
writeFileSync(join(dir, 'elsewhere', 'secret.txt'), 'secret');
// a symlink inside the root that leads out of it, and one that stays in
symlinkSync(join(dir, 'elsewhere'), join(root, 'out-link'));
symlinkSync(join(root, 'sub'), join(root, 'in-link'));
symlinkSync(join(dir, 'elsewhere', 'secret.txt'), join(root, 'secret-link.txt'));

/** Ids that must never name a file. */
const HOSTILE_IDS = ['../x', 'a/b', 'a\\b', '..', '.', '.hidden', '-rf', 'a\0b', 'a\nb', 'a\rb', 'a\tb', 'a\x1bb', 'a\x7fb', 'a b', 'é', '', 'x'.repeat(MAX_CASE_ID_LENGTH + 1), 'x'.repeat(300)];

test('caseIdProblem: letters, digits, ".", "_", "-", not starting with "." or "-", at most 128 characters', () => {
  for (const id of ['a', 'int-001', 'ext-012', 'C07', 'case_1.v2', '_x', '0', 'a..b', 'x'.repeat(MAX_CASE_ID_LENGTH)]) {
    assert.equal(caseIdProblem(id), undefined, id);
  }
  for (const id of HOSTILE_IDS) assert.notEqual(caseIdProblem(id), undefined, JSON.stringify(id));
  assert.equal(caseIdProblem(''), 'is empty');
  assert.equal(caseIdProblem('x'.repeat(300)), 'is 300 characters long, more than 128');
  assert.match(caseIdProblem('..')!, /^starts with "\."/);
  assert.match(caseIdProblem('a/b')!, /^holds "\/"/);
  assert.match(caseIdProblem('a\0b')!, /^holds "\\x00"/);
  assert.match(caseIdProblem('a\x7fb')!, /^holds "\\x7f"/);
});

test('isWithin: by the names alone', () => {
  assert.equal(isWithin('/r', '/r'), true);
  assert.equal(isWithin('/r', '/r/a/b'), true);
  assert.equal(isWithin('/r', '/r/..a'), true); // a name starting with two dots is still inside
  assert.equal(isWithin('/r', '/'), false);
  assert.equal(isWithin('/r', '/rx'), false);
  assert.equal(isWithin('/r', '/r/../x'), false);
  assert.equal(isWithin('/r/a', '/r'), false);
});

test('dataPath: joins inside the root, refuses "..", absolute parts, NUL and symlinks leading out', () => {
  assert.equal(dataPath(root, 'sub', 'f.json'), join(root, 'sub', 'f.json'));
  assert.equal(dataPath(root, 'new', 'deeper', 'f.json'), join(root, 'new', 'deeper', 'f.json'));
  assert.equal(dataPath(root, 'sub/../g.json'), join(root, 'g.json'));
  assert.equal(dataPath(root, 'in-link', 'f.json'), join(root, 'in-link', 'f.json'));
  assert.equal(dataPath(root), root);
  const refused = (parts: string[], re: RegExp) =>
    assert.throws(
      () => dataPath(root, ...parts),
      (e: unknown) => e instanceof UnsafePathError && re.test(e.message),
      parts.join(' | '),
    );
  refused(['..', 'x.json'], /leads outside this folder/);
  refused(['sub', '..', '..', 'x.json'], /leads outside this folder/);
  refused(['/etc/passwd'], /leads outside this folder \(to \/etc\/passwd\)/);
  refused(['a\0b'], /cannot be part of a file name/);
  refused(['out-link', 'f.json'], /a symbolic link leads outside/);
  refused(['out-link', 'new', 'f.json'], /a symbolic link leads outside/);
  refused(['secret-link.txt'], /a symbolic link leads outside/);
  // nothing was created on the way
  assert.deepEqual(readdirSync(join(dir, 'elsewhere')), ['secret.txt']);
});

test('dataPath: a root that is itself reached through a symlink is fine', () => {
  const alias = join(dir, 'alias');
  symlinkSync(root, alias);
  assert.equal(dataPath(alias, 'sub', 'f.json'), join(alias, 'sub', 'f.json'));
  assert.throws(() => dataPath(alias, 'out-link', 'f.json'), /a symbolic link leads outside/);
});

test('caseFile: valid ids only, a plain suffix', () => {
  assert.equal(caseFile(root, 'int-001', '.json'), join(root, 'int-001.json'));
  assert.equal(caseFile(join(root, 'heatmaps'), 'C07', '.heatmap.nii.gz'), join(root, 'heatmaps', 'C07.heatmap.nii.gz'));
  for (const id of HOSTILE_IDS) {
    assert.throws(() => caseFile(root, id, '.json'), (e: unknown) => e instanceof UnsafePathError && /cannot be used as a file name/.test(e.message), JSON.stringify(id));
  }
  assert.throws(() => caseFile(root, 'a', '/../../x'), /must not hold a path separator/);
  // the folder itself is trusted like any root; checked against an enclosing one, a symlink out is caught
  assert.equal(caseFile(join(root, 'out-link'), 'a', '.json'), join(root, 'out-link', 'a.json'));
  assert.throws(() => caseFile(join(root, 'out-link'), 'a', '.json', root), /a symbolic link leads outside/);
  assert.equal(caseFile(join(root, 'in-link'), 'a', '.json', root), join(root, 'in-link', 'a.json'));
  assert.throws(() => caseFile(join(dir, 'elsewhere'), 'a', '.json', root), /leads outside this folder/);
});

test('isInsideFolder: as written and through symlinks', () => {
  assert.equal(isInsideFolder(root, join(root, 'sub', 'x.nii')), true);
  assert.equal(isInsideFolder(root, 'sub/x.nii'), true);
  assert.equal(isInsideFolder(root, join(root, 'in-link', 'x.nii')), true);
  assert.equal(isInsideFolder(root, join(root, '..', 'elsewhere', 'secret.txt')), false);
  assert.equal(isInsideFolder(root, '/etc/passwd'), false);
  assert.equal(isInsideFolder(root, join(root, 'secret-link.txt')), false);
  assert.equal(isInsideFolder(root, join(root, 'out-link', 'secret.txt')), false);
  assert.equal(isInsideFolder(root, join(root, 'missing', 'later.txt')), true);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { editorSchema, resolveConfig, configIssues, loadConfig, ConfigError } from '../../../src/engine/config/resolve';

test('committed schemas/experiment.schema.json is up to date (run `npm run schema`)', () => {
  const committed = JSON.parse(readFileSync('schemas/experiment.schema.json', 'utf8'));
  assert.deepEqual(committed, editorSchema());
});

test('every field of the schema has a description', () => {
  const missing: string[] = [];
  const walk = (node: Record<string, unknown>, path: string) => {
    const props = node.properties as Record<string, Record<string, unknown>> | undefined;
    if (!props) return;
    for (const [k, v] of Object.entries(props)) {
      if (typeof v.description !== 'string' || v.description.length < 8) missing.push(`${path}/${k}`);
      walk(v, `${path}/${k}`);
    }
  };
  walk(editorSchema(), '');
  assert.deepEqual(missing, []);
});

test('editor schema requires nothing that has a default', () => {
  const s = editorSchema();
  assert.equal(s.required, undefined);
});

test('an empty config resolves to the paper defaults', () => {
  const c = resolveConfig({});
  assert.equal(c.image.depth, 18);
  assert.equal(c.image.shortcut, 'A');
  assert.equal(c.image.width, 64);
  assert.equal(c.image.trainableFrom, 'layer3');
  assert.equal(c.loss.globalMargin, 0.25);
  assert.equal(c.loss.localMargin, 0.4);
  assert.equal(c.loss.locationWeight, 0.5);
  assert.equal(c.loss.negatives, 'semihard');
  assert.equal(c.loss.temperature, 0.07);
  assert.equal(c.pretrain.lr, 1e-4);
  assert.equal(c.finetune.folds, 5);
  assert.equal(c.finetune.foldSeed, 42);
  assert.equal(c.finetune.stepSize, 10);
  assert.equal(c.finetune.gamma, 0.5);
  assert.equal(c.finetune.warmupEpochs, 10);
  assert.equal(c.finetune.hidden, 256);
  assert.equal(c.explain.threshold, 0.01);
  assert.deepEqual(c.data.shape, [64, 64, 40]);
  assert.deepEqual(c.finetune.initializations, ['random', 'medicalnet', 'pretrained']);
});

test('user values override defaults and the input is not modified', () => {
  const input = { pretrain: { lr: 3e-4 }, data: { shape: [32, 32, 16] } };
  const c = resolveConfig(input);
  assert.equal(c.pretrain.lr, 3e-4);
  assert.equal(c.pretrain.batchSize, 16);
  assert.deepEqual(c.data.shape, [32, 32, 16]);
  assert.deepEqual(input, { pretrain: { lr: 3e-4 }, data: { shape: [32, 32, 16] } });
});

const cases: { name: string; input: unknown; expect: [string, RegExp][] }[] = [
  { name: 'not an object', input: [], expect: [['', /JSON object/]] },
  { name: 'unknown top-level key', input: { foo: 1 }, expect: [['/foo', /unknown key/]] },
  { name: 'unknown nested key', input: { pretrain: { lrr: 1 } }, expect: [['/pretrain/lrr', /unknown key/]] },
  { name: 'negative lr', input: { pretrain: { lr: -1 } }, expect: [['/pretrain/lr', /greater than 0/]] },
  { name: 'bad enum', input: { image: { depth: 11 } }, expect: [['/image/depth', /one of 10, 18, 34, got 11/]] },
  { name: 'short shape', input: { data: { shape: [9, 9] } }, expect: [['/data/shape', /length/]] },
  { name: 'wrong type', input: { seed: 'x' }, expect: [['/seed', /integer/]] },
  { name: 'one fold', input: { finetune: { folds: 1 } }, expect: [['/finetune/folds', /greater or equal to 2/]] },
  { name: 'unknown marker', input: { data: { positiveMarker: 'idh' } }, expect: [['/data/positiveMarker', /not one of data.markers/]] },
  { name: 'heads do not divide hidden', input: { text: { hidden: 64, heads: 3 } }, expect: [['/text/heads', /divide/]] },
  { name: 'odd window', input: { text: { attentionWindow: 5 } }, expect: [['/text/attentionWindow', /even/]] },
];
for (const c of cases) {
  test(`config error: ${c.name}`, () => {
    const issues = configIssues(c.input);
    for (const [path, re] of c.expect) {
      assert.ok(
        issues.some((i) => i.path === path && re.test(i.message)),
        `expected ${path} ~ ${re} in ${JSON.stringify(issues)}`,
      );
    }
  });
}

test('all problems are reported at once, with the source and JSON paths', () => {
  try {
    resolveConfig({ foo: 1, pretrain: { lr: -1 }, image: { depth: 11 } }, 'bad.mrcl.json');
    assert.fail('expected an error');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.issues.length, 3);
    assert.match(e.message, /^bad\.mrcl\.json: invalid config/);
    assert.match(e.message, /\/foo: unknown key/);
    assert.match(e.message, /\/pretrain\/lr/);
    assert.match(e.message, /\/image\/depth/);
  }
});

test('loadConfig names the file for unreadable and malformed JSON', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mrcl-config-'));
  assert.throws(() => loadConfig(join(dir, 'missing.json')), /missing\.json: cannot read config: ENOENT/);
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{ "seed": 1,');
  assert.throws(() => loadConfig(bad), /bad\.json: not valid JSON/);
  const good = join(dir, 'good.json');
  writeFileSync(good, JSON.stringify({ seed: 7 }));
  const loaded = loadConfig(good);
  assert.equal(loaded.config.seed, 7);
  assert.equal(loaded.baseDir, dir);
});

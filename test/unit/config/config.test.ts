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
  assert.equal(c.finetune.stepsFrom, 'start');
  assert.equal(c.pretrain.stepsFrom, 'start');
  assert.equal(c.finetune.hidden, 256);
  assert.equal(c.finetune.head, 'paper');
  assert.equal(c.finetune.dropout, 0.25);
  assert.equal(c.finetune.positiveWeight, 1);
  assert.equal(c.finetune.threshold, 0.5);
  assert.equal(c.finetune.thresholdRule, 'fixed');
  assert.equal(c.finetune.thresholdCriterion, 'f1');
  assert.equal(c.finetune.innerFolds, 5);
  assert.equal(c.explain.threshold, 0.01);
  assert.deepEqual(c.data.shape, [64, 64, 40]);
  assert.deepEqual(c.finetune.initializations, ['random', 'medicalnet', 'pretrained']);
});

test("finetune.positiveWeight takes a positive number or 'balanced'", () => {
  assert.equal(resolveConfig({ finetune: { positiveWeight: 'balanced' } }).finetune.positiveWeight, 'balanced');
  assert.equal(resolveConfig({ finetune: { positiveWeight: 2.5 } }).finetune.positiveWeight, 2.5);
  assert.throws(() => resolveConfig({ finetune: { positiveWeight: 0 } }), /\/finetune\/positiveWeight/);
  assert.throws(() => resolveConfig({ finetune: { positiveWeight: 'auto' } }), /\/finetune\/positiveWeight: expected a number > 0 or "balanced", got "auto"/);
  assert.throws(() => resolveConfig({ finetune: { head: 'mlp' } }), /\/finetune\/head: expected one of "paper", "relu"/);
  assert.throws(() => resolveConfig({ finetune: { thresholdRule: 'inner', innerFolds: 1 } }), /\/finetune\/innerFolds/);
});

test("precision: 'fp32' by default, 'bf16' accepted, anything else named with its path", () => {
  assert.equal(resolveConfig({}).precision, 'fp32');
  assert.equal(resolveConfig({ precision: 'bf16' }).precision, 'bf16');
  assert.throws(() => resolveConfig({ precision: 'fp16' }), /\/precision: expected one of "fp32", "bf16", got "fp16"/);
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
  { name: 'unknown explain rule', input: { explain: { rule: 'otsu' } }, expect: [['/explain/rule', /one of "normalized", "raw", "topPercent", got "otsu"/]] },
  { name: 'top 0 %', input: { explain: { rule: 'topPercent', topPercent: 0 } }, expect: [['/explain/topPercent', /greater than 0/]] },
  { name: 'top 101 %', input: { explain: { topPercent: 101 } }, expect: [['/explain/topPercent', /less or equal to 100/]] },
  {
    name: 'former explain.normalize against explain.rule',
    input: { explain: { normalize: false } },
    expect: [['/explain/normalize', /replaced by explain\.rule: "normalize": false means "rule": "raw", but explain\.rule is "normalized"/]],
  },
];

test('explain: the paper\'s rule by default; the former normalize is accepted where it agrees with rule', () => {
  const c = resolveConfig({});
  assert.equal(c.explain.rule, 'normalized');
  assert.equal(c.explain.threshold, 0.01);
  assert.equal(c.explain.topPercent, 5);
  assert.equal(c.explain.normalize, undefined);
  assert.deepEqual(configIssues({ explain: { normalize: false, rule: 'raw' } }), []);
  assert.deepEqual(configIssues({ explain: { normalize: true } }), []);
  assert.deepEqual(configIssues({ explain: { rule: 'topPercent', topPercent: 2.5 } }), []);
  assert.ok(configIssues({ explain: { normalize: true, rule: 'topPercent' } }).some((i) => i.path === '/explain/normalize'));
});
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

// The config editor's parameter lenses (pure: text + count → lenses) and the
// cache behind them (one count per content, edits counted once typing
// pauses, failures kept until asked again).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SummaryCache, type SummaryResult } from '../../../src/extension/config/summary-cache';
import { componentText, countText, summaryLenses } from '../../../src/extension/config/summary-lenses';
import type { ModelSummary, ParamCount, StageSummary } from '../../../src/shared/model-summary';

const c = (trainable: number, frozen: number): ParamCount => ({ trainable, frozen });
const zero = c(0, 0);

function stage(over: Partial<StageSummary>): StageSummary {
  return { imageEncoder: zero, imageLocalHead: zero, textEncoder: zero, crossAttention: zero, heads: zero, lossWeights: zero, classifier: zero, total: zero, ...over };
}

// Table 7's numbers, with frozen counts made up for the test
const SUMMARY: ModelSummary = {
  pretrain: stage({
    imageEncoder: c(31_759_873, 700_000),
    imageLocalHead: c(65_792, 0),
    textEncoder: c(18_900_736, 130_000_000),
    crossAttention: c(789_504, 0),
    heads: c(525_312, 0),
    lossWeights: c(2, 0),
    total: c(52_041_219, 130_700_000),
  }),
  finetune: stage({ imageEncoder: c(31_759_873, 700_000), classifier: c(131_585, 0), total: c(31_891_458, 700_000) }),
  built: { imageEncoder: 'ResNet-18-A', textEncoder: 'Longformer', vocabSize: 50_265 },
};
const DONE = { kind: 'done' as const, result: { summary: SUMMARY, table: 'TABLE' } };

const CONFIG = `{
  "name": "paper",
  "image": { "width": 64 },
  "text": { "pretrained": "clinical-longformer" },
  "heads": {},
  "finetune": { "epochs": 20 }
}`;

/** the line of an offset, 0-based */
const lineOf = (text: string, offset: number) => text.slice(0, offset).split('\n').length - 1;

test('counts read as "N trainable / M frozen", with thousands separators', () => {
  assert.equal(countText(c(31_759_873, 0)), '31,759,873 trainable / 0 frozen');
  assert.equal(componentText(SUMMARY, 'imageEncoder', 'Image encoder'), 'Image encoder: pretraining 31,759,873 trainable / 700,000 frozen · fine-tuning 31,759,873 trainable / 700,000 frozen');
  assert.equal(componentText(SUMMARY, 'textEncoder', 'Text encoder'), 'Text encoder: pretraining 18,900,736 trainable / 130,000,000 frozen', 'a stage without the component is left out');
  assert.equal(componentText(SUMMARY, 'classifier', 'Classifier'), 'Classifier: fine-tuning 131,585 trainable / 0 frozen');
  const dot = { ...SUMMARY, pretrain: { ...SUMMARY.pretrain, crossAttention: zero } };
  assert.equal(componentText(dot, 'crossAttention', 'Cross-attention'), 'Cross-attention: no parameters');
});

test('a counted config: totals at the top, each component over the section that configures it', () => {
  const lenses = summaryLenses(CONFIG, DONE);
  const at = lenses.map((l) => [lineOf(CONFIG, l.offset), l.title]);
  assert.deepEqual(at, [
    [0, 'Parameters: pretraining 52,041,219 trainable / 130,700,000 frozen · fine-tuning 31,891,458 trainable / 700,000 frozen'],
    [2, 'Image encoder: pretraining 31,759,873 trainable / 700,000 frozen · fine-tuning 31,759,873 trainable / 700,000 frozen'],
    [3, 'Text encoder (+ text heads): pretraining 18,900,736 trainable / 130,000,000 frozen'],
    [4, 'MLP heads (global image): pretraining 525,312 trainable / 0 frozen'],
    [4, 'Local image head: pretraining 65,792 trainable / 0 frozen'],
    [4, 'Cross-attention: pretraining 789,504 trainable / 0 frozen'],
    [5, 'Classifier: fine-tuning 131,585 trainable / 0 frozen'],
  ]);
  // the lens sits on the key itself
  const image = lenses[1]!;
  assert.equal(CONFIG.slice(image.offset, image.offset + image.length), '"image"');
  assert.match(lenses[0]!.tooltip, /TABLE/);
  // a section not written in the file (its defaults apply) has no lens; the totals still count it
  const bare = summaryLenses('{ "name": "x" }', DONE);
  assert.equal(bare.length, 1);
  assert.match(bare[0]!.title, /^Parameters: /);
  // "loss" carries the learned loss weights
  assert.ok(summaryLenses('{ "loss": {} }', DONE).some((l) => l.title === 'Loss weights s_G, s_L: pretraining 2 trainable / 0 frozen'));
});

test('pending, recounting, failed and non-object texts', () => {
  assert.deepEqual(summaryLenses(CONFIG, { kind: 'pending' }).map((l) => l.title), ['$(sync~spin) Counting parameters…']);
  const recount = summaryLenses(CONFIG, { kind: 'pending' }, DONE);
  assert.equal(recount.length, 7, 'the last numbers stay while an edit is recounted');
  assert.match(recount[0]!.title, /^\$\(sync~spin\) Parameters: pretraining 52,041,219/);
  const failed = summaryLenses(CONFIG, { kind: 'error', message: '/w/paper.mrcl.json: text.pretrained: config.json is missing\nmore' });
  assert.equal(failed.length, 1);
  assert.equal(failed[0]!.title, '$(warning) Parameters not counted: /w/paper.mrcl.json: text.pretrained: config.json is missing');
  assert.match(failed[0]!.tooltip, /more$/);
  assert.ok(summaryLenses(CONFIG, { kind: 'error', message: 'x'.repeat(300) })[0]!.title.endsWith('…'));
  assert.deepEqual(summaryLenses('[1, 2]', DONE), []);
  assert.deepEqual(summaryLenses('', DONE), []);
});

test('cache: one count per content, shared while in flight; failures kept for schedule, retried by get', async () => {
  const asked: string[] = [];
  let fail = true;
  const cache = new SummaryCache(async (config, text) => {
    asked.push(`${config}:${text}`);
    await new Promise((r) => setTimeout(r, 5));
    if (text === 'bad' && fail) throw new Error(`${config}: not valid JSON`);
    return { summary: SUMMARY, table: text } as SummaryResult;
  });
  const changed: string[] = [];
  cache.onDidChange((p) => changed.push(p));
  const [a, b] = await Promise.all([cache.get('/a', 'one'), cache.get('/a', 'one')]);
  assert.equal(a, b);
  assert.deepEqual(asked, ['/a:one']);
  assert.equal(cache.peek('/a', 'one')?.kind, 'done');
  assert.equal(cache.peek('/a', 'two'), undefined);
  assert.equal(cache.peek('/b', 'one'), undefined, 'per config: the same text elsewhere resolves other paths');
  assert.deepEqual(changed, ['/a']);

  await assert.rejects(cache.get('/a', 'bad'), /\/a: not valid JSON/);
  assert.deepEqual(cache.peek('/a', 'bad'), { kind: 'error', message: '/a: not valid JSON' });
  assert.deepEqual(cache.schedule('/a', 'bad'), { kind: 'error', message: '/a: not valid JSON' }, 'schedule does not ask again');
  fail = false;
  assert.equal((await cache.get('/a', 'bad')).table, 'bad', 'get asks again after a failure');
  cache.dispose();
});

test('cache: edits are counted once typing pauses, only the newest text', async () => {
  const asked: string[] = [];
  const cache = new SummaryCache(async (_config, text) => {
    asked.push(text);
    return { summary: SUMMARY, table: text } as SummaryResult;
  }, { debounceMs: 50, perConfig: 2 });
  for (const t of ['{', '{"a"', '{"a":1}']) assert.deepEqual(cache.schedule('/c', t), { kind: 'pending' });
  assert.deepEqual(cache.schedule('/c', '{"a":1}'), { kind: 'pending' }, 'the same text does not restart the wait');
  await new Promise((r) => setTimeout(r, 150));
  assert.deepEqual(asked, ['{"a":1}']);
  assert.equal(cache.schedule('/c', '{"a":1}').kind, 'done');
  // perConfig 2: the oldest text is forgotten
  await cache.get('/c', 'x');
  await cache.get('/c', 'y');
  assert.equal(cache.peek('/c', '{"a":1}'), undefined);
  assert.equal(cache.peek('/c', 'y')?.kind, 'done');
  cache.forget('/c');
  assert.equal(cache.peek('/c', 'y'), undefined);
  cache.dispose();
});

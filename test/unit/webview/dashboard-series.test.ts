import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dashboardFromEvents, formatEta, parseEventsJsonl } from '../../../webview/common/dashboard-series';
import type { EngineEvent } from '../../../src/shared/events';

const events: EngineEvent[] = [
  { type: 'stage', stage: 'pretrain', status: 'started' },
  { type: 'step', stage: 'pretrain', epoch: 1, step: 1, loss: 2, global: 1.5, local: 0.5, alpha: 0.7, beta: 0.3, lr: 1e-4, seconds: 1 },
  { type: 'step', stage: 'pretrain', epoch: 1, step: 2, loss: 1.8, global: 1.4, lr: 1e-4, seconds: 1 },
  { type: 'epoch', stage: 'pretrain', epoch: 1, epochs: 2, loss: 1.9, lr: 1e-4, seconds: 2 },
  { type: 'progress', stage: 'pretrain', done: 2, total: 8, epoch: 1, epochs: 2, etaSeconds: 65 },
  { type: 'stage', stage: 'pretrain', status: 'done' },
  { type: 'step', stage: 'finetune/pretrained/fold-1', epoch: 1, step: 1, loss: 0.7, lr: 1e-3, seconds: 1 },
  { type: 'metrics', stage: 'finetune/pretrained/fold-1', metrics: { aucInternal: 0.5, aucExternal: null, f1Internal: 0.4 } },
  { type: 'metrics', stage: 'finetune/pretrained/fold-1', metrics: { aucInternal: 0.75, aucExternal: 0.6 } },
  { type: 'metrics', stage: 'pretrain', metrics: { 'imageToReport.r1': 0.2 } },
  { type: 'log', level: 'info', message: 'x' },
];

test('step curves per stage, with null for missing terms', () => {
  const d = dashboardFromEvents(events);
  assert.deepEqual(d.stages.map((s) => s.stage), ['pretrain', 'finetune/pretrained/fold-1']);
  const p = d.stages[0]!;
  assert.deepEqual(p.x, [1, 2]);
  assert.deepEqual(p.curves.loss, [2, 1.8]);
  assert.deepEqual(p.curves.local, [0.5, null]);
  assert.deepEqual(p.curves.alpha, [0.7, null]);
  assert.deepEqual(p.curves.lr, [1e-4, 1e-4]);
  assert.deepEqual(p.epochs, [{ epoch: 1, loss: 1.9 }]);
  assert.equal(p.status, 'done');
  assert.equal(d.current, 'finetune/pretrained/fold-1');
});

test('progress keeps the latest; fold AUCs keep the newest report of a fold', () => {
  const d = dashboardFromEvents(events);
  assert.deepEqual(d.progress, { stage: 'pretrain', done: 2, total: 8, epoch: 1, epochs: 2, etaSeconds: 65 });
  assert.deepEqual(d.folds, [{ stage: 'finetune/pretrained/fold-1', aucInternal: 0.75, aucExternal: 0.6 }]);
});

test('events.jsonl: replays to the same state; a torn last line is skipped; bad lines name the file', () => {
  const text = events.map((e, i) => JSON.stringify({ ...e, time: i })).join('\n') + '\n{"type":"st';
  const parsed = parseEventsJsonl(text, 'run/events.jsonl');
  assert.equal(parsed.length, events.length);
  assert.deepEqual(dashboardFromEvents(parsed).folds, dashboardFromEvents(events).folds);
  assert.throws(() => parseEventsJsonl('{"type":"log"}\nnot json\n{"type":"log"}', 'run/events.jsonl'), /run\/events\.jsonl: line 2 is not valid JSON/);
  assert.throws(() => parseEventsJsonl('[1]\n', 'e.jsonl'), /e\.jsonl: line 1 is not an event/);
});

test('ETA text', () => {
  assert.equal(formatEta(42), '42s');
  assert.equal(formatEta(185), '3m 05s');
  assert.equal(formatEta(3720), '1h 02m');
  assert.equal(formatEta(undefined), '');
  assert.equal(formatEta(-1), '');
});

test('formatLr writes learning-rate ticks in short scientific notation', async () => {
  const { formatLr } = await import('../../../webview/common/dashboard-series');
  const table: [number | null, string][] = [
    [1e-4, '1e-4'],
    [2.5e-5, '2.5e-5'],
    [0.001, '1e-3'],
    [1.234e-4, '1.23e-4'],
    [0, '0'],
    [3, '3e0'],
    [null, ''],
    [NaN, ''],
  ];
  for (const [v, want] of table) assert.equal(formatLr(v), want, String(v));
});

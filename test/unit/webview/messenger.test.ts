import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as vscode from 'vscode';
import { Messenger } from '../../../src/extension/panels/messenger';
import type { MessageOf, ResultsProtocol, ViewerProtocol, ViewerToWebview } from '../../../src/shared/webview-protocol';

function fakeWebview() {
  const posted: unknown[] = [];
  let listener: ((m: unknown) => void) | undefined;
  const webview = {
    postMessage: async (m: unknown) => (posted.push(m), true),
    onDidReceiveMessage: (f: (m: unknown) => void) => ((listener = f), { dispose: () => (listener = undefined) }),
  } as unknown as vscode.Webview;
  const send = async (m: unknown) => {
    listener?.(m);
    await new Promise((r) => setImmediate(r));
  };
  return { webview, posted, send };
}

test('nothing is posted before ready; queued posts follow it in order; a reload re-runs onReady', async () => {
  const { webview, posted, send } = fakeWebview();
  const points: unknown[] = [];
  const m = new Messenger<ViewerProtocol>(webview, { pointSelected: (p) => points.push(p) }, {}, () => undefined);
  let readies = 0;
  m.onReady(() => readies++);
  m.post('goTo', { voxel: [1, 2, 3] });
  m.post('patchOverlay', null);
  assert.deepEqual(posted, []);
  await send({ type: 'ready', payload: {} });
  assert.deepEqual(posted, [{ type: 'goTo', payload: { voxel: [1, 2, 3] } }, { type: 'patchOverlay', payload: null }]);
  assert.equal(readies, 1);
  m.post('goTo', { voxel: [0, 0, 0] });
  assert.equal(posted.length, 3);
  await send({ type: 'pointSelected', payload: { voxel: [4, 5, 6], dims: [9, 9, 9] } });
  assert.deepEqual(points, [{ voxel: [4, 5, 6], dims: [9, 9, 9] }]);
  await send({ type: 'ready', payload: {} });
  assert.equal(readies, 2);
  await send('junk');
  await send({ type: 'unknown', payload: 1 });
  m.dispose();
});

test('requests are answered by id with a result or an error; webview errors reach the host', async () => {
  const { webview, posted, send } = fakeWebview();
  const errors: string[] = [];
  new Messenger<ResultsProtocol>(
    webview,
    {},
    {
      export: async ({ format }) => {
        if (format === 'latex') throw new Error('results.json: no table "x"');
        return { path: `/out/t.${format}` };
      },
      compare: async () => null,
    },
    (e) => errors.push(e),
  );
  await send({ type: 'request', id: 7, method: 'export', params: { format: 'csv' } });
  await send({ type: 'request', id: 8, method: 'export', params: { format: 'latex' } });
  await send({ type: 'request', id: 9, method: 'nope', params: {} });
  await send({ type: 'error', payload: { message: 'WebGL2 unavailable' } });
  assert.deepEqual(posted, [
    { type: 'response', id: 7, method: 'export', ok: true, result: { path: '/out/t.csv' } },
    { type: 'response', id: 8, method: 'export', ok: false, error: 'results.json: no table "x"' },
    { type: 'response', id: 9, method: 'nope', ok: false, error: 'unknown request nope' },
  ]);
  assert.deepEqual(errors, ['WebGL2 unavailable']);
});

test('message types: one payload type per name (compile-time check)', () => {
  const ok: MessageOf<ViewerToWebview> = { type: 'goTo', payload: { voxel: [1, 2, 3] } };
  // @ts-expect-error a payload of another message is refused
  const bad: MessageOf<ViewerToWebview> = { type: 'goTo', payload: null };
  assert.equal(ok.type, 'goTo');
  assert.equal(bad.type, 'goTo');
});
